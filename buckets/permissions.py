"""Who may get a signed upload policy.

A signed policy lets its holder write into the bucket, so by default only authenticated
users get one. The ``BUCKETS_UPLOAD_PERMISSION`` setting changes that, read on every
request (so ``override_settings`` and per-deployment settings just work):

* not set: :func:`authenticated`;
* ``None``: anyone, anonymous users included (:func:`allow_any`), e.g. a sign-up form;
* a dotted path (or the callable itself): ``check(request, field) -> bool``, where ``field``
  is the model field the upload is for (from the widget's signed token) or None for an
  upload that names no field. Return False to answer 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

__all__ = ["PermissionCheck", "allow_any", "authenticated", "get_upload_permission", "may_upload"]

SETTING = "BUCKETS_UPLOAD_PERMISSION"

PermissionCheck = Callable[[HttpRequest, Any], bool]

_UNSET = object()


def allow_any(request: HttpRequest, field: Any = None) -> bool:
    """Everyone may upload (the policy still limits size, type, key and lifetime)."""
    return True


def authenticated(request: HttpRequest, field: Any = None) -> bool:
    """Only logged-in users may upload: the default."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


@functools.lru_cache(maxsize=16)
def _import(path: str) -> PermissionCheck:
    try:
        check = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{SETTING} = {path!r} cannot be imported: {exc}") from exc
    if not callable(check):
        raise ImproperlyConfigured(f"{SETTING} = {path!r} is not callable.")
    return check  # type: ignore[no-any-return]


def get_upload_permission() -> PermissionCheck:
    """The permission check the setting names now (``ImproperlyConfigured`` if it is wrong)."""
    value = getattr(settings, SETTING, _UNSET)
    if value is _UNSET:
        return authenticated
    if value is None:
        return allow_any
    if isinstance(value, str):
        return _import(value)
    if callable(value):
        return value  # type: ignore[no-any-return]
    raise ImproperlyConfigured(
        f"{SETTING} must be a dotted path to a callable, a callable or None, "
        f"not {type(value).__name__}."
    )


def may_upload(request: HttpRequest, field: Any = None) -> bool:
    """Whether this request may get a policy for an upload to ``field`` (or to no field)."""
    return bool(get_upload_permission()(request, field))
