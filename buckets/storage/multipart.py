"""Multipart uploads (S3's CreateMultipartUpload, UploadPart, CompleteMultipartUpload...):
the storage methods both storages give, S3's limits on parts, and the errors.

A browser uploads a large file in parts straight to the bucket: the server creates the
upload (so the object's headers are the server's, applied as ``save()`` applies them),
signs one ``PUT`` URL per part that pins the part's ``Content-Length`` (S3 refuses any
other length), lists what the bucket holds (to resume), then completes or aborts. Every
method takes storage *names*, as ``save()`` and ``open()`` do.

``S3Storage`` makes these calls with boto3 (``buckets.storage.s3_multipart``); the local
fake keeps its uploads on disk (``buckets.test.multipart_store``) and answers as AWS
documents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from buckets.signing.limits import MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE

__all__ = [
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "InvalidPartsError",
    "MultipartUploads",
    "NoSuchUploadError",
    "check_part",
    "multipart_etag",
]


class NoSuchUploadError(OSError):
    """S3's ``NoSuchUpload``: no multipart upload of that id for that key (never created,
    completed, or aborted)."""

    code = "NoSuchUpload"


class InvalidPartsError(OSError):
    """S3 refused to complete an upload with the parts given; ``code`` is S3's:
    ``InvalidPart`` (a part it does not hold, or another ETag), ``InvalidPartOrder``
    (part numbers not ascending), ``EntityTooSmall`` (a part but the last under
    :data:`MIN_PART_SIZE`) or ``MalformedXML`` (no parts). Nothing is published and the
    upload stays, as on S3."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def check_part(part_number: int, content_length: int) -> None:
    """``ValueError`` unless ``part_number`` is 1 to :data:`MAX_PARTS` and
    ``content_length`` 0 to :data:`MAX_PART_SIZE`: S3 refuses any other part, so no URL
    is ever signed for one."""
    if isinstance(part_number, bool) or not isinstance(part_number, int):
        raise ValueError(f"A part number must be an int, not {type(part_number).__name__}.")
    if not 1 <= part_number <= MAX_PARTS:
        raise ValueError(f"A part number must be between 1 and {MAX_PARTS}, not {part_number}.")
    if isinstance(content_length, bool) or not isinstance(content_length, int):
        raise ValueError(f"A part size must be an int, not {type(content_length).__name__}.")
    if not 0 <= content_length <= MAX_PART_SIZE:
        raise ValueError(
            f"A part size must be between 0 and {MAX_PART_SIZE} bytes, not {content_length}."
        )


def multipart_etag(part_md5s: Iterable[str]) -> str:
    """The ETag S3 gives an object completed from parts: the MD5 of the parts' binary
    MD5s, then ``-`` and the number of parts, quoted (``"<hex>-3"``)."""
    digests = [bytes.fromhex(md5) for md5 in part_md5s]
    combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f'"{combined}-{len(digests)}"'


class MultipartUploads:
    """The multipart methods of a storage (``BucketStorage`` inherits them; ``S3Storage``
    and ``FakeS3Storage`` implement them).

    Uploads are listed and refused by S3's rules: an unknown, completed or aborted
    upload id (or one of another key) is :class:`NoSuchUploadError`.
    """

    def create_multipart_upload(
        self, name: str, *, content_type: str, metadata: dict[str, str] | None = None
    ) -> str:
        """Start an upload of ``name`` and return its UploadId. The object's headers are
        the storage's, as ``save()`` writes them: ``object_parameters`` (whose
        Content-Type wins over ``content_type``), ``default_acl`` and ``metadata``
        (``x-amz-meta-*``) added."""
        raise NotImplementedError("this storage has no multipart uploads")

    def presign_upload_part(
        self,
        name: str,
        upload_id: str,
        part_number: int,
        content_length: int,
        *,
        expires: int | None = None,
    ) -> str:
        """A SigV4 query-signed ``PUT`` URL for one ``UploadPart``, signed with
        ``content-length;host``: S3 takes exactly ``content_length`` bytes or answers 403.
        ``expires`` defaults to the ``upload_expire`` setting. ``ValueError`` for a part
        S3 cannot take (:func:`check_part`). No request is made."""
        raise NotImplementedError("this storage has no multipart uploads")

    def list_parts(self, name: str, upload_id: str) -> list[dict[str, object]]:
        """The parts the bucket holds, ``{"PartNumber": int, "Size": int, "ETag": str}``
        by part number (every page)."""
        raise NotImplementedError("this storage has no multipart uploads")

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        """Publish the object made of ``parts`` (``(part number, ETag)``, ascending) and
        return its ETag. :class:`InvalidPartsError` when S3 refuses the parts."""
        raise NotImplementedError("this storage has no multipart uploads")

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        """Drop the upload and its parts; an upload already gone is fine."""
        raise NotImplementedError("this storage has no multipart uploads")

    def list_multipart_uploads(self, prefix_name: str = "") -> list[dict[str, object]]:
        """Uploads in progress under the names starting with ``prefix_name``, as
        ``{"Key": name, "UploadId": str, "Initiated": datetime}`` (``Key`` is the storage
        name, so it can be passed to :meth:`abort_multipart_upload`)."""
        raise NotImplementedError("this storage has no multipart uploads")
