"""The demo site: FakeS3Storage on the local disk and SQLite by default, no AWS account.

``DEMO_S3=seaweedfs`` runs it on the bucket of the SeaweedFS server ``./run-demo
--seaweedfs`` starts. Point it at real S3, MinIO or Ceph RGW with environment variables
alone: DEMO_S3_BUCKET (switches to S3Storage), DEMO_S3_ENDPOINT_URL, DEMO_S3_ACCESS_KEY,
DEMO_S3_SECRET_KEY, DEMO_S3_REGION; the bucket needs the CORS rule that ``manage.py
buckets_cors`` sets (``demo_setup`` prints the command). Each mode keeps its database and
media in its own folder (``demo.modes``).
"""

import os
from pathlib import Path

from demo import modes

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-not-secret-change-me")
DEBUG = os.environ.get("DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "buckets",
    "demo",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "demo.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE") or modes.mode_dir() / "db.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("DEMO_MEDIA_ROOT") or modes.mode_dir() / "media"
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/"

Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
_aws = modes.aws_setting()
if _aws is not None:
    AWS = _aws
    STORAGE_BACKEND = "buckets.storage.S3Storage"
else:
    STORAGE_BACKEND = "buckets.test.storage.FakeS3Storage"

STORAGES = {
    "default": {"BACKEND": STORAGE_BACKEND},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
