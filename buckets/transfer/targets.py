"""Where files are copied to: a bucket (``S3Storage``, the fast path) or any Django storage.

A target answers what it already holds (:meth:`info`, after one :meth:`prefetch` of all the
names) and writes one file whole or not at all (:meth:`write`), verified: the bucket checks
each body against the signature or checksum boto3 sends with it, and the ``ETag`` of each
answer must be the MD5 of what was read (no ``Content-MD5`` header: it would only repeat that
check, and it slows RGW's PUTs down); a multipart upload that fails or is cancelled is
aborted, so no part is left behind.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import math
import posixpath
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from django.core.files.storage import Storage

from buckets.signing.limits import MIN_PART_SIZE
from buckets.storage import clients
from buckets.storage.base import BucketStorage
from buckets.storage.s3 import S3Storage
from buckets.storage.s3io import translate_delete_error, translate_error
from buckets.transfer.digests import ContentDigest, etag_matches
from buckets.transfer.errors import CopyFailed
from buckets.transfer.reader import SourceReader

__all__ = ["BucketTarget", "ObjectInfo", "StorageTarget", "Target", "target_for"]

#: S3's most parts in one upload.
MAX_PARTS = 10_000
#: Names per folder, on average, from which each folder is listed on its own.
NAMES_PER_FOLDER = 20
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


def raw_time_client(storage: S3Storage, connections: int) -> Any:
    """A client like the storage's, with ``connections`` pooled connections, that leaves
    times as the server wrote them: botocore parses each one with dateutil, which costs
    more than the rest of a listing page."""
    session = clients.new_session(storage.settings)
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=str)
    pool = Config(max_pool_connections=connections)
    return clients.new_client(session, storage.settings, more_config=pool)


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


def target_for(storage: Storage, connections: int = 10) -> Target:
    """The target for ``storage``; ``connections``: as many as the workers copying to it."""
    if isinstance(storage, S3Storage):
        return BucketTarget(storage, connections)
    return StorageTarget(storage)


def _top(name: str) -> str:
    """The top-level folder of ``name`` (``""`` for a name at the root)."""
    return name.split("/", 1)[0] if "/" in name else ""


class BucketTarget(Target):
    """An ``S3Storage``: a listing tells what is there, PUTs and multipart uploads write."""

    storage: S3Storage

    def __init__(self, storage: S3Storage, connections: int = 10) -> None:
        self.storage = storage
        self.connections = connections
        #: One client for every worker (boto3 clients are thread-safe; each costs a lot to
        #: make).
        self.client = raw_time_client(storage, connections)
        config = storage.transfer_config
        self.part_size_floor = max(int(config.multipart_chunksize), MIN_PART_SIZE)
        self.threshold = max(int(config.multipart_threshold), 1)
        self._listed: dict[str, ObjectInfo] = {}
        self._folders: set[str] = set()  # folders listed (their own objects)
        self._tops: set[str] = set()  # top-level folders listed whole ("": the root's own)

    # -- what is there ---------------------------------------------------------------

    def prefetch(self, names: Iterable[str]) -> None:
        """Listings instead of a HEAD per name: of each folder holding names, several at
        once, when folders hold many names each; else of each top-level folder, whole."""
        names = list(names)
        folders = {posixpath.dirname(name) for name in names}
        if len(folders) > 1 and len(folders) * NAMES_PER_FOLDER <= len(names):
            listings = [(folder, False) for folder in sorted(folders)]
        else:
            listings = [(_top(name), True) for name in names]
            listings = sorted(set(listings))
        with ThreadPoolExecutor(min(self.connections, len(listings) or 1)) as pool:
            for folder, whole, found in pool.map(lambda f: (*f, self._list(*f)), listings):
                self._listed.update(found)
                (self._tops if whole else self._folders).add(folder)

    def _list(self, folder: str, whole: bool) -> dict[str, ObjectInfo]:
        """The objects in ``folder`` (``""``: the root), or under it too if ``whole``."""
        start = f"{self.storage.location}/" if self.storage.location else ""
        prefix = start + (f"{folder}/" if folder else "")
        options = {"Prefix": prefix} if whole and folder else {"Prefix": prefix, "Delimiter": "/"}
        found = {}
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.storage.bucket_name, **options):
                for obj in page.get("Contents", ()):
                    found[obj["Key"][len(start) :]] = ObjectInfo(
                        int(obj["Size"]), obj.get("ETag"), obj.get("LastModified")
                    )
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, prefix) from exc
        return found

    def info(self, name: str) -> ObjectInfo | None:
        if posixpath.dirname(name) in self._folders or _top(name) in self._tops:
            return self._listed.get(name)
        try:
            head = self._head(name)
        except FileNotFoundError:
            return None
        return ObjectInfo(int(head["ContentLength"]), head.get("ETag"), head.get("LastModified"))

    def same_content(self, name: str, held: ObjectInfo, digest: ContentDigest) -> bool | None:
        return None if held.etag is None else etag_matches(held.etag, digest)

    def digest_for(self, size: int, *, compare: bool = False) -> ContentDigest:
        """For a write: the MD5 of the whole body for a single PUT, none for an upload in
        parts (:meth:`_write_parts` hashes each part once, for its Content-MD5)."""
        single = size < self.threshold
        return ContentDigest(self.part_size(size), whole=compare or single, by_part=compare)

    # -- writing ---------------------------------------------------------------------

    def write(
        self,
        name: str,
        reader: SourceReader,
        metadata: Mapping[str, str] | None,
        on_bytes: Callable[[int], None],
    ) -> None:
        key = self.storage._key(name)
        args = self.storage._put_args(name, None, metadata)
        client, bucket = self.client, self.storage.bucket_name
        try:
            if reader.size < self.threshold:
                data = _read_exactly(reader, self.threshold)
                if len(data) >= self.threshold:
                    raise CopyFailed("the source grew while it was read")
                answer = client.put_object(Bucket=bucket, Key=key, Body=data, **args)
                on_bytes(len(data))
                self._verify(name, answer.get("ETag"), reader.digest, head=not answer.get("ETag"))
            else:
                self._write_parts(key, args, reader, on_bytes)
                self._verify(name, None, reader.digest, head=True)
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, key) from exc

    def _write_parts(
        self,
        key: str,
        args: dict[str, Any],
        reader: SourceReader,
        on_bytes: Callable[[int], None],
    ) -> None:
        """One part in memory at a time; any failure, Ctrl-C included, aborts the upload."""
        client, bucket = self.client, self.storage.bucket_name
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **args)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            part_size = reader.digest.part_size
            while True:
                data = _read_exactly(reader, part_size)
                if not data and parts:
                    break
                number = len(parts) + 1
                part_md5 = hashlib.md5(data, usedforsecurity=False).digest()
                reader.digest.parts.append(part_md5)
                answer = client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                )
                if answer["ETag"].strip('"') != part_md5.hex():
                    raise CopyFailed(f"part {number} did not verify (its ETag is not its MD5)")
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                on_bytes(len(data))
                if len(data) < part_size:
                    break
            client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            with contextlib.suppress(ClientError, BotoCoreError):
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def _verify(self, name: str, etag: str | None, digest: ContentDigest, *, head: bool) -> None:
        size = None
        if head:
            answer = self._head(name)
            etag, size = answer.get("ETag"), int(answer["ContentLength"])
        problem = None
        if size is not None and size != digest.size:
            problem = f"it holds {size} bytes, {digest.size} were sent"
        elif etag is not None and etag_matches(etag, digest) is False:
            problem = f"its ETag {etag} is not the MD5 of the bytes sent"
        if problem:
            with contextlib.suppress(OSError):
                self.delete(name)
            raise CopyFailed(f"the copy did not verify ({problem}); it was removed")

    def _head(self, name: str) -> dict[str, Any]:
        key = self.storage._key(name)
        try:
            answer: dict[str, Any] = self.client.head_object(
                Bucket=self.storage.bucket_name, Key=key
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, key) from exc
        return answer

    def delete(self, name: str) -> None:
        key = self.storage._key(name)
        try:
            self.client.delete_object(Bucket=self.storage.bucket_name, Key=key)
        except (ClientError, BotoCoreError) as exc:
            err = translate_delete_error(exc, key)
            if err is not None:
                raise err from exc


class StorageTarget(Target):
    """Any other Django storage: ``exists``/``size`` to tell what is there, ``save`` to
    write (the name must come back unchanged), the bytes read back to compare content."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def info(self, name: str) -> ObjectInfo | None:
        if not self.storage.exists(name):
            return None
        try:
            modified = self.storage.get_modified_time(name)
        except NotImplementedError:
            modified = None
        return ObjectInfo(self.storage.size(name), None, modified)

    def same_content(self, name: str, held: ObjectInfo, digest: ContentDigest) -> bool | None:
        held_digest = self.digest_for(held.size)
        with self.storage.open(name, "rb") as f:
            for chunk in iter(lambda: f.read(READ_CHUNK), b""):
                held_digest.update(chunk)
        return held_digest.md5_hex == digest.md5_hex

    def write(
        self,
        name: str,
        reader: SourceReader,
        metadata: Mapping[str, str] | None,
        on_bytes: Callable[[int], None],
    ) -> None:
        if self.storage.exists(name):
            self.storage.delete(name)
        content = File(reader, name)  # type: ignore[arg-type]  # any object with read()
        if isinstance(self.storage, BucketStorage):
            saved = self.storage.save(name, content, metadata=metadata)
        else:
            saved = self.storage.save(name, content)
        on_bytes(reader.digest.size)
        if saved != name:
            self.storage.delete(saved)
            raise CopyFailed(f"the target storage renamed it to {saved!r}; removed")
        held = self.info(name)
        if held is None or held.size != reader.digest.size:
            with contextlib.suppress(OSError):
                self.storage.delete(name)
            raise CopyFailed("the copy did not verify (its size differs); it was removed")


def _read_exactly(reader: SourceReader, n: int) -> bytes:
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
