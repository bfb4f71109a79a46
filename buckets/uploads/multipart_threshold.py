"""When the upload widget sends a file in parts: ``BUCKETS_MULTIPART_THRESHOLD``.

Files larger than the threshold go up through the multipart endpoints
(:mod:`buckets.uploads.multipart_views`), smaller ones in one pre-signed POST. Defined here
once; the widget renders it into its ``data-multipart`` attribute.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["MULTIPART_THRESHOLD", "multipart_threshold"]

#: The default threshold, in bytes.
MULTIPART_THRESHOLD = 64 * 1024**2


def multipart_threshold() -> int | None:
    """Bytes above which the widget uploads a file in parts: ``BUCKETS_MULTIPART_THRESHOLD``
    (default :data:`MULTIPART_THRESHOLD`), read per call; None (the setting set to None)
    when the widget never uploads in parts. ``ImproperlyConfigured`` for anything but a
    positive whole number of bytes or None."""
    value = getattr(settings, "BUCKETS_MULTIPART_THRESHOLD", MULTIPART_THRESHOLD)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ImproperlyConfigured(
            f"BUCKETS_MULTIPART_THRESHOLD must be a positive number of bytes or None, "
            f"not {value!r}."
        )
    return value
