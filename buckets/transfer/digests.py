"""What an S3 ``ETag`` says about an object's bytes, and the digests to compare it with.

An object written in one PUT has the MD5 of its bytes as its ``ETag`` (32 hex digits). One
completed from parts has the MD5 of its parts' MD5s joined, then ``-`` and the number of
parts: comparable only when the part size is known. Encrypted (SSE-KMS) or otherwise
transformed objects have other ETags: they compare as "unknown", never as equal.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

__all__ = ["ContentDigest", "etag_matches", "multipart_etag"]

_SINGLE = re.compile(r"[0-9a-f]{32}")
_MULTI = re.compile(r"([0-9a-f]{32})-(\d+)")


def _plain(etag: str) -> str:
    return etag.strip().strip('"').lower()


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ``ETag`` S3 gives an object completed from parts with these MD5 digests."""
    joined = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(part_md5s)}"


@dataclass
class ContentDigest:
    """MD5 of a whole stream and of each ``part_size`` slice of it, fed in order."""

    part_size: int
    size: int = 0
    _whole: hashlib._Hash = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    _part: hashlib._Hash = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    _part_fill: int = 0
    parts: list[bytes] = field(default_factory=list)

    def update(self, data: bytes) -> None:
        self._whole.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            room = self.part_size - self._part_fill
            chunk, view = view[:room], view[room:]
            self._part.update(chunk)
            self._part_fill += len(chunk)
            if self._part_fill == self.part_size:
                self.parts.append(self._part.digest())
                self._part = hashlib.md5(usedforsecurity=False)
                self._part_fill = 0

    @property
    def md5_hex(self) -> str:
        return self._whole.hexdigest()

    def part_etags(self) -> list[bytes]:
        """The MD5 of each part, the last (short) one included."""
        return self.parts + ([self._part.digest()] if self._part_fill else [])


def md5_base64(data: bytes) -> str:
    """``Content-MD5`` of ``data``: the server refuses the body if it got other bytes."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def etag_matches(etag: str, digest: ContentDigest) -> bool | None:
    """True or False when ``etag`` can be compared with ``digest``; None when it can't (an
    ETag of another kind, or of parts of another size)."""
    plain = _plain(etag)
    if _SINGLE.fullmatch(plain):
        return plain == digest.md5_hex
    multi = _MULTI.fullmatch(plain)
    if multi:
        parts = digest.part_etags()
        if int(multi.group(2)) != len(parts):
            return None
        return plain == multipart_etag(parts)
    return None
