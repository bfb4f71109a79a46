"""The inputs of one signing request (``POST /s3/signed-url/``), read and checked by a
Django form, :class:`SignedUploadForm`, whose errors the view answers as they are.

The inputs come from a JSON object or a form body, so a value may be of any JSON type:
each input's field checks the type itself and answers a message, never an exception. Every
string that is cleaned, normalised or matched is refused beyond a fixed length first, so
the work per request is bounded whatever the body holds.

The field token is read on its own first (:meth:`SignedUploadForm.requested_field`): the
permission check is asked about the field it names before any other input is looked at.
"""

from __future__ import annotations

from typing import Any

from django.conf import DEFAULT_STORAGE_ALIAS
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import storages
from django.utils.translation import gettext as _

from buckets.signing.content_types import normalize_content_type
from buckets.signing.numbers import read_decimal
from buckets.uploads.field_tokens import InvalidFieldToken, resolve_field_token
from buckets.uploads.filenames import InvalidFilename, clean_filename
from buckets.uploads.input_forms import InputField, InputForm
from buckets.uploads.rules import (
    MAX_INPUT_LENGTH,
    ContentTypeRefused,
    accepted_patterns,
    file_too_large,
    upload_content_type,
    upload_size_limit,
)

__all__ = [
    "DeclaredContentTypeField",
    "DeclaredSizeField",
    "FileNameField",
    "InputField",
    "MultipartUploadForm",
    "SignedUploadForm",
    "upload_storage",
]

#: The largest size read from digits: twenty of them, more than any byte count needs (a
#: 64-bit count has at most twenty); a longer number is not a size.
_LARGEST_DIGITS_SIZE = 10**20 - 1


def _is_empty(value: Any) -> bool:
    """An input that was not sent, or sent empty (forms send ``""`` for a blank input)."""
    return value is None or (isinstance(value, str) and value == "")


def upload_storage(field: Any, method: str = "presigned_post") -> Any:
    """The storage a direct upload for ``field`` (None: no field, the default storage)
    goes to; ``ImproperlyConfigured`` unless it takes direct uploads: it has
    ``settings.upload_prefix`` and ``method`` (the upload path's storage method)."""
    storage = storages[DEFAULT_STORAGE_ALIAS] if field is None else field.storage
    upload_prefix = getattr(getattr(storage, "settings", None), "upload_prefix", None)
    if upload_prefix is None or not hasattr(storage, method):
        raise ImproperlyConfigured(
            f"Direct uploads need a storage with {method}() and "
            f"settings.upload_prefix (buckets.storage.S3Storage or "
            f"buckets.test.storage.FakeS3Storage), not {storage!r}."
        )
    return storage


class FileNameField(InputField):
    """``key``: the client's file name, required, cleaned by
    :func:`~buckets.uploads.filenames.clean_filename`."""

    def clean(self, value: Any) -> str:
        blank = isinstance(value, str) and len(value) <= MAX_INPUT_LENGTH and not value.strip()
        if value is None or blank:
            raise ValidationError(_("This field is required."), code="required")
        if not isinstance(value, str):
            raise ValidationError(_("Enter a file name."), code="invalid")
        try:
            return clean_filename(value)
        except InvalidFilename as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class DeclaredContentTypeField(InputField):
    """``content_type``: the type the client declares, normalised
    (:func:`~buckets.signing.content_types.normalize_content_type`); None when not declared."""

    def clean(self, value: Any) -> str | None:
        if _is_empty(value):
            return None
        normalized = normalize_content_type(value) if isinstance(value, str) else None
        if normalized is None:  # a list of types, odd parameters: see the policy module
            raise ValidationError(_("Enter a valid content type, such as image/png."), "invalid")
        return normalized


