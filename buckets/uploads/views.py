"""``POST /s3/signed-url/``: sign one direct upload to the bucket.

The view decides who may upload what, where, how big and of which type, and writes that into
a POST policy the bucket itself enforces (the browser then sends the file straight to S3):

* the key is chosen here (:func:`buckets.uploads.staging.new_upload_name`): the storage's staging
  prefix, a random part bound to the field and user, the cleaned file name;
* the size is capped by the field's ``max_size``, else ``AWS["MAX_FILE_SIZE"]``, else S3's
  5 GiB, and must be at least 1 byte (Django's file fields refuse empty files too);
* the field's ``accepted_types`` pin the ``Content-Type`` (the declared type, or the one the
  file name implies); a type a browser sniffs or runs is never signed as itself
  (:func:`buckets.signing.post_policy.signed_content_type`);
* the policy expires after the storage's ``upload_expire`` seconds.

Who may upload is decided first (``BUCKETS_UPLOAD_PERMISSION``, given the field the token
names, or None when there is none or it is invalid), before any other input is looked at,
and the upload is bound to the user that check gives. The view's work per request is
bounded whatever the body: it reads at most :data:`MAX_BODY_BYTES`, and every string it
cleans, normalises or matches is refused beyond a fixed length first.

Errors are JSON objects mapping the bad input to a list of messages, as a Django form's
errors: 400 ``{"key": ["This field is required."]}``; errors that belong to no input use
``"detail"``: 400 for a malformed body, 413 for one over :data:`MAX_BODY_BYTES`, 403 when
the permission check or the CSRF check refuses, 405 for a method other than POST. No
input makes the view fail with a 500.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from typing import Any

from django.core.exceptions import (
    BadRequest,
    ImproperlyConfigured,
    RequestDataTooBig,
    SuspiciousFileOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from buckets.signing.content_types import (
    accept_patterns,
    normalize_content_type,
    signed_content_type,
)
from buckets.signing.limits import S3_MAX_POST_SIZE
from buckets.uploads.permissions import grant_upload
from buckets.uploads.staging import (
    MAX_INPUT_LENGTH,
    InvalidFieldToken,
    InvalidFilename,
    clean_filename,
    field_label,
    new_upload_name,
    resolve_field_token,
)

__all__ = ["MAX_BODY_BYTES", "sign_upload", "signed_url"]

#: The largest body the view reads, in bytes: room for every input at its longest, each
#: character escaped (the file name and the field token are at most ``MAX_INPUT_LENGTH``
#: characters). A larger one is refused unread (413), whatever Django itself would accept.
MAX_BODY_BYTES = 32 * 1024

INPUTS = ("key", "field", "content_type", "size")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_MAX_SIZE_DIGITS = 20

Errors = dict[str, list[str]]


class _BadBody(Exception):
    """The body cannot be read as the JSON object or form the view expects."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


