"""Where files are copied to: a bucket (``S3Storage``, :mod:`.bucket_target`, the fast
path) or any other Django storage (:mod:`.storage_target`). A target answers what it
already holds (``info``, after one ``prefetch`` of all the names) and writes one file whole
or not at all (``write``), verified.
"""

from __future__ import annotations

from django.core.files.storage import Storage

from buckets.storage.s3 import S3Storage
from buckets.transfer.bucket_target import BucketTarget
from buckets.transfer.storage_target import StorageTarget
from buckets.transfer.target_base import READ_CHUNK, ObjectInfo, Target

__all__ = ["READ_CHUNK", "BucketTarget", "ObjectInfo", "StorageTarget", "Target", "target_for"]


def target_for(storage: Storage, connections: int = 10) -> Target:
    """The target for ``storage``; ``connections``: as many as the workers copying to it."""
    if isinstance(storage, S3Storage):
        return BucketTarget(storage, connections)
    return StorageTarget(storage)
