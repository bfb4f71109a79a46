"""Which static file names are content-hashed, and the header such a file is served with.

A hashed name (``css/base.0123456789ab.css``, Django's ``HashedFilesMixin`` form: twelve
hex digits before the extension) never changes content, so browsers and CDNs may keep it
for a year. One rule for both static storages.
"""

from __future__ import annotations

import posixpath
import re

__all__ = ["CONTENT_MD5_METADATA", "HASHED_CACHE_CONTROL", "is_hashed_name"]

#: ``Cache-Control`` of a hashed name unless the storage is given another.
HASHED_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: Metadata (``x-amz-meta-buckets-md5``) holding the MD5 of what was uploaded, for objects
#: whose ETag is not one (multipart uploads).
CONTENT_MD5_METADATA = "buckets-md5"

_HASH_PART = re.compile(r"\.[0-9a-f]{12}(?:\.[^.]*)?$")


def is_hashed_name(name: str) -> bool:
    """Whether ``name``'s file name carries a content hash as Django's hashed names do."""
    return bool(_HASH_PART.search(posixpath.basename(name)))
