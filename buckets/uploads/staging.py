"""The server's side of a direct upload: file names, field tokens and staging names.

The browser uploads straight to the bucket, so Django never sees the bytes; what it controls
is *where* they may land and *which* model field they are for. Three pieces do that:

``clean_filename(filename)``
    The client's file name made safe to be the last segment of a key: Django's
    ``get_valid_filename`` rules (spaces become ``_``; only letters, digits, ``_``, ``-`` and
    ``.`` are kept), with Unicode letters kept (NFC-normalised), only the last path segment
    of a ``/`` or ``\\`` path, and at most :data:`MAX_FILENAME_LENGTH` characters with the
    extension kept. A name that cleans to nothing, or a client string longer than
    :data:`MAX_INPUT_LENGTH`, raises :class:`InvalidFilename`.

``field_token(field)`` / ``resolve_field_token(token)``
    The widget's opaque ``field`` value: ``django.core.signing.TimestampSigner`` with this
    module's own salt over ``"<app_label>.<model_name>.<field_name>"``. It is signed so a
    client cannot pick another field's (looser) limits or permission, and timestamped so an
    old page stops working after :func:`field_token_max_age` seconds.

``new_upload_name(...)`` / ``check_upload_name(...)``
    The staging name a signed upload goes to::

        <upload_prefix><nonce><field mac><user mac>/<clean filename>
        uploads/9f86d081884c7d65a3b1c2d4e5f607180d1e2f3a4b5c6d7e/report.pdf

    Each part is 16 lower-case hex digits. ``nonce`` comes from :mod:`secrets` (64 random
    bits: two users uploading ``file.txt`` at once get two keys, and nobody can guess the
    key of someone else's upload). The two MACs are the first 16 hex digits of
    ``django.utils.crypto.salted_hmac`` (SHA-256, ``SECRET_KEY``, one salt each) over
    ``(field_label or "", prefix + nonce + "/" + filename)`` (the *field mac*) and
    ``(field_label or "", user pk or "", prefix + nonce + "/" + filename)`` (the *user
    mac*; anonymous users have no pk), each part written as ``<length>:<part>,``. So the
    whole name is bound to the field it was signed for and to the user who asked: the form
    field accepts a posted name only if it came from a signed upload for that field (and,
    when the form knows its user, that user). Keys in ``SECRET_KEY_FALLBACKS`` are accepted
    when checking. The policy S3 enforces pins the exact key, so nothing else can be
    uploaded under that name.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core import checks, signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.translation import gettext_lazy as _

from buckets.signing.limits import MAX_KEY_BYTES

if TYPE_CHECKING:
    from django.db.models import Field

__all__ = [
    "FIELD_TOKEN_MAX_AGE",
    "MAX_FILENAME_LENGTH",
    "MAX_INPUT_LENGTH",
    "InvalidFieldToken",
    "InvalidFilename",
    "check_upload_name",
    "upload_error",
    "clean_filename",
    "field_label",
    "field_token",
    "field_token_max_age",
    "is_upload_name",
    "max_upload_name_length",
    "new_upload_name",
    "resolve_field_token",
    "staging_checks",
]

#: Longest cleaned file name, in characters (the extension is kept when shortening).
MAX_FILENAME_LENGTH = 150
#: Longest client string (a file name, a field token, a staging name) this module looks
#: into, in characters: a longer one is refused before it is cleaned, normalised or matched,
#: as the cost of Unicode normalisation grows faster than the length of its input. Nothing
#: valid is longer: no S3 key is, and no token this module makes.
MAX_INPUT_LENGTH = MAX_KEY_BYTES
#: Extensions longer than this are not treated as extensions when shortening a name.
_MAX_EXTENSION_LENGTH = 16
#: Default lifetime of a field token (seconds): a form page may stay open for a working day.
FIELD_TOKEN_MAX_AGE = 24 * 60 * 60

_TOKEN_SALT = "buckets.uploads.field-token"
_FIELD_MAC_SALT = "buckets.uploads.staging-name.field"
_USER_MAC_SALT = "buckets.uploads.staging-name.user"
_PART_HEX = 16  # nonce, field mac and user mac: 64 bits each
_SEGMENT_RE = re.compile(rf"[0-9a-f]{{{3 * _PART_HEX}}}\Z")
_UNSAFE_RE = re.compile(r"[^-\w.]")
_SPACES_RE = re.compile(r"\s+")


class InvalidFilename(ValueError):
    """The client's file name cannot be turned into a safe key segment."""


