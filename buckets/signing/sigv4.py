"""AWS Signature Version 4, the two parts django-buckets needs: query-string
(pre-signed URL) signing and POST-policy signing.

Pure functions: no I/O, no settings, no botocore. Why not botocore? Its
``generate_presigned_url`` builds a request object and runs the endpoint rules and
the event system for every URL, and a page of thumbnails needs thousands of URLs.
Here one URL costs one SHA-256 of the canonical request and one HMAC with a cached
signing key (README, "Performance", has the figures).

The URL signer reproduces botocore's output for an ``s3v4`` client byte for
byte (the test suite compares them), so a URL from :func:`presign_url` is
interchangeable with one from ``client.generate_presigned_url("get_object", ...)``:

* the path is percent-encoded from its UTF-8 bytes, leaving only
  ``A-Z a-z 0-9 - _ . ~ /`` as they are, and is not normalised (``a//b``,
  ``./x/../y`` and a leading ``/`` in a key are kept, as S3 requires);
* operation parameters come first, in the caller's order, then the auth
  parameters in botocore's fixed order (``X-Amz-Algorithm``, ``-Credential``,
  ``-Date``, ``-Expires``, ``-SignedHeaders``, ``-Security-Token``), then
  ``X-Amz-Signature``; every name and value is percent-encoded leaving only
  ``A-Z a-z 0-9 - _ . ~`` (a space is ``%20``, never ``+``; ``/`` is ``%2F``);
* the canonical query string is the same pairs sorted by (encoded name,
  encoded value); the signed headers are ``host`` (lower case, default port
  dropped) and any the caller pins (``signed_headers``: ``content-length`` of a
  part upload), sorted by name; the payload hash is ``UNSIGNED-PAYLOAD``.

Over 300 lines on purpose: the encoding, the canonical request, the signing key and the
prepared parts of :func:`presign_url`'s common case are one contract, botocore's bytes,
and one change to any of them must be read beside the others.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "HmacSha256",
    "amz_date",
    "credential",
    "credential_scope",
    "host_header",
    "parse_credential",
    "presign_url",
    "query_signature",
    "quote_path",
    "quote_query",
    "sign_policy",
    "signing_key",
    "utc",
    "verify_policy_signature",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
TERMINATOR = "aws4_request"

_sha256 = hashlib.sha256
_hmac_digest = hmac.digest

# ASCII characters botocore leaves unescaped in a path: RFC 3986 unreserved and "/".
_PATH_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/")
# str.translate table for ASCII paths (one C call, where quote() loops in Python).
_PATH_TABLE = {i: (chr(i) if i in _PATH_SAFE else f"%{i:02X}") for i in range(128)}
# The same for each UTF-8 byte of a non-ASCII path.
_BYTE_TABLE = [chr(i) if i in _PATH_SAFE else f"%{i:02X}" for i in range(256)]


# --------------------------------------------------------------------------
# Keys, scopes, dates
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def signing_key(secret_key: str, date_stamp: str, region: str, service: str = "s3") -> bytes:
    """Derive the SigV4 signing key; cached because it only changes daily.

    Four chained HMAC-SHA256: ``"AWS4" + secret`` keys the date stamp
    (``YYYYMMDD``), whose digest keys the region, then the service, then the
    literal ``aws4_request``.
    """
    k = _hmac_digest(("AWS4" + secret_key).encode("utf-8"), date_stamp.encode("utf-8"), "sha256")
    k = _hmac_digest(k, region.encode("utf-8"), "sha256")
    k = _hmac_digest(k, service.encode("utf-8"), "sha256")
    return _hmac_digest(k, TERMINATOR.encode("ascii"), "sha256")


# HMAC's inner and outer pads (RFC 2104): each key byte XOR 0x36, and XOR 0x5C.
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))
_SHA256_BLOCK = 64


class HmacSha256:
    """HMAC-SHA256 under one key, the key's work done once: the two padded key blocks are
    hashed here, and each message then costs two copies of those SHA-256 states.

    The very construction of RFC 2104 (and of ``hmac.new``), with public ``hashlib`` calls
    only: the same bytes as ``hmac.new(key, message, "sha256")``, checked by the test suite
    on every supported Python. A signing key changes once a day and signs every URL and
    policy of that day, so its setup is cached (:func:`_keyed`); ``hmac.new(...).copy()``
    would do the same work through the ``hmac`` module's Python wrapper on every call.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _SHA256_BLOCK:
            key = _sha256(key).digest()
        block = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = _sha256(block.translate(_INNER_PAD))
        self._outer = _sha256(block.translate(_OUTER_PAD))

    def hexdigest(self, message: bytes) -> str:
        """The hex HMAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=64)
def _keyed(secret_key: str, date_stamp: str, region: str, service: str) -> HmacSha256:
    """HMAC-SHA256 under the signing key, set up once per key and day."""
    return HmacSha256(signing_key(secret_key, date_stamp, region, service))


def _sign(secret_key: str, date_stamp: str, region: str, service: str, message: str) -> str:
    return _keyed(secret_key, date_stamp, region, service).hexdigest(message.encode("utf-8"))


def utc(now: datetime.datetime | None = None) -> datetime.datetime:
    """The current time, or ``now`` with a naive value taken as UTC (as botocore does)."""
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=datetime.timezone.utc)


_last_second: tuple[int, str] = (-1, "")


def amz_date(now: datetime.datetime | None = None) -> str:
    """Return the ``X-Amz-Date`` timestamp (``YYYYMMDDTHHMMSSZ``, UTC).

    A naive ``now`` is taken as UTC (as botocore does); an aware one is
    converted. Microseconds are dropped, not rounded.
    """
    global _last_second
    if now is None:
        second = int(time.time())
        cached = _last_second
        if cached[0] == second:
            return cached[1]
        stamp = time.strftime(AMZ_DATE_FORMAT, time.gmtime(second))
        _last_second = (second, stamp)
        return stamp
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc)
    return now.strftime(AMZ_DATE_FORMAT)


def credential_scope(date_stamp: str, region: str, service: str = "s3") -> str:
    """``YYYYMMDD/region/service/aws4_request``: the scope the key is valid for."""
    return f"{date_stamp}/{region}/{service}/{TERMINATOR}"


def credential(access_key: str, date_stamp: str, region: str, service: str = "s3") -> str:
    """The ``X-Amz-Credential`` / ``x-amz-credential`` value: access key + scope."""
    return f"{access_key}/{date_stamp}/{region}/{service}/{TERMINATOR}"


def parse_credential(value: str) -> tuple[str, str, str, str] | None:
    """Split a credential into ``(access_key, date_stamp, region, service)``.

    Returns None when it is not of the SigV4 shape, so a verifier can answer
    with an error instead of an exception. The access key is everything before
    the last four segments (access keys never contain ``/``, but be lenient).
    """
    parts = value.rsplit("/", 4)
    if len(parts) != 5 or parts[4] != TERMINATOR:
        return None
    access_key, date_stamp, region, service = parts[0], parts[1], parts[2], parts[3]
    if not access_key or not region or not service:
        return None
    if len(date_stamp) != 8 or not date_stamp.isdigit() or not date_stamp.isascii():
        return None
    return access_key, date_stamp, region, service


# --------------------------------------------------------------------------
# Percent-encoding, as botocore does it
# --------------------------------------------------------------------------


def quote_path(path: str) -> str:
    """Percent-encode a raw object path the way botocore puts a key in a URL.

    UTF-8 bytes; ``A-Z a-z 0-9 - _ . ~ /`` stay, everything else is ``%XX``
    (upper-case hex). No normalisation: S3 keys are opaque.
    """
    if path.isascii():
        return path.translate(_PATH_TABLE)
    return quote_utf8(path.encode("utf-8"))


def quote_utf8(raw: bytes) -> str:
    """:func:`quote_path` of a path already encoded as UTF-8."""
    return "".join([_BYTE_TABLE[b] for b in raw])


@functools.lru_cache(maxsize=256)
def quote_query(value: str) -> str:
    """Percent-encode a query-string name or value (RFC 3986 unreserved kept).

    Cached: the same access keys, tokens and parameter names recur on every URL.
    """
    return quote(value, safe="-_.~")


@functools.lru_cache(maxsize=32)
def host_header(scheme_host: str) -> str:
    """The ``host`` header botocore signs for ``scheme://host[:port]``: lower case,
    default port dropped (``""`` for ``""``)."""
    parts = urlsplit(scheme_host)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{port}"
    return host


# --------------------------------------------------------------------------
# Pre-signed URLs
# --------------------------------------------------------------------------


def presign_url(
    *,
    scheme_host: str,
    path: str,
    access_key: str,
    secret_key: str,
    region: str,
    expires: int = 3600,
    token: str | None = None,
    query: Mapping[str, str] | None = None,
    method: str = "GET",
    service: str = "s3",
    now: datetime.datetime | None = None,
    signed_headers: Mapping[str, str] | None = None,
) -> str:
    """Return a SigV4 pre-signed URL, identical to botocore's for the same input.

    ``scheme_host`` is ``scheme://host[:port]`` with no path and no trailing
    slash, exactly as it should appear in the URL (``https://b.s3.eu-west-1.amazonaws.com``
    for virtual-host style, ``http://127.0.0.1:7480`` for path style).
    ``path`` is the *raw, unencoded* path starting with ``/``: ``"/" + key``
    (virtual host) or ``"/" + bucket + "/" + key`` (path style); it is
    encoded here exactly as botocore encodes it.

    ``query`` holds the operation's query parameters by their wire names and
    already-formatted string values, in the order botocore would receive them
    in ``Params`` (the URL keeps that order): ``versionId``,
    ``response-content-disposition``, ``response-content-type``,
    ``response-cache-control``, ``response-content-encoding``,
    ``response-content-language``, ``response-expires`` (an HTTP date string).

    ``token`` is the session token (``X-Amz-Security-Token``) of temporary
    credentials. ``expires`` is in seconds (S3 accepts 1 to
    :data:`~buckets.signing.limits.MAX_URL_EXPIRES`).
    ``now`` defaults to the current time; pass it to sign at a fixed instant.

    ``signed_headers`` are request headers the URL is signed with besides ``host``
    (``{"content-length": "5242880"}`` for an ``UploadPart``, as botocore signs
    ``ContentLength``): the client must send exactly these values, or S3 answers 403.
    """
    stamp = amz_date(now)
    if not query and not signed_headers:
        # The common case: everything but the path is the same for every URL signed in
        # this second with these credentials, so it is prepared once (see _plain_parts).
        head, tail, sts_head, keyed, suffix = _plain_parts(
            stamp,
            access_key,
            secret_key,
            region,
            service,
            int(expires),
            token,
            method,
            scheme_host,
        )
        encoded_path = quote_path(path)
        digest = _sha256((head + encoded_path + tail).encode("utf-8")).hexdigest()
        signature = keyed.hexdigest((sts_head + digest).encode("ascii"))
        return scheme_host + encoded_path + suffix + signature
    return _presign_with_headers(
        stamp=stamp,
        scheme_host=scheme_host,
        path=path,
        access_key=access_key,
        secret_key=secret_key,
        region=region,
        expires=expires,
        token=token,
        query=query or {},
        method=method,
        service=service,
        signed_headers=signed_headers or {},
    )


def _presign_with_headers(
    *,
    stamp: str,
    scheme_host: str,
    path: str,
    access_key: str,
    secret_key: str,
    region: str,
    expires: int,
    token: str | None,
    query: Mapping[str, str],
    method: str,
    service: str,
    signed_headers: Mapping[str, str],
) -> str:
    """:func:`presign_url` with operation parameters or headers to sign besides ``host``."""
    headers = {name.lower(): " ".join(str(value).split()) for name, value in signed_headers.items()}
    headers["host"] = host_header(scheme_host)
    header_list = sorted(headers.items())
    signed = ";".join(name for name, _ in header_list)
    cred, expires_s, token_q, auth = _auth_query(
        stamp, access_key, region, service, expires, token, signed
    )
    pairs = [(quote_query(k), quote_query(v)) for k, v in query.items()]
    operation = "".join([f"{k}={v}&" for k, v in pairs])  # the caller's order
    pairs += (
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", cred),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", expires_s),
        ("X-Amz-SignedHeaders", quote_query(signed)),
    )
    if token_q is not None:
        pairs.append(("X-Amz-Security-Token", token_q))
    encoded_path = quote_path(path)
    signature = query_signature(
        method=method,
        encoded_path=encoded_path,
        encoded_query=pairs,
        headers=header_list,
        stamp=stamp,
        secret_key=secret_key,
        region=region,
        service=service,
    )
    return f"{scheme_host}{encoded_path}?{operation}{auth}&X-Amz-Signature={signature}"


def query_signature(
    *,
    method: str,
    encoded_path: str,
    encoded_query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    stamp: str,
    secret_key: str,
    region: str,
    service: str = "s3",
) -> str:
    """The ``X-Amz-Signature`` of a pre-signed request: what :func:`presign_url` signs and
    what :func:`buckets.signing.url_verify.verify_presigned` recomputes, so the two agree.

    ``encoded_path`` is the path as :func:`quote_path` encodes it; ``encoded_query`` every
    query parameter but ``X-Amz-Signature``, name and value encoded as :func:`quote_query`
    does (in any order: they are sorted here); ``headers`` the signed headers as
    ``(lower-case name, value)`` in ``X-Amz-SignedHeaders`` order; ``stamp`` the
    ``X-Amz-Date``. The payload is ``UNSIGNED-PAYLOAD``, as for every pre-signed S3 URL.
    """
    date_stamp = stamp[:8]
    # Sort (name, value) tuples, not "name=value" strings: "a-b=" sorts
    # before "a=" as a string but after ("a", ...) as a tuple.
    canonical_query = "&".join([f"{k}={v}" for k, v in sorted(encoded_query)])
    header_list = list(headers)
    canonical_headers = "".join([f"{name}:{value}\n" for name, value in header_list])
    signed = ";".join([name for name, _ in header_list])
    canonical_request = (
        f"{method.upper()}\n{encoded_path}\n{canonical_query}\n"
        f"{canonical_headers}\n{signed}\n{UNSIGNED_PAYLOAD}"
    )
    string_to_sign = (
        f"{ALGORITHM}\n{stamp}\n{date_stamp}/{region}/{service}/{TERMINATOR}\n"
        f"{_sha256(canonical_request.encode('utf-8')).hexdigest()}"
    )
    return _sign(secret_key, date_stamp, region, service, string_to_sign)


def _auth_query(
    stamp: str,
    access_key: str,
    region: str,
    service: str,
    expires: int,
    token: str | None,
    signed: str = "host",
) -> tuple[str, str, str | None, str]:
    """``(credential, expires, token)`` as query values, and the auth query in URL order."""
    date_stamp = stamp[:8]
    cred = (
        f"{quote_query(access_key)}%2F{date_stamp}%2F"
        f"{quote_query(region)}%2F{quote_query(service)}%2F{TERMINATOR}"
    )
    expires_s = str(int(expires))
    token_q = None if token is None else quote_query(token)
    auth = (
        f"X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={cred}&X-Amz-Date={stamp}"
        f"&X-Amz-Expires={expires_s}&X-Amz-SignedHeaders={quote_query(signed)}"
    )
    if token_q is not None:
        auth += f"&X-Amz-Security-Token={token_q}"
    return cred, expires_s, token_q, auth


@functools.lru_cache(maxsize=32)
def _plain_parts(
    stamp: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    expires: int,
    token: str | None,
    method: str,
    scheme_host: str,
) -> tuple[str, str, str, HmacSha256, str]:
    """What a query-less URL's signature needs apart from its path, for one second.

    ``(canonical request head, canonical request tail, string-to-sign head, HMAC under the
    signing key, URL suffix before the signature)``.
    """
    date_stamp = stamp[:8]
    cred, expires_s, token_q, auth = _auth_query(stamp, access_key, region, service, expires, token)
    if token_q is None:
        canonical_query = auth  # already sorted
    else:  # Security-Token sorts before SignedHeaders
        canonical_query = (
            f"X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={cred}&X-Amz-Date={stamp}"
            f"&X-Amz-Expires={expires_s}&X-Amz-Security-Token={token_q}"
            "&X-Amz-SignedHeaders=host"
        )
    tail = f"\n{canonical_query}\nhost:{host_header(scheme_host)}\n\nhost\n{UNSIGNED_PAYLOAD}"
    sts_head = f"{ALGORITHM}\n{stamp}\n{date_stamp}/{region}/{service}/{TERMINATOR}\n"
    keyed = _keyed(secret_key, date_stamp, region, service)
    return f"{method.upper()}\n", tail, sts_head, keyed, f"?{auth}&X-Amz-Signature="


# --------------------------------------------------------------------------
# POST policies
# --------------------------------------------------------------------------


def sign_policy(
    policy_b64: str, secret_key: str, date_stamp: str, region: str, service: str = "s3"
) -> str:
    """Sign a base64 POST policy: hex HMAC-SHA256 of it under the signing key.

    For SigV4 POST the base64 policy string itself is the string to sign.
    """
    return _sign(secret_key, date_stamp, region, service, policy_b64)


def verify_policy_signature(
    policy_b64: str,
    signature: str,
    secret_key: str,
    date_stamp: str,
    region: str,
    service: str = "s3",
) -> bool:
    """Check a POST policy signature in constant time, as S3 does.

    The very same code as :func:`sign_policy`, so what one side signs the other
    accepts. Hex case is significant, as for S3.
    """
    expected = sign_policy(policy_b64, secret_key, date_stamp, region, service)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
