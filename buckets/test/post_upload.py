"""The fake S3's browser upload: ``POST <MEDIA_URL>s3/uploads`` with the multipart form S3
takes, answered as S3 answers it.

The fields before the ``file`` part are checked with
:func:`buckets.signing.post_verify.verify_post` (the same code that signed them, in
reverse) before a byte of the file is stored; the file is streamed to a temporary file, its
size checked against the policy, then renamed into place. Answers are S3's: 204 (or 200/201
with ``PostResponse`` XML, or a 303 to ``success_action_redirect``) with ``ETag`` and
``Location`` headers as AWS sends them, or S3's XML ``<Error>`` with S3's status code, and
nothing stored. Where Ceph RGW and AWS differ, this follows AWS.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse

from buckets.signing import post_verify
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.test.headers import posted_headers
from buckets.test.multipart import MultipartReader, Part, boundary_of
from buckets.test.responses import from_policy, s3_error, xml
from buckets.test.storage import FakeS3Storage

__all__ = ["DEFAULT_TYPE", "MAX_PRE_DATA", "drain", "handle_post"]

#: S3 refuses a POST whose fields before the file exceed this (``MaxPostPreDataLengthExceeded``).
MAX_PRE_DATA = 20 * 1024
DEFAULT_TYPE = "binary/octet-stream"  # S3's type for an object posted without Content-Type


class _TooLarge(Exception):
    pass


def drain(request: HttpRequest) -> None:
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
        body = xml(
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
        return from_policy(too_large)
    try:
        size_error = verified.check_size(spooled.size)
        if size_error is not None:
            return from_policy(size_error)
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


def handle_post(request: HttpRequest, storage: FakeS3Storage) -> HttpResponse:
    """Read the POST's fields up to the file, verify them, then store the file: S3's
    answer, with nothing stored unless it is a success. Raises ``MalformedMultipart``
    for a body that is not multipart/form-data."""
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
                return from_policy(verified)
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
