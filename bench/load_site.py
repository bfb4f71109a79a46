"""Django settings for ``bench_load``'s server, and the server itself.

The fake S3 (``buckets.test.urls`` + ``FakeS3Storage``, files under ``BENCH_MEDIA_ROOT``)
with anyone allowed to sign uploads, ``DEBUG`` off, no database, no middleware: the
signed-URL view and the upload endpoint, and nothing else to measure.

``python -m bench.load_site [threads]`` serves it with waitress on 127.0.0.1, on a free
port printed as the first line of stdout.
"""

from __future__ import annotations

import os
import socket
import sys

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "buckets"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "buckets.test.urls"
DATABASES: dict[str, dict[str, str]] = {}
MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", "")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
    "staticfiles": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
}
BUCKETS_UPLOAD_PERMISSION = None
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False}


def serve(threads: int) -> None:
    import logging

    import waitress
    from django.core.wsgi import get_wsgi_application

    # "Task queue depth is N": expected when clients outnumber threads; not news here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    if not MEDIA_ROOT:
        sys.exit("BENCH_MEDIA_ROOT must name the directory the fake stores files in")
    app = get_wsgi_application()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    print(sock.getsockname()[1], flush=True)
    waitress.serve(app, sockets=[sock], threads=threads, connection_limit=256, _quiet=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load_site")
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