#: Answers carry signed credentials for one user: never to be stored by any cache. (Set
#: directly: ``add_never_cache_headers`` parses and formats dates, a tenth of the view.)
_NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def _json(status: int, data: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response.headers["Cache-Control"] = _NO_STORE
    return response


def _error(status: int, errors: Errors) -> JsonResponse:
    return _json(status, dict(errors))


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF checks, with a rejection answered in this view's JSON error format.

    Django's failure view (``CSRF_FAILURE_VIEW``) renders an HTML page; a script asking for
    a policy reads JSON. The rejection is still logged as Django logs it.
    """

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        response = _error(
            403,
            {
                "detail": [
                    _("CSRF verification failed: %(reason)s Reload the page and try again.")
                    % {"reason": reason.rstrip(".") + "."}
                ]
            },
        )
        log_response(
            "Forbidden (%s): %s",
            reason,
            request.path,
            response=response,
            request=request,
            logger=_csrf_logger,
        )
        return response


_csrf_logger = logging.getLogger("django.security.csrf")


def _declared_length(request: HttpRequest) -> int:
    """The body's length as the request declares it (what Django will read at most)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads no body then


def _body_too_large(request: HttpRequest) -> bool:
    return _declared_length(request) > MAX_BODY_BYTES


def _read_body(request: HttpRequest) -> dict[str, Any]:
    """The inputs, from a form-encoded/multipart body or else a JSON object, read only
    when the body is at most :data:`MAX_BODY_BYTES`."""
    if _body_too_large(request):
        raise _BadBody(_("The request body is too large."), status=413)
    if request.content_type in _FORM_TYPES:  # parsed from at most the declared length
        try:
            post = request.POST
        except (
            MultiPartParserError,
            RequestDataTooBig,
            TooManyFieldsSent,
            TooManyFilesSent,
            BadRequest,  # a form declared in a charset other than UTF-8 (Django 5.1+)
            OSError,
        ) as exc:
            raise _BadBody(_("The request body could not be read.")) from exc
        return {name: post.get(name) for name in INPUTS if name in post}
    try:
        body = request.body
    except (RequestDataTooBig, OSError) as exc:
        raise _BadBody(_("The request body could not be read.")) from exc
    if len(body) > MAX_BODY_BYTES:  # no length declared (a chunked body under ASGI)
        raise _BadBody(_("The request body is too large."), status=413)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError...
        raise _BadBody(_("The request body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise _BadBody(_("The request body must be a JSON object."))
    return data


def _optional_str(value: Any) -> str | None:
    """None for an absent or empty input, else the string (``TypeError`` for other types)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError
    return value


def _parse_size(value: Any) -> int | None:
    """A declared size in bytes: an integer, or its digits (forms send strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if (
        isinstance(value, str)
        and len(value) <= _MAX_SIZE_DIGITS
        and value.isascii()
        and value.isdigit()
    ):
        return int(value)
    raise ValueError


def _accepted_patterns(field: Any) -> list[str]:
    """The field's accepted types (:func:`buckets.signing.post_policy.accept_patterns`);
    empty when it accepts everything."""
    return list(accept_patterns(getattr(field, "accepted_types", None)) or ())


def _choose_content_type(
    declared: str | None, filename: str, accepted: list[str], errors: Errors
) -> str | None:
    """The type to pin in the policy: the declared one, else the one the name implies, as
    :func:`buckets.signing.post_policy.signed_content_type` signs it (a type a browser
    sniffs or runs is stored as ``application/octet-stream`` by a field that accepts any
    type, and refused by one that lists types).

    If nothing was declared and the name implies nothing, a field that accepts any type
    stores ``application/octet-stream`` and one with a single exact type pins that type;
    otherwise the client must declare the type. None, with an error, when nothing may be
    signed.
    """
    listed = ", ".join(accepted)
    if declared is None:
        declared = mimetypes.guess_type(filename, strict=False)[0]
    if declared is None:
        signed = signed_content_type(None, accepted)
        if signed is None:
            errors.setdefault("content_type", []).append(
                _("Declare the file's content type (accepted: %(accepted)s).")
                % {"accepted": listed}
            )
        return signed
    signed = signed_content_type(declared, accepted)
    if signed is None:
        errors.setdefault("content_type", []).append(
            _("Files of type %(type)s are not accepted here (accepted: %(accepted)s).")
            % {"type": declared, "accepted": listed}
        )
    return signed


@csrf_exempt
def signed_url(request: HttpRequest) -> HttpResponse:
    """Answer ``{"url", "fields"}`` for one upload, or a JSON error (see the module doc).

    CSRF is checked as usual for cookie-authenticated requests (any request that carries
    cookies), and skipped for a request with no cookies at all: it has no ambient
    credentials a forged cross-site request could borrow, and an API client authenticating
    with a header (see ``BUCKETS_UPLOAD_PERMISSION``) has no CSRF token to send.
    """
    if request.method != "POST":
        response = _error(405, {"detail": [_("Method not allowed: use POST.")]})
        response["Allow"] = "POST"
        return response
    # A body too large to be read signs nothing: no CSRF check (which would parse a form).
    if request.COOKIES and not _body_too_large(request):
        csrf = _CsrfCheck(lambda r: HttpResponse())
        rejected = csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
        if rejected is not None:
            return rejected
    data: dict[str, Any] = {}
    unreadable = None
    try:
        data = _read_body(request)
    except _BadBody as exc:
        unreadable = exc
    return sign_upload(request, data, unreadable)


def sign_upload(
    request: HttpRequest, data: dict[str, Any], unreadable: _BadBody | None = None
) -> HttpResponse:
    """The signing itself, once the method and CSRF checks passed and the inputs were
    read (``data``, or ``unreadable`` when the body could not be): what
    :func:`signed_url` answers, shared with ``GET s3/params``
    (:mod:`buckets.uploads.multipart_uppy`), which reads the same inputs from its query."""
    # Who may upload, first, for the token's field: None without a token or with an
    # invalid one (an expired token still names its field).
    errors: Errors = {}
    field = None
    try:
        token = _optional_str(data.get("field"))
        if token is not None:
            field = resolve_field_token(token)  # bounded: one HMAC over a short string
    except (TypeError, InvalidFieldToken) as exc:
        message = str(exc) if isinstance(exc, InvalidFieldToken) else _("Invalid field token.")
        errors["field"] = [message]
        field = getattr(exc, "field", None)
    grant = grant_upload(request, field)
    if grant is None:
        return _error(403, {"detail": [_("You do not have permission to upload files.")]})
    if unreadable is not None:
        return _error(unreadable.status, {"detail": [str(unreadable)]})

    key = data.get("key")
    filename = ""
    blank = isinstance(key, str) and len(key) <= MAX_INPUT_LENGTH and not key.strip()
    if key is None or blank:
        errors["key"] = [_("This field is required.")]
    elif not isinstance(key, str):
        errors["key"] = [_("Enter a file name.")]
    else:
        try:
            filename = clean_filename(key)
        except InvalidFilename as exc:
            errors["key"] = [str(exc)]

    declared: str | None = None
    try:
        declared = _optional_str(data.get("content_type"))
        if declared is not None:
            declared = normalize_content_type(declared)
            if declared is None:  # a list of types, odd parameters: see the policy module
                raise TypeError
    except TypeError:
        errors["content_type"] = [_("Enter a valid content type, such as image/png.")]
        declared = None

    size = None
    try:
        size = _parse_size(data.get("size"))
    except ValueError:
        errors["size"] = [_("Enter the file size as a whole number of bytes.")]

    if "field" in errors:  # without the field, its storage and limits are unknown
        return _error(400, errors)
    storage = default_storage if field is None else field.storage
    storage_settings = getattr(storage, "settings", None)
    upload_prefix = getattr(storage_settings, "upload_prefix", None)
    if upload_prefix is None or not hasattr(storage, "presigned_post"):
        raise ImproperlyConfigured(
            f"Direct uploads need a storage with presigned_post() and settings.upload_prefix "
            f"(buckets.storage.S3Storage or buckets.test.storage.FakeS3Storage), not {storage!r}."
        )
    storage_max = getattr(storage_settings, "max_file_size", None) or S3_MAX_POST_SIZE
    field_max = getattr(field, "max_size", None)
    limit = min(field_max, storage_max) if field_max else storage_max
    if size is not None and size > limit:
        errors["size"] = [
            _("The file is too large (%(size)s bytes); the limit is %(limit)s bytes.")
            % {"size": size, "limit": limit}
        ]
    elif size == 0:
        errors["size"] = [_("The submitted file is empty.")]

    accepted = _accepted_patterns(field)
    content_type = None
    if filename and "content_type" not in errors:
        content_type = _choose_content_type(declared, filename, accepted, errors)
    if errors:
        return _error(400, errors)

    name = new_upload_name(
        filename,
        field_label=None if field is None else field_label(field),
        user=grant.user,
        prefix=upload_prefix,
    )
    try:
        signed = storage.presigned_post(
            name,
            max_size=field_max or None,
            min_size=1,
            content_type=content_type,
            accept=accepted or None,
        )
    except SuspiciousFileOperation:
        return _error(400, {"key": [_("The file name is too long.")]})
    except ValueError as exc:  # PolicyError; not expected: the checks above mirror the policy's
        return _error(400, {"detail": [str(exc)]})
    url = signed["url"]
    if url.startswith("/"):  # the local fake's endpoint: API clients need a full URL
        url = request.build_absolute_uri(url)
    return _json(200, {"url": url, "fields": signed["fields"]})
