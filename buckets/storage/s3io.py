"""Streaming file objects over S3 objects: bounded memory whatever the object's size.

Reading keeps one GET body open from the current position and reopens it (with a
``Range`` header) only after a seek, so a sequential read costs one request and a read of
``n`` bytes holds about ``n`` bytes. Writing sends parts of a multipart upload as they fill,
and a small file becomes a single PUT; the part being filled stays in memory up to
``max_memory_size`` bytes and is spooled to a temporary file beyond.

Reader and writer share this module (a little over 300 lines) with the error translation
both use (:func:`translate_error`, ``NoSuchBucketError``).
"""

from __future__ import annotations

import io
import logging
import tempfile
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from buckets.signing.limits import MIN_PART_SIZE
from buckets.storage.files import AbortOnErrorFile

logger = logging.getLogger(__name__)


class NoSuchBucketError(OSError):
    """S3's ``NoSuchBucket``: the configured bucket does not exist. A configuration error,
    raised by every call that can tell (all but a HEAD, which has no body to say why it
    found nothing), so no ``FileNotFoundError``: it must never pass for a missing object
    (which ``delete()`` ignores and a model save reports as an expired upload)."""


def no_such_bucket(exc: ClientError, key: str) -> NoSuchBucketError:
    """The :class:`NoSuchBucketError` for a ``NoSuchBucket`` answer about ``key``."""
    bucket = exc.response.get("Error", {}).get("BucketName")
    named = f"The S3 bucket {bucket!r}" if bucket else "The S3 bucket"
    return NoSuchBucketError(
        f"{named} does not exist (NoSuchBucket, for {key!r}): check AWS['BUCKET'] "
        "or the storage option 'bucket_name'."
    )


