"""Kept so ``buckets.forms.S3FileFormMixin`` and ``S3FileFormField`` import as documented; the
field side lives in :mod:`buckets.fields`."""

from __future__ import annotations

from buckets.fields.forms import S3FileFormField, S3FileFormMixin

__all__ = ["S3FileFormField", "S3FileFormMixin"]
