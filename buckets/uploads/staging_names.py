"""Staging names: where a signed upload lands, bound to the field and user it was signed for.

::

    <upload_prefix><nonce><field mac><user mac>/<clean filename>
    uploads/9f86d081884c7d65a3b1c2d4e5f607180d1e2f3a4b5c6d7e/report.pdf

Each part is 16 lower-case hex digits. ``nonce`` comes from :mod:`secrets` (64 random bits:
two users uploading ``file.txt`` at once get two keys, and nobody can guess the key of
someone else's upload). The two MACs are the first 16 hex digits of
``django.utils.crypto.salted_hmac`` (SHA-256, ``SECRET_KEY``, one salt each) over
``(field_label or "", prefix + nonce + "/" + filename)`` (the *field mac*) and
``(field_label or "", user pk or "", prefix + nonce + "/" + filename)`` (the *user mac*;
anonymous users have no pk), each part written as ``<length>:<part>,``. So the whole name
is bound to the field it was signed for and to the user who asked: the form field accepts a
posted name only if it came from a signed upload for that field (and, when the form knows
its user, that user). Keys in ``SECRET_KEY_FALLBACKS`` are accepted when checking. The
policy S3 enforces pins the exact key, so nothing else can be uploaded under that name.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.translation import gettext_lazy as _

from buckets.signing.sigv4 import HmacSha256
from buckets.uploads.field_tokens import field_label
from buckets.uploads.filenames import MAX_FILENAME_LENGTH, InvalidFilename, clean_filename
from buckets.uploads.rules import MAX_INPUT_LENGTH

__all__ = [
    "UPLOAD_ERROR_MESSAGES",
    "bound_mac",
    "check_upload_name",
    "is_upload_name",
    "max_upload_name_length",
    "new_upload_name",
    "upload_error",
    "user_pk",
]

_FIELD_MAC_SALT = "buckets.uploads.staging-name.field"
_USER_MAC_SALT = "buckets.uploads.staging-name.user"
_PART_HEX = 16  # nonce, field mac and user mac: 64 bits each

#: The message of each code :func:`upload_error` gives, for the model field and the form
#: field alike (each merges them into its ``default_error_messages``).
#: Worded for a person at a form and for an API client alike (``validate_upload``).
UPLOAD_ERROR_MESSAGES = {
    "gone": _("The upload has expired or was already used. Please upload the file again."),
    "not_uploaded": _(
        "This file was not uploaded for this field (or not by you). Please upload it again."
    ),
}
_SEGMENT_RE = re.compile(rf"[0-9a-f]{{{3 * _PART_HEX}}}\Z")


def user_pk(user: Any) -> str:
    """What a MAC binds a user by: the pk, or "" for an anonymous user (or None)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    pk = getattr(user, "pk", None)
    return "" if pk is None else str(pk)


@functools.lru_cache(maxsize=16)
def _salted_hmac_key(salt: str, secret: str | bytes) -> HmacSha256:
    """The HMAC ``salted_hmac(salt, ..., secret, algorithm="sha256")`` computes, its key
    (SHA-256 of salt and secret) derived and set up once per salt and secret."""
    return HmacSha256(hashlib.sha256(force_bytes(salt) + force_bytes(secret)).digest())


def bound_mac(
    salt: str, parts: tuple[str, ...], secret: str | bytes | None = None, *, digits: int = _PART_HEX
) -> str:
    """The first ``digits`` hex digits of ``salted_hmac(salt, message, secret,
    algorithm="sha256")`` over the length-prefixed ``parts`` (so no two different tuples
    give the same message): the MAC scheme of staging names, and of what else binds an
    upload to its field and user (:mod:`buckets.uploads.multipart_session`).

    The same bytes as ``salted_hmac`` (the test suite compares them on every supported
    Django and Python), with its key derivation and HMAC set-up done once per salt and
    secret instead of on every call: the signed-URL view makes two MACs per request.

    The message is encoded with ``surrogatepass``: a string a client posts may hold a lone
    surrogate, which then simply fails to match instead of raising.
    """
    message = "".join(f"{len(part)}:{part}," for part in parts)
    data = message.encode("utf-8", "surrogatepass")
    keyed = _salted_hmac_key(salt, settings.SECRET_KEY if secret is None else secret)
    return keyed.hexdigest(data)[:digits]


def _field_mac(bare_name: str, field_label: str | None, secret: str | None = None) -> str:
    return bound_mac(_FIELD_MAC_SALT, (field_label or "", bare_name), secret)


def _user_mac(bare_name: str, field_label: str | None, user: Any, secret: str | None = None) -> str:
    return bound_mac(_USER_MAC_SALT, (field_label or "", user_pk(user), bare_name), secret)


