"""The fast target: an ``S3Storage``. Listings tell what is there; a PUT, or a multipart
upload one part at a time, writes; each answer's ``ETag`` must be the MD5 of what was read.

That ETag check verifies every copy, so neither a ``Content-MD5`` header (it slows RGW's
PUTs down) nor a CRC32 checksum is sent with a body (on plain HTTP the bucket still checks
each body against its signature). A multipart upload that fails or is cancelled (Ctrl-C) is
aborted: no part is left.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from buckets.signing.limits import MIN_PART_SIZE
from buckets.storage import clients
from buckets.storage.s3 import S3Storage
from buckets.storage.s3io import translate_delete_error, translate_error
from buckets.transfer.digests import ContentDigest, etag_matches
from buckets.transfer.errors import CopyFailed
from buckets.transfer.listing import read_listings_fast
from buckets.transfer.reader import SourceReader
from buckets.transfer.target_base import ObjectInfo, Target, read_exactly

__all__ = ["BucketTarget", "raw_time_client"]

#: Names per folder, on average, from which each folder is listed on its own. A listing
#: request costs about as much as reading a few hundred listed objects: one listing of a
#: whole top-level folder is cheaper unless folders hold that many names each (or the
#: bucket holds far more than is copied, which can't be known beforehand).
NAMES_PER_FOLDER = 250


def raw_time_client(storage: S3Storage, connections: int) -> Any:
    """A client like the storage's, with ``connections`` pooled connections, made for bulk
    work: times left as the server wrote them (botocore parses each with dateutil), listing
    pages read by :func:`~buckets.transfer.listing.read_listings_fast`, and no CRC32 of
    each body computed and sent unless S3 requires one (every copy is verified by its ETag
    against the MD5 of the bytes read; a plain-HTTP request still signs its body)."""
    session = clients.new_session(storage.settings)
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=str)
    bulk = Config(max_pool_connections=connections, request_checksum_calculation="when_required")
    client = clients.new_client(session, storage.settings, more_config=bulk)
    read_listings_fast(client)
    return client


def _top(name: str) -> str:
    """The top-level folder of ``name`` (``""`` for a name at the root)."""
    top, slash, _ = name.partition("/")
    return top if slash else ""


def _folder(name: str) -> str:
    """``posixpath.dirname(name)`` for a clean storage name, cheaper."""
    return name.rpartition("/")[0]


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
        folders = {_folder(name) for name in names}
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
        if _top(name) in self._tops or _folder(name) in self._folders:
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
                # One byte more than the source said it had: no buffer of the threshold's
                # size for each small file, and a source that grew is caught here.
                data = read_exactly(reader, reader.size + 1)
                if len(data) > reader.size:
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
                data = read_exactly(reader, part_size)
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
