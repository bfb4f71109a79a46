"""What every target gives (:class:`Target`), what it says it holds (:class:`ObjectInfo`),
and the reading rule its writes share."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import Storage

from buckets.transfer.digests import ContentDigest
from buckets.transfer.reader import SourceReader

__all__ = ["MAX_PARTS", "READ_CHUNK", "ObjectInfo", "Target", "parse_time", "read_exactly"]

#: S3's most parts in one upload.
MAX_PARTS = 10_000
#: Bytes read at a time from a file that is only hashed.
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """What a target holds under a name: its size, ETag (None where there is none) and
    when it was written (as the server said it: parsed only when asked)."""

    size: int
    etag: str | None
    modified: datetime | str | None

    @property
    def modified_time(self) -> datetime | None:
        return parse_time(self.modified)


def parse_time(value: datetime | str | None) -> datetime | None:
    """A time as S3 gives it: ISO 8601 in listings, RFC 1123 in headers."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return email.utils.parsedate_to_datetime(value)


class Target:
    """The interface both targets give."""

    storage: Storage
    part_size_floor: int = 8 * 1024 * 1024

    def part_size(self, size: int) -> int:
        """The part size a file of ``size`` bytes goes up in (and its ETag is computed with)."""
        return max(self.part_size_floor, math.ceil(size / MAX_PARTS))

    def digest_for(self, size: int, *, compare: bool = False) -> ContentDigest:
        """The digest a copy of ``size`` bytes is read through; ``compare``: one that can be
        compared with any ETag the target may hold."""
        return ContentDigest(self.part_size(size), by_part=compare)

    def prefetch(self, names: Iterable[str]) -> None:
        """Learn in bulk what :meth:`info` will be asked about (optional)."""

    def info(self, name: str) -> ObjectInfo | None:
        raise NotImplementedError

    def same_content(self, name: str, held: ObjectInfo, digest: ContentDigest) -> bool | None:
        """Whether the object held is the bytes ``digest`` saw; None when that can't be told."""
        raise NotImplementedError

    def write(
        self,
        name: str,
        reader: SourceReader,
        metadata: Mapping[str, str] | None,
        on_bytes: Callable[[int], None],
    ) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        self.storage.delete(name)


def read_exactly(reader: SourceReader, n: int) -> bytes:
    """``n`` bytes, fewer only at the end of the source: one read (a disk file gives all
    of it at once: no second copy of the bytes to join), more only if the source gives
    less."""
    data = reader.read(n)
    if len(data) == n or not data:
        return data
    pieces, got = [data], len(data)
    while got < n:
        more = reader.read(n - got)
        if not more:
            break
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)
