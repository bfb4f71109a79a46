"""Three HTTP details of S3 objects the fake reproduces: the ``Range`` a GET asks for (one
byte range, 206 or 416 as AWS answers), the response headers that the parameters of a
PutObject (``S3Storage``'s ``object_parameters``) become, and who may read an object
(:func:`read_access`: a pre-signed URL, or anyone when the bucket is public).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes, urlsplit

from botocore.utils import parse_to_aware_datetime

from buckets.signing import sigv4 as signing
from buckets.signing.numbers import MAX_BYTE_POSITION, read_decimal
from buckets.signing.s3_errors import signature_mismatch
from buckets.signing.url_verify import PostError, verify_presigned
from buckets.test.disk import CHUNK_SIZE, HEADER_PARAMETERS

if TYPE_CHECKING:
    from django.http import HttpRequest

    from buckets.test.storage import FakeS3Storage

#: The query parameters of a GET that override a response header, and the header.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-disposition": "Content-Disposition",
    "response-cache-control": "Cache-Control",
    "response-content-encoding": "Content-Encoding",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
}


def served_headers(params: Mapping[str, Any]) -> dict[str, str]:
    """The headers S3 sends with an object put with ``params`` (boto3's PutObject
    arguments), besides Content-Type."""
    headers = {}
    for param, header in HEADER_PARAMETERS.items():
        if params.get(param) is not None:
            headers[header] = str(params[param])
    if params.get("Expires") is not None:  # a datetime or a date string, as boto3 takes it
        expires = parse_to_aware_datetime(params["Expires"]).astimezone(timezone.utc)
        headers["Expires"] = format_datetime(expires, usegmt=True)
    for key, value in (params.get("Metadata") or {}).items():
        headers[f"x-amz-meta-{key.lower()}"] = str(value)  # S3 lower-cases the names
    return headers


#: Form fields of a POST upload S3 stores and serves back as the same-named header.
POSTED_HEADERS = {
    "cache-control": "Cache-Control",
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "expires": "Expires",
}


def posted_headers(fields: Mapping[str, str]) -> dict[str, str]:
    """The headers S3 serves with an object uploaded with these (verified, lower-cased)
    form fields, besides Content-Type: ``Content-Disposition`` and the like, and the
    ``x-amz-meta-*`` user metadata."""
    headers = {
        POSTED_HEADERS[name]: value for name, value in fields.items() if name in POSTED_HEADERS
    }
    headers.update(
        (name, value) for name, value in fields.items() if name.startswith("x-amz-meta-")
    )
    return headers


#: One byte range (RFC 9110 14.1.2): ``first-last``, ``first-`` or ``-suffix``.
_BYTE_RANGE = re.compile(r"bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*\Z", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """S3's 416 ``InvalidRange``."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(first, last)`` byte positions (inclusive) a ``Range`` header asks of an object
    of ``size`` bytes, or None to send the whole object.

    As AWS: one range only; several ranges, another unit, a malformed header or a suffix
    of an empty object are ignored (RFC 9110 lets a server ignore ``Range``); a range
    starting at or past the end, or a zero suffix, raises :class:`RangeNotSatisfiable`.
    A position of any length is past every object once it is past
    :data:`~buckets.signing.numbers.MAX_BYTE_POSITION` (as on RGW: a start there is
    unsatisfiable, an end or a suffix there means "to the end").
    """
    match = _BYTE_RANGE.match(header or "")
    if match is None:
        return None
    first_digits, last_digits = match.groups()
    first = read_decimal(first_digits, MAX_BYTE_POSITION)
    last = read_decimal(last_digits, MAX_BYTE_POSITION)
    if first is None:
        if last is None:
            return None
        if last == 0:  # a zero suffix
            raise RangeNotSatisfiable
        return (max(0, size - last), size - 1) if size else None
    if last is not None and last < first:
        return None  # invalid syntax: ignored
    if first >= size:
        raise RangeNotSatisfiable
    return first, size - 1 if last is None else min(last, size - 1)


class FileSlice:
    """Bytes ``first``..``last`` of an open file, in chunks. Django closes it (and so the
    file) with the response, whether or not it was read to the end."""

    def __init__(self, fh: Any, first: int, last: int) -> None:
        self._fh = fh
        self._first = first
        self._last = last

    def __iter__(self) -> Iterator[bytes]:
        self._fh.seek(self._first)
        left = self._last - self._first + 1
        while left > 0:
            chunk = self._fh.read(min(CHUNK_SIZE, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._fh.close()


# -- who may read an object ----------------------------------------------------------------


def query_pairs(query_string: str) -> list[tuple[str, str]] | None:
    """A raw query string's ``(name, value)`` pairs, percent-decoded as S3 decodes them
    (``+`` is a plus, not a space); None when a part is not UTF-8."""
    try:
        raw = query_string.encode("latin-1")  # WSGI carries the bytes as latin-1
    except UnicodeEncodeError:
        raw = query_string.encode("utf-8")
    pairs = []
    try:
        for item in raw.split(b"&"):
            if item:
                name, _, value = item.partition(b"=")
                pairs.append(
                    (unquote_to_bytes(name).decode("utf-8"), unquote_to_bytes(value).decode())
                )
    except UnicodeDecodeError:
        return None
    return pairs


def signs_urls(storage: FakeS3Storage) -> bool:
    """Whether the storage's ``url()`` signs (``querystring_auth``, on by default): a
    private bucket, which refuses anonymous reads. Asked of ``url()`` itself, so the fake
    never refuses the URLs its own storage hands out."""
    return "X-Amz-Signature=" in storage.url("probe")


def query_signature(
    request: HttpRequest, storage: FakeS3Storage, pairs: list[tuple[str, str]]
) -> bool | PostError:
    """The request's SigV4 query signature checked as S3 checks it
    (:func:`buckets.signing.url_verify.verify_presigned`): True, False when it carries none,
    or S3's error. The fake's own URLs are relative when ``MEDIA_URL`` is, so signed for an
    empty host: the signature is accepted for the request's ``Host`` or for the host of
    ``MEDIA_URL``."""
    host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    base = urlsplit(storage.base_url())
    hosts = [
        host.lower(),
        signing.host_header(f"{base.scheme}://{base.netloc}" if base.netloc else ""),
    ]
    return verify_presigned(
        method=request.method or "GET",
        path=request.path,
        query=pairs,
        hosts=list(dict.fromkeys(hosts)),
        secret_for=storage.secret_for,
        header=request.headers.get,
        region=storage.region,
    )


def read_access(request: HttpRequest, storage: FakeS3Storage) -> bool | PostError:
    """Whether a GET or HEAD may read an object, as S3 decides for a private bucket
    (:func:`signs_urls`) or a public one.

    True for a valid pre-signed URL (checked with
    :func:`buckets.signing.url_verify.verify_presigned`, which recomputes the signature with
    the code that signs it); its ``response-*`` parameters may override headers. False for
    an anonymous request to a public bucket,
    which must not carry any. Otherwise S3's error: 403 ``AccessDenied`` for an anonymous
    request to a private bucket, 400 ``InvalidRequest`` for an anonymous one with
    ``response-*`` parameters, and the signature errors of ``verify_presigned``. The
    fake's own URLs are relative when ``MEDIA_URL`` is, so signed for an empty host: the
    signature is accepted for the request's ``Host`` or for the host of ``MEDIA_URL``.
    """
    pairs = query_pairs(request.META.get("QUERY_STRING", ""))
    if pairs is None:
        return signature_mismatch()
    signed = query_signature(request, storage, pairs)
    if signed is not False:
        return signed
    if signs_urls(storage):
        return PostError("AccessDenied", 403, "Access Denied")
    if any(name in RESPONSE_OVERRIDES for name, _ in pairs):
        message = "Request specific response headers cannot be used for anonymous GET requests."
        return PostError("InvalidRequest", 400, message)
    return False
