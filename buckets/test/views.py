"""The fake S3's HTTP side: browser uploads (POST) and object reads (GET), answered as S3 does.

``POST <MEDIA_URL>s3/uploads`` takes the multipart form S3 takes. The fields before the
``file`` part are checked with :func:`buckets.signing.post_verify.verify_post` (the same code that
signed them, in reverse) before a byte of the file is stored; the file is streamed to a
temporary file, its size checked against the policy, then renamed into place. Answers are
S3's: 204 (or 200/201 with ``PostResponse`` XML, or a 303 to ``success_action_redirect``)
with ``ETag`` and ``Location`` headers as AWS sends them, or S3's XML ``<Error>`` with S3's
status code, and nothing stored. Where Ceph RGW and AWS differ, this follows AWS.

``GET <MEDIA_URL>s3/uploads/<key>`` reads as S3 lets it (``headers.read_access``: a valid
pre-signed URL when the storage signs URLs, ``response-*`` overrides only then), streaming
the file (``NoSuchKey`` otherwise) with the headers S3 would send, or one byte range
(``Range``: 206, or 416 ``InvalidRange``; several ranges or a malformed header get the
whole object, as on AWS). Both answer CORS like a bucket whose one rule allows any origin,
any header, and GET/HEAD/POST/PUT.

S3 serves objects from its own origin; the fake serves them from the site's. So that an
uploaded HTML file (or anything sniffed as HTML) cannot run script as the site, every
object goes out with ``Content-Security-Policy: sandbox`` (an opaque origin, no script)
and ``X-Content-Type-Options: nosniff``. An ``<img>``, ``<video>`` or download of the
object is not affected.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import uuid
from collections.abc import Iterator, Mapping
from email.utils import formatdate
from typing import Any, TypeVar
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from buckets.signing import post_verify
from buckets.storage.keys import MAX_KEY_BYTES
from buckets.test.headers import (
    RESPONSE_OVERRIDES,
    FileSlice,
    RangeNotSatisfiable,
    byte_range,
    posted_headers,
    read_access,
)
from buckets.test.multipart import MalformedMultipart, MultipartReader, Part, boundary_of
from buckets.test.storage import FakeS3Storage, read_headers, read_meta

#: S3 refuses a POST whose fields before the file exceed this (``MaxPostPreDataLengthExceeded``).
MAX_PRE_DATA = 20 * 1024
CORS_METHODS = ("GET", "HEAD", "POST", "PUT")
CORS_EXPOSE = "ETag, Location, x-amz-request-id"
CORS_MAX_AGE = "3000"
DEFAULT_TYPE = "binary/octet-stream"  # S3's type for an object posted without Content-Type
_Response = TypeVar("_Response", bound=HttpResponseBase)
#: Sent with every object served: it is on the site's origin, where S3's is not.
OBJECT_SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
}


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


# -- responses -----------------------------------------------------------------------------


def _xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


def s3_error(
    code: str, status: int, message: str, extra: Mapping[str, str] | None = None
) -> HttpResponse:
    """S3's error document: ``<Error><Code/><Message/>...<RequestId/></Error>``."""
    request_id = uuid.uuid4().hex[:16].upper()
    items = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in (extra or {}).items())
    body = _xml(
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{items}"
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["x-amz-request-id"] = request_id
    return response


def _from_policy(error: post_verify.PostError) -> HttpResponse:
    return s3_error(error.code, error.status, error.message, error.extra)


def _cors(request: HttpRequest, response: _Response) -> _Response:
    """The headers S3 adds to a request carrying ``Origin`` under a permissive CORS rule."""
    if request.headers.get("Origin"):
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
        response["Access-Control-Expose-Headers"] = CORS_EXPOSE
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _preflight(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin")
    method = request.headers.get("Access-Control-Request-Method", "")
    if not origin or not method:
        return s3_error(
            "BadRequest", 400, "Insufficient information. Origin request header needed."
        )
    if method.upper() not in CORS_METHODS:
        return s3_error(
            "AccessDenied",
            403,
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evaluation of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            {"Method": method, "ResourceType": "BUCKET"},
        )
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response["Access-Control-Allow-Headers"] = requested
    response["Access-Control-Expose-Headers"] = CORS_EXPOSE
    response["Access-Control-Max-Age"] = CORS_MAX_AGE
    response["Vary"] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    return response


def _not_allowed(request: HttpRequest, resource: str) -> HttpResponse:
    return s3_error(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
        {"Method": request.method or "", "ResourceType": resource},
    )


# -- POST ----------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


def _drain(request: HttpRequest) -> None:
    """Read the rest of the body: the client gets its answer instead of a reset connection."""
    while request.read(256 * 1024):
        pass


def _limited(chunks: Iterator[bytes], limit: int | None, seen: list[int]) -> Iterator[bytes]:
    for chunk in chunks:
        seen[0] += len(chunk)
        if limit is not None and seen[0] > limit:
            raise _TooLarge
        yield chunk


def _success(
    request: HttpRequest, storage: FakeS3Storage, verified: post_verify.VerifiedPost, md5: str
) -> HttpResponse:
    key = verified.key
    etag = f'"{md5}"'
    location = request.build_absolute_uri(storage.base_url() + quote(key, safe=""))
    redirect = verified.fields.get("success_action_redirect", "")
    if redirect.startswith(("http://", "https://")):
        query = f"bucket={quote(storage.bucket_name, safe='')}&key={quote(key, safe='')}"
        query += f"&etag={quote(etag, safe='')}"
        response = HttpResponse(status=303)
        response["Location"] = redirect + ("&" if "?" in redirect else "?") + query
    elif verified.success_action_status == "201":
        body = _xml(
            f"<PostResponse><Location>{escape(location)}</Location>"
            f"<Bucket>{escape(storage.bucket_name)}</Bucket><Key>{escape(key)}</Key>"
            f"<ETag>{escape(etag)}</ETag></PostResponse>"
        )
        response = HttpResponse(body, status=201, content_type="application/xml")
        response["Location"] = location
    else:
        response = HttpResponse(status=200 if verified.success_action_status == "200" else 204)
        del response["Content-Type"]
        response["Location"] = location
    response["ETag"] = etag
    return response


def _key_error(storage: FakeS3Storage, key: str) -> HttpResponse | None:
    """The fake's refusal of a key its disk cannot hold; None when the key is fine."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return s3_error(
            "KeyTooLongError", 400, "Your key is too long", {"MaxSizeAllowed": str(MAX_KEY_BYTES)}
        )
    try:
        storage.key_path(key)
    except SuspiciousFileOperation as exc:
        return s3_error("InvalidArgument", 400, str(exc), {"ArgumentName": "key"})
    return None


def _store_file(
    request: HttpRequest,
    storage: FakeS3Storage,
    reader: MultipartReader,
    verified: post_verify.VerifiedPost,
) -> HttpResponse:
    error = _key_error(storage, verified.key)
    if error is not None:
        return error
    seen = [0]
    content_type = verified.fields.get("content-type") or DEFAULT_TYPE
    try:
        chunks = _limited(reader.chunks(), verified.max_size, seen)
        spooled = storage.disk.spool(chunks, content_type, posted_headers(verified.fields))
    except _TooLarge:
        for chunk in reader.chunks():
            seen[0] += len(chunk)
        too_large = verified.check_size(seen[0])
        assert too_large is not None
        return _from_policy(too_large)
    try:
        size_error = verified.check_size(spooled.size)
        if size_error is not None:
            return _from_policy(size_error)
        try:
            storage.disk.publish(spooled.path, verified.key, overwrite=True)
        except SuspiciousFileOperation as exc:
            return s3_error("InvalidArgument", 400, str(exc), {"ArgumentName": "key"})
        except (IsADirectoryError, NotADirectoryError):
            message = "The fake S3 stores keys as files: it cannot hold both 'a' and 'a/b'."
            return s3_error("InvalidArgument", 400, message, {"ArgumentName": "key"})
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # a path segment over the file system's limit
                return s3_error("KeyTooLongError", 400, "Your key is too long")
            raise
    finally:
        storage.disk.discard(spooled)
    return _success(request, storage, verified, spooled.md5)


def _substitutable(filename: str | None) -> str | None:
    """The file name ``${filename}`` in the key stands for, cut just past the longest key:
    a key using a longer one is too long either way, and a key repeating ``${filename}``
    then grows by a bounded amount per use."""
    return None if filename is None else filename[: MAX_KEY_BYTES + 1]


def _handle_post(request: HttpRequest, storage: FakeS3Storage) -> HttpResponse:
    boundary = boundary_of(request.META.get("CONTENT_TYPE", ""))
    if boundary is None:
        return s3_error(
            "PreconditionFailed",
            412,
            "At least one of the pre-conditions you specified did not hold",
            {"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"},
        )
    if not request.META.get("CONTENT_LENGTH"):
        return s3_error(
            "MissingContentLength", 411, "You must provide the Content-Length HTTP header."
        )
    reader = MultipartReader(request.read, boundary)
    fields: dict[str, str] = {}
    part: Part | None
    while (part := reader.next_part()) is not None:
        if part.name.lower() == "file":
            verified = post_verify.verify_post(
                fields,
                bucket=storage.bucket_name,
                secret_for=storage.secret_for,
                region=storage.region,
                filename=_substitutable(part.filename),
            )
            if isinstance(verified, post_verify.PostError):
                return _from_policy(verified)
            return _store_file(request, storage, reader, verified)
        value = reader.read_value(MAX_PRE_DATA)
        if value is None or reader.consumed > MAX_PRE_DATA:
            return s3_error(
                "MaxPostPreDataLengthExceeded",
                400,
                "Your POST request fields preceeding the upload file was too large.",
                {"MaxPostPreDataLengthBytes": str(MAX_PRE_DATA)},
            )
        if part.name in fields:
            return s3_error("InvalidArgument", 400, f"Duplicate form field: {part.name}")
        fields[part.name] = value.decode("utf-8", "replace")
    return s3_error(
        "InvalidArgument",
        400,
        "POST requires exactly one file upload per request.",
        {"ArgumentName": "file", "ArgumentValue": "0"},
    )


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    """``POST <MEDIA_URL>s3/uploads``: S3's browser-based upload (CSRF-exempt: the policy
    signature is the guard, as on S3)."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        return _cors(request, _not_allowed(request, "BUCKET"))
    try:
        response = _handle_post(request, fake_storage())
    except MalformedMultipart:
        response = s3_error(
            "MalformedPOSTRequest",
            400,
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    _drain(request)
    return _cors(request, response)


# -- GET -----------------------------------------------------------------------------------


def _no_such_key(key: str) -> HttpResponse:
    return s3_error("NoSuchKey", 404, "The specified key does not exist.", {"Key": key})


@csrf_exempt
def serve(request: HttpRequest, key: str) -> HttpResponseBase:
    """``GET <MEDIA_URL>s3/uploads/<key>``: the object's bytes (or one range of them),
    streamed, never from outside the root (the key is checked by
    ``FakeS3Storage.key_path``, symlinks resolved)."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method not in ("GET", "HEAD"):
        return _cors(request, _not_allowed(request, "OBJECT"))
    storage = fake_storage()
    access = read_access(request, storage)
    if isinstance(access, post_verify.PostError):
        return _cors(request, _from_policy(access))
    try:
        if len(key) > MAX_KEY_BYTES:  # no key is longer: not parsed
            raise FileNotFoundError(key)
        path = storage.key_path(key)
        if not os.path.isfile(path):  # a prefix ("directory") or a special file is no object
            raise FileNotFoundError(key)
        fh = open(path, "rb")  # noqa: SIM115 -- the response closes it
    except (SuspiciousFileOperation, ValueError, OSError):
        return _cors(request, _no_such_key(key))
    stat = os.fstat(fh.fileno())
    size = stat.st_size
    requested = request.headers.get("Range")
    try:
        wanted = byte_range(requested, size)
    except RangeNotSatisfiable:
        fh.close()
        extra = {"RangeRequested": requested or "", "ActualObjectSize": str(size)}
        error = s3_error("InvalidRange", 416, "The requested range is not satisfiable", extra)
        return _cors(request, error)
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
    return _cors(request, response)
