"""What an S3 ``ETag`` says about an object's bytes, and the digests to compare it with.

An object written in one PUT has the MD5 of its bytes as its ``ETag`` (32 hex digits). One
completed from parts has the MD5 of its parts' MD5s joined, then ``-`` and the number of
parts: comparable only when the part size is known. Encrypted (SSE-KMS) or otherwise
transformed objects have other ETags: they compare as "unknown", never as equal.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

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
    """MD5 of a whole stream (``whole``) and of each ``part_size`` slice of it (``parts``),
    fed in order; each off where nothing will ask for it (every MD5 pass costs CPU). A
    writer that hashes its parts itself appends them to :attr:`parts`."""

    part_size: int
    whole: bool = True
    by_part: bool = True
    size: int = 0
    parts: list[bytes] = field(default_factory=list)
    _whole: Any = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    _part: Any = field(default_factory=lambda: hashlib.md5(usedforsecurity=False))
    _part_fill: int = 0

    def update(self, data: bytes) -> None:
        self.size += len(data)
        if self.whole:
            self._whole.update(data)
        if not self.by_part:
            return
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
    def md5(self) -> bytes | None:
        return self._whole.digest() if self.whole else None

    @property
    def md5_hex(self) -> str | None:
        return self._whole.hexdigest() if self.whole else None

    def part_etags(self) -> list[bytes]:
        """The MD5 of each part, the last (short) one included."""
        return self.parts + ([self._part.digest()] if self._part_fill else [])


def etag_matches(etag: str, digest: ContentDigest) -> bool | None:
    """True or False when ``etag`` can be compared with ``digest``; None when it can't (an
    ETag of another kind, or of parts of another size)."""
    plain = _plain(etag)
    if _SINGLE.fullmatch(plain):
        return None if digest.md5_hex is None else plain == digest.md5_hex
    multi = _MULTI.fullmatch(plain)
    if multi and (digest.parts or digest.by_part):
        parts = digest.part_etags()
        if int(multi.group(2)) != len(parts):
            return None
        return plain == multipart_etag(parts)
    return None
