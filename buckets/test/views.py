"""The fake S3's HTTP endpoints, as ``buckets.test.urls`` routes to them.

``upload`` (``POST <MEDIA_URL>s3/uploads``: :mod:`buckets.test.post_upload`) and ``serve``
(``GET``/``HEAD <MEDIA_URL>s3/uploads/<key>``: :mod:`buckets.test.object_reads`) answer as
S3 does, and both answer CORS like a bucket whose one rule allows any origin, any header,
and GET/HEAD/POST/PUT (:mod:`buckets.test.responses`). Both serve the storage
:func:`fake_storage` picks.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from buckets.test.multipart import MalformedMultipart
from buckets.test.object_reads import read_object
from buckets.test.post_upload import drain, handle_post
from buckets.test.responses import cors, not_allowed, preflight, s3_error
from buckets.test.storage import FakeS3Storage

__all__ = ["fake_storage", "s3_error", "serve", "upload"]


def fake_storage() -> FakeS3Storage:
    """The storage the endpoints serve: ``BUCKETS_FAKE_STORAGE`` (an alias) if set, else the
    first ``STORAGES`` entry whose backend is a ``FakeS3Storage`` ("default" first), else
    a ``FakeS3Storage`` with the default options."""
    from django.conf import settings
    from django.core.files.storage import storages
    from django.utils.module_loading import import_string

    alias = getattr(settings, "BUCKETS_FAKE_STORAGE", None)
    if alias:
        chosen = storages[alias]
        if not isinstance(chosen, FakeS3Storage):
            raise ImproperlyConfigured(f"BUCKETS_FAKE_STORAGE: {alias!r} is not a FakeS3Storage.")
        return chosen
    for name in sorted(settings.STORAGES, key=lambda a: a != "default"):
        try:
            backend = import_string(settings.STORAGES[name].get("BACKEND", ""))
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, FakeS3Storage):
            return storages[name]  # type: ignore[return-value]
    return FakeS3Storage()


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    """``POST <MEDIA_URL>s3/uploads``: S3's browser-based upload (CSRF-exempt: the policy
    signature is the guard, as on S3)."""
    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        return cors(request, not_allowed(request, "BUCKET"))
    try:
        response = handle_post(request, fake_storage())
    except MalformedMultipart:
        response = s3_error(
            "MalformedPOSTRequest",
            400,
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    drain(request)
    return cors(request, response)


@csrf_exempt
def serve(request: HttpRequest, key: str) -> HttpResponseBase:
    """``GET``/``HEAD <MEDIA_URL>s3/uploads/<key>``: the object, as S3 reads it."""
    if request.method == "OPTIONS":
        return preflight(request)
    if request.method not in ("GET", "HEAD"):
        return cors(request, not_allowed(request, "OBJECT"))
    return cors(request, read_object(request, fake_storage(), key))
