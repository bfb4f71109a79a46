"""The fake S3's answers shared by its endpoints: S3's XML error document, and CORS as S3
answers it for a bucket whose one rule allows any origin, any header, and GET/HEAD/POST/PUT
(the fake has no CORS configuration to set: a page on any origin may use it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TypeVar
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from buckets.signing import post_verify

__all__ = ["CORS_METHODS", "cors", "from_policy", "not_allowed", "preflight", "s3_error", "xml"]

CORS_METHODS = ("GET", "HEAD", "POST", "PUT")
CORS_EXPOSE = "ETag, Location, x-amz-request-id"
CORS_MAX_AGE = "3000"
_Response = TypeVar("_Response", bound=HttpResponseBase)


def xml(body: str) -> str:
    """``body`` as an XML document, with the declaration S3 sends."""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


def s3_error(
    code: str, status: int, message: str, extra: Mapping[str, str] | None = None
) -> HttpResponse:
    """S3's error document: ``<Error><Code/><Message/>...<RequestId/></Error>``."""
    request_id = uuid.uuid4().hex[:16].upper()
    items = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in (extra or {}).items())
    body = xml(
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{items}"
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["x-amz-request-id"] = request_id
    return response


def from_policy(error: post_verify.PostError) -> HttpResponse:
    """The error document for a refusal of :mod:`buckets.signing.post_verify`."""
    return s3_error(error.code, error.status, error.message, error.extra)


def cors(request: HttpRequest, response: _Response) -> _Response:
    """The headers S3 adds to a request carrying ``Origin`` under a permissive CORS rule."""
    if request.headers.get("Origin"):
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
        response["Access-Control-Expose-Headers"] = CORS_EXPOSE
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def preflight(request: HttpRequest) -> HttpResponse:
    """S3's answer to a CORS preflight (``OPTIONS``) on the bucket or an object."""
    origin = request.headers.get("Origin")
    method = request.headers.get("Access-Control-Request-Method", "")
    if not origin or not method:
        return s3_error(
            "BadRequest", 400, "Insufficient information. Origin request header needed."
        )
    if method.upper() not in CORS_METHODS:
        return s3_error(
            "AccessDenied",
            403,
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evaluation of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            {"Method": method, "ResourceType": "BUCKET"},
        )
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response["Access-Control-Allow-Headers"] = requested
    response["Access-Control-Expose-Headers"] = CORS_EXPOSE
    response["Access-Control-Max-Age"] = CORS_MAX_AGE
    response["Vary"] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    return response


def not_allowed(request: HttpRequest, resource: str) -> HttpResponse:
    """``MethodNotAllowed`` for ``request``'s method on a ``BUCKET`` or ``OBJECT``."""
    return s3_error(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
        {"Method": request.method or "", "ResourceType": resource},
    )
