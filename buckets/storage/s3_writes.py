"""``S3WritesMixin``: how ``S3Storage`` writes objects without ever overwriting another's.

A small save is one conditional PUT (``If-None-Match: *``): a name taken meanwhile gives
``PreconditionFailed`` and the save takes the next available name. A multipart upload or a
copy can't be made conditional everywhere (Ceph RGW ignores ``If-None-Match`` on
``CompleteMultipartUpload`` and on copies), so the name is first claimed by a conditional
PUT of an empty placeholder that the real write then replaces. With ``file_overwrite`` a
save is boto3's managed transfer, unconditionally.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from buckets.storage import gzip_writes
from buckets.storage.base import BucketStorage
from buckets.storage.files import disk_path
from buckets.storage.keys import clean_name
from buckets.storage.put_args import copy_args
from buckets.storage.s3io import NoSuchBucketError, translate_error

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

    _Base = BucketStorage
else:
    _Base = object

logger = logging.getLogger(__name__)


class S3WritesMixin(_Base):
    """Saves and copies for an ``S3Storage``; needs its ``client``, ``transfer_config``
    and ``_head``."""

    if TYPE_CHECKING:

        @property
        def client(self) -> Any: ...
        @property
        def transfer_config(self) -> TransferConfig: ...
        def _head(self, name: str) -> dict[str, Any]: ...

    def _write(
        self,
        name: str,
        content: Any,
        max_length: int | None,
        metadata: Mapping[str, str] | None,
    ) -> str:
        if gzip_writes.wanted(self.settings, self._put_args(name, content, metadata)):
            content = gzip_writes.compress(content, self.settings.max_memory_size)
        fileobj = getattr(content, "file", content)
        if self.file_overwrite:
            self._upload(name, content, fileobj, metadata)
            return clean_name(name)
        size = getattr(content, "size", None)
        if isinstance(size, int) and size < self.transfer_config.multipart_threshold:
            return self._save_if_absent(name, content, fileobj, max_length, metadata)
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

    def _put(
        self, name: str, content: Any, fileobj: Any, metadata: Mapping[str, str] | None = None
    ) -> None:
        """One ``PutObject``, unconditionally, for a file below the multipart threshold:
        boto3's managed transfer (:meth:`_upload`) would set up and tear down a thread pool
        for each of many small files (``collectstatic``)."""
        key = self._key(name)
        try:
            self.client.put_object(
                Bucket=self.bucket_name,
                Key=key,
                Body=fileobj,
                **self._put_args(name, content, metadata),
            )
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
        """A single conditional PUT, so a concurrent save of the same name can never
        overwrite: on a conflict the file takes the next available name (within
        ``max_length``)."""
        return self._write_to_free_name(
            name, max_length, lambda free: self._put_if_absent(free, content, fileobj, metadata)
        )

    def _put_if_absent(
        self, name: str, content: Any, fileobj: Any, metadata: Mapping[str, str] | None
    ) -> None:
        """PUT ``fileobj`` with ``If-None-Match: *``: ``FileExistsError`` if ``name`` is
        taken. An S3 clone without conditional writes (``NotImplemented``) gets a plain PUT."""
        key = self._key(name)
        args = self._put_args(name, content, metadata)
        for conditional in (True, False):
            fileobj.seek(0)
            try:
                if conditional:
                    self.client.put_object(
                        Bucket=self.bucket_name, Key=key, Body=fileobj, IfNoneMatch="*", **args
                    )
                else:
                    self.client.put_object(Bucket=self.bucket_name, Key=key, Body=fileobj, **args)
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "PreconditionFailed":
                    raise FileExistsError(f"S3 object {key!r} exists.") from exc
                if not (code == "NotImplemented" and conditional):
                    raise translate_error(exc, key) from exc
            except BotoCoreError as exc:
                raise translate_error(exc, key) from exc

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
            try:
                self.delete(name)
            except OSError:
                logger.warning(
                    "Could not delete the placeholder %s after a failed write; an empty "
                    "object is left under that name.",
                    name,
                    exc_info=True,
                )
            raise
        return name

    # -- copies --------------------------------------------------------------------------

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

    def _copy_args(
        self, src_name: str, metadata: Mapping[str, str] | None, dst_name: str
    ) -> dict[str, Any]:
        """CopyObject's arguments to write the copy as ``save()`` writes under ``dst_name``
        (``REPLACE``; see :func:`buckets.storage.put_args.copy_args`)."""
        head = self._head_source(src_name)
        if head.get("ExpiresString"):  # botocore's raw header, when it has one
            head["Expires"] = head["ExpiresString"]
        params = self.get_object_parameters(dst_name)
        return {**copy_args(self.settings, head, metadata, params), "MetadataDirective": "REPLACE"}

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
        Unless ``overwrite``, the name is claimed first (:meth:`_fill_claimed_name`).
        """
        args = self._copy_args(src_name, metadata, name)  # a missing source claims no name
        name = self.available_name(name, max_length, overwrite=overwrite)
        if overwrite:
            self._copy(src_name, name, args)
            return name
        return self._fill_claimed_name(
            name, lambda claimed: self._copy(src_name, claimed, args), max_length=max_length
        )
