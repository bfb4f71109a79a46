"""What a valid value is, for the storage options that need more than a type check.

Each check is called by ``buckets.conf`` with a value already of the option's declared type,
returns it normalised (a prefix without its outer slashes, ``"https"`` as ``"https:"``...)
and raises :class:`Refused` saying what the value must be; ``buckets.conf`` adds which key
it was. boto3 and botocore are imported by the checks that need them, when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.utils.module_loading import import_string

#: A value check: the value in, the value to keep out, :class:`Refused` if it is wrong.
Check = Callable[[Any], Any]

ADDRESSING_STYLES = ("auto", "path", "virtual")

#: The ``signature_version`` values botocore's S3 client signs with: SigV4 (``s3v4``, or
#: its alias ``v4``) and the legacy SigV2 (``s3``). ``botocore.UNSIGNED`` is accepted too.
SIGNATURE_VERSIONS = ("s3v4", "v4", "s3")

#: S3's canned ACLs, the values ``default_acl`` may take.
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)

URL_PROTOCOLS = ("http:", "https:")

#: What a ``gzip`` storage compresses unless told otherwise: django-storages' default list.
GZIP_CONTENT_TYPES = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "image/svg+xml",
)


class Refused(Exception):
    """A value an option may not take. ``must`` says what it must be instead; the message
    ends with ``, not <value>.`` unless ``quote_value`` is false (``must`` is then a whole
    sentence)."""

    def __init__(self, must: str, *, quote_value: bool = True) -> None:
        super().__init__(must)
        self.must = must
        self.quote_value = quote_value


def between(least: int, greatest: int | None = None) -> Check:
    """An integer from ``least`` (0 or 1 when there is no ``greatest``) to ``greatest``."""

    def check(value: int) -> int:
        if value < least or (greatest is not None and value > greatest):
            if greatest is not None:
                raise Refused(f"must be between {least} and {greatest}")
            raise Refused(
                "must be a positive integer" if least else "must be a non-negative integer"
            )
        return value

    return check


def one_of(choices: Sequence[str], must: str = "must be one of {}") -> Check:
    """One of ``choices``; ``must`` is the complaint, ``{}`` standing for the choices."""

    def check(value: str) -> str:
        if value not in choices:
            raise Refused(must.format(", ".join(choices)))
        return value

    return check


def instance_of(dotted_path: str) -> Check:
    """An instance of the class at ``dotted_path`` (imported when a value is checked)."""

    def check(value: Any) -> Any:
        if not isinstance(value, import_string(dotted_path)):
            raise Refused(f"must be a {dotted_path}")
        return value

    return check


def seconds(value: float) -> float:
    """A timeout: a positive, finite number of seconds."""
    if not 0 < value < float("inf"):
        raise Refused("must be a positive number of seconds")
    return value


def region_name(value: str) -> str:
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    try:
        validate_region_name(value)
    except InvalidRegionError:
        raise Refused("must be a region name such as 'eu-west-1'") from None
    return value


def endpoint_url(value: str) -> str:
    """An http(s) URL with a valid host and port, and no query or fragment."""
    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise Refused("must be an http:// or https:// URL, e.g. 'https://host:9000'")
    _check_port(parts)
    if (
        parts.query
        or parts.fragment
        or not (is_valid_endpoint_url(value) or is_valid_ipv6_endpoint_url(value))
    ):
        raise Refused("must be a URL with a valid host name, e.g. 'https://host'")
    return value


def signature_version(value: Any) -> Any:
    import botocore

    if value is botocore.UNSIGNED or (isinstance(value, str) and value in SIGNATURE_VERSIONS):
        return value
    raise Refused(
        f"must be one of {', '.join(SIGNATURE_VERSIONS)} (SigV4: 's3v4'), or botocore.UNSIGNED"
    )


def location(value: str) -> str:
    """A relative key prefix, stored without its outer slashes; empty: none."""
    return _key_prefix(value, required=False)


def upload_prefix(value: str) -> str:
    """A non-empty relative key prefix, stored with one trailing slash."""
    return _key_prefix(value, required=True) + "/"


def url_protocol(value: str) -> str:
    """``https:`` or ``http:``, in any case; django-storages' spelling has the colon, and
    ``https`` without it is read as ``https:``."""
    protocol = value.lower()
    if protocol in ("http", "https"):
        protocol += ":"
    if protocol not in URL_PROTOCOLS:
        raise Refused("must be 'https:' or 'http:'")
    return protocol


def custom_domain(value: str) -> str:
    """A host name, with an optional port and path, without a scheme or trailing slash."""
    if "://" in value:
        raise Refused(
            "must be a host name (and optional path) without the scheme, e.g. "
            "'cdn.example.com'; the scheme is url_protocol"
        )
    domain = value.rstrip("/")
    host = urlsplit(f"https://{domain.partition('/')[0]}")
    _check_port(host)
    if not host.hostname or _unsafe(domain) or any(c in domain for c in " ?#"):
        raise Refused("must be a host name such as 'cdn.example.com'")
    return domain


def object_parameters(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """Only the PutObject arguments boto3's uploads accept."""
    from boto3.s3.transfer import S3Transfer

    allowed = S3Transfer.ALLOWED_UPLOAD_ARGS
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise Refused(
            f"has keys boto3 does not upload with: {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(allowed))}.",
            quote_value=False,
        )
    return value


