"""System check: the fake S3 (``buckets.test``) is for development and tests, never production.

Its upload endpoint stores whatever a valid policy allows on the web server's disk and its
GET endpoint serves those files from the site's own origin, so a site running with
``DEBUG = False`` that routes to it (W001), or keeps files with ``FakeS3Storage`` (W002), is
most likely a mistake.

The check finds the fake by dotted path: the views the URL resolver reaches, wherever they
are mounted, and every storage class configured in ``STORAGES`` or given to a model field.
It never imports ``buckets.test`` itself, so a production site that uses none of the fake
loads none of it. The ids keep the ``buckets.test.`` prefix they are documented under.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext as _

__all__ = [
    "FAKE_PACKAGE",
    "FAKE_STORAGE",
    "W_MOUNTED",
    "W_STORAGE",
    "check_fake_s3_not_in_production",
    "is_fake_storage_class",
]

W_MOUNTED = "buckets.test.W001"
W_STORAGE = "buckets.test.W002"
#: The fake's package and storage class, by name only.
FAKE_PACKAGE = "buckets.test"
FAKE_STORAGE = "buckets.test.storage.FakeS3Storage"


def _dotted(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _in_fake_package(module: str) -> bool:
    return module == FAKE_PACKAGE or module.startswith(FAKE_PACKAGE + ".")


def is_fake_storage_class(cls: type) -> bool:
    """True if ``cls`` is ``FakeS3Storage`` or a subclass (compared by dotted path)."""
    return any(_dotted(base) == FAKE_STORAGE for base in getattr(cls, "__mro__", ()))


def _fake_backend(path: str) -> bool:
    """True if the ``BACKEND`` dotted path names the fake storage or a subclass of it.

    A path inside ``buckets.test`` is the fake without importing anything; any other path is
    imported (as Django will when the storage is first used) and its classes compared by name.
    """
    if _in_fake_package(path.rpartition(".")[0]):
        return True
    from django.utils.module_loading import import_string

    try:
        backend = import_string(path)
    except ImportError:
        return False  # Django reports unknown backends itself, on use
    return isinstance(backend, type) and is_fake_storage_class(backend)


def _fake_storage_aliases() -> list[str]:
    from django.core.files.storage import storages

    backends: dict[str, dict[str, Any]] = storages.backends  # type: ignore[assignment]
    return [alias for alias, params in backends.items() if _fake_backend(params.get("BACKEND", ""))]


def _field_storage(field: Any) -> Any:
    """The field's storage object, a callable storage resolved; None if it has none."""
    from django.core.files.storage import Storage, default_storage

    storage = getattr(field, "storage", None)
    if storage is None or storage is default_storage:
        return None  # the default storage is STORAGES['default'], checked with the others
    if callable(storage) and not isinstance(storage, Storage):
        storage = storage()
    return storage


def _fake_fields(app_configs: Any) -> list[str]:
    """``app_label.Model.field`` for every model field whose own storage is a fake."""
    models = (
        apps.get_models()
        if app_configs is None
        else [m for config in app_configs for m in config.get_models()]
    )
    found = []
    for model in models:
        for field in model._meta.get_fields(include_parents=False):
            try:
                storage = _field_storage(field)
            except Exception:  # noqa: BLE001 -- a storage that fails to build fails on use
                continue
            # type(), not .__class__: a lazy storage would set itself up to answer.
            if storage is not None and is_fake_storage_class(type(storage)):
                found.append(f"{model._meta.label}.{field.name}")
    return found


def _fake_routes(patterns: Any, prefix: str = "") -> Iterator[str]:
    """``route (view)`` for every URL pattern whose view is one of the fake's, the route
    with its includes' prefixes joined."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        nested = getattr(entry, "url_patterns", None)
        if nested is not None:
            yield from _fake_routes(nested, route)
            continue
        view = getattr(entry.callback, "view_class", entry.callback)
        if _in_fake_package(getattr(view, "__module__", None) or ""):
            yield f"{route} ({_dotted(view)})"


def _mounted_routes() -> list[str]:
    """Where the root URLconf reaches the fake's views (empty when it does not)."""
    from django.urls import get_resolver

    try:
        return list(_fake_routes(get_resolver().url_patterns))
    except Exception:  # noqa: BLE001 -- a broken URLconf is reported by Django's own checks
        return []


@checks.register(checks.Tags.security)
def check_fake_s3_not_in_production(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the fake S3 is routed to or stores files while ``DEBUG`` is False."""
    if settings.DEBUG:
        return []
    messages: list[checks.CheckMessage] = []
    routes = _mounted_routes()
    if routes:
        messages.append(
            checks.Warning(
                _(
                    "The fake S3 endpoints (buckets.test.urls) are mounted while DEBUG is "
                    "False: %(routes)s."
                )
                % {"routes": ", ".join(routes)},
                hint=_(
                    "They are a development and test tool: include buckets.urls instead "
                    "in production."
                ),
                id=W_MOUNTED,
            )
        )
    hint = _(
        "FakeS3Storage keeps files on the local disk: use buckets.storage.S3Storage in production."
    )
    for alias in _fake_storage_aliases():
        messages.append(
            checks.Warning(
                _("STORAGES[%(alias)r] uses %(storage)s while DEBUG is False.")
                % {"alias": alias, "storage": FAKE_STORAGE},
                hint=hint,
                id=W_STORAGE,
            )
        )
    for field in _fake_fields(app_configs):
        messages.append(
            checks.Warning(
                _("The field %(field)s stores its files with %(storage)s while DEBUG is False.")
                % {"field": field, "storage": FAKE_STORAGE},
                hint=hint,
                id=W_STORAGE,
            )
        )
    return messages
