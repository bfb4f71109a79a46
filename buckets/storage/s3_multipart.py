"""``S3MultipartMixin``: ``S3Storage``'s multipart uploads, on boto3 (the methods are
described in :class:`buckets.storage.multipart.MultipartUploads`).

The part URLs are signed by :func:`buckets.signing.sigv4.presign_url` (no botocore per URL,
as for object URLs) with ``content-length`` among the signed headers: botocore's own
``generate_presigned_url("upload_part", ...)`` with ``ContentLength`` gives the same URL.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from buckets.signing import sigv4 as signing
from buckets.storage.multipart import (
    InvalidPartsError,
    MultipartUploads,
    NoSuchUploadError,
    check_part,
)
from buckets.storage.s3io import translate_error

if TYPE_CHECKING:
    from buckets import conf

#: S3's answers to a CompleteMultipartUpload whose parts it refuses.
_PART_ERRORS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"})


def _multipart_error(exc: Exception, key: str, upload_id: str) -> OSError:
    """A botocore failure of a multipart call as an ``OSError``: ``NoSuchUploadError``,
    ``InvalidPartsError``, or what :func:`~buckets.storage.s3io.translate_error` says."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # Ceph RGW answers NoSuchKey where AWS answers NoSuchUpload: with an upload id, a
        # 404 that is no missing bucket is a missing upload.
        if code == "NoSuchUpload" or (
            code != "NoSuchBucket" and (code == "NoSuchKey" or status == 404)
        ):
            return NoSuchUploadError(f"No multipart upload {upload_id!r} of {key!r}.")
        if code in _PART_ERRORS:
            return InvalidPartsError(code, str(err.get("Message") or ""))
    return translate_error(exc, key)


def _later(modified: Any, than: Any) -> bool:
    """Whether a part listed at ``modified`` replaces one listed at ``than`` (the later
    listed wins a tie, or where the server gives no time)."""
    return modified is None or than is None or modified >= than


class S3MultipartMixin(MultipartUploads):
    """Multipart uploads for ``S3Storage``: boto3 calls, and part URLs signed here."""

    if TYPE_CHECKING:

        @property
        def settings(self) -> conf.S3Settings: ...
        @property
        def client(self) -> Any: ...
        @property
        def bucket_name(self) -> str: ...
        @property
        def location(self) -> str: ...
        @property
        def _url_template(self) -> tuple[str, str, str]: ...
        def _key(self, name: str) -> str: ...
        def _head(self, name: str) -> dict[str, Any]: ...
        def _signing_credentials(self) -> Any: ...
        def _put_args(
            self, name: str, content: Any = None, metadata: Mapping[str, str] | None = None
        ) -> dict[str, Any]: ...

    def create_multipart_upload(
        self, name: str, *, content_type: str, metadata: dict[str, str] | None = None
    ) -> str:
        key = self._key(name)
        typed = types.SimpleNamespace(content_type=content_type)  # as a file with that type
        args = self._put_args(name, typed, metadata)
        try:
            answer = self.client.create_multipart_upload(Bucket=self.bucket_name, Key=key, **args)
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, key) from exc
        return str(answer["UploadId"])

    def presign_upload_part(
        self,
        name: str,
        upload_id: str,
        part_number: int,
        content_length: int,
        *,
        expires: int | None = None,
    ) -> str:
        check_part(part_number, content_length)
        key = self._key(name)
        host, prefix, region = self._url_template
        frozen = self._signing_credentials()
        return signing.presign_url(
            scheme_host=host,
            path=prefix + key,
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
            region=region,
            expires=self.settings.upload_expire if expires is None else expires,
            query={"uploadId": upload_id, "partNumber": str(part_number)},
            method="PUT",
            signed_headers={"content-length": str(content_length)},
        )

    def list_parts(self, name: str, upload_id: str) -> list[dict[str, object]]:
        key = self._key(name)
        held: dict[int, tuple[Any, int, str]] = {}
        paginator = self.client.get_paginator("list_parts")
        try:
            for page in paginator.paginate(Bucket=self.bucket_name, Key=key, UploadId=upload_id):
                for part in page.get("Parts", ()):
                    number, modified = int(part["PartNumber"]), part.get("LastModified")
                    # SeaweedFS lists a part uploaded again twice: the latest is the part
                    # (a retried part has the same bytes, so the same ETag, either way).
                    if number not in held or _later(modified, held[number][0]):
                        held[number] = (modified, int(part["Size"]), str(part["ETag"]))
        except (ClientError, BotoCoreError) as exc:
            raise _multipart_error(exc, key, upload_id) from exc
        return [
            {"PartNumber": number, "Size": size, "ETag": etag}
            for number, (_, size, etag) in sorted(held.items())
        ]

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        key = self._key(name)
        listed = [{"PartNumber": number, "ETag": etag} for number, etag in parts]
        try:
            answer = self.client.complete_multipart_upload(
                Bucket=self.bucket_name,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _multipart_error(exc, key, upload_id) from exc
        if answer.get("ETag"):
            return str(answer["ETag"])
        return str(self._head(name)["ETag"])  # Ceph RGW 16 answers an empty ETag

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        key = self._key(name)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket_name, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:
            err = _multipart_error(exc, key, upload_id)
            if not isinstance(err, NoSuchUploadError):
                raise err from exc

    def list_multipart_uploads(self, prefix_name: str = "") -> list[dict[str, object]]:
        start = f"{self.location}/" if self.location else ""
        prefix = start + prefix_name
        uploads: list[dict[str, object]] = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
                uploads += (
                    {
                        "Key": upload["Key"][len(start) :],
                        "UploadId": upload["UploadId"],
                        "Initiated": upload["Initiated"],
                    }
                    for upload in page.get("Uploads", ())
                )
        except (ClientError, BotoCoreError) as exc:
            raise translate_error(exc, prefix) from exc
        return uploads
