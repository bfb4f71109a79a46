"""``PUT <MEDIA_URL>s3/uploads/<key>?partNumber=N&uploadId=...``: S3's ``UploadPart``, as
a browser sends it to a pre-signed URL (``FakeS3Storage.presign_upload_part``).

The signature is checked first, with :func:`buckets.signing.url_verify.verify_presigned`
(the code that signed it, in reverse) and the request's own headers, so the
``Content-Length`` the URL pins is enforced as S3 enforces it: any other length is 403
``SignatureDoesNotMatch`` and nothing is read. Then the upload must be in progress for that
key (404 ``NoSuchUpload``), and the body is streamed to disk in bounded chunks
(:class:`buckets.test.multipart_store.UploadStore`). The answer is 200 with the part's
``ETag`` (its quoted MD5), or S3's XML error. Other methods on an object URL are the GET
endpoint's (:func:`buckets.test.views.serve`).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from buckets.signing.numbers import read_decimal
from buckets.signing.url_verify import PostError
from buckets.storage.multipart import MAX_PART_SIZE, MAX_PARTS, NoSuchUploadError
from buckets.test import views
from buckets.test.disk import CHUNK_SIZE
from buckets.test.headers import query_pairs, query_signature
from buckets.test.multipart_store import UploadStore
from buckets.test.post_upload import drain
from buckets.test.responses import cors, s3_error
from buckets.test.storage import FakeS3Storage


class _IncompleteBody(Exception):
    pass


def _body(request: HttpRequest, length: int) -> Iterator[bytes]:
    """Exactly ``length`` bytes of the body, in chunks; :class:`_IncompleteBody` if it ends
    before."""
    left = length
    while left > 0:
        chunk = request.read(min(CHUNK_SIZE, left))
        if not chunk:
            raise _IncompleteBody
        left -= len(chunk)
        yield chunk


def _error(error: PostError) -> HttpResponse:
    return s3_error(error.code, error.status, error.message, error.extra)


def _signature(request: HttpRequest, storage: FakeS3Storage) -> HttpResponse | None:
    """None for a validly signed request, else S3's refusal (an unsigned one: 403)."""
    pairs = query_pairs(request.META.get("QUERY_STRING", ""))
    if pairs is None:
        return _error(PostError("SignatureDoesNotMatch", 403, "Bad query string encoding."))
    signed = query_signature(request, storage, pairs)
    if signed is False:
        return s3_error("AccessDenied", 403, "Access Denied")
    if isinstance(signed, PostError):
        return _error(signed)
    return None


def _upload_part(request: HttpRequest, storage: FakeS3Storage, key: str) -> HttpResponse:
    refused = _signature(request, storage)
    if refused is not None:
        return refused
    upload_id = request.GET.get("uploadId")
    number_text = request.GET.get("partNumber")
    if upload_id is None or number_text is None:
        return s3_error(
            "NotImplemented",
            501,
            "The fake S3 takes a PUT only as UploadPart (partNumber and uploadId).",
        )
    number = read_decimal(number_text, MAX_PARTS)
    if number is None or not 1 <= number <= MAX_PARTS:
        return s3_error(
            "InvalidArgument",
            400,
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive",
            {"ArgumentName": "partNumber", "ArgumentValue": number_text},
        )
    length_text = request.META.get("CONTENT_LENGTH") or ""
    length = read_decimal(length_text, MAX_PART_SIZE + 1)
    if length is None:
        return s3_error(
            "MissingContentLength", 411, "You must provide the Content-Length HTTP header."
        )
    if length > MAX_PART_SIZE:
        return s3_error(
            "EntityTooLarge",
            400,
            "Your proposed upload exceeds the maximum allowed size",
            {"ProposedSize": length_text, "MaxSizeAllowed": str(MAX_PART_SIZE)},
        )
    store = UploadStore(storage.disk)
    try:
        store.check(key, upload_id)  # before reading a byte
        etag = store.put_part(key, upload_id, number, _body(request, length))
    except NoSuchUploadError:
        return s3_error(
            "NoSuchUpload",
            404,
            "The specified upload does not exist. The upload ID may be invalid, or the "
            "upload may have been aborted or completed.",
            {"UploadId": upload_id},
        )
    except _IncompleteBody:
        return s3_error(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        )
    response = HttpResponse(status=200)
    del response["Content-Type"]
    response["ETag"] = etag
    return response


@csrf_exempt
def object_endpoint(request: HttpRequest, key: str) -> HttpResponseBase:
    """An object URL: ``PUT`` is ``UploadPart`` (CSRF-exempt: the URL's signature is the
    guard, as on S3); anything else is :func:`buckets.test.views.serve`'s."""
    if request.method != "PUT":
        return views.serve(request, key)
    response = _upload_part(request, views.fake_storage(), key)
    drain(request)
    return cors(request, response)
