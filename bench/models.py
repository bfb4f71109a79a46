"""The model of ``bench.widget_site``'s form (``bench`` is an app only there): a file field,
so the widget has its storage, size limit and field token, as on a real site. No table."""

from __future__ import annotations

from django.db import models

from buckets.fields import S3FileField


class Upload(models.Model):
    file = S3FileField(blank=True)

    class Meta:
        managed = False
