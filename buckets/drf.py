"""Django REST framework support (the ``drf`` extra of django-buckets-s3), as documented:
``buckets.drf.S3FileSerializerField``, ``drf_user`` and ``upload_field_tokens``. The field
side lives in :mod:`buckets.fields.drf`; importing this without DRF installed raises an
``ImportError`` saying what to install."""

from __future__ import annotations

from buckets.fields.drf import (
    S3FileSerializerField,
    drf_user,
    upload_field_tokens,
    use_in_model_serializers,
)

__all__ = ["S3FileSerializerField", "drf_user", "upload_field_tokens", "use_in_model_serializers"]
