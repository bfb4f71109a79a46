"""``POST /s3/signed-url/``: sign one direct upload to the bucket.

The view decides who may upload what, where, how big and of which type, and writes that into
a POST policy the bucket itself enforces (the browser then sends the file straight to S3):

* the key is chosen here (:func:`buckets.uploads.staging_names.new_upload_name`): the
  storage's staging prefix, a random part bound to the field and user, the cleaned file name;
* the size is capped by :func:`buckets.uploads.rules.upload_size_limit` (the field's
  ``max_size``, capped by ``AWS["MAX_FILE_SIZE"]``), and must be at least 1 byte (Django's
  file fields refuse empty files too);
* the field's ``accepted_types`` pin the ``Content-Type``
  (:func:`buckets.uploads.rules.upload_content_type`: the declared type, or the one the file
  name implies; a type a browser sniffs or runs is never signed as itself);
* the policy expires after the storage's ``upload_expire`` seconds.

Who may upload is decided first (``BUCKETS_UPLOAD_PERMISSION``, given the field the token
names, or None when there is none or it is invalid), before any other input is looked at,
and the upload is bound to the user that check gives. The inputs are checked by
:class:`buckets.uploads.upload_request.SignedUploadForm`. The view's work per request is
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
from typing import Any

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousFileOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from buckets.uploads.field_tokens import field_label
from buckets.uploads.permissions import grant_upload
from buckets.uploads.staging_names import new_upload_name
from buckets.uploads.upload_request import SignedUploadForm

__all__ = ["MAX_BODY_BYTES", "signed_url"]

#: The largest body the view reads, in bytes: room for every input at its longest, each
#: character escaped (the file name and the field token are at most ``MAX_INPUT_LENGTH``
#: characters). A larger one is refused unread (413), whatever Django itself would accept.
MAX_BODY_BYTES = 32 * 1024

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

Errors = dict[str, list[str]]


class _BadBody(Exception):
    """The body cannot be read as the JSON object or form the view expects."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


#: Answers carry signed credentials for one user: never to be stored by any cache. (Set
#: directly: ``add_never_cache_headers`` also parses and formats dates, which adds nothing
#: to an answer no cache may keep.)
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


def _read_body(request: HttpRequest) -> Any:
    """The inputs (a ``QueryDict`` or a ``dict``), from a form-encoded/multipart body or
    else a JSON object, read only when the body is at most :data:`MAX_BODY_BYTES`."""
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
            LookupError,  # Django < 5.1: a part's RFC 2231 parameter names an unknown charset
            OSError,
        ) as exc:
            raise _BadBody(_("The request body could not be read.")) from exc
        return post
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
    data: Any = {}
    unreadable = None
    try:
        data = _read_body(request)
    except _BadBody as exc:
        unreadable = exc

    # Who may upload, first, for the token's field: None without a token or with an
    # invalid one (an expired token still names its field).
    form = SignedUploadForm(data)
    grant = grant_upload(request, form.requested_field())
    if grant is None:
        return _error(403, {"detail": [_("You do not have permission to upload files.")]})
    if unreadable is not None:
        return _error(unreadable.status, {"detail": [str(unreadable)]})
    if not form.is_valid():
        return _error(400, {name: [str(m) for m in errors] for name, errors in form.errors.items()})

    field = form.cleaned_data["field"]
    storage = form.storage
    name = new_upload_name(
        form.cleaned_data["key"],
        field_label=None if field is None else field_label(field),
        user=grant.user,
        prefix=storage.settings.upload_prefix,
    )
    try:
        signed = storage.presigned_post(
            name,
            max_size=form.size_limit,
            min_size=1,
            content_type=form.cleaned_data["content_type"],
            accept=form.accepted_patterns() or None,
        )
    except SuspiciousFileOperation:
        return _error(400, {"key": [_("The file name is too long.")]})
    except ValueError as exc:  # PolicyError; not expected: the form's checks mirror the policy's
        return _error(400, {"detail": [str(exc)]})
    url = signed["url"]
    if url.startswith("/"):  # the local fake's endpoint: API clients need a full URL
        url = request.build_absolute_uri(url)
    return _json(200, {"url": url, "fields": signed["fields"]})
