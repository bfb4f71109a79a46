"""Two HTTP details of S3 objects the fake reproduces: the ``Range`` a GET asks for (one
byte range, 206 or 416 as AWS answers) and the response headers that the parameters of a
PutObject (``S3Storage``'s ``object_parameters``) become.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import timezone
from email.utils import format_datetime
from typing import Any

from botocore.utils import parse_to_aware_datetime

from .disk import CHUNK_SIZE

#: PutObject parameters S3 serves back as the same-named response header. ``ContentType``,
#: ``Expires`` and ``Metadata`` are handled apart; the others (``ACL``...) add no header.
HEADER_PARAMETERS = {
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
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


#: One byte range (RFC 9110 14.1.2): ``first-last``, ``first-`` or ``-suffix``.
_BYTE_RANGE = re.compile(r"bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*\Z", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """S3's 416 ``InvalidRange``."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(first, last)`` byte positions (inclusive) a ``Range`` header asks of an object
    of ``size`` bytes, or None to send the whole object.

    As AWS: one range only; several ranges, another unit, a malformed header or a suffix
    of an empty object are ignored (RFC 9110 lets a server ignore ``Range``); a range
    starting at or past the end, or a zero suffix, raises :class:`RangeNotSatisfiable`.
    """
    match = _BYTE_RANGE.match(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable
        return (max(0, size - suffix), size - 1) if size else None
    start = int(first)
    if last and int(last) < start:
        return None  # invalid syntax: ignored
    if start >= size:
        raise RangeNotSatisfiable
    return start, size - 1 if not last else min(int(last), size - 1)


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
