"""The server's side of a direct upload: file names, field tokens, staging names, the upload
rules, the permission hook and the views that expose them (``/s3/signed-url/``).

It knows no model class: a field reaches it through the few attributes an upload field has.
"""

from __future__ import annotations

from buckets.uploads.staging import (
    FIELD_TOKEN_MAX_AGE,
    MAX_FILENAME_LENGTH,
    InvalidFieldToken,
    InvalidFilename,
    check_upload_name,
    clean_filename,
    field_label,
    field_token,
    field_token_max_age,
    is_upload_name,
    max_upload_name_length,
    new_upload_name,
    resolve_field_token,
    staging_checks,
    upload_error,
)

__all__ = [
    "FIELD_TOKEN_MAX_AGE",
    "MAX_FILENAME_LENGTH",
    "InvalidFieldToken",
    "InvalidFilename",
    "check_upload_name",
    "clean_filename",
    "field_label",
    "field_token",
    "field_token_max_age",
    "is_upload_name",
    "max_upload_name_length",
    "new_upload_name",
    "resolve_field_token",
    "staging_checks",
    "upload_error",
]