def translate_error(exc: Exception, key: str) -> OSError:
    """A botocore failure as the ``OSError`` a Django storage user expects."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return no_such_bucket(exc, key)
        if code in ("404", "NoSuchKey", "NotFound") or status == 404:
            return FileNotFoundError(f"S3 object {key!r} does not exist.")
        if code in ("403", "AccessDenied") or status == 403:
            return PermissionError(f"S3 refused access to {key!r} ({code}).")
        return OSError(f"S3 error for {key!r}: {code} {err.get('Message', '')}".rstrip())
    return OSError(f"S3 request for {key!r} failed: {exc}")


def translate_delete_error(exc: Exception, key: str) -> OSError | None:
    """:func:`translate_error` for a DeleteObject: None for a missing object (deleting it
    is fine); a missing bucket stays a ``NoSuchBucketError``."""
    err = translate_error(exc, key)
    return None if isinstance(err, FileNotFoundError) else err


class S3ObjectReader(io.RawIOBase):
    """A seekable raw reader; wrap it in ``io.BufferedReader`` for ``read(n)``/``readline``."""

    def __init__(self, client: Any, bucket: str, key: str, size: int | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._pos = 0
        self._body: Any = None
        self._size = size
        self.name = key

    @property
    def size(self) -> int:
        if self._size is None:
            try:
                head = self._client.head_object(Bucket=self._bucket, Key=self._key)
            except (ClientError, BotoCoreError) as exc:
                raise translate_error(exc, self._key) from exc
            self._size = int(head["ContentLength"])
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            new = offset
        elif whence == io.SEEK_CUR:
            new = self._pos + offset
        elif whence == io.SEEK_END:
            new = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if new < 0:
            raise OSError("Negative seek position")
        if new != self._pos:
            self._close_body()
            self._pos = new
        return self._pos

    def _open_body(self) -> None:
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                self._size = self._pos if self._size is None else self._size
                self._body = None
                return
            raise translate_error(exc, self._key) from exc
        except BotoCoreError as exc:
            raise translate_error(exc, self._key) from exc
        if self._size is None:
            content_range = response.get("ContentRange") or ""
            total = content_range.rpartition("/")[2]
            if total.isdigit():
                self._size = int(total)
            elif self._pos == 0:
                self._size = int(response["ContentLength"])
        self._body = response["Body"]

    def readinto(self, buffer: Any) -> int:
        if self._size is not None and self._pos >= self._size:
            return 0
        if self._body is None:
            self._open_body()
            if self._body is None:
                return 0
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except (BotoCoreError, OSError) as exc:
            self._close_body()
            raise translate_error(exc, self._key) from exc
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()


class S3ObjectWriter(io.RawIOBase):
    """Write-only stream: parts go up as they fill; nothing is visible until ``close()``.

    ``str`` is written as UTF-8 (as django-storages writes it), in any write mode. The part
    being filled is held in memory up to ``max_memory_size`` bytes (0: no limit, as in
    django-storages) and moved to a temporary file beyond, so a part (5 MiB at least, S3's
    minimum) need not sit in memory. If anything fails, or the writer is discarded
    without ``close()``, the multipart upload is aborted so no half-written object ever
    appears under the key.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        extra_args: dict[str, Any] | None = None,
        part_size: int = 8 * 1024**2,
        max_memory_size: int = 0,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._extra = dict(extra_args or {})
        self._part_size = max(part_size, MIN_PART_SIZE)
        self._max_memory_size = max_memory_size
        self._part: Any = io.BytesIO()
        self._part_len = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.name = key

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        text = isinstance(data, str)
        view = memoryview(data.encode("utf-8") if text else data).cast("B")
        written = len(data) if text else len(view)
        while view:  # never more than one part buffered
            piece = view[: self._part_size - self._part_len]
            self._buffer(piece)
            view = view[len(piece) :]
            if self._part_len >= self._part_size:
                self._upload_part()
        return written

    def _buffer(self, piece: memoryview) -> None:
        limit = self._max_memory_size
        if limit and isinstance(self._part, io.BytesIO) and self._part_len + len(piece) > limit:
            spooled = tempfile.TemporaryFile()  # noqa: SIM115 -- closed with the part
            with self._part.getbuffer() as held:
                spooled.write(held)
            self._part.close()
            self._part = spooled
        self._part.write(piece)
        self._part_len += len(piece)

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(Bucket=self._bucket, Key=self._key, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            self.abort()
            raise translate_error(exc, self._key) from exc

    def _take_part(self) -> Any:
        """The filled part, rewound for sending; a new empty one takes its place."""
        part, self._part, self._part_len = self._part, io.BytesIO(), 0
        part.seek(0)
        return part

    def _upload_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._call("create_multipart_upload", **self._extra)["UploadId"]
        number = len(self._parts) + 1
        with self._take_part() as body:
            response = self._call(
                "upload_part", UploadId=self._upload_id, PartNumber=number, Body=body
            )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def abort(self) -> None:
        """Drop everything written so far; the key is left as it was."""
        upload_id, self._upload_id = self._upload_id, None
        self._part.close()
        if upload_id is not None:
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=upload_id
                )
            except (ClientError, BotoCoreError):
                # S3's lifecycle rule for incomplete uploads (and buckets_cleanup, under
                # the staging prefix) is the backstop.
                logger.warning(
                    "Could not abort the multipart upload %s of %s; its parts stay stored "
                    "until it is aborted.",
                    upload_id,
                    self._key,
                    exc_info=True,
                )
        if not self.closed:
            super().close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._upload_id is None:
                with self._take_part() as body:
                    self._call("put_object", Body=body, **self._extra)
            else:
                if self._part_len:
                    self._upload_part()
                self._call(
                    "complete_multipart_upload",
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
                self._upload_id = None
        finally:
            self._part.close()
            super().close()

    def __del__(self) -> None:
        if self._upload_id is not None:
            self.abort()


class S3StorageFile(AbortOnErrorFile):
    """A Django ``File`` over a streaming S3 reader or writer."""

    def __init__(self, file: Any, name: str, storage: Any, mode: str) -> None:
        super().__init__(file, name)
        self._storage = storage
        self.mode = mode

    @property
    def size(self) -> int:
        raw = getattr(self.file, "raw", self.file)
        if isinstance(raw, S3ObjectReader):
            return raw.size
        return self._storage.size(self.name or "")
