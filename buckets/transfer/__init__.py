"""Bulk copies of stored files from one Django storage to another (a bucket, mostly):
parallel, verified, resumable, stoppable, with progress. It knows no models: the caller
says which names to copy (``buckets.migrate`` finds them in model fields).

``targets`` (which target for a storage: ``bucket_target`` for ``S3Storage``,
``storage_target`` for any other, ``target_base`` what both give: what a storage holds, and
verified writes), ``copying`` (one file's rules), ``runner`` (the thread pool),
``progress``, ``digests`` (ETags), ``reader``, ``errors``.
"""

from __future__ import annotations

from buckets.transfer.copying import Item, Outcome
from buckets.transfer.progress import Progress
from buckets.transfer.runner import Report, Transfer
from buckets.transfer.targets import target_for

__all__ = ["Item", "Outcome", "Progress", "Report", "Transfer", "target_for"]