def new_upload_name(
    filename: str, *, field_label: str | None, user: Any, prefix: str = "uploads/"
) -> str:
    """A fresh staging name ``<prefix><nonce><macs>/<clean filename>`` (see the module doc).

    ``prefix`` is the storage's ``settings.upload_prefix``; ``field_label`` is
    :func:`~buckets.uploads.field_tokens.field_label` of the field the upload is for (None
    for a plain upload) and ``user`` the requesting user (an anonymous user, or None, binds
    to "no user"). Raises :class:`~buckets.uploads.filenames.InvalidFilename` when the file
    name cleans to nothing.
    """
    clean = clean_filename(filename)
    nonce = secrets.token_hex(_PART_HEX // 2)
    bare = f"{prefix}{nonce}/{clean}"
    field_mac = _field_mac(bare, field_label)
    user_mac = _user_mac(bare, field_label, user)
    return f"{prefix}{nonce}{field_mac}{user_mac}/{clean}"


def max_upload_name_length(prefix: str = "uploads/") -> int:
    """The longest staging name :func:`new_upload_name` can make with ``prefix``: the
    prefix, the 48 hex digits of nonce and MACs, ``/`` and a cleaned file name."""
    return len(prefix) + 3 * _PART_HEX + 1 + MAX_FILENAME_LENGTH


def _split_upload_name(name: Any) -> tuple[str, str, str] | None:
    """``(prefix, segment, filename)`` of a name shaped as :func:`new_upload_name` makes
    them (the segment is the 48 hex digits), or None (also for a name over
    :data:`~buckets.uploads.rules.MAX_INPUT_LENGTH` characters, which no staging name is)."""
    if not isinstance(name, str) or len(name) > MAX_INPUT_LENGTH:
        return None
    head, sep, filename = name.rpartition("/")
    if not sep or not filename:
        return None
    base, slash, segment = head.rpartition("/")
    if not _SEGMENT_RE.match(segment):
        return None
    return (f"{base}/" if slash else ""), segment, filename


def _field_mac_matches(bare: str, field_mac: str, labels: Iterable[str | None]) -> bool:
    secrets_ = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return any(
        constant_time_compare(field_mac, _field_mac(bare, label, secret))
        for secret in secrets_
        for label in labels
    )


def is_upload_name(
    name: Any, *, prefix: str, field_labels: Iterable[str | None] | None = None
) -> bool:
    """Whether ``name`` has the shape of a staging name :func:`new_upload_name` made with
    ``prefix``: ``<prefix><48 lower-case hex digits>/<file name>``, the file name being
    exactly what :func:`~buckets.uploads.filenames.clean_filename` makes (so nothing else
    fits by chance).

    With ``field_labels`` (labels of fields, None standing for an upload made for no
    field), the field MAC must also verify for one of them, with ``SECRET_KEY`` or one of
    ``SECRET_KEY_FALLBACKS``: proof that this site signed the name. The user MAC cannot be
    verified without knowing the user, and is not. For housekeeping (what the clean-up
    command may delete, what a lifecycle rule may expire), never for accepting a value.
    Never raises.
    """
    parts = _split_upload_name(name)
    if parts is None or parts[0] != prefix:
        return False
    name_prefix, segment, filename = parts
    try:
        if clean_filename(filename) != filename:
            return False
    except InvalidFilename:
        return False
    if field_labels is None:
        return True
    bare = f"{name_prefix}{segment[:_PART_HEX]}/{filename}"
    return _field_mac_matches(bare, segment[_PART_HEX : 2 * _PART_HEX], list(field_labels))


def check_upload_name(
    name: Any, *, field_label: str | None, user: Any, prefix: str | None = None
) -> bool:
    """Whether ``name`` was made by :func:`new_upload_name` for this field (and user).

    For the form field: a posted value is accepted as a new upload only when this is True,
    so a user cannot point a record at an object uploaded for another field or person.
    ``user`` is the user the upload must have been signed for (an ``AnonymousUser`` for an
    anonymous upload), or None when the form does not know its user: then only the field
    binding is checked, and the random part (seen only by the uploader's browser) is what
    keeps others out. ``prefix``, when given, must also match (the storage's current
    ``upload_prefix``). Never raises: any other input, of any type, is simply False.
    """
    parts = _split_upload_name(name)
    if parts is None:
        return False
    name_prefix, segment, filename = parts
    if prefix is not None and name_prefix != prefix:
        return False
    nonce = segment[:_PART_HEX]
    field_mac = segment[_PART_HEX : 2 * _PART_HEX]
    user_mac = segment[2 * _PART_HEX :]
    bare = f"{name_prefix}{nonce}/{filename}"
    # SECRET_KEY_FALLBACKS, as django.core.signing does: rotating the key does not break
    # uploads signed minutes before.
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        if constant_time_compare(field_mac, _field_mac(bare, field_label, secret)):
            return user is None or constant_time_compare(
                user_mac, _user_mac(bare, field_label, user, secret)
            )
    return False


def upload_error(field: Any, name: str, *, user: Any, current: str = "") -> str | None:
    """Why a client may not give the storage name ``name`` to ``field`` (an
    ``S3FileField``), as a code of :data:`UPLOAD_ERROR_MESSAGES`, or None when it may: empty,
    ``current`` (the saved value) unchanged, or a staging name signed for this field (and
    ``user``, unless None: see :func:`check_upload_name`) under the storage's staging
    prefix. ``"not_uploaded"`` for anything else; ``"gone"`` when the staged object is no
    longer there (moved by an earlier submission, or expired). At most one HEAD request.
    """
    if not name or name == current:
        return None
    prefix = field._staging_prefix()
    if not check_upload_name(name, field_label=field_label(field), user=user, prefix=prefix):
        return "not_uploaded"
    if field.is_staged(name) and not field.storage.exists(name):
        return "gone"
    return None
