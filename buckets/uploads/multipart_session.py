"""What binds a multipart upload to its key, field, user and declared size, with nothing
stored on the server.

A multipart upload is named by two strings S3 gave or the server chose, both echoed by
every client (our widget and ``@uppy/aws-s3``): the *key* (a staging name,
:func:`buckets.uploads.staging_names.new_upload_name`, whose MACs already bind it to the field
and the user it was made for) and the *upload id* (S3's). The server adds a *session
token*::

    <declared size>.<MAC>
    104857600.3f1c0a9b7e6d5c4b2a19087f6e5d4c3b

the MAC (the staging names' scheme,
:func:`buckets.uploads.staging_names.bound_mac`: HMAC-SHA256 with ``SECRET_KEY`` and this
module's salt, here 128 bits) taken over the field label, the user's pk, the key, S3's
upload id and the size. So:

* another user's upload: its key's user MAC does not verify for the requesting user, and a
  token made for them does not verify either; a key of one's own with another user's upload
  id fails the token's MAC (it binds the upload id);
* a tampered key, upload id or size: the MAC fails;
* the declared size, hence the part plan (:mod:`buckets.uploads.multipart_plan`), comes
  from the token alone: a client cannot change a part's length or the total checked
  before completing.

Keys in ``SECRET_KEY_FALLBACKS`` verify too, as for staging names. The field an upload is
for is found from its key: the one direct-upload field (or "no field") whose field MAC the
key carries (:func:`field_for_upload_name`), so a client that echoes only key and upload id
(Uppy) needs to send no field token after the first call.

``@uppy/aws-s3`` echoes the key and the upload id and nothing else, so its routes hand out
the upload id *wrapped*: ``<token>.<S3's upload id>`` (:func:`wrap_upload_id`), which it
then sends back in every URL path.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from buckets.signing.limits import MAX_OBJECT_SIZE
from buckets.uploads.field_tokens import field_label
from buckets.uploads.rules import MAX_INPUT_LENGTH
from buckets.uploads.staging_names import bound_mac, check_upload_name, user_pk

__all__ = [
    "InvalidSession",
    "field_for_upload_name",
    "session_size",
    "session_token",
    "unwrap_upload_id",
    "wrap_upload_id",
]

_SALT = "buckets.uploads.multipart-session"
_MAC_HEX = 32
_MAX_SIZE_DIGITS = len(str(MAX_OBJECT_SIZE))
_TOKEN_RE = re.compile(rf"([1-9][0-9]{{0,{_MAX_SIZE_DIGITS - 1}}})\.([0-9a-f]{{{_MAC_HEX}}})\Z")
_WRAPPED_RE = re.compile(
    rf"([1-9][0-9]{{0,{_MAX_SIZE_DIGITS - 1}}}\.[0-9a-f]{{{_MAC_HEX}}})\.(.+)\Z", re.DOTALL
)


class InvalidSession(ValueError):
    """A key, upload id or session token that this site did not hand to this user (or
    that was changed): the message is fit for the user."""


def _mac(*, key: str, upload_id: str, size: int, label: str | None, user: Any, secret: str) -> str:
    parts = (label or "", user_pk(user), key, upload_id, str(size))
    return bound_mac(_SALT, parts, secret, digits=_MAC_HEX)


def session_token(*, key: str, upload_id: str, size: int, label: str | None, user: Any) -> str:
    """The token for the upload ``upload_id`` of ``size`` bytes to ``key``, made for the
    field labelled ``label`` (None: no field) and ``user`` (see the module doc)."""
    mac = _mac(
        key=key, upload_id=upload_id, size=size, label=label, user=user, secret=settings.SECRET_KEY
    )
    return f"{size}.{mac}"


def session_size(token: Any, *, key: str, upload_id: str, label: str | None, user: Any) -> int:
    """The declared size a :func:`session_token` carries, once its MAC verifies for this
    key, upload id, field and user; :class:`InvalidSession` otherwise (any type, never
    another exception)."""
    match = _TOKEN_RE.match(token) if isinstance(token, str) else None
    if match is None or not isinstance(upload_id, str) or len(upload_id) > MAX_INPUT_LENGTH:
        raise InvalidSession(_("Invalid upload token."))
    size = int(match[1])
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        expected = _mac(
            key=key, upload_id=upload_id, size=size, label=label, user=user, secret=secret
        )
        if constant_time_compare(match[2], expected):
            return size
    raise InvalidSession(_("This upload was not started here for you, or has been changed."))


def wrap_upload_id(token: str, upload_id: str) -> str:
    """The upload id handed to a client that echoes nothing else: ``<token>.<upload id>``."""
    return f"{token}.{upload_id}"


def unwrap_upload_id(value: Any) -> tuple[str, str]:
    """``(token, S3's upload id)`` of a :func:`wrap_upload_id` value (the token's shape is
    fixed, so S3's id may hold any character); :class:`InvalidSession` for anything else."""
    if isinstance(value, str) and len(value) <= 2 * MAX_INPUT_LENGTH:
        match = _WRAPPED_RE.match(value)
        if match is not None and len(match[2]) <= MAX_INPUT_LENGTH:
            return match[1], match[2]
    raise InvalidSession(_("Invalid upload id."))


def _upload_prefix(storage: Any) -> str | None:
    return getattr(getattr(storage, "settings", None), "upload_prefix", None)


def _direct_upload_fields() -> dict[str, Any]:
    """Every model field that takes direct uploads, by label."""
    found: dict[str, Any] = {}
    for model in apps.get_models():
        field: Any
        for field in model._meta.get_fields():
            if getattr(field, "accepts_direct_uploads", False) is True:
                found.setdefault(field_label(field), field)
    return found


def field_for_upload_name(name: Any) -> tuple[bool, Any]:
    """``(True, field)`` for the direct-upload field (None: no field, on the default
    storage) whose field MAC the staging name ``name`` carries, under that field's staging
    prefix; ``(False, None)`` when none does. The user MAC is not checked here (the caller
    checks it for its user, once it knows the field). Never raises."""
    if not isinstance(name, str) or len(name) > MAX_INPUT_LENGTH:
        return False, None
    candidates: list[tuple[str | None, Any, Any]] = [(None, None, default_storage)]
    candidates += [(label, f, f.storage) for label, f in _direct_upload_fields().items()]
    for label, field, storage in candidates:
        prefix = _upload_prefix(storage)
        if prefix is not None and check_upload_name(
            name, field_label=label, user=None, prefix=prefix
        ):
            return True, field
    return False, None
