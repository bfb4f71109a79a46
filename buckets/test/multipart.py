"""A streaming ``multipart/form-data`` reader for the fake S3 upload endpoint.

Why not Django's ``MultiPartParser``? S3 reads a POST form in order: the fields before the
``file`` part are the form, the file is streamed, and whatever follows it is ignored. Django
parses the whole body into ``POST``/``FILES`` and loses that order. This reader hands out
one part at a time and reads a part's body in bounded chunks, so a 1 GiB upload costs a
few hundred KiB of memory wherever it is written to.

RFC 7578 / RFC 2046: the body is ``--boundary CRLF headers CRLF CRLF data`` repeated, each
data ending at ``CRLF --boundary``; ``--boundary--`` closes it. Anything malformed raises
:class:`MalformedMultipart`, which the endpoint answers with S3's ``MalformedPOSTRequest``.

Header parameters (``name``, ``filename``, ``boundary``) are read as RFC 7578 writes them,
``name=token`` or ``name="quoted"``, by :func:`header_parameters`, which cannot fail. RFC
7578 forbids RFC 2231's encoded form (``name*=utf-8''...``) and S3 servers do not decode it:
RGW takes ``name*`` for another parameter than ``name``, and so does the fake. (Django's
``parse_header_parameters`` decodes it, and raises on an unknown charset.)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

READ_SIZE = 256 * 1024
MAX_HEADER_BYTES = 16 * 1024


class MalformedMultipart(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclasses.dataclass(frozen=True)
class Part:
    """One part's headers: its form name, and the filename and type of a file part."""

    name: str
    filename: str | None
    content_type: str | None


#: One parameter: a name, then ``=`` and a quoted or plain value (a quoted one may lack its
#: closing quote), then whatever precedes the next ``;``. Every part of it is optional and
#: unambiguous, so matching never backtracks: one pass over the header.
_PARAMETER = re.compile(r'([^=;"]*)(?:=[ \t]*(?:"((?:[^"\\]|\\.)*)"?|([^;]*)))?[^;]*;?', re.DOTALL)
_QUOTED_PAIR = re.compile(r'\\(["\\])')


def header_parameters(value: str) -> tuple[str, dict[str, str]]:
    """A header value's lower-cased first item and its parameters (names lower-cased; the
    last of a repeated name wins): ``form-data; name="key"`` is
    ``("form-data", {"name": "key"})``.

    A quoted value ends at the next unescaped ``"`` (``\\"`` and ``\\\\`` stand for
    ``"`` and ``\\``), a plain one at the next ``;``; an item without ``=`` is skipped.
    No RFC 2231 decoding: ``name*`` is a parameter of its own. Never raises.
    """
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAMETER.finditer(rest):
        name, quoted, plain = match.groups()
        name = name.strip().lower()
        if name and quoted is not None:
            params[name] = _QUOTED_PAIR.sub(r"\1", quoted)
        elif name and plain is not None:
            params[name] = plain.strip()
    return kind.strip().lower(), params


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` Content-Type, or None if it is not one."""
    kind, params = header_parameters(content_type or "")
    boundary = params.get("boundary", "")
    if kind.lower() != "multipart/form-data" or not 0 < len(boundary) <= 70:
        return None
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        return None


class MultipartReader:
    """Parts of a multipart body, in order, each body read in chunks.

    ``read`` is the request body's ``read(n)``; it returns ``b""`` at the end. ``consumed``
    counts the bytes handed out so far (headers and boundaries included), which the
    endpoint uses for S3's limit on the size of the form before the file.
    """

    def __init__(self, read: Callable[[int], bytes], boundary: bytes) -> None:
        self._read = read
        self._delimiter = b"\r\n--" + boundary
        # A virtual CRLF lets the first boundary, at the very start, match the delimiter.
        self._buf = bytearray(b"\r\n")
        self._in_body = True  # inside a part's data (at first, the preamble's)
        self._finished = False
        self.consumed = -2

    def _fill(self) -> None:
        chunk = self._read(READ_SIZE)
        if not chunk:
            raise MalformedMultipart("The body ended before the closing boundary.")
        self._buf += chunk

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self.consumed += n
        return out

    def read_chunk(self) -> bytes:
        """The next piece of the current part's data; ``b""`` once the part has ended."""
        if not self._in_body:
            return b""
        keep = len(self._delimiter) - 1  # a delimiter may straddle two reads
        while True:
            at = self._buf.find(self._delimiter)
            if at == 0:
                self._in_body = False
                return b""
            if at > 0:
                return self._take(at)
            if len(self._buf) > keep:
                return self._take(len(self._buf) - keep)
            self._fill()

    def chunks(self) -> Iterator[bytes]:
        """The rest of the current part's data."""
        while chunk := self.read_chunk():
            yield chunk

    def read_value(self, limit: int) -> bytes | None:
        """The rest of the current part's data, or None past ``limit`` bytes (still skipped)."""
        pieces: list[bytes] = []
        size = 0
        for chunk in self.chunks():
            size += len(chunk)
            if size <= limit:
                pieces.append(chunk)
        return b"".join(pieces) if size <= limit else None

    def next_part(self) -> Part | None:
        """Skip what is left of the current part and return the next part's headers.

        None after the closing boundary (the epilogue is never read).
        """
        if self._finished:
            return None
        for _ in self.chunks():  # the preamble, or an unread part body
            pass
        # The buffer starts with the delimiter.
        while len(self._buf) < len(self._delimiter) + 2:
            self._fill()
        self._take(len(self._delimiter))
        if self._buf.startswith(b"--"):
            self._finished = True
            return None
        while True:  # transport padding, then CRLF, then the headers and a blank line
            end = self._buf.find(b"\r\n\r\n")
            if self._buf.startswith(b"\r\n\r\n") or end >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise MalformedMultipart("A part's headers are too long.")
            self._fill()
        if end > MAX_HEADER_BYTES:  # found in a large read: still too long to parse
            raise MalformedMultipart("A part's headers are too long.")
        line_end = self._buf.find(b"\r\n")
        if self._buf[:line_end].strip(b" \t"):
            raise MalformedMultipart("Garbage after a boundary.")
        block = self._take(end + 4)[line_end + 2 : -2]
        self._in_body = True
        return _parse_headers(bytes(block))


def _parse_headers(block: bytes) -> Part:
    headers: dict[str, str] = {}
    for raw in block.split(b"\r\n"):
        if not raw:
            continue
        line = raw.decode("utf-8", "replace")
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise MalformedMultipart(f"Bad part header: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    kind, params = header_parameters(headers.get("content-disposition", ""))
    if kind.lower() != "form-data" or "name" not in params:
        raise MalformedMultipart("A part lacks 'Content-Disposition: form-data; name=...'.")
    return Part(params["name"], params.get("filename"), headers.get("content-type"))
