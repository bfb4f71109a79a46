"""Django REST framework for ``S3FileField`` (the optional extra ``drf`` of django-buckets-s3).

* :class:`S3FileSerializerField`: what ``ModelSerializer`` makes of an ``S3FileField`` once
  the app is ready (:func:`use_in_model_serializers`, called by ``BucketsConfig.ready`` when
  DRF is installed). A client's value is checked as the form field checks a posted one
  (:meth:`~buckets.fields.model_field.S3FileField.validate_upload`): the staging name of an
  upload signed for this field and this request's user, or the current value unchanged;
  anything else (another object's key, a URL that is not the storage's, another user's
  upload) is a 400 in DRF's error shape, never stored. A response gives
  ``{"key": ..., "url": ...}``.
* :func:`drf_user`: a ``BUCKETS_UPLOAD_PERMISSION`` that authenticates the signing request
  as the project's DRF views do (``DEFAULT_AUTHENTICATION_CLASSES``: a token header, the
  session...), so an upload is bound to the very user the API view then sees.
* :func:`upload_field_tokens`: the field tokens a client sends with its signing request.

Nothing below the field side imports DRF, and the app works without it (both checked by
``pyproject.toml``'s import contracts and the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import File
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

try:
    from rest_framework import exceptions, serializers
    from rest_framework.request import Request
    from rest_framework.settings import api_settings
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "buckets.drf needs Django REST framework: pip install djangorestframework "
        "(the drf extra of django-buckets-s3)."
    ) from exc

from buckets.fields.model_field import S3FileField
from buckets.uploads.field_tokens import field_token

__all__ = [
    "S3FileSerializerField",
    "drf_user",
    "upload_field_tokens",
    "use_in_model_serializers",
]


class S3FileSerializerField(serializers.Field):  # type: ignore[type-arg]
    """An ``S3FileField`` in a serializer.

    Input: the staging name of a signed upload (``fields["key"]`` of the signing answer),
    the storage's URL of it, or the current value unchanged (as a string, or the
    ``{"key": ...}`` this field answers with); ``""`` (or ``null`` on a ``null=True``
    field) clears a field that may be blank. Output: ``{"key", "url"}`` (``url`` is the
    storage's ``url()``, made absolute with the request: on a private bucket a signed URL
    that expires, so fetch the row again rather than keep it), or ``null`` when empty.

    The user an upload must be signed for is ``request.user`` of the serializer's context
    (DRF's, so a token client is that token's user); without a request in the context only
    the field is checked, as a form that does not know its user does.
    ``model_field`` is found from the serializer's ``Meta.model`` and the field's
    ``source`` when not given.
    """

    default_error_messages = {
        "invalid": _("Give the key of an uploaded file, as a string."),
        "blank": _("This field may not be blank."),
    }

    def __init__(self, model_field: S3FileField | None = None, **kwargs: Any) -> None:
        # What ModelSerializer passes for a CharField: the model field's own rules apply
        # (a staging name or a URL may be longer than the name it is stored as).
        kwargs.pop("max_length", None)
        kwargs.pop("min_length", None)
        kwargs.pop("allow_blank", None)
        self.model_field = model_field
        super().__init__(**kwargs)

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        if self.model_field is not None:
            return
        model = getattr(getattr(parent, "Meta", None), "model", None)
        field = None
        if model is not None and "." not in self.source and self.source != "*":
            field = model._meta.get_field(self.source)
        if not isinstance(field, S3FileField):
            raise ImproperlyConfigured(
                f"S3FileSerializerField {field_name!r} names no S3FileField of its "
                "serializer's Meta.model: pass model_field=Model._meta.get_field(name)."
            )
        self.model_field = field

    def _field(self) -> S3FileField:
        if self.model_field is None:
            raise ImproperlyConfigured("S3FileSerializerField used before it was bound.")
        return self.model_field

    def _instance(self) -> Any:
        """The row being updated (its saved value may be sent back unchanged), or None."""
        instance = getattr(self.parent, "instance", None)
        return instance if isinstance(instance, models.Model) else None

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, Mapping):  # this field's own answer, sent back
            data = data.get("key")
        if not isinstance(data, str):
            self.fail("invalid")
        value = data.strip()
        field = self._field()
        if not value and not field.blank:
            self.fail("blank")
        request = self.context.get("request")
        user = getattr(request, "user", None) if request is not None else None
        try:
            return field.validate_upload(value, user=user, instance=self._instance())
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages), code=exc.code) from exc

    def to_representation(self, value: Any) -> dict[str, str] | None:
        name = (value.name or "") if isinstance(value, File) else str(value or "")
        if not name:
            return None
        url = self._field().storage.url(name)
        request = self.context.get("request")
        if request is not None and not urlsplit(url).scheme:
            url = request.build_absolute_uri(url)
        return {"key": name, "url": url}


def use_in_model_serializers() -> None:
    """Make ``ModelSerializer`` (and its subclasses that do not set their own mapping) map
    ``S3FileField`` to :class:`S3FileSerializerField` rather than to a plain ``CharField``
    (which would store any key or URL a client sends)."""
    serializers.ModelSerializer.serializer_field_mapping[S3FileField] = S3FileSerializerField


def drf_user(request: HttpRequest, field: Any = None) -> Any:
    """``BUCKETS_UPLOAD_PERMISSION = "buckets.drf.drf_user"``: the user DRF's
    ``DEFAULT_AUTHENTICATION_CLASSES`` find on the signing request (token, session...),
    or False (403) for a request they do not authenticate or refuse (a bad token, a
    session request without its CSRF token)."""
    authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        user = Request(request, authenticators=authenticators).user
    except exceptions.APIException:
        return False
    if user is None or not user.is_authenticated:
        return False
    return user


def upload_field_tokens(serializer: serializers.BaseSerializer) -> dict[str, str]:  # type: ignore[type-arg]
    """``{name: field token}`` for each writable :class:`S3FileSerializerField` of
    ``serializer``: what a client sends as ``field`` to ``POST /s3/signed-url/`` so its
    upload is signed for that field (tokens expire: ``BUCKETS_FIELD_TOKEN_MAX_AGE``)."""
    tokens = {}
    for name, child in serializer.fields.items():  # type: ignore[attr-defined]
        if isinstance(child, S3FileSerializerField) and not child.read_only:
            tokens[name] = field_token(child._field())
    return tokens
