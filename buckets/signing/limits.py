"""S3's numeric limits that signing enforces, each defined here once.

The signers refuse to sign past them and the verifiers answer as S3 does past them; the
storage, the settings and the upload views import them from here (the lowest layer) instead
of writing the numbers again, so a limit cannot drift between the side that signs a request
and the side that checks it.
"""

from __future__ import annotations

__all__ = ["MAX_CLOCK_SKEW", "MAX_KEY_BYTES", "MAX_URL_EXPIRES", "S3_MAX_POST_SIZE"]

#: The longest object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: The largest object a single POST (or PUT) may upload, in bytes: 5 GiB.
S3_MAX_POST_SIZE = 5 * 1024**3
#: The longest validity of a pre-signed URL, in seconds: one week.
MAX_URL_EXPIRES = 7 * 24 * 3600
#: How far in the future a request's signing time may be, in seconds: S3's allowed clock skew.
MAX_CLOCK_SKEW = 15 * 60
