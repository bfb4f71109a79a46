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
input makes the view fail with a 500. Body reading, the CSRF rule, the order of the checks
and the error shape are the upload endpoints' shared ones (:mod:`buckets.uploads.json_views`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse

from buckets.uploads.field_tokens import field_label
from buckets.uploads.json_views import (
    MAX_BODY_BYTES,
    Refused,
    file_name_too_long,
    granted,
    invalid_form,
    json_answer,
    json_view,
    read_inputs,
    refusal,
)
from buckets.uploads.staging_names import new_upload_name
from buckets.uploads.upload_request import SignedUploadForm

__all__ = ["MAX_BODY_BYTES", "sign_upload", "signed_url"]


@json_view(("POST",))
def signed_url(request: HttpRequest) -> HttpResponse:
    """Answer ``{"url", "fields"}`` for one upload, or a JSON error (see the module doc).

    CSRF is checked as usual for cookie-authenticated requests (any request that carries
    cookies), and skipped for a request with no cookies at all: it has no ambient
    credentials a forged cross-site request could borrow, and an API client authenticating
    with a header (see ``BUCKETS_UPLOAD_PERMISSION``) has no CSRF token to send.
    """
    data, unreadable = read_inputs(request)
    return json_answer(200, sign_upload(request, data, unreadable))


def sign_upload(
    request: HttpRequest, data: Any, unreadable: Refused | None = None
) -> dict[str, Any]:
    """The signing itself, once the method and CSRF checks passed and the inputs were
    read (``data``, or ``unreadable`` when the body could not be): ``{"url", "fields"}``,
    or :class:`~buckets.uploads.json_views.Refused`. What :func:`signed_url` answers,
    shared with ``GET s3/params`` (:mod:`buckets.uploads.multipart_uppy`), which reads the
    same inputs from its query."""
    # Who may upload, first, for the token's field: None without a token or with an
    # invalid one (an expired token still names its field).
    form = SignedUploadForm(data)
    grant = granted(request, form.requested_field(), unreadable)
    if not form.is_valid():
        raise invalid_form(form)

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
    except SuspiciousFileOperation as exc:
        raise file_name_too_long() from exc
    except ValueError as exc:  # PolicyError; not expected: the form's checks mirror the policy's
        raise refusal(400, str(exc)) from exc
    url = signed["url"]
    if url.startswith("/"):  # the local fake's endpoint: API clients need a full URL
        url = request.build_absolute_uri(url)
    return {"url": url, "fields": signed["fields"]}
