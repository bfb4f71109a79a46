"""What one listing of the static prefix says about each object, and whether a local file
is the same content.

A listing gives each object's size, ETag and modification time, a thousand objects a
request: enough to decide, without one request per file, that a file is unchanged. The
decision is by content, never by time: same size, and the MD5 of the local bytes equal to
the ETag of an object uploaded in one piece (S3's ETag of a single PUT is its MD5) or, for
a multipart object (ETag ``<md5 of md5s>-<parts>``), to the MD5 kept in its metadata.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from buckets.staticfiles.names import CONTENT_MD5_METADATA
from buckets.storage.s3io import translate_error

__all__ = ["ContentHashes", "RemoteObject", "content_md5", "list_objects", "same_content"]

#: Bytes read at a time when hashing a file.
HASH_CHUNK = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class RemoteObject:
    """One object as a listing (or our own upload) describes it."""

    size: int
    #: Unquoted; the content's MD5 for a single-part upload.
    etag: str
    modified: datetime

    @property
    def single_part(self) -> bool:
        return "-" not in self.etag


def list_objects(client: Any, bucket: str, prefix: str) -> Iterator[tuple[str, RemoteObject]]:
    """``(key without prefix, object)`` for every key under ``prefix`` (one request per
    thousand keys); ``OSError`` from the storage's error translation on failure."""
    paginator = client.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", ()):
                name = obj["Key"][len(prefix) :]
                if name:
                    etag = str(obj.get("ETag", "")).strip('"')
                    yield name, RemoteObject(int(obj["Size"]), etag, obj["LastModified"])
    except (ClientError, BotoCoreError) as exc:
        raise translate_error(exc, prefix) from exc


def content_md5(fileobj: Any) -> tuple[str, int]:
    """``(hex MD5, size)`` of a binary file from its start, read a chunk at a time; the file
    is rewound afterwards when it can be."""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    while chunk := fileobj.read(HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    return digest.hexdigest(), size


class ContentHashes:
    """The MD5s of the files on disk read so far, for one ``collectstatic`` run: a file is
    read once for its MD5 however many times the run asks (collected, hashed for its
    hashed name, compared again under that name). A file is known by its device, inode,
    size and modification time in nanoseconds, so a file changed in between is read again.
    Anything not on disk is hashed each time."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int, int, int], tuple[str, int]] = {}

    def md5(self, fileobj: Any) -> tuple[str, int]:
        """``(hex MD5, size)`` of ``fileobj`` as :func:`content_md5` gives it."""
        key = _disk_identity(fileobj)
        known = self._known.get(key) if key is not None else None
        if known is None:
            known = content_md5(fileobj)
            if key is not None:
                self._known[key] = known
        elif hasattr(fileobj, "seek"):
            fileobj.seek(0)
        return known


def _disk_identity(fileobj: Any) -> tuple[int, int, int, int] | None:
    fileno = getattr(fileobj, "fileno", None)
    if not callable(fileno):
        return None
    try:
        found = os.fstat(fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def same_content(
    remote: RemoteObject, md5: str, size: int, metadata: Callable[[], dict[str, str]]
) -> bool:
    """Whether ``remote`` holds the bytes whose MD5 and size are given. ``metadata()`` (one
    HEAD) is only asked for a multipart object of the right size."""
    if remote.size != size:
        return False
    if remote.single_part:
        return remote.etag == md5
    return metadata().get(CONTENT_MD5_METADATA) == md5
