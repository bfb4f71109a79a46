"""Multipart uploads: the browser sends a large file straight to the bucket in parts.

The same rules as ``POST /s3/signed-url/`` (:mod:`buckets.uploads.views`): who may upload is
decided first (``BUCKETS_UPLOAD_PERMISSION``), CSRF is checked for a request that carries
cookies, a body is read only up to :data:`~buckets.uploads.views.MAX_BODY_BYTES`, and errors
are JSON objects mapping the bad input to its messages (``"detail"`` for the others). The
server, never the client, picks the key, the Content-Type, ACL and object parameters
(``CreateMultipartUpload`` is called here), and the part plan
(:mod:`buckets.uploads.multipart_plan`) follows from the declared size alone: each part URL
is a pre-signed ``UploadPart`` with its planned ``Content-Length`` signed, and completing
checks, from the parts the bucket lists, that exactly the plan was uploaded (else the upload
is aborted). An upload is bound to its key, field, user and size
(:mod:`buckets.uploads.multipart_session`).

Our routes (JSON; the widget and API clients)::

    POST   s3/multipart/           {"key", "size", "content_type"?, "field"?}
                                   -> {"key", "uploadId", "token", "partSize", "partCount"}
    POST   s3/multipart/sign/      {"key", "uploadId", "token", "parts": [1, 2]}
                                   -> {"urls": {"1": url}, "sizes": {"1": 5242880}}
    GET    s3/multipart/parts/?key=&uploadId=&token=
                                   -> {"parts": [{"PartNumber", "Size", "ETag"}]}
    POST   s3/multipart/complete/  {"key", "uploadId", "token"} -> {"key", "location"}
    POST   s3/multipart/abort/     {"key", "uploadId", "token"} -> 204

``@uppy/aws-s3`` 4.x's routes answer from the same functions
(:mod:`buckets.uploads.multipart_uppy`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from buckets.signing.content_types import normalize_content_type
from buckets.storage.multipart import InvalidPartsError, NoSuchUploadError
from buckets.uploads.multipart_plan import PartPlan, plan_parts
from buckets.uploads.multipart_session import (
    InvalidSession,
    field_for_upload_name,
    multipart_size_limit,
    session_size,
    session_token,
)
from buckets.uploads.permissions import UploadGrant, grant_upload
from buckets.uploads.staging import (
    MAX_INPUT_LENGTH,
    InvalidFieldToken,
    InvalidFilename,
    check_upload_name,
    clean_filename,
    field_label,
    new_upload_name,
    resolve_field_token,
)

# The signed-URL view's own request handling, so both paths follow one rule set.
# TODO(lead): once p3's buckets.uploads.rules lands, take the type and size rules from there.
from buckets.uploads.views import (
    _FORM_TYPES,
    _accepted_patterns,
    _BadBody,
    _body_too_large,
    _choose_content_type,
    _CsrfCheck,
    _error,
    _json,
    _optional_str,
    _parse_size,
    _read_body,
)

__all__ = [
    "MAX_SIGN_BATCH",
    "Refused",
    "UploadSession",
    "abort",
    "answer_refusal",
    "complete",
    "create",
    "finish_upload",
    "held_parts",
    "list_parts",
    "multipart_view",
    "part_numbers",
    "read_inputs",
    "refusal",
    "resume_upload",
    "sign_part",
    "sign_parts",
    "start_upload",
    "unread_body_refused",
]

logger = logging.getLogger(__name__)

#: Most part URLs one ``sign`` call answers.
MAX_SIGN_BATCH = 100

Errors = dict[str, list[str]]


class Refused(Exception):
    """An answer other than success: ``status`` and the JSON errors."""

    def __init__(self, status: int, errors: Errors) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def refusal(status: int, message: str) -> Refused:
    return Refused(status, {"detail": [message]})


def _forbidden() -> Refused:
    return refusal(403, _("You do not have permission to upload files."))


#: Uppy's names for our inputs, in its create body and its error answers.
_UPPY_NAMES = {
    "key": "filename",
    "content_type": "type",
    "size": "metadata.size",
    "field": "metadata.field",
}


def answer_refusal(refused: Refused, *, uppy: bool) -> JsonResponse:
    errors = refused.errors
    if not uppy:
        return _error(refused.status, errors)
    renamed: dict[str, Any] = {_UPPY_NAMES.get(name, name): msgs for name, msgs in errors.items()}
    renamed["message"] = " ".join(m for msgs in errors.values() for m in msgs)
    return _json(refused.status, renamed)


def _guard(request: HttpRequest, methods: tuple[str, ...], *, reads_body: bool) -> None:
    """The method and CSRF checks, as :func:`buckets.uploads.views.signed_url` does them:
    a body too large to be read is no reason to skip the permission check, so it is
    refused (413) after it, by the view, and is not parsed for a CSRF token either.

    ``reads_body``: False for a view that never reads its body (Uppy's complete sends its
    parts list, which the server does not trust): the CSRF check, which parses only a form
    body, still runs for any other body, whatever its length.
    """
    if request.method not in methods:
        allowed = ", ".join(methods)
        raise refusal(405, _("Method not allowed: use %(methods)s.") % {"methods": allowed})
    if request.COOKIES and not unread_body_refused(request, reads_body=reads_body):
        csrf = _CsrfCheck(lambda r: HttpResponse())
        rejected = csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
        if rejected is not None:
            raise Refused(rejected.status_code, _json_errors(rejected))


def unread_body_refused(request: HttpRequest, *, reads_body: bool) -> bool:
    """Whether the body is over ``MAX_BODY_BYTES`` and would have to be read (it is then
    refused with 413 once the permission check has answered)."""
    if not _body_too_large(request):
        return False
    return reads_body or request.content_type in _FORM_TYPES


def _json_errors(response: HttpResponse) -> Errors:
    errors: Errors = json.loads(response.content)
    return errors


def multipart_view(
    methods: tuple[str, ...], *, uppy: bool, reads_body: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A view answering ``methods``, whose body raises :class:`Refused` for errors."""

    def decorate(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # checked by _guard, answering JSON
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                _guard(request, methods, reads_body=reads_body)
                return handler(request, *args, **kwargs)
            except Refused as refused:
                response = answer_refusal(refused, uppy=uppy)
                if refused.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return decorate


def _storage_of(field: Any) -> Any:
    """The storage an upload for ``field`` (None: no field) goes to."""
    storage = default_storage if field is None else field.storage
    if getattr(getattr(storage, "settings", None), "upload_prefix", None) is None:
        raise ImproperlyConfigured(
            f"Multipart uploads need a storage with settings.upload_prefix "
            f"(buckets.storage.S3Storage or buckets.test.storage.FakeS3Storage), not {storage!r}."
        )
    return storage


def _create_upload(storage: Any, name: str, content_type: str) -> str:
    create = getattr(storage, "create_multipart_upload", None)
    if create is None:
        raise ImproperlyConfigured(
            f"Multipart uploads need a storage with create_multipart_upload() "
            f"(buckets.storage.S3Storage or buckets.test.storage.FakeS3Storage), not {storage!r}."
        )
    upload_id: str = create(name, content_type=content_type)
    return upload_id


def _absolute(request: HttpRequest, url: str) -> str:
    """The local fake answers paths: API clients need a full URL."""
    return request.build_absolute_uri(url) if url.startswith("/") else url


# -- create ----------------------------------------------------------------------------


def read_inputs(request: HttpRequest) -> tuple[dict[str, Any], _BadBody | None]:
    try:
        return _read_body(request), None
    except _BadBody as exc:
        return {}, exc


def start_upload(
    request: HttpRequest, data: dict[str, Any], unreadable: _BadBody | None
) -> tuple[str, str, str, PartPlan, Any]:
    """Check a create request as ``POST /s3/signed-url/`` checks one, then create the
    upload: ``(key, upload id, session token, plan, storage)``."""
    errors: Errors = {}
    field = None
    try:
        token = _optional_str(data.get("field"))
        if token is not None:
            field = resolve_field_token(token)
    except (TypeError, InvalidFieldToken) as exc:
        message = str(exc) if isinstance(exc, InvalidFieldToken) else _("Invalid field token.")
        errors["field"] = [message]
        field = getattr(exc, "field", None)
    grant = grant_upload(request, field)
    if grant is None:
        raise _forbidden()
    if unreadable is not None:
        raise refusal(unreadable.status, str(unreadable))

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
            if declared is None:
                raise TypeError
    except TypeError:
        errors["content_type"] = [_("Enter a valid content type, such as image/png.")]
        declared = None

    size = None
    try:
        size = _parse_size(data.get("size"))
        if size is None:
            errors["size"] = [
                _("Declare the file's size in bytes: a multipart upload is planned from it.")
            ]
    except ValueError:
        errors["size"] = [_("Enter the file size as a whole number of bytes.")]

    if "field" in errors:
        raise Refused(400, errors)
    storage = _storage_of(field)
    limit = multipart_size_limit(field, storage)
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
    if errors or size is None or content_type is None:
        raise Refused(400, errors)

    label = None if field is None else field_label(field)
    name = new_upload_name(
        filename, field_label=label, user=grant.user, prefix=storage.settings.upload_prefix
    )
    upload_id = _create_upload(storage, name, content_type)
    token = session_token(key=name, upload_id=upload_id, size=size, label=label, user=grant.user)
    return name, upload_id, token, plan_parts(size), storage


@multipart_view(("POST",), uppy=False)
def create(request: HttpRequest) -> HttpResponse:
    """Start a multipart upload: its key, upload id, session token and part plan."""
    data, unreadable = read_inputs(request)
    key, upload_id, token, plan, _storage = start_upload(request, data, unreadable)
    return _json(
        200,
        {
            "key": key,
            "uploadId": upload_id,
            "token": token,
            "partSize": plan.part_size,
            "partCount": plan.part_count,
        },
    )


# -- an upload in progress ---------------------------------------------------------------


class UploadSession:
    """An upload a request names, once bound to the requesting user (see
    :func:`resume_upload`)."""

    def __init__(self, key: str, upload_id: str, storage: Any, plan: PartPlan) -> None:
        self.key = key
        self.upload_id = upload_id
        self.storage = storage
        self.plan = plan


def resume_upload(
    request: HttpRequest,
    key: Any,
    upload_id: Any,
    token: Any,
    unreadable: _BadBody | None = None,
) -> UploadSession:
    """The upload ``key`` + ``upload_id`` + ``token`` name, for this request's user.

    The field comes from the key (its field MAC), and the permission check is asked about
    it before anything else is looked at; then the key's user MAC and the token's MAC must
    verify for the user the check gives. 403 for anything not started here for this user.
    """
    found, field = field_for_upload_name(key)
    grant: UploadGrant | None = grant_upload(request, field)
    if grant is None:
        raise _forbidden()
    if unreadable is not None:
        raise refusal(unreadable.status, str(unreadable))
    errors: Errors = {}
    for name, value in (("key", key), ("uploadId", upload_id), ("token", token)):
        if value is None or value == "":
            errors[name] = [_("This field is required.")]
        elif not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH:
            errors[name] = [_("Enter a valid value.")]
    if errors:
        raise Refused(400, errors)
    storage = _storage_of(field)
    label = None if field is None else field_label(field)
    if not found or not check_upload_name(
        key, field_label=label, user=grant.user, prefix=storage.settings.upload_prefix
    ):
        raise refusal(403, _("This upload was not started here for you."))
    try:
        size = session_size(token, key=key, upload_id=upload_id, label=label, user=grant.user)
        plan = plan_parts(size)
    except (InvalidSession, ValueError) as exc:
        raise refusal(403, str(exc)) from exc
    limit = multipart_size_limit(field, storage)
    if size > limit:  # the limit was lowered since the upload started
        raise Refused(
            400,
            {
                "size": [
                    _("The file is too large (%(size)s bytes); the limit is %(limit)s bytes.")
                    % {"size": size, "limit": limit}
                ]
            },
        )
    return UploadSession(key, upload_id, storage, plan)


def part_numbers(value: Any, plan: PartPlan) -> list[int]:
    """The part numbers a sign request asks for: one number or a list, each in the plan."""
    numbers = value if isinstance(value, list) else [value]
    if value is None or not numbers:
        raise Refused(400, {"parts": [_("This field is required.")]})
    if len(numbers) > MAX_SIGN_BATCH:
        raise Refused(
            400, {"parts": [_("Ask for at most %(n)d parts at once.") % {"n": MAX_SIGN_BATCH}]}
        )
    chosen: list[int] = []
    for number in numbers:
        try:
            parsed = _parse_size(number)
        except ValueError:
            parsed = None
        if parsed is None or not 1 <= parsed <= plan.part_count:
            raise Refused(
                400,
                {
                    "parts": [
                        _("Part numbers of this upload are 1 to %(count)d.")
                        % {"count": plan.part_count}
                    ]
                },
            )
        if parsed not in chosen:
            chosen.append(parsed)
    return chosen


def sign_part(request: HttpRequest, session: UploadSession, number: int) -> str:
    url = session.storage.presign_upload_part(
        session.key, session.upload_id, number, session.plan.part_length(number)
    )
    return _absolute(request, url)


@multipart_view(("POST",), uppy=False)
def sign_parts(request: HttpRequest) -> HttpResponse:
    """Pre-signed ``UploadPart`` URLs for parts of the plan, each with its length pinned."""
    data, unreadable = read_inputs(request)
    session = resume_upload(
        request, data.get("key"), data.get("uploadId"), data.get("token"), unreadable
    )
    numbers = part_numbers(data.get("parts"), session.plan)
    urls = {str(n): sign_part(request, session, n) for n in numbers}
    sizes = {str(n): session.plan.part_length(n) for n in numbers}
    return _json(200, {"urls": urls, "sizes": sizes})


def held_parts(session: UploadSession) -> list[dict[str, Any]]:
    try:
        parts: list[dict[str, Any]] = session.storage.list_parts(session.key, session.upload_id)
    except NoSuchUploadError as exc:
        raise refusal(404, _("This upload is no longer there (completed or aborted).")) from exc
    return parts


@multipart_view(("GET",), uppy=False)
def list_parts(request: HttpRequest) -> HttpResponse:
    """The parts the bucket holds, so a client resumes."""
    query = request.GET
    session = resume_upload(request, query.get("key"), query.get("uploadId"), query.get("token"))
    return _json(200, {"parts": held_parts(session)})


def finish_upload(request: HttpRequest, session: UploadSession) -> dict[str, str]:
    """Complete the upload if the bucket holds exactly the plan; else abort it and refuse."""
    parts = held_parts(session)
    planned = dict(session.plan.lengths())
    held = {int(p["PartNumber"]): int(p["Size"]) for p in parts}
    problem = None
    missing = [n for n in planned if n not in held]
    if missing:
        problem = _("Part %(n)d of %(count)d was not uploaded.") % {
            "n": missing[0],
            "count": session.plan.part_count,
        }
    elif set(held) != set(planned) or held != planned:
        problem = _("The uploaded parts differ from the declared size of %(size)d bytes.") % {
            "size": session.plan.size
        }
    if problem is not None:
        session.storage.abort_multipart_upload(session.key, session.upload_id)
        logger.info("Multipart upload of %s aborted at completion: %s", session.key, problem)
        raise refusal(400, problem + " " + _("The upload was cancelled; start it again."))
    etags = [(int(p["PartNumber"]), str(p["ETag"])) for p in parts]
    try:
        session.storage.complete_multipart_upload(session.key, session.upload_id, etags)
    except NoSuchUploadError as exc:
        raise refusal(404, _("This upload is no longer there (completed or aborted).")) from exc
    except InvalidPartsError as exc:  # a part replaced between listing and completing
        session.storage.abort_multipart_upload(session.key, session.upload_id)
        logger.info("Multipart upload of %s aborted: S3 refused its parts (%s)", session.key, exc)
        raise refusal(
            400,
            _("The uploaded parts changed while completing.")
            + " "
            + _("The upload was cancelled; start it again."),
        ) from exc
    return {"key": session.key, "location": _absolute(request, session.storage.url(session.key))}


@multipart_view(("POST",), uppy=False)
def complete(request: HttpRequest) -> HttpResponse:
    """Complete an upload from the parts the bucket lists (see :func:`finish_upload`)."""
    data, unreadable = read_inputs(request)
    session = resume_upload(
        request, data.get("key"), data.get("uploadId"), data.get("token"), unreadable
    )
    return _json(200, finish_upload(request, session))


@multipart_view(("POST",), uppy=False)
def abort(request: HttpRequest) -> HttpResponse:
    """Abort an upload (an upload already gone is fine): 204."""
    data, unreadable = read_inputs(request)
    session = resume_upload(
        request, data.get("key"), data.get("uploadId"), data.get("token"), unreadable
    )
    session.storage.abort_multipart_upload(session.key, session.upload_id)
    response = HttpResponse(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