class DeclaredSizeField(InputField):
    """``size``: the file's size in bytes, an integer or its digits (forms send strings);
    None when not declared. Digits are read by
    :func:`~buckets.signing.numbers.read_decimal`, so a long number costs no conversion."""

    def clean(self, value: Any) -> int | None:
        if _is_empty(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str):
            size = read_decimal(value, _LARGEST_DIGITS_SIZE)
            if size is not None and size <= _LARGEST_DIGITS_SIZE:
                return size
        raise ValidationError(_("Enter the file size as a whole number of bytes."), "invalid")


class SignedUploadForm(InputForm):
    """One upload to sign: ``key`` (the file name), ``field`` (a field token, optional),
    ``content_type`` and ``size`` (optional).

    Valid, its ``cleaned_data`` holds the cleaned file name, the model field (None for an
    upload for no field), the type to sign (:func:`~buckets.uploads.rules.upload_content_type`)
    and the declared size; :attr:`storage` and :attr:`size_limit` are those of the field.
    Its errors map each input to its messages, as the view answers them. Without a valid
    field token nothing else is decided (the storage and the limits are the field's).
    """

    field = InputField()  # the token, resolved once for both uses: see _token()
    key = FileNameField()
    content_type = DeclaredContentTypeField()
    size = DeclaredSizeField()

    #: The upload path whose size limit applies (:func:`~buckets.uploads.rules.upload_size_limit`).
    multipart = False
    #: The storage method this upload path needs.
    storage_method = "presigned_post"

    storage: Any = None
    size_limit: int | None = None
    _resolved: tuple[Any, str | None] | None = None
    _accepted: list[str] | None = None

    def _token(self) -> tuple[Any, str | None]:
        """``(model field, error message)`` for the ``field`` input: the field is None
        without a token, and with an invalid one unless it is only expired. Resolved once."""
        if self._resolved is None:
            self._resolved = self._resolve_token()
        return self._resolved

    def _resolve_token(self) -> tuple[Any, str | None]:
        token = self["field"].data
        if _is_empty(token):
            return None, None
        if not isinstance(token, str):
            return None, _("Invalid field token.")
        try:
            return resolve_field_token(token), None  # bounded: one HMAC over a short string
        except InvalidFieldToken as exc:
            return exc.field, str(exc)

    def requested_field(self) -> Any:
        """The model field the token names (expired or not) or None: what the permission
        check is asked about. Reads no other input."""
        return self._token()[0]

    def clean_field(self) -> Any:
        field, error = self._token()
        if error is not None:
            raise ValidationError(error, code="invalid")
        return field

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.has_error("field"):  # without the field, its storage and limits are unknown
            return data
        field = data.get("field")
        self._accepted = accepted = accepted_patterns(field)
        self.storage = storage = upload_storage(field, self.storage_method)
        self.size_limit = limit = upload_size_limit(field, storage, multipart=self.multipart)
        size = data.get("size")
        if size is not None and size > limit:
            self.add_error("size", file_too_large(size, limit))
        elif size == 0:
            self.add_error("size", _("The submitted file is empty."))
        filename = data.get("key")
        if filename and not self.has_error("content_type"):
            try:
                data["content_type"] = upload_content_type(
                    field, filename, data.get("content_type"), accepted=accepted
                )
            except ContentTypeRefused as exc:
                self.add_error("content_type", str(exc))
        return data

    def accepted_patterns(self) -> list[str]:
        """The types the requested field accepts (empty: any type)."""
        if self._accepted is None:
            self._accepted = accepted_patterns(self.cleaned_data.get("field"))
        return self._accepted


class MultipartUploadForm(SignedUploadForm):
    """A multipart upload to start (``POST /s3/multipart/``): the same inputs and checks as
    :class:`SignedUploadForm`, but ``size`` is required (the part plan follows from it)
    and capped by the multipart path's limit."""

    multipart = True
    storage_method = "create_multipart_upload"

    def clean_size(self) -> int:
        size: int | None = self.cleaned_data.get("size")
        if size is None:
            raise ValidationError(
                _("Declare the file's size in bytes: a multipart upload is planned from it."),
                code="required",
            )
        return size
