from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BucketsConfig(AppConfig):
    name = "buckets"
    verbose_name = _("Buckets")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Importing registers the system checks (the fake's by name: buckets.test stays unloaded).
        from buckets import checks  # noqa: F401
