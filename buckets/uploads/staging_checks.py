"""The system checks of an upload field about staging: its files must not land where direct
uploads wait (and are cleaned up), and its column must hold a name moved out of staging."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

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
                    _(
                        "'upload_to' (%(upload_to)r) puts files under the storage's staging "
                        "prefix %(prefix)r, where direct uploads wait to be moved and the "
                        "staging clean-up (buckets_cleanup, buckets_lifecycle) deletes them."
                    )
                    % {"upload_to": field.upload_to, "prefix": prefix},
                    hint=_(
                        "Choose another upload_to, or another UPLOAD_PREFIX (storage option "
                        "'upload_prefix')."
                    ),
                    obj=field,
                    id="buckets.E103",
                )
            )
    if prefix and isinstance(field.max_length, int):
        longest = max_upload_name_length(prefix)
        if field.max_length < longest:
            errors.append(
                checks.Warning(
                    _(
                        "'max_length' (%(max_length)d) is shorter than a staging name can be "
                        "(%(longest)d characters with the staging prefix %(prefix)r)."
                    )
                    % {"max_length": field.max_length, "longest": longest, "prefix": prefix},
                    hint=_(
                        "Staging names are not stored, but a file name moved under upload_to "
                        "is cut to max_length, and one that cannot be cut to fit raises "
                        "SuspiciousFileOperation on save. Use max_length=%(longest)d or more "
                        "(the default is %(default)d)."
                    )
                    % {"longest": longest, "default": MAX_KEY_BYTES},
                    obj=field,
                    id="buckets.W101",
                )
            )
    return errors
