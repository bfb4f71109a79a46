from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BucketsConfig(AppConfig):
    name = "buckets"
    verbose_name = _("Buckets")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Importing registers the system checks.
        from . import checks  # noqa: F401
        from .test import checks as _fake_checks  # noqa: F401 -- warns if the fake is on in prod
