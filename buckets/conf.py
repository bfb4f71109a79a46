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
    signature_version: str = "s3v4"
    location: str = ""
    querystring_auth: bool = True
    querystring_expire: int = 3600
    custom_domain: str | None = None
    url_protocol: str = "https:"
    default_acl: str | None = None
    object_parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    file_overwrite: bool = False
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

_TYPES: dict[str, tuple[type, ...]] = {
    "bucket_name": (str,),
    "location": (str,),
    "querystring_auth": (bool,),
    "querystring_expire": (int,),
    "file_overwrite": (bool,),
    "max_memory_size": (int,),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "max_attempts": (int,),
    "max_file_size": (int,),
    "upload_prefix": (str,),
    "upload_expire": (int,),
    "object_parameters": (dict,),
}


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


def _validate(values: dict[str, Any], source: dict[str, str]) -> None:
    def where(name: str) -> str:
        return source.get(name, "option")

    bucket = values.get("bucket_name")
    if not bucket:
        raise ImproperlyConfigured(
            "No S3 bucket configured: set AWS['BUCKET'] or the storage option 'bucket_name'."
        )
    for name, types in _TYPES.items():
        if name in values and not isinstance(values[name], types):
            raise ImproperlyConfigured(
                f"{where(name)} {name!r} must be of type {' or '.join(t.__name__ for t in types)},"
                f" not {type(values[name]).__name__}."
            )
        if (
            name in values
            and types == (int,)
            and (isinstance(values[name], bool) or values[name] < 0)
        ):
            raise ImproperlyConfigured(f"{where(name)} {name!r} must be a non-negative integer.")
    style = values.get("addressing_style")
    if style is not None and style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"{where('addressing_style')} 'addressing_style' must be one of "
            f"{', '.join(ADDRESSING_STYLES)}, not {style!r}."
        )
    if bool(values.get("access_key")) != bool(values.get("secret_key")):
        raise ImproperlyConfigured(
            "Set both the S3 access key and secret key (AWS['ACCESS_KEY'] and "
            "AWS['SECRET_KEY']), or neither to use boto3's credential chain."
        )
    size = values.get("max_file_size")
    if size is not None and not 0 < size <= S3_MAX_POST_SIZE:
        raise ImproperlyConfigured(
            f"{where('max_file_size')} 'max_file_size' must be between 1 and {S3_MAX_POST_SIZE}."
        )


def resolve(options: Mapping[str, Any], aws: Any = None) -> S3Settings:
    """Merge the ``AWS`` dict and storage options (the option wins) into ``S3Settings``."""
    check_option_names(options)
    from_aws = read_aws_dict(aws)
    source = {name: f"AWS[{name.upper()!r}]" for name in from_aws}
    source.update({name: "option" for name in options})
    values = {**from_aws, **{k: v for k, v in options.items() if v is not None}}
    _validate(values, source)
    if values.get("location"):
        values["location"] = values["location"].strip("/")
    if values.get("upload_prefix"):
        values["upload_prefix"] = values["upload_prefix"].strip("/") + "/"
    if values.get("custom_domain"):
        values["custom_domain"] = values["custom_domain"].rstrip("/")
    return S3Settings(**values)
