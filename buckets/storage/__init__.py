"""The storage: ``S3Storage``, a Django ``Storage`` on boto3, and what it is made of.

``s3`` (the storage), ``base`` (the half it shares with the local fake), ``put_args`` (what
an object is written with, on either storage), ``s3_writes`` (saves and copies that never
overwrite), ``clients`` (boto3 sessions and clients from the settings), ``urls`` and
``object_urls`` (object URLs, signed or public, and back), ``s3io`` (streaming reader and
writer), ``keys`` (what a safe key is) and ``files`` (file helpers). It knows no model field.
"""

from __future__ import annotations

from buckets.storage.multipart import InvalidPartsError, NoSuchUploadError
from buckets.storage.s3 import S3Storage, S3StorageFile
from buckets.storage.s3io import NoSuchBucketError

__all__ = [
    "InvalidPartsError",
    "NoSuchBucketError",
    "NoSuchUploadError",
    "S3Storage",
    "S3StorageFile",
]
