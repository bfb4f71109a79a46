"""The fake S3's object reads: ``GET``/``HEAD <MEDIA_URL>s3/uploads/<key>``.

Reads are allowed as S3 allows them (``headers.read_access``: a valid pre-signed URL when
the storage signs URLs, ``response-*`` overrides only then). The file is streamed with the
headers S3 would send (``NoSuchKey`` otherwise), or one byte range of it (``Range``: 206, or
416 ``InvalidRange``; several ranges or a malformed header get the whole object, as on AWS).

S3 serves objects from its own origin; the fake serves them from the site's. So that an
uploaded HTML file (or anything sniffed as HTML) cannot run script as the site, every
object goes out with ``Content-Security-Policy: sandbox`` (an opaque origin, no script)
and ``X-Content-Type-Options: nosniff``. An ``<img>``, ``<video>`` or download of the
object is not affected.
"""

from __future__ import annotations

import mimetypes
import os
from email.utils import formatdate
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from buckets.signing import post_verify
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.test.headers import (
    RESPONSE_OVERRIDES,
    FileSlice,
    RangeNotSatisfiable,
    byte_range,
    read_access,
)
from buckets.test.responses import from_policy, s3_error
from buckets.test.storage import FakeS3Storage, read_headers, read_meta

__all__ = ["OBJECT_SECURITY_HEADERS", "read_object"]

#: Sent with every object served: it is on the site's origin, where S3's is not.
OBJECT_SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
}


def _no_such_key(key: str) -> HttpResponse:
    return s3_error("NoSuchKey", 404, "The specified key does not exist.", {"Key": key})


def read_object(request: HttpRequest, storage: FakeS3Storage, key: str) -> HttpResponseBase:
    """S3's answer to a ``GET`` or ``HEAD`` of ``key`` in ``storage``: the object's bytes
    (or one range of them), streamed, never from outside the root (the key is checked by
    ``FakeS3Storage.key_path``, symlinks resolved). No CORS headers: the view adds them."""
    access = read_access(request, storage)
    if isinstance(access, post_verify.PostError):
        return from_policy(access)
    try:
        if len(key) > MAX_KEY_BYTES:  # no key is longer: not parsed
            raise FileNotFoundError(key)
        path = storage.key_path(key)
        if not os.path.isfile(path):  # a prefix ("directory") or a special file is no object
            raise FileNotFoundError(key)
        fh = open(path, "rb")  # noqa: SIM115 -- the response closes it
    except (SuspiciousFileOperation, ValueError, OSError):
        return _no_such_key(key)
    stat = os.fstat(fh.fileno())
    size = stat.st_size
    requested = request.headers.get("Range")
    try:
        wanted = byte_range(requested, size)
    except RangeNotSatisfiable:
        fh.close()
        extra = {"RangeRequested": requested or "", "ActualObjectSize": str(size)}
        error = s3_error("InvalidRange", 416, "The requested range is not satisfiable", extra)
        return error
    content_type, etag = read_meta(path)
    headers: dict[str, Any] = {
        "Content-Type": content_type or mimetypes.guess_type(key)[0] or "application/octet-stream",
        "Content-Length": str(size),
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        "Accept-Ranges": "bytes",
    }
    if etag:
        headers["ETag"] = etag
    headers.update(read_headers(path))  # Cache-Control, x-amz-meta-*... as written
    if access:  # signed: S3 honours response-* parameters on signed requests only
        for param, header in RESPONSE_OVERRIDES.items():
            if param in request.GET:
                headers[header] = request.GET[param]
    status = 200
    if wanted is not None:
        first, last = wanted
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
    response: HttpResponseBase
    if request.method == "HEAD":
        fh.close()
        response = HttpResponse(status=status)
    elif wanted is not None:
        response = StreamingHttpResponse(FileSlice(fh, *wanted), status=206)
    else:
        response = FileResponse(fh, status=200)
        if "Content-Disposition" in response:  # S3 sends none unless asked to
            del response["Content-Disposition"]
    for name, value in headers.items():
        response[name] = value
    for name, value in OBJECT_SECURITY_HEADERS.items():
        response[name] = value
    return response