class InvalidFieldToken(ValueError):
    """A field token that is forged, garbled, expired or names no upload field.

    ``field``: for an expired token (authentic, only too old), the field it names, if that
    still exists; else None. So a permission check can still be asked about that field.
    """

    def __init__(self, message: Any, field: Any = None) -> None:
        super().__init__(message)
        self.field = field


# -- file names ------------------------------------------------------------------------


def clean_filename(filename: str) -> str:
    """The last segment of a staging key, made from the client's file name.

    Django's ``get_valid_filename`` rules, but Unicode letters survive (NFC first, so a
    decomposed ``é`` does not lose its accent): a client's ``C:\\Users\\me\\Relevé été.pdf``
    becomes ``Relevé_été.pdf``. Directory parts never survive, so the client cannot choose a
    folder; control characters, NUL and every other symbol go. Raises
    :class:`InvalidFilename` when nothing usable is left (``""``, ``"."``, ``"../"``...), and
    for a name over :data:`MAX_INPUT_LENGTH` characters, before looking into it.
    """
    if not isinstance(filename, str):
        raise InvalidFilename(_("The file name must be a string."))
    if len(filename) > MAX_INPUT_LENGTH:
        raise InvalidFilename(
            _("The file name is too long (at most %(max)d characters).") % {"max": MAX_INPUT_LENGTH}
        )
    name = unicodedata.normalize("NFC", filename.replace("\\", "/")).rsplit("/", 1)[-1]
    name = _SPACES_RE.sub("_", name.strip())
    name = _UNSAFE_RE.sub("", name)
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) < _MAX_EXTENSION_LENGTH:
            name = f"{stem[: MAX_FILENAME_LENGTH - len(ext) - 1]}.{ext}"
        else:
            name = name[:MAX_FILENAME_LENGTH]
    if name.strip(".") == "":
        raise InvalidFilename(_("The file name has no usable characters."))
    return name


# -- field tokens ----------------------------------------------------------------------


def field_label(field: Field) -> str:
    """``"app_label.model_name.field_name"`` of a model field (what tokens and MACs name)."""
    model = getattr(field, "model", None)
    if model is None or not getattr(field, "name", None):
        raise ValueError("Only a field attached to a model has a label.")
    return f"{model._meta.label_lower}.{field.name}"


def field_token_max_age() -> int:
    """Seconds a field token stays valid: ``BUCKETS_FIELD_TOKEN_MAX_AGE``, read per call."""
    return int(getattr(settings, "BUCKETS_FIELD_TOKEN_MAX_AGE", FIELD_TOKEN_MAX_AGE))


def _token_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_TOKEN_SALT)


def field_token(field: Field) -> str:
    """The signed, timestamped token a widget sends as ``field`` to get this field's rules."""
    return _token_signer().sign(field_label(field))


def resolve_field_token(token: str, max_age: int | None = None) -> Any:
    """The model field a :func:`field_token` names.

    Raises :class:`InvalidFieldToken` (with a message fit for the user) when the token was
    not made here, is garbled, is longer than :data:`MAX_INPUT_LENGTH`, is older than
    ``max_age`` (default :func:`field_token_max_age`; the error's ``field`` is then the
    field it names) or names a field that no longer exists or is not an ``S3FileField``.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_INPUT_LENGTH:
        raise InvalidFieldToken(_("Invalid field token."))
    age = field_token_max_age() if max_age is None else max_age
    try:
        label = _token_signer().unsign(token, max_age=age)
    except signing.SignatureExpired as exc:
        try:  # authentic, only too old: which field it was for
            field = _upload_field(_token_signer().unsign(token))
        except InvalidFieldToken:
            field = None
        message = _("The upload form has expired. Reload the page.")
        raise InvalidFieldToken(message, field=field) from exc
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        # BadSignature for a forged token; the others for garbage that reaches the decoder.
        raise InvalidFieldToken(_("Invalid field token.")) from exc
    return _upload_field(label)


def _upload_field(label: str) -> Any:
    """The ``S3FileField`` a token's label names, or :class:`InvalidFieldToken`."""
    parts = label.split(".")
    if len(parts) != 3:
        raise InvalidFieldToken(_("Invalid field token."))
    app_label, model_name, field_name = parts
    try:
        field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    except (LookupError, FieldDoesNotExist) as exc:
        raise InvalidFieldToken(_("The upload form names an unknown field.")) from exc
    if getattr(field, "accepts_direct_uploads", False) is not True:
        raise InvalidFieldToken(_("The upload form names an unknown field."))
    return field


