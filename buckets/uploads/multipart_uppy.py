"""``@uppy/aws-s3`` 4.x's routes (its ``endpoint`` option, in Uppy Companion's shapes),
answered by the same checks and steps as our own (:mod:`buckets.uploads.multipart_views`)::

    POST   s3/multipart            {"filename", "type", "metadata": {"size", "field"?}}
                                   -> {"key", "uploadId", "partSize", "partCount"}
    GET    s3/multipart/<id>/<n>?key=       -> {"method": "PUT", "url", "expires"}
    GET    s3/multipart/<id>?key=           -> [{"PartNumber", "Size", "ETag"}]
    POST   s3/multipart/<id>/complete?key=  (its parts list is not read) -> {"key", "location"}
    DELETE s3/multipart/<id>?key=           -> {}
    GET    s3/params?filename=&type=&metadata[size]=&metadata[field]=
                                            -> {"method": "POST", "url", "fields"}

Read from ``@uppy/aws-s3`` 4.3.2 (``src/index.ts``, ``HTTPCommunicationQueue.ts``,
``MultipartUploader.ts``), ``@uppy/companion-client`` 4.5.2 (``RequestClient.ts``) and
``@uppy/companion`` 5.9.1 (``src/server/controllers/s3.js``).

Uppy's create call carries no size and its later calls echo only the key and the upload
id: the size and the field token travel as file metadata (``metadata.size``,
``metadata.field``), and the upload id handed out carries the session token
(:func:`buckets.uploads.multipart_session.wrap_upload_id`). Error answers also carry
``"message"``, which Uppy shows to the user; a DELETE answers ``{}`` because Uppy reads
every answer as JSON.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from buckets.uploads.json_views import (
    Refused,
    json_answer,
    read_inputs,
    refusal,
    unread_body_refused,
)
from buckets.uploads.multipart_session import InvalidSession, unwrap_upload_id, wrap_upload_id
from buckets.uploads.multipart_steps import (
    UploadSession,
    finish_upload,
    held_parts,
    part_numbers,
    resume_upload,
    sign_part,
    start_upload,
)
from buckets.uploads.multipart_views import multipart_view
from buckets.uploads.views import sign_upload

__all__ = ["uppy_complete", "uppy_create", "uppy_params", "uppy_part", "uppy_upload"]


@multipart_view(("POST",), uppy=True)
def uppy_create(request: HttpRequest) -> HttpResponse:
    """Uppy's ``createMultipartUpload``: ``{"filename", "type", "metadata"}``, the size and
    field token read from ``metadata.size`` and ``metadata.field``."""
    data, unreadable = read_inputs(request)
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    inputs = {
        "key": data.get("filename"),
        "content_type": data.get("type"),
        "size": metadata.get("size"),
        "field": metadata.get("field"),
    }
    key, upload_id, token, plan, _storage = start_upload(request, inputs, unreadable)
    return json_answer(
        200,
        {
            "key": key,
            "uploadId": wrap_upload_id(token, upload_id),
            "partSize": plan.part_size,
            "partCount": plan.part_count,
        },
    )


def _resume_wrapped(
    request: HttpRequest, wrapped: str, unreadable: Refused | None = None
) -> UploadSession:
    """:func:`resume_upload` for Uppy's routes: the key in the query, the token in the id."""
    key = request.GET.get("key")
    try:
        token, upload_id = unwrap_upload_id(wrapped)
    except InvalidSession:
        # Checked as any request (the permission first), then refused by the token check.
        token, upload_id = "-", wrapped
    return resume_upload(request, key, upload_id, token, unreadable)


@multipart_view(("GET",), uppy=True)
def uppy_part(request: HttpRequest, upload_id: str, part_number: int) -> HttpResponse:
    """Uppy's ``signPart``: one part's URL, its length pinned."""
    session = _resume_wrapped(request, upload_id)
    (number,) = part_numbers(part_number, session.plan)
    expires = session.storage.settings.upload_expire
    return json_answer(
        200, {"method": "PUT", "url": sign_part(request, session, number), "expires": expires}
    )


@multipart_view(("GET", "DELETE"), uppy=True)
def uppy_upload(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Uppy's ``listParts`` (GET: a list of parts) and ``abortMultipartUpload``
    (DELETE: ``{}``, which Uppy reads as JSON)."""
    session = _resume_wrapped(request, upload_id)
    if request.method == "DELETE":
        session.storage.abort_multipart_upload(session.key, session.upload_id)
        return json_answer(200, {})
    return json_answer(200, held_parts(session))


@multipart_view(("POST",), uppy=True, reads_body=False)
def uppy_complete(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Uppy's ``completeMultipartUpload``: the parts it sends are not read (the server
    lists them itself), so a large upload's long list is no reason to refuse it."""
    unreadable = None
    if unread_body_refused(request, reads_body=False):
        unreadable = refusal(413, _("The request body is too large."))
    session = _resume_wrapped(request, upload_id, unreadable)
    return json_answer(200, finish_upload(request, session))


@multipart_view(("GET",), uppy=True)
def uppy_params(request: HttpRequest) -> HttpResponse:
    """Uppy's ``getUploadParameters`` (a single upload): the signed-URL view's answer for
    ``filename``, ``type``, ``metadata[size]`` and ``metadata[field]``, with
    ``"method": "POST"``."""
    query = request.GET
    data = {
        "key": query.get("filename"),
        "content_type": query.get("type"),
        "size": query.get("metadata[size]"),
        "field": query.get("metadata[field]"),
    }
    data = {name: value for name, value in data.items() if value is not None}
    return json_answer(200, {"method": "POST", **sign_upload(request, data)})
