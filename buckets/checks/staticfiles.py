"""The static files storages need ``buckets``' ``collectstatic``: warn when Django would run
another (``"buckets"`` listed after ``"django.contrib.staticfiles"`` in ``INSTALLED_APPS``).
Django's own still works with them, one request or two per file."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.management import get_commands
from django.utils.module_loading import import_string

__all__ = ["W_COMMAND", "check_collectstatic_command"]

W_COMMAND = "buckets.W001"


@checks.register(checks.Tags.staticfiles)
def check_collectstatic_command(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    from django.conf import STATICFILES_STORAGE_ALIAS
    from django.core.files.storage import storages

    from buckets.staticfiles import S3StaticStorage

    backends: dict[str, dict[str, Any]] = storages.backends  # type: ignore[assignment]
    params = backends.get(STATICFILES_STORAGE_ALIAS) or {}
    try:
        backend = import_string(params.get("BACKEND", ""))
    except ImportError:
        return []
    if not (isinstance(backend, type) and issubclass(backend, S3StaticStorage)):
        return []
    runs = get_commands().get("collectstatic")
    if runs == "buckets":
        return []
    return [
        checks.Warning(
            f"STORAGES[{STATICFILES_STORAGE_ALIAS!r}] is {params['BACKEND']}, but "
            f"collectstatic is {runs}'s: it asks the bucket about each file in turn.",
            hint='List "buckets" before "django.contrib.staticfiles" in INSTALLED_APPS.',
            id=W_COMMAND,
        )
    ]
