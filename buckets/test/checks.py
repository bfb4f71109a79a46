"""System check: the fake S3 is for development and tests, never for a production site.

Its upload endpoint stores whatever a valid policy allows on the web server's disk and its
GET endpoint serves files with no access control, so a site running with ``DEBUG = False``
that mounts it, or stores files with ``FakeS3Storage``, is most likely a mistake.

Registered when ``buckets.test.storage`` or ``buckets.test.urls`` is imported (both import
this module); ``buckets.apps`` may also import it so ``manage.py check`` sees it even before
either is loaded. Registering twice is harmless: the registry is a set.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

W_MOUNTED = "buckets.test.W001"
W_STORAGE = "buckets.test.W002"


def _fake_storage_aliases() -> list[str]:
    from django.utils.module_loading import import_string

    from .storage import FakeS3Storage

    aliases = []
    for alias, params in (getattr(settings, "STORAGES", None) or {}).items():
        try:
            backend = import_string(params.get("BACKEND", ""))
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, FakeS3Storage):
            aliases.append(alias)
    return aliases


def _mounted_path() -> str | None:
    """The upload endpoint's path if the root URLconf routes to it, else None."""
    from django.urls import Resolver404, resolve

    from . import views
    from .storage import URL_PATH, media_path

    path = "/" + media_path() + URL_PATH
    try:
        match = resolve(path)
    except Resolver404:
        return None
    except Exception:  # noqa: BLE001 -- a broken URLconf is reported by Django's own checks
        return None
    return path if match.func is views.upload else None


@checks.register(checks.Tags.security)
def check_fake_s3_not_in_production(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the fake S3 is mounted or configured while ``DEBUG`` is False."""
    if settings.DEBUG:
        return []
    messages: list[checks.CheckMessage] = []
    path = _mounted_path()
    if path is not None:
        messages.append(
            checks.Warning(
                f"The fake S3 endpoints (buckets.test.urls) are mounted at {path} "
                "while DEBUG is False.",
                hint="They are a development and test tool: include buckets.urls instead "
                "in production.",
                id=W_MOUNTED,
            )
        )
    for alias in _fake_storage_aliases():
        messages.append(
            checks.Warning(
                f"STORAGES[{alias!r}] uses buckets.test.storage.FakeS3Storage while DEBUG "
                "is False.",
                hint="FakeS3Storage keeps files on the local disk: use "
                "buckets.storage.S3Storage in production.",
                id=W_STORAGE,
            )
        )
    return messages
