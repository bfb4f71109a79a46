"""Field tokens: the widget's opaque ``field`` value, naming the model field an upload is for.

A token is ``django.core.signing.TimestampSigner`` (with this module's own salt) over the
field's label, ``"<app_label>.<model_name>.<field_name>"``. It is signed so that a client
cannot pick another field's (looser) limits or permission, and timestamped so that an old
page stops working after :func:`field_token_max_age` seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from buckets.uploads.rules import MAX_INPUT_LENGTH

if TYPE_CHECKING:
    from django.db.models import Field

__all__ = [
    "FIELD_TOKEN_MAX_AGE",
    "InvalidFieldToken",
    "field_label",
    "field_token",
    "field_token_max_age",
    "resolve_field_token",
]

#: Default lifetime of a field token (seconds): a form page may stay open for a working day.
FIELD_TOKEN_MAX_AGE = 24 * 60 * 60

_TOKEN_SALT = "buckets.uploads.field-token"


class InvalidFieldToken(ValueError):
    """A field token that is forged, garbled, expired or names no upload field.

    ``field``: for an expired token (authentic, only too old), the field it names, if that
    still exists; else None. So a permission check can still be asked about that field.
    """

    def __init__(self, message: Any, field: Any = None) -> None:
        super().__init__(message)
        self.field = field


def field_label(field: Field) -> str:
    """``"app_label.model_name.field_name"`` of a model field: the one name tokens, staging
    names and the marks on written objects know a field by (``ValueError`` for a field not
    attached to a model)."""
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
    not made here, is garbled, is longer than :data:`~buckets.uploads.rules.MAX_INPUT_LENGTH`,
    is older than ``max_age`` (default :func:`field_token_max_age`; the error's ``field`` is
    then the field it names) or names a field that no longer exists or takes no direct
    uploads.
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
    """The upload field (``accepts_direct_uploads``) a token's label names, or
    :class:`InvalidFieldToken`."""
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
