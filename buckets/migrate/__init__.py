"""Moving existing files into a bucket (``manage.py buckets_migrate``): which model fields,
which stored names, from which storage to which. The copying itself is
:mod:`buckets.transfer`, which knows no models.
"""

from __future__ import annotations

from buckets.migrate.fields import file_fields, items_of, storage_named

__all__ = ["file_fields", "items_of", "storage_named"]