# -- staging names ---------------------------------------------------------------------


def _user_pk(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    pk = getattr(user, "pk", None)
    return "" if pk is None else str(pk)


@functools.lru_cache(maxsize=8)
def _salted_key(salt: str, secret: str) -> bytes:
    """The key ``salted_hmac`` derives (SHA-256 of salt + secret), computed once per secret."""
    return hashlib.sha256(force_bytes(salt) + force_bytes(secret)).digest()


def _mac(salt: str, parts: tuple[str, ...], secret: str | None = None) -> str:
    """``salted_hmac(salt, message, secret, algorithm="sha256")``, truncated; with the
    derived key cached and the one-shot C HMAC, as the view signs on every request."""
    # Each part is length-prefixed, so no two different tuples give the same message.
    message = "".join(f"{len(part)}:{part}," for part in parts)
    key = _salted_key(salt, settings.SECRET_KEY if secret is None else secret)
    return hmac.digest(key, message.encode("utf-8", "surrogatepass"), "sha256").hex()[:_PART_HEX]


def _field_mac(bare_name: str, field_label: str | None, secret: str | None = None) -> str:
    return _mac(_FIELD_MAC_SALT, (field_label or "", bare_name), secret)


def _user_mac(bare_name: str, field_label: str | None, user: Any, secret: str | None = None) -> str:
    return _mac(_USER_MAC_SALT, (field_label or "", _user_pk(user), bare_name), secret)


def new_upload_name(
    filename: str, *, field_label: str | None, user: Any, prefix: str = "uploads/"
) -> str:
    """A fresh staging name ``<prefix><nonce><macs>/<clean filename>`` (see the module doc).

    ``prefix`` is the storage's ``settings.upload_prefix``; ``field_label`` is
    :func:`field_label` of the field the upload is for (None for a plain upload) and
    ``user`` the requesting user (an anonymous user, or None, binds to "no user"). Raises
    :class:`InvalidFilename` when the file name cleans to nothing.
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
    :data:`MAX_INPUT_LENGTH` characters, which no staging name is)."""
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
    exactly what :func:`clean_filename` makes (so nothing else fits by chance).

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
    ``S3FileField``), as an error code of the field's, or None when it may: empty,
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


def staging_checks(field: Any) -> list[checks.CheckMessage]:
    """The system checks of an ``S3FileField`` about staging: ``upload_to`` under the
    staging prefix (buckets.E103), ``max_length`` shorter than a staging name (W101)."""
    errors: list[checks.CheckMessage] = []
    try:
        prefix = field._staging_prefix()
    except ImproperlyConfigured:
        prefix = None  # buckets.E001 reports the storage itself
    if prefix and isinstance(field.upload_to, str):
        try:
            sample = field.generate_filename(None, "file.txt")
        except Exception:  # a check must not crash: E102 reports a bad path
            sample = ""
        if sample.startswith(prefix):
            errors.append(
                checks.Error(
                    f"'upload_to' ({field.upload_to!r}) puts files under the storage's "
                    f"staging prefix {prefix!r}, where direct uploads wait to be moved and "
                    "the staging clean-up (buckets_cleanup, buckets_lifecycle) deletes them.",
                    hint="Choose another upload_to, or another UPLOAD_PREFIX "
                    "(storage option 'upload_prefix').",
                    obj=field,
                    id="buckets.E103",
                )
            )
    if prefix and isinstance(field.max_length, int):
        longest = max_upload_name_length(prefix)
        if field.max_length < longest:
            errors.append(
                checks.Warning(
                    f"'max_length' ({field.max_length}) is shorter than a staging name can "
                    f"be ({longest} characters with the staging prefix {prefix!r}).",
                    hint="Staging names are not stored, but a file name moved under "
                    "upload_to is cut to max_length, and one that cannot be cut to fit "
                    "raises SuspiciousFileOperation on save. Use "
                    f"max_length={longest} or more (the default is 1024).",
                    obj=field,
                    id="buckets.W101",
                )
            )
    return errors
