"""``FakeMultipartMixin``: the storage methods of
:class:`buckets.storage.multipart.MultipartUploads` for ``FakeS3Storage``, on the uploads kept
by :class:`buckets.test.multipart_store.UploadStore`."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buckets.storage.multipart import (
    MultipartUploads,
    check_part,
)
from buckets.test.disk import Disk
from buckets.test.headers import served_headers
from buckets.test.multipart_store import UploadStore

if TYPE_CHECKING:
    from buckets import conf

UPLOADS_DIR = "uploads"
#: The fake's upload ids (``secrets.token_urlsafe(32)``); anything else names no upload.
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{43}\Z")
_META = "upload.json"


class FakeMultipartMixin(MultipartUploads):
    """``FakeS3Storage``'s multipart uploads, kept by an :class:`UploadStore`."""

    if TYPE_CHECKING:

        @property
        def settings(self) -> conf.S3Settings: ...
        @property
        def disk(self) -> Disk: ...
        @property
        def location(self) -> str: ...
        @property
        def region(self) -> str: ...
        def _key(self, name: str) -> str: ...
        def base_url(self) -> str: ...
        def presigned_key_url(
            self,
            key: str,
            expires: int,
            query: dict[str, str] | None,
            *,
            method: str,
            signed_headers: dict[str, str] | None = None,
        ) -> str: ...
        def _put_args(
            self, name: str, content: Any = None, metadata: Mapping[str, str] | None = None
        ) -> dict[str, Any]: ...

    @property
    def multipart_store(self) -> UploadStore:
        """The uploads in progress (kept beside the disk's spool)."""
        return UploadStore(self.disk)

    def create_multipart_upload(
        self, name: str, *, content_type: str, metadata: dict[str, str] | None = None
    ) -> str:
        key = self._key(name)
        self.disk.key_path(key)  # SuspiciousFileOperation for a key the disk cannot hold
        typed = types.SimpleNamespace(content_type=content_type)  # as a file with that type
        args = self._put_args(name, typed, metadata)
        return self.multipart_store.create(key, args["ContentType"], served_headers(args))

    def presign_upload_part(
        self,
        name: str,
        upload_id: str,
        part_number: int,
        content_length: int,
        *,
        expires: int | None = None,
    ) -> str:
        """As ``S3Storage``'s, on the fake's object URL (relative when ``MEDIA_URL`` is)."""
        check_part(part_number, content_length)
        return self.presigned_key_url(
            self._key(name),
            self.settings.upload_expire if expires is None else expires,
            {"uploadId": upload_id, "partNumber": str(part_number)},
            method="PUT",
            signed_headers={"content-length": str(content_length)},
        )

    def list_parts(self, name: str, upload_id: str) -> list[dict[str, object]]:
        return self.multipart_store.parts(self._key(name), upload_id)

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        key = self._key(name)
        store = self.multipart_store
        spooled, etag, directory = store.assemble(key, upload_id, parts)
        try:
            self.disk.publish(spooled.path, key, overwrite=True)
        finally:
            self.disk.discard(spooled)
        store.finish(directory)
        return etag

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        self.multipart_store.abort(self._key(name), upload_id)

    def list_multipart_uploads(self, prefix_name: str = "") -> list[dict[str, object]]:
        start = f"{self.location}/" if self.location else ""
        return [
            {**upload, "Key": upload["Key"][len(start) :]}
            for upload in self.multipart_store.uploads(start + prefix_name)
        ]