def content_types(value: Sequence[str]) -> tuple[str, ...]:
    """A list of MIME types (``type/subtype``), kept as a tuple; a lone string is refused
    (it would be read as a list of characters)."""
    if isinstance(value, (str, bytes)):
        raise Refused("must be a list of content types such as ['text/css'], not one string")
    types = tuple(value)
    for item in types:
        kind, slash, subtype = item.partition("/") if isinstance(item, str) else ("", "", "")
        if not (slash and _token(kind) and _token(subtype)):
            raise Refused(
                f"must hold content types such as 'text/css'; {item!r} is not one",
                quote_value=False,
            )
    return types


def proxies(value: Mapping[str, str]) -> Mapping[str, str]:
    """botocore's ``proxies``: a scheme or ``scheme://host`` to a proxy's http(s) URL."""
    for target, proxy in value.items():
        if not isinstance(target, str) or not isinstance(proxy, str):
            raise Refused("must map strings to proxy URLs, e.g. {'https': 'http://proxy:3128'}")
        parts = urlsplit(proxy)
        _check_port(parts)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(
                f"must map to http:// or https:// proxy URLs; {proxy!r} is not one",
                quote_value=False,
            )
    return value


def cloudfront_key(value: str | bytes) -> str | bytes:
    """A PEM RSA private key the ``cryptography`` package (the ``cloudfront`` extra) can
    read; never a path (django-storages takes the key itself too)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        raise Refused(
            "needs the cryptography package to sign CloudFront URLs: "
            "pip install 'django-buckets-s3[cloudfront]'",
            quote_value=False,
        ) from None
    pem = value.encode("ascii", "replace") if isinstance(value, str) else value
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise Refused(
            "must be the PEM text of an unencrypted RSA private key "
            "('-----BEGIN PRIVATE KEY-----...'), not a path or another kind of key",
            quote_value=False,
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Refused("must be an RSA private key (CloudFront signs with RSA)", quote_value=False)
    return value


def _token(text: str) -> bool:
    return bool(text) and all(c.isalnum() or c in "!#$&^_.+-" for c in text)


def _check_port(parts: Any) -> None:
    try:
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise Refused("has an invalid port") from None


def _unsafe(text: str) -> bool:
    """Whitespace other than a space, control characters or backslashes: never in a prefix."""
    return any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in text)


def _key_prefix(value: str, *, required: bool) -> str:
    stripped = value.strip("/")
    if not stripped:
        if required:
            raise Refused("must be a non-empty key prefix such as 'uploads/'")
        return ""
    segments = stripped.split("/")
    if _unsafe(stripped) or any(s in ("", ".", "..") for s in segments):
        raise Refused(
            "must be a relative key prefix such as 'media/files' (no '.' or '..' "
            "segments, no '//', backslashes or control characters)"
        )
    return stripped
