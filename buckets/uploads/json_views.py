"""What every upload endpoint shares (``/s3/signed-url/`` in :mod:`buckets.uploads.views`,
the multipart ones in :mod:`buckets.uploads.multipart_views`): reading the body, the CSRF
rule, the order of the checks and the JSON error shape. One copy, so the endpoints cannot
drift apart.

* A body is read only up to :data:`MAX_BODY_BYTES` (a larger one is refused unread, 413),
  as a form or else a JSON object.
* CSRF is checked as Django checks it for a request that carries cookies, and skipped for
  a request with none: it has no ambient credentials a forged cross-site request could
  borrow, and an API client authenticating with a header has no CSRF token to send. A
  rejection is answered in JSON.
* Who may upload is decided first (:func:`granted`), before any other input is looked
  at: an unreadable body is answered only once the permission check has said yes.
* Errors are JSON objects mapping the bad input to a list of messages, as a Django form's
  errors; those that belong to no input use ``"detail"``. An endpoint raises
  :class:`Refused`; :func:`json_view` answers it. Answers are never stored by any cache.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, NoReturn

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from buckets.uploads.permissions import UploadGrant, grant_upload

__all__ = [
    "MAX_BODY_BYTES",
    "NO_STORE",
    "Errors",
    "Refused",
    "check_csrf",
    "error_answer",
    "file_name_too_long",
    "granted",
    "invalid_form",
    "json_answer",
    "json_view",
    "read_body",
    "read_inputs",
    "refusal",
    "unread_body_refused",
]

#: The largest body an upload endpoint reads, in bytes: room for every input at its
#: longest, each character escaped (a file name and a field token are at most
#: ``MAX_INPUT_LENGTH`` characters). A larger one is refused unread (413), whatever Django
#: itself would accept.
MAX_BODY_BYTES = 32 * 1024

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

Errors = dict[str, list[str]]

#: Answers carry signed credentials for one user: never to be stored by any cache. (Set
#: directly: ``add_never_cache_headers`` also parses and formats dates, which adds nothing
#: to an answer no cache may keep.)
NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


class Refused(Exception):
    """An answer other than success: its ``status`` and JSON ``errors``; ``log``, when
    given, logs the answer once it is made (as Django logs a CSRF failure)."""

    def __init__(
        self,
        status: int,
        errors: Errors,
        log: Callable[[HttpResponse], None] | None = None,
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.log = log


def invalid_form(form: Any) -> Refused:
    """400 with a Django form's errors, each input's messages under its name."""
    return Refused(400, {name: [str(m) for m in errors] for name, errors in form.errors.items()})


def refusal(status: int, message: str) -> Refused:
    """A refusal that belongs to no input (``"detail"``)."""
    return Refused(status, {"detail": [message]})


def file_name_too_long() -> Refused:
    """400 for a file name whose key (with the storage's location) is longer than S3
    takes: the storage refused it (``SuspiciousFileOperation``)."""
    return Refused(400, {"key": [_("The file name is too long.")]})


#: The encoder of every answer: Django's, as ``JsonResponse`` uses (lazy translations,
#: dates...), made once (encoding keeps no state in it) instead of once per answer.
_ENCODER = DjangoJSONEncoder()


def json_answer(status: int, data: Any) -> HttpResponse:
    """``data`` as JSON (a list too), never stored by a cache: the answer ``JsonResponse``
    gives, byte for byte."""
    content = _ENCODER.encode(data)
    response = HttpResponse(content, content_type="application/json", status=status)
    response.headers["Cache-Control"] = NO_STORE
    return response


def error_answer(refused: Refused) -> HttpResponse:
    """The JSON errors of ``refused``, with its status."""
    return json_answer(refused.status, dict(refused.errors))


def _declared_length(request: HttpRequest) -> int:
    """The body's length as the request declares it (what Django will read at most)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads no body then


def unread_body_refused(request: HttpRequest, *, reads_body: bool = True) -> bool:
    """Whether the body is over :data:`MAX_BODY_BYTES` and would have to be read (by the
    endpoint, or by the CSRF check, which parses a form body): it is then refused (413)
    once the permission check has answered, and not parsed for a CSRF token either."""
    if _declared_length(request) <= MAX_BODY_BYTES:
        return False
    return reads_body or request.content_type in _FORM_TYPES


def _too_large() -> Refused:
    return refusal(413, _("The request body is too large."))


def read_body(request: HttpRequest) -> Any:
    """The inputs (a ``QueryDict`` or a ``dict``), from a form-encoded/multipart body or
    else a JSON object, read only when the body is at most :data:`MAX_BODY_BYTES`;
    :class:`Refused` (400, 413) when it cannot be read."""
    if unread_body_refused(request):
        raise _too_large()
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
            raise refusal(400, _("The request body could not be read.")) from exc
        return post
    try:
        body = request.body
    except (RequestDataTooBig, OSError) as exc:
        raise refusal(400, _("The request body could not be read.")) from exc
    if len(body) > MAX_BODY_BYTES:  # no length declared (a chunked body under ASGI)
        raise _too_large()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError...
        raise refusal(400, _("The request body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise refusal(400, _("The request body must be a JSON object."))
    return data


_csrf_logger = logging.getLogger("django.security.csrf")


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF checks, with a rejection raised as a :class:`Refused` (Django's failure
    view, ``CSRF_FAILURE_VIEW``, renders an HTML page; a script reads JSON). The rejection
    is still logged as Django logs it. One is made per check: it caches its parsing of
    ``CSRF_TRUSTED_ORIGINS``, which a shared one would keep after the setting changed."""

    def _reject(self, request: HttpRequest, reason: str) -> NoReturn:
        message = _("CSRF verification failed: %(reason)s Reload the page and try again.") % {
            "reason": reason.rstrip(".") + "."
        }

        def log(response: HttpResponse) -> None:
            log_response(
                "Forbidden (%s): %s",
                reason,
                request.path,
                response=response,
                request=request,
                logger=_csrf_logger,
            )

        raise Refused(403, {"detail": [message]}, log)


def _no_response(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check only decides; it never answers a request")


def check_csrf(request: HttpRequest, *, reads_body: bool = True) -> None:
    """Django's CSRF check for a request that carries cookies (see the module doc);
    :class:`Refused` (403) when it fails. A body too large to be read is not parsed for a
    token: it is refused after the permission check instead."""
    if not request.COOKIES or unread_body_refused(request, reads_body=reads_body):
        return
    _CsrfCheck(_no_response).process_view(request, None, (), {})  # type: ignore[arg-type]


def granted(request: HttpRequest, field: Any, unreadable: Refused | None = None) -> UploadGrant:
    """Who may upload for ``field`` (None: no field), asked first: 403 when
    ``BUCKETS_UPLOAD_PERMISSION`` refuses; then ``unreadable`` (the body could not be read)
    is raised. The grant, whose user the upload is bound to."""
    grant = grant_upload(request, field)
    if grant is None:
        raise refusal(403, _("You do not have permission to upload files."))
    if unreadable is not None:
        raise unreadable
    return grant


def read_inputs(request: HttpRequest) -> tuple[Any, Refused | None]:
    """``(inputs, None)``, or ``({}, refusal)`` when the body cannot be read: kept for
    :func:`granted`, so the permission check still answers first."""
    try:
        return read_body(request), None
    except Refused as refused:
        return {}, refused


def json_view(
    methods: tuple[str, ...],
    *,
    reads_body: bool = True,
    answer: Callable[[Refused], HttpResponse] = error_answer,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An upload endpoint answering ``methods``: the method and CSRF checks
    (:func:`check_csrf`) first, then the handler; a :class:`Refused` it raises is answered
    by ``answer`` (405 with ``Allow``). ``reads_body``: False for a handler that never
    reads its body, whose size is then no reason to skip the CSRF check for a body that
    is not a form."""

    def decorate(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # checked by check_csrf, answering JSON
        @functools.wraps(handler)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    allowed = ", ".join(methods)
                    raise refusal(
                        405, _("Method not allowed: use %(methods)s.") % {"methods": allowed}
                    )
                check_csrf(request, reads_body=reads_body)
                return handler(request, *args, **kwargs)
            except Refused as refused:
                response = answer(refused)
                if refused.status == 405:
                    response["Allow"] = ", ".join(methods)
                if refused.log is not None:
                    refused.log(response)
                return response

        return view

    return decorate
