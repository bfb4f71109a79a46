"""System checks: configuration mistakes reported at ``manage.py check``, not at first upload."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def _configured_storages() -> list[tuple[str, dict[str, Any]]]:
    from django.core.files.storage import storages

    backends: dict[str, dict[str, Any]] = storages.backends  # type: ignore[assignment]
    return [(alias, dict(params)) for alias, params in backends.items()]


@checks.register(checks.Tags.compatibility)
def check_storage_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every configured ``S3Storage`` (and subclass) must resolve its settings cleanly."""
    from .storage import S3Storage

    errors: list[checks.CheckMessage] = []
    for alias, params in _configured_storages():
        try:
            backend = import_string(params.get("BACKEND", ""))
        except ImportError:
            continue  # Django reports unknown backends itself, on use.
        if not (isinstance(backend, type) and issubclass(backend, S3Storage)):
            continue
        try:
            storage = backend(**params.get("OPTIONS", {}))
            storage.check_settings()
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(
                    f"STORAGES[{alias!r}] ({params.get('BACKEND')}): {exc}",
                    hint="See the AWS setting and storage options in django-buckets' README.",
                    id="buckets.E001",
                )
            )
    return errors
