"""The server's side of a direct upload: file names (:mod:`.filenames`), field tokens
(:mod:`.field_tokens`), staging names (:mod:`.staging_names`) and their system checks
(:mod:`.staging_checks`), the upload rules (size, types: :mod:`.rules`), the permission hook
(:mod:`.permissions`), the view that signs an upload (:mod:`.views`, ``/s3/signed-url/``,
its inputs checked by :mod:`.upload_request`) and the multipart-upload views
(:mod:`.multipart_views`, ``@uppy/aws-s3``'s routes in :mod:`.multipart_uppy`; the part plan
in :mod:`.multipart_plan`, the session binding in :mod:`.multipart_session`), all answering
through the same JSON plumbing (:mod:`.json_views`).

It knows no model class: a field reaches it through the few attributes an upload field has.
"""

from __future__ import annotations

from buckets.uploads.field_tokens import (
    FIELD_TOKEN_MAX_AGE,
    InvalidFieldToken,
    field_label,
    field_token,
    field_token_max_age,
    resolve_field_token,
)
from buckets.uploads.filenames import MAX_FILENAME_LENGTH, InvalidFilename, clean_filename
from buckets.uploads.rules import (
    MAX_INPUT_LENGTH,
    ContentTypeRefused,
    accepted_patterns,
    declared_types,
    upload_content_type,
    upload_size_limit,
)
from buckets.uploads.staging_checks import staging_checks
from buckets.uploads.staging_names import (
    check_upload_name,
    is_upload_name,
    max_upload_name_length,
    new_upload_name,
    upload_error,
)

__all__ = [
    "FIELD_TOKEN_MAX_AGE",
    "MAX_FILENAME_LENGTH",
    "MAX_INPUT_LENGTH",
    "ContentTypeRefused",
    "InvalidFieldToken",
    "InvalidFilename",
    "accepted_patterns",
    "check_upload_name",
    "clean_filename",
    "declared_types",
    "field_label",
    "field_token",
    "field_token_max_age",
    "is_upload_name",
    "max_upload_name_length",
    "new_upload_name",
    "resolve_field_token",
    "staging_checks",
    "upload_content_type",
    "upload_error",
    "upload_size_limit",
]
