"""The system checks of an upload field about staging: its files must not land where direct
uploads wait (and are cleaned up), and its column must hold a name moved out of staging."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from buckets.signing.limits import MAX_KEY_BYTES
from buckets.uploads.staging_names import max_upload_name_length

__all__ = ["staging_checks"]


def staging_checks(field: Any) -> list[checks.CheckMessage]:
    """The system checks of an ``S3FileField`` about staging: ``upload_to`` under the
    staging prefix (buckets.E103), ``max_length`` shorter than a staging name (W101)."""
    errors: list[checks.CheckMessage] = []
    try:
        prefix = field._staging_prefix()
    except ImproperlyConfigured:
        prefix = None  # buckets.E001 reports the storage itself
    if prefix and isinstance(field.upload_to, str):
        try:
            sample = field.generate_filename(None, "file.txt")
        except Exception:  # a check must not crash: E102 reports a bad path
            sample = ""
        if sample.startswith(prefix):
            errors.append(
                checks.Error(
                    f"'upload_to' ({field.upload_to!r}) puts files under the storage's "
                    f"staging prefix {prefix!r}, where direct uploads wait to be moved and "
                    "the staging clean-up (buckets_cleanup, buckets_lifecycle) deletes them.",
                    hint="Choose another upload_to, or another UPLOAD_PREFIX "
                    "(storage option 'upload_prefix').",
                    obj=field,
                    id="buckets.E103",
                )
            )
    if prefix and isinstance(field.max_length, int):
        longest = max_upload_name_length(prefix)
        if field.max_length < longest:
            errors.append(
                checks.Warning(
                    f"'max_length' ({field.max_length}) is shorter than a staging name can "
                    f"be ({longest} characters with the staging prefix {prefix!r}).",
                    hint="Staging names are not stored, but a file name moved under "
                    "upload_to is cut to max_length, and one that cannot be cut to fit "
                    "raises SuspiciousFileOperation on save. Use "
                    f"max_length={longest} or more (the default is {MAX_KEY_BYTES}).",
                    obj=field,
                    id="buckets.W101",
                )
            )
    return errors
