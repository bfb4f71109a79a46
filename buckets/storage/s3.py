"""``S3Storage``: Django's ``Storage`` API on boto3.

Configured by the ``AWS`` settings dict and storage options (see ``buckets.conf``). Clients
are made once per thread and storage; saves go through boto3's managed transfer and never
overwrite another save's object (unless ``file_overwrite``); opens stream. URLs and upload
policies (no I/O) are the ``S3UrlsMixin`` half, in ``buckets.storage.urls``.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import threading
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from django.core.signals import setting_changed
from django.utils import timezone as dj_timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from buckets import conf
from buckets.storage.base import BucketStorage, copy_parameters, with_metadata
from buckets.storage.files import disk_path
from buckets.storage.keys import clean_name, name_to_key, prefix_for
from buckets.storage.s3_multipart import S3MultipartMixin
from buckets.storage.s3io import (
    NoSuchBucketError,
    S3ObjectReader,
    S3ObjectWriter,
    S3StorageFile,
    translate_delete_error,
    translate_error,
)
from buckets.storage.urls import S3UrlsMixin

__all__ = ["S3Storage", "S3StorageFile"]

_live_storages: weakref.WeakSet[S3Storage] = weakref.WeakSet()


@deconstructible(path="buckets.storage.S3Storage")
class S3Storage(S3UrlsMixin, S3MultipartMixin, BucketStorage):  # type: ignore[misc]  # url(name: str), not None
    """Files in an S3 (or S3-compatible) bucket (``BucketStorage``: what it shares with the
    fake, from ``save()`` to pickling)."""

    def __init__(self, **options: Any) -> None:
        conf.check_option_names(options)
        self._options = options
        self._local = threading.local()
        self._lock = threading.Lock()
        _live_storages.add(self)

    # -- configuration -------------------------------------------------------------------

    @cached_property
    def settings(self) -> conf.S3Settings:
        return conf.resolve(self._options)

    def check_settings(self) -> None:
        """Resolve the settings now: ``ImproperlyConfigured`` naming the key if they are wrong."""
        self.settings  # noqa: B018

    def _reset(self) -> None:
        for attr in ("settings", "_session", "transfer_config", *self.URL_CACHES):
            self.__dict__.pop(attr, None)
        self._local = threading.local()

    @property
    def bucket_name(self) -> str:
        return self.settings.bucket_name

    @property
    def location(self) -> str:
        return self.settings.location

    @property
    def file_overwrite(self) -> bool:
        return self.settings.file_overwrite

    # -- boto3 ---------------------------------------------------------------------------

    @cached_property
    def _session(self) -> boto3.session.Session:
        s = self.settings
        return boto3.session.Session(
            aws_access_key_id=s.access_key,
            aws_secret_access_key=s.secret_key,
            aws_session_token=s.security_token,
            profile_name=s.session_profile,
            region_name=s.region_name,
        )

    def _client_config(self) -> Config:
        s = self.settings
        config = Config(
            signature_version=s.signature_version,
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            retries={"max_attempts": s.max_attempts, "mode": "standard"},
            s3={"addressing_style": s.addressing_style} if s.addressing_style else None,
        )
        if s.client_config is not None:
            config = config.merge(s.client_config)
        return config

    @property
    def client(self) -> Any:
        """This thread's boto3 S3 client, made once (sessions are not thread-safe; clients are)."""
        client = getattr(self._local, "client", None)
        if client is None:
            with self._lock:
                client = self._session.client(
                    "s3",
                    endpoint_url=self.settings.endpoint_url,
                    verify=self.settings.verify,
                    config=self._client_config(),
                )
            self._local.client = client
        return client

    @cached_property
    def transfer_config(self) -> TransferConfig:
        if self.settings.transfer_config is not None:
            return self.settings.transfer_config
        config = TransferConfig()
        # boto3 keeps up to 10 parts of a stream in memory (80 MiB); 4 keep the pipe full.
        config.max_in_memory_upload_chunks = 4
        return config

    # -- names ---------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        return name_to_key(name, self.location)

    # -- the Storage API -----------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        key = self._key(name)
        if mode in ("rb", "r"):
            reader = S3ObjectReader(self.client, self.bucket_name, key)
            reader.size  # noqa: B018 -- fail now (FileNotFoundError), not on first read
            buffered = io.BufferedReader(reader, buffer_size=256 * 1024)
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

    def _put_args(
        self,
        name: str,
        content: Any = None,
        metadata: Mapping[str, str] | None = None,
        *,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """PutObject's arguments: ``object_parameters`` (+ ``metadata``), the Content-Type
        (theirs, else the content's or ``content_type``, else guessed from the name) and
        ``default_acl``."""
        s = self.settings
        args: dict[str, Any] = with_metadata(s.object_parameters, metadata)
        content_type = getattr(content, "content_type", None) or content_type
        if not content_type:
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        args.setdefault("ContentType", content_type)
        if s.default_acl and "ACL" not in args:
            args["ACL"] = s.default_acl
        return args

    def _save(
        self,
        name: str,
        content: Any,
        max_length: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        fileobj = getattr(content, "file", content)
        if self.file_overwrite:
            self._upload(name, content, fileobj, metadata)
            return clean_name(name)
        size = getattr(content, "size", None)
        if isinstance(size, int) and size < self.transfer_config.multipart_threshold:
            return self._save_if_absent(name, content, fileobj, max_length, metadata)
        # A multipart upload can't be made conditional (Ceph RGW ignores If-None-Match on
        # CompleteMultipartUpload), so the name is claimed first and the upload fills it.
        return self._fill_claimed_name(
            name,
            lambda claimed: self._upload(claimed, content, fileobj, metadata),
            content,
            max_length,
        )

    def _upload(
        self, name: str, content: Any, fileobj: Any, metadata: Mapping[str, str] | None = None
    ) -> None:
        """boto3's managed transfer (multipart above the threshold), unconditionally."""
        key = self._key(name)
        args = self._put_args(name, content, metadata)
        path = disk_path(content, fileobj)
        try:
            if path is not None:  # parts are read from disk as sent: far less memory
                self.client.upload_file(
                    path, self.bucket_name, key, ExtraArgs=args, Config=self.transfer_config
                )
            else:
                self.client.upload_fileobj(
                    fileobj, self.bucket_name, key, ExtraArgs=args, Config=self.transfer_config
                )
        except S3UploadFailedError as exc:
            # upload_file() wraps a ClientError in boto3's own exception (no BotoCoreError).
            cause = exc.__context__
            raise translate_error(cause if isinstance(cause, ClientError) else exc, key) from exc
        except (ClientError, BotoCoreError, ValueError) as exc:
            raise translate_error(exc, key) from exc

    def _save_if_absent(
        self,
        name: str,
        content: Any,
        fileobj: Any,
        max_length: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """A single conditional PUT (``If-None-Match: *``), so a concurrent save of the same
        name can never overwrite: on a conflict the file takes the next available name
        (within ``max_length``)."""
        conditional = True
        for _ in range(20):
            key = self._key(name)
            args = self._put_args(name, content, metadata)
            if conditional:
                args["IfNoneMatch"] = "*"
            fileobj.seek(0)
            try:
                self.client.put_object(Bucket=self.bucket_name, Key=key, Body=fileobj, **args)
                return clean_name(name)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "PreconditionFailed":
                    name = self.available_name(name, max_length, overwrite=False)
                elif code == "NotImplemented" and conditional:
                    conditional = False  # an S3 clone without conditional writes
                else:
                    raise translate_error(exc, key) from exc
            except BotoCoreError as exc:
                raise translate_error(exc, key) from exc
        raise OSError(f"Could not find a free name for {name!r} after 20 attempts.")

    def _fill_claimed_name(
        self,
        name: str,
        fill: Callable[[str], None],
        content: Any = None,
        max_length: int | None = None,
    ) -> str:
        """Claim ``name`` (or, on a conflict, the next available name) with an empty
        placeholder, by ``_save_if_absent``'s conditional PUT; then ``fill(claimed)``
        writes the real object over it. For writes S3 clones can't make conditional
        (multipart uploads, copies): no concurrent save can take the claimed name.

        If ``fill`` fails, the placeholder is deleted and the error raised. That delete is
        best effort: with the server gone, an empty object no row refers to is left.
        """
        name = self._save_if_absent(name, content, io.BytesIO(), max_length)
        try:
            fill(name)
        except Exception:
            with contextlib.suppress(OSError):
                self.delete(name)
            raise
        return name

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

    def _head_source(self, name: str) -> dict[str, Any]:
        """``_head`` of an object about to be copied; a missing bucket is no missing object."""
        try:
            return self._head(name)
        except FileNotFoundError:
            self._check_bucket(self._key(name))
            raise

    def _check_bucket(self, key: str) -> None:
        """After a bare 404 (a HEAD has no body to say why; boto3's copy HEADs its source
        first), raise ``NoSuchBucketError`` if the bucket is what is missing: one listing
        (no ListBucket permission, or a bucket that is there: nothing raised)."""
        try:
            self.client.list_objects_v2(Bucket=self.bucket_name, Prefix=key, MaxKeys=1)
        except (ClientError, BotoCoreError) as exc:
            err = translate_error(exc, key)
            if isinstance(err, NoSuchBucketError):
                raise err from exc

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

    def get_modified_time(self, name: str) -> datetime:
        modified: datetime = self._head(name)["LastModified"]
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=timezone.utc)
        if dj_timezone.is_naive(dj_timezone.now()):  # USE_TZ = False
            return dj_timezone.make_naive(modified)
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

    def copy(self, src_name: str, dst_name: str) -> None:
        """Server-side copy (multipart for large objects): no bytes pass through Django.
        As S3's CopyObject, the copy keeps the source's headers and metadata."""
        self._copy(src_name, dst_name)

    def _copy(self, src_name: str, dst_name: str, args: dict[str, Any] | None = None) -> None:
        src, dst = self._key(src_name), self._key(dst_name)
        try:
            self.client.copy(
                {"Bucket": self.bucket_name, "Key": src},
                self.bucket_name,
                dst,
                ExtraArgs=args,
                Config=self.transfer_config,
            )
        except (ClientError, BotoCoreError) as exc:
            err = translate_error(exc, src)
            if isinstance(err, FileNotFoundError):
                self._check_bucket(src)
            raise err from exc

    def _copy_args(self, src_name: str, metadata: Mapping[str, str] | None) -> dict[str, Any]:
        """CopyObject's arguments to write the copy as ``save()`` writes (``REPLACE``; see
        :func:`~buckets.storage.base.copy_parameters`), with ``default_acl``."""
        head = self._head_source(src_name)
        if head.get("ExpiresString"):  # botocore's raw header, when it has one
            head["Expires"] = head["ExpiresString"]
        args = copy_parameters(head, self.settings.object_parameters, metadata)
        if self.settings.default_acl and "ACL" not in args:
            args["ACL"] = self.settings.default_acl
        return {**args, "MetadataDirective": "REPLACE"}

    def copy_to_available_name(
        self,
        src_name: str,
        name: str,
        max_length: int | None = None,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Copy ``src_name`` to ``name``, or to the next available name (never over another
        object, whatever ``file_overwrite`` says, unless ``overwrite``); return the name
        used. Written as ``save()`` writes, ``metadata`` added (:mod:`buckets.storage.base`).

        ``If-None-Match`` on a copy is not honoured everywhere (Ceph RGW ignores it), so,
        as ``save()`` does for a large file, the name is first claimed by a conditional PUT
        (an empty placeholder) that the copy then replaces (or deletes, if it fails).
        """
        args = self._copy_args(src_name, metadata)  # a missing source claims no name
        name = self.available_name(name, max_length, overwrite=overwrite)
        if overwrite:
            self._copy(src_name, name, args)
            return name
        return self._fill_claimed_name(
            name, lambda claimed: self._copy(src_name, claimed, args), max_length=max_length
        )


def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "AWS":
        for storage in list(_live_storages):
            storage._reset()


setting_changed.connect(_reset_on_settings_change)
