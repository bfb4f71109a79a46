"""Settings of the benchmark's site, read from the environment (see the package)."""

import os

SECRET_KEY = "bench-only-not-secret"
USE_TZ = True
INSTALLED_APPS = ["buckets", "bench.migrate_site"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"]}}
MEDIA_ROOT = os.environ["BENCH_MEDIA_ROOT"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "bucket": {
        "BACKEND": "buckets.storage.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("BENCH_BUCKET", "unset"),
            "endpoint_url": os.environ.get("RGW_ENDPOINT"),
            "access_key": os.environ.get("RGW_ACCESS_KEY"),
            "secret_key": os.environ.get("RGW_SECRET_KEY"),
            "region_name": "us-east-1",
            "addressing_style": "path",
            "location": "media",
        },
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
