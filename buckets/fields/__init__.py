"""The field side: ``S3FileField`` (a model field), ``S3File`` (what reading it gives), the
form field and the direct-upload widget, with the rules the model field applies in their own
modules: what a value names (``names``) and when a replaced object is deleted
(``orphans``)."""

from __future__ import annotations

from buckets.fields.files import S3File
from buckets.fields.model_field import S3FileField

__all__ = ["S3File", "S3FileField"]
