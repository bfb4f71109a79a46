from __future__ import annotations

import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BucketsConfig(AppConfig):
    name = "buckets"
    verbose_name = _("Buckets")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Importing registers the system checks (the fake's by name: buckets.test stays unloaded).
        from buckets import checks  # noqa: F401

        # Django REST framework is optional: when it is installed, ModelSerializer maps
        # S3FileField to the serializer field that checks uploads (buckets.drf).
        if importlib.util.find_spec("rest_framework") is not None:
            from buckets.fields.drf import use_in_model_serializers

            use_in_model_serializers()
