"""``S3Storage``: Django's ``Storage`` API on boto3.

Configured by the ``AWS`` settings dict and storage options (see ``buckets.conf``). Clients
are made once per thread and storage (:mod:`buckets.storage.clients`); opens stream
(:mod:`buckets.storage.s3io`). Three halves make the class: what it shares with the local
fake (:class:`~buckets.storage.base.BucketStorage`), saves and copies that never overwrite
another save's object (:class:`~buckets.storage.s3_writes.S3WritesMixin`), and URLs and
upload policies, no I/O (:class:`~buckets.storage.urls.S3UrlsMixin`).
"""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import Any, ClassVar

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from buckets.storage import clients, gzip_writes
from buckets.storage.base import BucketStorage
from buckets.storage.keys import prefix_for
from buckets.storage.s3_multipart import S3MultipartMixin
from buckets.storage.s3_writes import S3WritesMixin
from buckets.storage.s3io import (
    S3ObjectReader,
    S3ObjectWriter,
    S3StorageFile,
    translate_delete_error,
    translate_error,
)
from buckets.storage.urls import S3UrlsMixin

__all__ = ["S3Storage", "S3StorageFile"]


@deconstructible(path="buckets.storage.S3Storage")
class S3Storage(S3UrlsMixin, S3WritesMixin, S3MultipartMixin, BucketStorage):  # type: ignore[misc]  # url(name: str)
    """Files in an S3 (or S3-compatible) bucket."""

    CACHED: ClassVar[tuple[str, ...]] = (
        "settings",
        "_session",
        "transfer_config",
        *S3UrlsMixin.URL_CACHES,
    )

    def __init__(self, **options: Any) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        super().__init__(**options)

    def _reset(self) -> None:
        super()._reset()
        self._local = threading.local()

    # -- boto3 ---------------------------------------------------------------------------

    @cached_property
    def _session(self) -> boto3.session.Session:
        return clients.new_session(self.settings)

    @property
    def client(self) -> Any:
        """This thread's boto3 S3 client, made once (sessions are not thread-safe; clients are)."""
        client = getattr(self._local, "client", None)
        if client is None:
            with self._lock:
                client = clients.new_client(self._session, self.settings)
            self._local.client = client
        return client

    @cached_property
    def transfer_config(self) -> TransferConfig:
        return clients.transfer_config(self.settings)

    # -- the Storage API -----------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        key = self._key(name)
        if mode in ("rb", "r"):
            head = self._head(name)  # fail now (FileNotFoundError), not on first read
            reader = S3ObjectReader(
                self.client, self.bucket_name, key, size=int(head["ContentLength"])
            )
            buffered = io.BufferedReader(reader, buffer_size=256 * 1024)
            if self.settings.gzip and head.get("ContentEncoding") == gzip_writes.ENCODING:
                # django-storages' gzip reads give the original bytes back
                return S3StorageFile(gzip_writes.reader(buffered), name, self, mode)
            return S3StorageFile(buffered, name, self, mode)
        if mode in ("wb", "w"):
            writer = S3ObjectWriter(
                self.client,
                self.bucket_name,
                key,
                extra_args=self._put_args(name),
                part_size=self.transfer_config.multipart_chunksize,
                max_memory_size=self.settings.max_memory_size,
            )
            return S3StorageFile(writer, name, self, mode)
        raise ValueError(f"S3Storage opens files in 'rb' or 'wb' mode, not {mode!r}.")

    def delete(self, name: str) -> None:
        """Delete the object; a missing one is fine, a missing bucket is not (its
        ``NoSuchBucketError`` is an ``OSError`` but no ``FileNotFoundError``)."""
        if not name:
            raise ValueError("The name must be given to delete().")
        key = self._key(name)
        try:
            self.client.delete_object(Bucket=self.bucket_name, Key=key)
        except (ClientError, BotoCoreError) as exc:
            err = translate_delete_error(exc, key)
            if err is not None:
                raise err from exc

    def _head(self, name: str) -> dict[str, Any]:
        key = self._key(name)
        try:
            return self.client.head_object(Bucket=self.bucket_name, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, key) from exc

    def metadata(self, name: str) -> dict[str, str]:
        """The object's ``x-amz-meta-*`` metadata (one HEAD), names lower-cased."""
        return {k.lower(): v for k, v in (self._head(name).get("Metadata") or {}).items()}

    def exists(self, name: str) -> bool:
        try:
            self._head(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        return int(self._head(name)["ContentLength"])

    def _last_modified(self, name: str) -> datetime:
        modified: datetime = self._head(name)["LastModified"]
        return modified

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = prefix_for(path, self.location)
        dirs: list[str] = []
        files: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", ()):
                    dirs.append(common["Prefix"][len(prefix) :].rstrip("/"))
                for obj in page.get("Contents", ()):
                    entry = obj["Key"][len(prefix) :]
                    if entry:
                        files.append(entry)
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, prefix) from exc
        return dirs, files
