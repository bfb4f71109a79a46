"""S3's numeric limits that signing enforces, each defined here once.

The signers refuse to sign past them and the verifiers answer as S3 does past them; the
storage, the settings and the upload views import them from here (the lowest layer) instead
of writing the numbers again, so a limit cannot drift between the side that signs a request
and the side that checks it.
"""

from __future__ import annotations

__all__ = [
    "MAX_CLOCK_SKEW",
    "MAX_KEY_BYTES",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MAX_URL_EXPIRES",
    "MIN_PART_SIZE",
    "S3_MAX_POST_SIZE",
]

#: The longest object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: The largest object a single POST (or PUT) may upload, in bytes: 5 GiB.
S3_MAX_POST_SIZE = 5 * 1024**3
#: The longest validity of a pre-signed URL, in seconds: one week.
MAX_URL_EXPIRES = 7 * 24 * 3600
#: How far in the future a request's signing time may be, in seconds: S3's allowed clock skew.
MAX_CLOCK_SKEW = 15 * 60
#: A multipart upload's part numbers run from 1 to this.
MAX_PARTS = 10_000
#: The smallest part of a multipart upload, in bytes, for every part but the last: 5 MiB.
MIN_PART_SIZE = 5 * 1024**2
#: The largest part of a multipart upload, in bytes: 5 GiB.
MAX_PART_SIZE = 5 * 1024**3
#: The largest object, in bytes (a multipart upload's): 5 TiB.
MAX_OBJECT_SIZE = 5 * 1024**4
