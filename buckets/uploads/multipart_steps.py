"""The steps of a multipart upload, shared by our routes (:mod:`buckets.uploads.multipart_views`)
and Uppy's (:mod:`buckets.uploads.multipart_uppy`): start one (the inputs checked as a signed
POST's, the key and type chosen here, ``CreateMultipartUpload`` called here), resume one from
what the client echoes (key, upload id, token: bound to field, user and size), sign the planned
parts, list what the bucket holds, and finish: complete only when the bucket holds exactly the
plan, else abort. Each raises :class:`~buckets.uploads.json_views.Refused` with the answer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest
from django.utils.translation import gettext as _

from buckets.signing.limits import MAX_PARTS
from buckets.signing.numbers import read_decimal
from buckets.storage.multipart import InvalidPartsError, NoSuchUploadError
from buckets.uploads.field_tokens import field_label
from buckets.uploads.json_views import (
    Errors,
    Refused,
    file_name_too_long,
    granted,
    invalid_form,
    refusal,
)
from buckets.uploads.multipart_plan import PartPlan, plan_parts
from buckets.uploads.multipart_session import (
    InvalidSession,
    field_for_upload_name,
    session_size,
    session_token,
)
from buckets.uploads.rules import MAX_INPUT_LENGTH, file_too_large, upload_size_limit
from buckets.uploads.staging_names import check_upload_name, new_upload_name
from buckets.uploads.upload_request import MultipartUploadForm, upload_storage
from buckets.uploads.wording import format_size

__all__ = [
    "MAX_SIGN_BATCH",
    "UploadSession",
    "finish_upload",
    "held_parts",
    "part_numbers",
    "resume_upload",
    "sign_part",
    "start_upload",
]

logger = logging.getLogger(__name__)

#: Most part URLs one ``sign`` call answers.
MAX_SIGN_BATCH = 100


def _absolute(request: HttpRequest, url: str) -> str:
    """The local fake answers paths: API clients need a full URL."""
    return request.build_absolute_uri(url) if url.startswith("/") else url


def start_upload(
    request: HttpRequest, data: Any, unreadable: Refused | None
) -> tuple[str, str, str, PartPlan, Any]:
    """Check a create request as ``POST /s3/signed-url/`` checks one (its form, with the
    size required and the multipart limit), then create the upload: ``(key, upload id,
    session token, plan, storage)``."""
    form = MultipartUploadForm(data)
    grant = granted(request, form.requested_field(), unreadable)
    if not form.is_valid():
        raise invalid_form(form)
    field = form.cleaned_data["field"]
    size: int = form.cleaned_data["size"]
    storage = form.storage
    label = None if field is None else field_label(field)
    name = new_upload_name(
        form.cleaned_data["key"],
        field_label=label,
        user=grant.user,
        prefix=storage.settings.upload_prefix,
    )
    try:
        upload_id: str = storage.create_multipart_upload(
            name, content_type=form.cleaned_data["content_type"]
        )
    except SuspiciousFileOperation as exc:  # the key, with the storage's location, too long
        raise file_name_too_long() from exc
    token = session_token(key=name, upload_id=upload_id, size=size, label=label, user=grant.user)
    return name, upload_id, token, plan_parts(size), storage


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
    unreadable: Refused | None = None,
) -> UploadSession:
    """The upload ``key`` + ``upload_id`` + ``token`` name, for this request's user.

    The field comes from the key (its field MAC), and the permission check is asked about
    it before anything else is looked at; then the key's user MAC and the token's MAC must
    verify for the user the check gives. 403 for anything not started here for this user.
    """
    found, field = field_for_upload_name(key)
    grant = granted(request, field, unreadable)
    errors: Errors = {}
    for name, value in (("key", key), ("uploadId", upload_id), ("token", token)):
        if value is None or value == "":
            errors[name] = [_("This field is required.")]
        elif not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH:
            errors[name] = [_("Enter a valid value.")]
    if errors:
        raise Refused(400, errors)
    storage = upload_storage(field, "create_multipart_upload")
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
    limit = upload_size_limit(field, storage, multipart=True)
    if size > limit:  # the limit was lowered since the upload started
        raise Refused(400, {"size": [file_too_large(size, limit)]})
    return UploadSession(key, upload_id, storage, plan)


def _part_number(value: Any) -> int | None:
    """A part number sent as an integer or its digits; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return read_decimal(value, MAX_PARTS)
    return None


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
        parsed = _part_number(number)
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


def held_parts(session: UploadSession) -> list[dict[str, Any]]:
    try:
        parts: list[dict[str, Any]] = session.storage.list_parts(session.key, session.upload_id)
    except NoSuchUploadError as exc:
        raise refusal(404, _("This upload is no longer there (completed or aborted).")) from exc
    return parts


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
        problem = _("The uploaded parts differ from the declared size of %(size)s.") % {
            "size": format_size(session.plan.size, exact=True)  # a few bytes matter here
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
