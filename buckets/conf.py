"""One place that reads the ``AWS`` settings dict and storage options.

Every option has one lower-case name (django-storages' name where one exists, so users can
move over by changing the backend path) and the ``AWS`` dict uses the upper-case form.
A storage option wins over the ``AWS`` dict. Anything unknown or missing raises
``ImproperlyConfigured`` naming the key, because a typo in a settings dict should never
silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: S3's largest single POST upload (5 GiB).
S3_MAX_POST_SIZE = 5 * 1024**3

ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclasses.dataclass(frozen=True)
class S3Settings:
    """The resolved configuration of one storage. Frozen: a storage never changes under you."""

    bucket_name: str
    access_key: str | None = None
    secret_key: str | None = None
    security_token: str | None = None
    session_profile: str | None = None
    region_name: str | None = None
    endpoint_url: str | None = None
    addressing_style: str | None = None
    signature_version: Any = "s3v4"  # one of SIGNATURE_VERSIONS, or botocore.UNSIGNED
    location: str = ""
    querystring_auth: bool = True
    querystring_expire: int = 3600
    custom_domain: str | None = None
    url_protocol: str = "https:"
    default_acl: str | None = None
    object_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    file_overwrite: bool = False
    #: Bytes of a file being written (``open(name, "wb")``) held in memory before the part
    #: being filled moves to a temporary file; 0: no limit (django-storages' meaning).
    max_memory_size: int = 8 * 1024**2
    transfer_config: Any = None
    client_config: Any = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 3
    verify: bool | str | None = None
    max_file_size: int = S3_MAX_POST_SIZE
    upload_prefix: str = "uploads/"
    upload_expire: int = 600


FIELDS = {f.name: f for f in dataclasses.fields(S3Settings)}

#: ``AWS`` dict keys whose upper-case form is not simply the option name upper-cased.
AWS_KEY_ALIASES = {"BUCKET": "bucket_name", "REGION": "region_name"}
_OPTION_TO_AWS_KEY = {option: key for key, option in AWS_KEY_ALIASES.items()}

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

#: The longest a SigV4 query-signed URL may live: a week (S3 refuses longer ones).
MAX_QUERYSTRING_EXPIRE = 7 * 24 * 3600

_NONE = type(None)

_TYPES: dict[str, tuple[type, ...]] = {
    "bucket_name": (str,),
    "access_key": (str, _NONE),
    "secret_key": (str, _NONE),
    "security_token": (str, _NONE),
    "session_profile": (str, _NONE),
    "region_name": (str, _NONE),
    "endpoint_url": (str, _NONE),
    "addressing_style": (str, _NONE),
    "location": (str,),
    "querystring_auth": (bool,),
    "querystring_expire": (int,),
    "custom_domain": (str, _NONE),
    "url_protocol": (str,),
    "default_acl": (str, _NONE),
    "object_parameters": (Mapping,),
    "file_overwrite": (bool,),
    "max_memory_size": (int,),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "max_attempts": (int,),
    "verify": (bool, str, _NONE),
    "max_file_size": (int,),
    "upload_prefix": (str,),
    "upload_expire": (int,),
}

#: Integer options and their ``(least, greatest)`` values (None: no upper bound).
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "querystring_expire": (1, MAX_QUERYSTRING_EXPIRE),
    "upload_expire": (1, None),
    "max_memory_size": (0, None),
    "max_attempts": (0, None),
    "max_file_size": (1, S3_MAX_POST_SIZE),
}

#: Optional string options where ``""`` means the same as not set.
_EMPTY_IS_UNSET = (
    "access_key",
    "secret_key",
    "security_token",
    "session_profile",
    "region_name",
    "endpoint_url",
    "addressing_style",
    "custom_domain",
    "default_acl",
)


def aws_key_to_option(key: str) -> str | None:
    """Map an ``AWS`` dict key to its option name, or None when it is not one of ours."""
    option = AWS_KEY_ALIASES.get(key, key.lower())
    if option in FIELDS and key == key.upper():
        return option
    return None


def option_names() -> frozenset[str]:
    return frozenset(FIELDS)


def check_option_names(options: Mapping[str, Any]) -> None:
    """Raise ``ImproperlyConfigured`` for an unknown storage option (no settings access)."""
    for name in options:
        if name not in FIELDS:
            raise ImproperlyConfigured(
                f"Unknown S3 storage option {name!r}. Known options: {', '.join(sorted(FIELDS))}."
            )


def read_aws_dict(aws: Any = None) -> dict[str, Any]:
    """The ``AWS`` setting as option names; unknown keys raise ``ImproperlyConfigured``."""
    if aws is None:
        aws = getattr(settings, "AWS", None) or {}
    if not isinstance(aws, Mapping):
        raise ImproperlyConfigured("The AWS setting must be a dict.")
    options: dict[str, Any] = {}
    for key, value in aws.items():
        option = aws_key_to_option(str(key))
        if option is None:
            raise ImproperlyConfigured(f"Unknown key {key!r} in the AWS setting.")
        options[option] = value
    return options


def _type_name(t: type) -> str:
    return "None" if t is _NONE else t.__name__


def _unsafe(text: str) -> bool:
    """Whitespace other than a space, control characters or backslashes: never in a prefix."""
    return any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in text)


def _clean_prefix(value: str, label: str, *, required: bool) -> str:
    """``location`` / ``upload_prefix``: a relative key prefix, without the outer slashes."""
    stripped = value.strip("/")
    if not stripped:
        if required:
            raise ImproperlyConfigured(
                f"{label} must be a non-empty key prefix such as 'uploads/', not {value!r}."
            )
        return ""
    segments = stripped.split("/")
    if _unsafe(stripped) or any(s in ("", ".", "..") for s in segments):
        raise ImproperlyConfigured(
            f"{label} must be a relative key prefix such as 'media/files' (no '.' or '..' "
            f"segments, no '//', backslashes or control characters), not {value!r}."
        )
    return stripped


def _validate(values: dict[str, Any], source: dict[str, str]) -> None:
    """Check every option's type and value; normalise a few in place (once per storage).

    Everything boto3 would otherwise only refuse at the first request (or, worse, accept and
    misbehave with) is refused here, with ``ImproperlyConfigured`` naming the key.
    """
    from urllib.parse import urlsplit

    import botocore
    from boto3.s3.transfer import S3Transfer, TransferConfig
    from botocore.config import Config
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import (
        is_valid_endpoint_url,
        is_valid_ipv6_endpoint_url,
        validate_region_name,
    )

    def where(name: str) -> str:
        return f"{source.get(name, 'option')} {name!r}"

    def bad(name: str, must: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{where(name)} {must}, not {values[name]!r}.")

    for name in _EMPTY_IS_UNSET:
        if values.get(name) == "":
            values[name] = None
    bucket = values.get("bucket_name")
    if not bucket:
        raise ImproperlyConfigured(
            "No S3 bucket configured: set AWS['BUCKET'] or the storage option 'bucket_name'."
        )
    for name, types in _TYPES.items():
        value = values.get(name)
        if name not in values or (value is None and _NONE in types):
            continue
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ImproperlyConfigured(
                f"{where(name)} must be of type {' or '.join(map(_type_name, types))},"
                f" not {type(value).__name__}."
            )
    for name, (least, greatest) in _INT_RANGES.items():
        value = values.get(name)
        if value is not None and not (least <= value and (greatest is None or value <= greatest)):
            if greatest is not None:
                raise bad(name, f"must be between {least} and {greatest}")
            raise bad(
                name, "must be a positive integer" if least else "must be a non-negative integer"
            )
    for name in ("connect_timeout", "read_timeout"):
        value = values.get(name)
        if value is not None and not 0 < value < float("inf"):
            raise bad(name, "must be a positive number of seconds")

    if (values.get("access_key") is None) != (values.get("secret_key") is None):
        raise ImproperlyConfigured(
            "Set both the S3 access key and secret key (AWS['ACCESS_KEY'] and "
            "AWS['SECRET_KEY']), or neither to use boto3's credential chain."
        )
    region = values.get("region_name")
    if region is not None:
        try:
            validate_region_name(region)
        except InvalidRegionError:
            raise bad("region_name", "must be a region name such as 'eu-west-1'") from None
    endpoint = values.get("endpoint_url")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https"):
            raise bad(
                "endpoint_url", "must be an http:// or https:// URL, e.g. 'https://host:9000'"
            )
        try:
            parts.port  # noqa: B018 -- raises ValueError for a bad port
        except ValueError:
            raise bad("endpoint_url", "has an invalid port") from None
        if (
            parts.query
            or parts.fragment
            or not (is_valid_endpoint_url(endpoint) or is_valid_ipv6_endpoint_url(endpoint))
        ):
            raise bad("endpoint_url", "must be a URL with a valid host name, e.g. 'https://host'")
    style = values.get("addressing_style")
    if style is not None and style not in ADDRESSING_STYLES:
        raise bad("addressing_style", f"must be one of {', '.join(ADDRESSING_STYLES)}")
    if "signature_version" in values:
        version = values["signature_version"]
        if version is not botocore.UNSIGNED and (
            not isinstance(version, str) or version not in SIGNATURE_VERSIONS
        ):
            raise bad(
                "signature_version",
                f"must be one of {', '.join(SIGNATURE_VERSIONS)} (SigV4: 's3v4'), "
                "or botocore.UNSIGNED",
            )
    acl = values.get("default_acl")
    if acl is not None and acl not in CANNED_ACLS:
        raise bad("default_acl", f"must be a canned ACL: {', '.join(CANNED_ACLS)}")
    if "location" in values:
        values["location"] = _clean_prefix(values["location"], where("location"), required=False)
    if "upload_prefix" in values:
        prefix = _clean_prefix(values["upload_prefix"], where("upload_prefix"), required=True)
        values["upload_prefix"] = prefix + "/"
    protocol = values.get("url_protocol")
    if protocol is not None:
        if protocol.lower() in ("http", "https"):  # django-storages' form is "https:"
            protocol += ":"
        if protocol.lower() not in URL_PROTOCOLS:
            raise bad("url_protocol", "must be 'https:' or 'http:'")
        values["url_protocol"] = protocol.lower()
    domain = values.get("custom_domain")
    if domain is not None:
        if "://" in domain:
            raise bad(
                "custom_domain",
                "must be a host name (and optional path) without the scheme, e.g. "
                "'cdn.example.com'; the scheme is url_protocol",
            )
        domain = domain.rstrip("/")
        host = urlsplit(f"https://{domain.partition('/')[0]}")
        try:
            host.port  # noqa: B018 -- raises ValueError for a bad port
        except ValueError:
            raise bad("custom_domain", "has an invalid port") from None
        if not host.hostname or _unsafe(domain) or any(c in domain for c in " ?#"):
            raise bad("custom_domain", "must be a host name such as 'cdn.example.com'")
        values["custom_domain"] = domain
    parameters = values.get("object_parameters")
    if parameters:
        allowed = S3Transfer.ALLOWED_UPLOAD_ARGS
        unknown = sorted(str(k) for k in parameters if k not in allowed)
        if unknown:
            raise ImproperlyConfigured(
                f"{where('object_parameters')} has keys boto3 does not upload with: "
                f"{', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
            )
    if values.get("transfer_config") is not None and not isinstance(
        values["transfer_config"], TransferConfig
    ):
        raise bad("transfer_config", "must be a boto3.s3.transfer.TransferConfig")
    if values.get("client_config") is not None and not isinstance(values["client_config"], Config):
        raise bad("client_config", "must be a botocore.config.Config")


def resolve(options: Mapping[str, Any], aws: Any = None) -> S3Settings:
    """Merge the ``AWS`` dict and storage options (the option wins) into ``S3Settings``."""
    check_option_names(options)
    from_aws = read_aws_dict(aws)
    source = {name: f"AWS[{_OPTION_TO_AWS_KEY.get(name, name.upper())!r}]" for name in from_aws}
    source.update({name: "option" for name in options})
    values = {**from_aws, **{k: v for k, v in options.items() if v is not None}}
    _validate(values, source)
    return S3Settings(**values)
