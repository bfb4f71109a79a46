"""The form field behind ``S3FileField``: it accepts only values a signed upload produced.

A form is untrusted input. Its hidden input may carry the current value unchanged, nothing
(clear), or the staging name of an upload signed for this very field (and, when the form
knows its user, this user). Anything else (another object's key, a URL, another field's
upload) is refused, so nobody can point a record at an object they did not upload.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import uploads
from .files import S3File


class S3FileFormField(forms.FileField):
    """A ``FileField`` only so Django hands ``clean()`` the initial value; no bytes arrive here."""

    default_error_messages = {
        "not_uploaded": _(
            "This file was not uploaded through this form. Please choose the file again."
        ),
        "invalid": _("This is not a valid file."),
    }

    def __init__(self, *, model_field: Any = None, **kwargs: Any) -> None:
        self.model_field = model_field
        #: Set by views (or ``S3FileFormMixin``) that know the user, to bind uploads to them.
        self.user: Any = None
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(**kwargs)
        if model_field is not None and hasattr(self.widget, "model_field"):
            self.widget.model_field = model_field

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, S3File):
            return value.name
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        return data

    def clean(self, data: Any, initial: Any = None) -> Any:
        value = data.strip() if isinstance(data, str) else ""
        initial_name = self.prepare_value(initial) or ""
        if not value:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return ""
        if value == initial_name:
            return value
        field = self.model_field
        name = field.name_for_value(value) if field is not None else value
        if name == initial_name:
            return name
        label = field.label if field is not None else None
        if not uploads.check_upload_name(name, field_label=label, user=self.user):
            raise ValidationError(self.error_messages["not_uploaded"], code="not_uploaded")
        return name

    def has_changed(self, initial: Any, data: Any) -> bool:
        return (self.prepare_value(initial) or "") != (data or "")


class S3FileFormMixin:
    """Give a form's upload fields the request's user, so uploads are bound to who made them.

    ``form = MyForm(request.POST, instance=obj, user=request.user)``. Without it, an upload
    is still bound to its field by a signature only its uploader's browser ever saw.
    """

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, S3FileFormField):
                field.user = user
