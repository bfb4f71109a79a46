"""Multipart uploads: the browser sends a large file straight to the bucket in parts.

The same rules as ``POST /s3/signed-url/`` (:mod:`buckets.uploads.views`), from the same
code: the inputs of a create are checked by the signed-URL form
(:class:`~buckets.uploads.upload_request.MultipartUploadForm`: the file name, type and size
by :mod:`buckets.uploads.rules`, the size capped by the multipart path's limit), and who may
upload is decided first (``BUCKETS_UPLOAD_PERMISSION``), CSRF is checked for a request that
carries cookies, a body is read only up to
:data:`~buckets.uploads.json_views.MAX_BODY_BYTES`, and errors are JSON objects mapping the
bad input to its messages (``"detail"`` for the others), by
:mod:`buckets.uploads.json_views`. The server, never the client, picks the key, the
Content-Type, ACL and object parameters (``CreateMultipartUpload`` is called here), and
the part plan
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

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from buckets.uploads.json_views import (
    NO_STORE,
    Refused,
    error_answer,
    json_answer,
    json_view,
    read_inputs,
)
from buckets.uploads.multipart_steps import (
    finish_upload,
    held_parts,
    part_numbers,
    resume_upload,
    sign_part,
    start_upload,
)

__all__ = [
    "abort",
    "answer_refusal",
    "complete",
    "create",
    "list_parts",
    "multipart_view",
    "sign_parts",
]

logger = logging.getLogger(__name__)

#: Uppy's names for our inputs, in its create body and its error answers.
_UPPY_NAMES = {
    "key": "filename",
    "content_type": "type",
    "size": "metadata.size",
    "field": "metadata.field",
}


def answer_refusal(refused: Refused, *, uppy: bool) -> HttpResponse:
    """The JSON error answer; for Uppy's routes, with the inputs under Uppy's names and a
    ``"message"`` (which Uppy shows to the user)."""
    if not uppy:
        return error_answer(refused)
    errors = refused.errors
    renamed: dict[str, Any] = {_UPPY_NAMES.get(name, name): msgs for name, msgs in errors.items()}
    renamed["message"] = " ".join(m for msgs in errors.values() for m in msgs)
    return json_answer(refused.status, renamed)


def _answer_for_uppy(refused: Refused) -> HttpResponse:
    return answer_refusal(refused, uppy=True)


def multipart_view(
    methods: tuple[str, ...], *, uppy: bool, reads_body: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An upload endpoint (:func:`buckets.uploads.json_views.json_view`) answering
    ``methods``, its errors in our shape or, for ``uppy``, in Uppy's."""
    return json_view(
        methods, reads_body=reads_body, answer=_answer_for_uppy if uppy else error_answer
    )


# -- create ----------------------------------------------------------------------------


@multipart_view(("POST",), uppy=False)
def create(request: HttpRequest) -> HttpResponse:
    """Start a multipart upload: its key, upload id, session token and part plan."""
    data, unreadable = read_inputs(request)
    key, upload_id, token, plan, _storage = start_upload(request, data, unreadable)
    return json_answer(
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
    return json_answer(200, {"urls": urls, "sizes": sizes})


@multipart_view(("GET",), uppy=False)
def list_parts(request: HttpRequest) -> HttpResponse:
    """The parts the bucket holds, so a client resumes."""
    query = request.GET
    session = resume_upload(request, query.get("key"), query.get("uploadId"), query.get("token"))
    return json_answer(200, {"parts": held_parts(session)})


@multipart_view(("POST",), uppy=False)
def complete(request: HttpRequest) -> HttpResponse:
    """Complete an upload from the parts the bucket lists (see :func:`finish_upload`)."""
    data, unreadable = read_inputs(request)
    session = resume_upload(
        request, data.get("key"), data.get("uploadId"), data.get("token"), unreadable
    )
    return json_answer(200, finish_upload(request, session))


@multipart_view(("POST",), uppy=False)
def abort(request: HttpRequest) -> HttpResponse:
    """Abort an upload (an upload already gone is fine): 204."""
    data, unreadable = read_inputs(request)
    session = resume_upload(
        request, data.get("key"), data.get("uploadId"), data.get("token"), unreadable
    )
    session.storage.abort_multipart_upload(session.key, session.upload_id)
    response = HttpResponse(status=204)
    response.headers["Cache-Control"] = NO_STORE
    return response
