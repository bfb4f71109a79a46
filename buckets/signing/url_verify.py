"""Checking a pre-signed URL the way S3 does: the other direction of
:func:`buckets.signing.sigv4.presign_url`.

:func:`verify_presigned` answers a signed GET or HEAD as S3 would: valid, or refused with
S3's error code and HTTP status, so a local stand-in for S3 built on it serves what S3
serves. The signature is recomputed with :func:`buckets.signing.sigv4.query_signature`, the
code :func:`~buckets.signing.sigv4.presign_url` signs with, so the two cannot disagree.
Pure: the clock (``now``), the secret lookup and the request's headers are passed in.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from buckets.signing import sigv4 as signing
from buckets.signing.limits import MAX_CLOCK_SKEW, MAX_URL_EXPIRES
from buckets.signing.numbers import read_decimal
from buckets.signing.s3_errors import PostError, signature_mismatch, unknown_access_key

__all__ = ["QUERY_AUTH", "PostError", "verify_presigned"]

#: The parameters of a SigV4 pre-signed URL, all required once one is present.
QUERY_AUTH = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)


@dataclass(frozen=True)
class _QueryAuth:
    """A URL's authentication parameters, each well-formed (the signature not checked)."""

    stamp: str
    signed_at: datetime.datetime
    expires: str  # as written, for the error answer
    seconds: int
    access_key: str
    region: str


def _query_error(message: str) -> PostError:
    return PostError("AuthorizationQueryParametersError", 400, message)


def _read_query_auth(
    params: Mapping[str, str], region: str | None, service: str
) -> _QueryAuth | PostError:
    """The authentication parameters read as S3 reads them, or its 400 for the first one
    missing or malformed (a validity over a week, a credential for another region or
    service, or of another day than ``X-Amz-Date``)."""
    if any(name not in params for name in QUERY_AUTH):
        return _query_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
            "and X-Amz-Expires parameters."
        )
    if params["X-Amz-Algorithm"] != signing.ALGORITHM:
        return _query_error('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    stamp = params["X-Amz-Date"]
    try:
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return _query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    expires = params["X-Amz-Expires"]
    seconds = read_decimal(expires, MAX_URL_EXPIRES)
    if seconds is None:
        return _query_error("X-Amz-Expires should be a number")
    if seconds > MAX_URL_EXPIRES:
        message = f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_URL_EXPIRES}"
        return _query_error(message)
    scope = signing.parse_credential(params["X-Amz-Credential"])
    if scope is None or scope[3] != service or scope[1] != stamp[:8]:
        return _query_error(
            f"Error parsing the X-Amz-Credential parameter: {params['X-Amz-Credential']}"
        )
    access_key, _, cred_region, _ = scope
    if region is not None and cred_region != region:
        message = f"Error parsing the X-Amz-Credential parameter; the region '{cred_region}' "
        message += f"is wrong; expecting '{region}'"
        return PostError("AuthorizationQueryParametersError", 400, message, {"Region": region})
    signed_at = signed_at.replace(tzinfo=datetime.timezone.utc)
    return _QueryAuth(stamp, signed_at, expires, seconds, access_key, cred_region)


def _check_validity(auth: _QueryAuth, now: datetime.datetime | None) -> PostError | None:
    """S3's 403 ``AccessDenied`` for a URL expired, or signed further ahead of ``now`` than
    the allowed clock skew; None while it is valid."""
    now = signing.utc(now)
    ends = auth.signed_at + datetime.timedelta(seconds=auth.seconds)
    if now > ends:
        extra = {"X-Amz-Expires": auth.expires, "Expires": ends.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return PostError("AccessDenied", 403, "Request has expired", extra)
    if auth.signed_at > now + datetime.timedelta(seconds=MAX_CLOCK_SKEW):
        return PostError("AccessDenied", 403, "Request is not valid yet")
    return None


def _signature_matches(
    *,
    auth: _QueryAuth,
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    signed_headers: str,
    signature: str,
    hosts: list[str],
    header: Callable[[str], str | None],
    service: str,
) -> bool:
    """Whether ``signature`` is the URL's, signed for any of ``hosts``. Every host is
    tried and each comparison is in constant time, so the time taken tells nothing of
    which host or how much of the signature matched."""
    names = signed_headers.split(";")
    encoded_path = signing.quote_path(path)
    encoded_query = [
        (signing.quote_query(name), signing.quote_query(value))
        for name, value in query
        if name != "X-Amz-Signature"
    ]
    given = signature.encode("utf-8", "replace")
    matched = False
    for host in hosts:
        headers = [
            (name, host if name == "host" else " ".join((header(name) or "").split()))
            for name in names
        ]
        expected = signing.query_signature(
            method=method,
            encoded_path=encoded_path,
            encoded_query=encoded_query,
            headers=headers,
            stamp=auth.stamp,
            secret_key=secret,
            region=auth.region,
            service=service,
        )
        matched |= hmac.compare_digest(expected.encode("ascii"), given)
    return matched


def verify_presigned(
    *,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    hosts: list[str],
    secret_for: Callable[[str], str | None],
    header: Callable[[str], str | None] = lambda name: None,
    region: str | None = None,
    now: datetime.datetime | None = None,
    service: str = "s3",
) -> bool | PostError:
    """Check a request's SigV4 query-string signature the way S3 does.

    ``path`` is the request path, decoded; ``query`` its parameters, decoded, in order (the
    first of a repeated name counts); ``hosts`` the ``Host`` values to accept the signature
    for (the request's, and any the URL may have been signed for); ``header`` gives the
    request's other headers, should ``X-Amz-SignedHeaders`` name more than ``host``.

    False when the request carries no query authentication at all (anonymous: the caller
    decides), True when it is validly signed, else S3's error: 400
    ``AuthorizationQueryParametersError`` for missing or malformed parameters (a week at
    most), 400 ``AuthorizationQueryParametersError`` for another region, 403
    ``InvalidAccessKeyId``, 403 ``AccessDenied`` when expired or not valid yet, 403
    ``SignatureDoesNotMatch``.
    """
    params: dict[str, str] = {}
    for name, value in query:
        params.setdefault(name, value)
    if not any(name in params for name in QUERY_AUTH):
        return False
    auth = _read_query_auth(params, region, service)
    if isinstance(auth, PostError):
        return auth
    secret = secret_for(auth.access_key)
    if secret is None:
        return unknown_access_key(auth.access_key)
    expired = _check_validity(auth, now)
    if expired is not None:
        return expired
    if _signature_matches(
        auth=auth,
        secret=secret,
        method=method,
        path=path,
        query=query,
        signed_headers=params["X-Amz-SignedHeaders"],
        signature=params["X-Amz-Signature"],
        hosts=hosts,
        header=header,
        service=service,
    ):
        return True
    return signature_mismatch()
