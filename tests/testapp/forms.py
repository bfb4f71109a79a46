"""The test app's model forms, as a site would write them: one per model the suites upload
to, shared by the form, plugin and browser tests so they all drive the same form."""

from __future__ import annotations

from django import forms

from buckets.fields.forms import S3FileFormMixin
from tests.testapp.models import Avatar, Document

__all__ = ["AvatarForm", "DocumentForm"]


class DocumentForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Document
        fields = ["name", "file"]


class AvatarForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["image", "pdf"]
