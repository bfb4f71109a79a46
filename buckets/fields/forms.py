"""The form field behind ``S3FileField``: it accepts only values a signed upload produced.

A form is untrusted input. Its hidden input may carry the current value unchanged, nothing
(clear), or the staging name of an upload signed for this very field (and, when the form
knows its user, this user). Anything else (another object's key, a URL, another field's
upload) is refused, so nobody can point a record at an object they did not upload. A
staged upload that is gone (already moved by an earlier submission, or expired) is refused
with a message asking for the file again. A disabled field keeps its initial value whatever
is posted, as Django's own fields do.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from buckets.fields.files import S3File
from buckets.fields.widgets import RemovedFile
from buckets.uploads.staging_names import (
    UPLOAD_ERROR_MESSAGES,
    check_upload_name,
    upload_error,
)


class S3FileFormField(forms.FileField):
    """A ``FileField`` only so Django hands ``clean()`` the initial value; no bytes arrive here."""

    default_error_messages = {
        **UPLOAD_ERROR_MESSAGES,
        "invalid": _("This is not a valid file."),
        # ModelForm puts a field's message in place of the model's for the same code: this
        # one takes the params of the model field's MaxLengthValidator (FileField's takes
        # %(max)d and %(length)d, and would fail to render).
        "max_length": ngettext_lazy(
            "Ensure this file name has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this file name has at most %(limit_value)d characters (it has %(show_value)d).",
            "limit_value",
        ),
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
        if self.disabled:
            return initial
        initial_name = self.prepare_value(initial) or ""
        if initial_name and not (data.strip() if isinstance(data, str) else data):
            # Removed, in a submission that failed: the widget offers the file back.
            return RemovedFile(initial_name)
        return data

    def clean(self, data: Any, initial: Any = None) -> Any:
        initial_name = self.prepare_value(initial) or ""
        if self.disabled:
            # Django passes the initial value (an S3File) as the data of a disabled field:
            # whatever was posted, the value stays as it was.
            if not initial_name and self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return initial_name
        value = data.strip() if isinstance(data, str) else ""
        if not value:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return ""
        if value == initial_name:
            return value
        field = self.model_field
        if field is None:  # unbound: only a staging name signed for no field
            if not check_upload_name(value, field_label=None, user=self.user):
                raise ValidationError(self.error_messages["not_uploaded"], code="not_uploaded")
            return value
        name = field.name_for_value(value)
        code = upload_error(field, name, user=self.user, current=initial_name)
        if code is not None:
            raise ValidationError(self.error_messages[code], code=code)
        return name

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
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
