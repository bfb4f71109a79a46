"""One file: decide whether it needs copying (:func:`plan`), then copy it (:func:`copy`).

The rules, each said once:

* A name is copied only under the same key: a name that is not already a clean storage name
  (``..``, an absolute path, ``.`` or empty segments, NUL) is refused, never cleaned into
  another key and never read.
* Already there and identical: the same size and written no earlier than the source was
  last modified (to the second, as S3 keeps times); with ``checksum``, the same size and
  the same content (the source's MD5 against the ETag, or the bytes read back).
* A copy is verified when written (:mod:`buckets.transfer.targets`), and the source must not
  have changed while it was read (size and modification time): else the copy is removed.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeGuard

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, Storage

from buckets.storage.keys import clean_name
from buckets.transfer.errors import Cancelled, CopyFailed
from buckets.transfer.reader import SourceReader
from buckets.transfer.target_base import READ_CHUNK, Target

__all__ = ["Item", "Outcome", "Plan", "copy", "name_problem", "plan"]

#: What happened to a file (``Outcome.action``).
COPIED, REPLACED, SKIPPED, FAILED, CANCELLED = (
    "copied",
    "replaced",
    "skipped",
    "failed",
    "cancelled",
)


@dataclass(frozen=True)
class Item:
    """A file to copy: its name in ``source`` (and in the target), and the metadata its
    copy is written with."""

    name: str
    source: Storage
    metadata: Mapping[str, str] | None = None


@dataclass
class Plan:
    """What :func:`plan` found: ``action`` is ``copy``, ``replace`` or ``skip``; ``why`` says
    why a held object is replaced."""

    item: Item
    action: str
    size: int
    modified: datetime | None
    why: str = ""


@dataclass
class Outcome:
    name: str
    action: str
    size: int = 0
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def name_problem(name: str) -> str | None:
    """Why ``name`` can't be copied under the same key, or None."""
    try:
        cleaned = clean_name(name)
    except SuspiciousFileOperation as exc:
        return f"unsafe name refused ({exc})"
    if cleaned != name or not name.strip("/") or name.endswith("/"):
        return "unsafe name refused (not a clean storage name; it would be stored elsewhere)"
    return None


def _plain_file_system(storage: Storage) -> TypeGuard[FileSystemStorage]:
    """A ``FileSystemStorage`` whose size and modification time are its files' own."""
    kind = storage.__class__  # a lazy storage (default_storage) says what it wraps
    return (
        isinstance(storage, FileSystemStorage)
        and kind.size is FileSystemStorage.size
        and kind.get_modified_time is FileSystemStorage.get_modified_time
    )


def _stat(item: Item) -> tuple[int, datetime | None]:
    """The source's size and modification time (one ``stat`` for a plain
    ``FileSystemStorage``, where asking the storage twice takes two)."""
    source = item.source
    if _plain_file_system(source):
        found = os.stat(source.path(item.name))
        return found.st_size, datetime.fromtimestamp(found.st_mtime, tz=timezone.utc)
    size = source.size(item.name)
    try:
        modified = item.source.get_modified_time(item.name)
    except NotImplementedError:
        modified = None
    return size, modified


def _seconds(moment: datetime | None) -> int | None:
    return None if moment is None else math.floor(moment.timestamp())


def plan(item: Item, target: Target, *, checksum: bool, stop: threading.Event) -> Plan:
    """Stat the source and compare it with what the target holds (``OSError`` and
    ``SuspiciousFileOperation`` pass through: the caller reports them)."""
    size, modified = _stat(item)
    held = target.info(item.name)
    if held is None:
        return Plan(item, "copy", size, modified)
    if held.size != size:
        return Plan(item, "replace", size, modified, f"{held.size} bytes there, {size} here")
    if checksum:
        digest = target.digest_for(size, compare=True)
        with item.source.open(item.name, "rb") as f:
            reader = SourceReader(f, size, digest, stop)
            for _ in iter(lambda: reader.read(READ_CHUNK), b""):
                pass
        same = target.same_content(item.name, held, digest)
        if same:
            return Plan(item, "skip", size, modified)
        why = "content differs" if same is False else "content can't be compared"
        return Plan(item, "replace", size, modified, why)
    source_time, held_time = _seconds(modified), _seconds(held.modified_time)
    if source_time is not None and held_time is not None and held_time < source_time:
        return Plan(item, "replace", size, modified, "the source is newer")
    return Plan(item, "skip", size, modified)


def copy(
    planned: Plan, target: Target, *, stop: threading.Event, on_bytes: Callable[[int], None]
) -> None:
    """Copy one planned file (``CopyFailed``, ``Cancelled`` or the storage's ``OSError``)."""
    item = planned.item
    if stop.is_set():
        raise Cancelled()
    with item.source.open(item.name, "rb") as f:
        reader = SourceReader(f, planned.size, target.digest_for(planned.size), stop)
        target.write(item.name, reader, item.metadata, on_bytes)
    if _stat(item) != (planned.size, planned.modified) or reader.digest.size != planned.size:
        try:
            target.delete(item.name)
        except OSError:
            raise CopyFailed("the source changed while it was copied") from None
        raise CopyFailed("the source changed while it was copied; the copy was removed")
