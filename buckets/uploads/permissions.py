"""Who may get a signed upload policy.

A signed policy lets its holder write into the bucket, so by default only authenticated
users get one. The ``BUCKETS_UPLOAD_PERMISSION`` setting changes that, read on every
request (so ``override_settings`` and per-deployment settings just work):

* not set: :func:`authenticated`;
* ``None``: anyone, anonymous users included (:func:`allow_any`), e.g. a sign-up form;
* a dotted path (or the callable itself): ``check(request, field)``, where ``field`` is the
  model field the upload is for (from the widget's signed token, expired or not) or None
  for an upload that names no field, or whose token or body is invalid (a request with an
  invalid token or body is refused with 400 once the check has allowed it). Return False
  to answer 403; True to allow an upload bound to ``request.user``; or a user object to
  allow an upload bound to that user.

The check runs before any other input is looked at, and its user is the one the staging
name is bound to (:func:`buckets.uploads.staging_names.new_upload_name`). ``request.user``
comes from the session; a client that authenticates by a header (an API token) is anonymous there:
a check that authenticates it returns its user, so that ``validate_upload(user=...)``
accepts the upload for that user and for nobody else.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

__all__ = [
    "PermissionCheck",
    "UploadGrant",
    "allow_any",
    "authenticated",
    "get_upload_permission",
    "grant_upload",
    "may_upload",
]

SETTING = "BUCKETS_UPLOAD_PERMISSION"

#: ``check(request, field)``: falsy to refuse, True to allow, or the user to bind the upload to.
PermissionCheck = Callable[[HttpRequest, Any], Any]

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


@dataclasses.dataclass(frozen=True)
class UploadGrant:
    """A permission check's yes, and ``user``: who the upload is bound to (None or an
    anonymous user: nobody)."""

    user: Any


def _is_user(value: Any) -> bool:
    """Whether a check's answer is a user (``User``, ``AnonymousUser``...), not a bool."""
    return not isinstance(value, bool) and hasattr(value, "is_authenticated")


def grant_upload(request: HttpRequest, field: Any = None) -> UploadGrant | None:
    """The setting's check asked about an upload to ``field`` (or to no field): None when
    it refuses; else the user it returned, or ``request.user`` when it returned True."""
    answer = get_upload_permission()(request, field)
    if not answer:
        return None
    return UploadGrant(answer if _is_user(answer) else getattr(request, "user", None))


def may_upload(request: HttpRequest, field: Any = None) -> bool:
    """Whether this request may get a policy for an upload to ``field`` (or to no field)."""
    return grant_upload(request, field) is not None
