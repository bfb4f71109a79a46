"""Django settings, URLs and server of ``bench_multipart``: the upload widget on one page.

One model form (``bench.models.Upload``: its ``S3FileField`` gives the widget, whose
script is served from the app's static files) on a storage whose options come as JSON in
``BENCH_STORAGE_OPTIONS`` (an RGW bucket), the upload endpoints (``buckets.urls``), anyone
allowed to upload, ``DEBUG`` off, no database. ``/?mode=multipart`` renders the widget with
the default multipart threshold; ``/?mode=post`` with none, so the same file goes up in one
POST. ``/?mode=put-file`` and ``/?mode=put-slice`` show no widget but a script that sends the
chosen file in one pre-signed ``PUT`` (``/put-url/`` signs it with the storage's client), as
the ``File`` itself or as a ``Blob`` slice of it (the body every multipart client gives a
part): what Chromium costs to send each kind of body, with no multipart work around it.

``python -m bench.widget_site [threads]`` serves it with waitress on 127.0.0.1, on a free
port printed as the first line of stdout.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "buckets", "bench"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.widget_site"
DATABASES: dict[str, dict[str, str]] = {}
STATIC_URL = "/static/"
STORAGES = {
    "default": {
        "BACKEND": "buckets.storage.S3Storage",
        "OPTIONS": json.loads(os.environ.get("BENCH_STORAGE_OPTIONS", "{}")),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
BUCKETS_UPLOAD_PERMISSION = None
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False}

STATIC_ROOT = str(Path(__file__).resolve().parent.parent / "buckets" / "static")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench</title>{{ form.media }}</head>
<body><form method="post">{{ form.as_div }}</form></body></html>"""
#: One PUT of the chosen file (``{{ body }}``: the File, or a Blob slice of all of it), with
#: the widget's events, so the bench times it the same way.
PUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench</title></head>
<body><div data-s3file><input type="file"></div>
<script>
const root = document.querySelector("[data-s3file]");
const emit = (name, detail) => root.dispatchEvent(new CustomEvent("s3file:" + name, { detail }));
root.querySelector("input").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  emit("start", {});
  const signed = await (await fetch("/put-url/?mode={{ mode }}")).json();
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", signed.url);
  xhr.onload = () => xhr.status < 300
    ? emit("uploaded", { name: signed.key })
    : emit("error", { message: "PUT answered " + xhr.status });
  xhr.onerror = () => emit("error", { message: "PUT failed" });
  xhr.send({{ body }});
});
</script></body></html>"""
PUT_BODIES = {"put-file": "file", "put-slice": "file.slice(0, file.size)"}


def page(request: Any) -> Any:
    from django import forms
    from django.http import HttpResponse
    from django.template import Context, Engine
    from django.test.utils import override_settings

    from bench.models import Upload

    class UploadForm(forms.ModelForm):
        class Meta:
            model = Upload
            fields = ["file"]

    mode = request.GET.get("mode")
    if mode in PUT_BODIES:
        put_page = Engine().from_string(PUT_PAGE)
        return HttpResponse(put_page.render(Context({"mode": mode, "body": PUT_BODIES[mode]})))
    threshold = {} if mode != "post" else {"BUCKETS_MULTIPART_THRESHOLD": None}
    with override_settings(**threshold):
        html = Engine().from_string(PAGE).render(Context({"form": UploadForm()}))
    return HttpResponse(html)


def put_url(request: Any) -> Any:
    """A pre-signed ``PUT`` of the key ``<mode>.bin`` (one hour), for ``PUT_PAGE``."""
    from django.core.files.storage import default_storage
    from django.http import Http404, JsonResponse

    mode = request.GET.get("mode")
    if mode not in PUT_BODIES:
        raise Http404
    storage: Any = default_storage
    key = f"{mode}.bin"
    url = storage.client.generate_presigned_url(
        "put_object", Params={"Bucket": storage.bucket_name, "Key": key}, ExpiresIn=3600
    )
    return JsonResponse({"url": url, "key": key})


def _urlpatterns() -> list[Any]:
    from django.urls import include, path, re_path
    from django.views.static import serve

    return [
        path("", page),
        path("put-url/", put_url),
        path("", include("buckets.urls")),
        re_path(r"^static/(?P<path>.*)$", serve, {"document_root": STATIC_ROOT}),
    ]


def __getattr__(name: str) -> Any:
    # The URLconf is this module too: its patterns are built when Django first asks.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def serve(threads: int) -> None:
    import logging

    import waitress
    from django.core.wsgi import get_wsgi_application

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = get_wsgi_application()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    waitress.serve(app, sockets=[sock], threads=threads, _quiet=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.widget_site")
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
