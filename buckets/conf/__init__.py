"""One place that reads the ``AWS`` settings dict and storage options.

Every option has one lower-case name (django-storages' name where one exists, so users can
move over by changing the backend path) and the ``AWS`` dict uses the upper-case form.
A storage option wins over the ``AWS`` dict. Anything unknown or missing raises
``ImproperlyConfigured`` naming the key, because a typo in a settings dict should never
silently fall back to a default.

Each option is declared once, as a field of :class:`S3Settings`: the field's name, type
annotation and default are the option's, and its :func:`option` call says the rest. The
validator reads nothing else (:data:`OPTIONS` is that table, one :class:`Option` a row), so
a new way of naming options, such as django-storages' global ``AWS_*`` settings or a
storage subclass's class attributes, is one more column in :func:`option` and one more
source in :func:`resolve`, not a branch per option.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from buckets.conf import values as valid
from buckets.signing.limits import MAX_OBJECT_SIZE, MAX_URL_EXPIRES, S3_MAX_POST_SIZE

__all__ = ["S3Settings", "check_option_names", "read_aws_dict", "resolve"]


def option(
    default: Any = dataclasses.MISSING,
    *,
    factory: Callable[[], Any] | None = None,
    aws_key: str | None = None,
    required: str | None = None,
    check: valid.Check | None = None,
) -> Any:
    """Declare an option: an ``S3Settings`` field with ``default`` (or a fresh ``factory()``).

    ``aws_key``: its ``AWS`` dict key, when not the name upper-cased. ``required``: what is
    missing (``"S3 bucket"``) when it is not set; an option with no default needs it.
    ``check``: a value check from ``buckets.conf.values``, run after the type check,
    whose result is the value kept.
    """
    metadata = {"aws_key": aws_key, "required": required, "check": check}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class S3Settings:
    """The resolved configuration of one storage (frozen: a storage never changes under
    you), and the declaration of every option: one field each."""

    bucket_name: str = option(aws_key="BUCKET", required="S3 bucket")
    access_key: str | None = option(None)
    secret_key: str | None = option(None)
    security_token: str | None = option(None)
    session_profile: str | None = option(None)
    region_name: str | None = option(None, aws_key="REGION", check=valid.region_name)
    endpoint_url: str | None = option(None, check=valid.endpoint_url)
    addressing_style: str | None = option(None, check=valid.one_of(valid.ADDRESSING_STYLES))
    #: One of ``valid.SIGNATURE_VERSIONS``, or ``botocore.UNSIGNED``.
    signature_version: Any = option("s3v4", check=valid.signature_version)
    location: str = option("", check=valid.location)
    querystring_auth: bool = option(True)
    querystring_expire: int = option(3600, check=valid.between(1, MAX_URL_EXPIRES))
    custom_domain: str | None = option(None, check=valid.custom_domain)
    url_protocol: str = option("https:", check=valid.url_protocol)
    default_acl: str | None = option(
        None, check=valid.one_of(valid.CANNED_ACLS, "must be a canned ACL: {}")
    )
    object_parameters: Mapping[str, Any] = option(factory=dict, check=valid.object_parameters)
    file_overwrite: bool = option(False)
    #: Bytes of a file being written (``open(name, "wb")``) held in memory before the part
    #: being filled moves to a temporary file; 0: no limit (django-storages' meaning).
    max_memory_size: int = option(8 * 1024**2, check=valid.between(0))
    transfer_config: Any = option(None, check=valid.instance_of("boto3.s3.transfer.TransferConfig"))
    client_config: Any = option(None, check=valid.instance_of("botocore.config.Config"))
    connect_timeout: float = option(10.0, check=valid.seconds)
    read_timeout: float = option(60.0, check=valid.seconds)
    max_attempts: int = option(3, check=valid.between(0))
    verify: bool | str | None = option(None)
    #: The site's cap on an uploaded file, in bytes; None: S3's own limit for the upload's
    #: path (:meth:`upload_size_limit`).
    max_file_size: int | None = option(None, check=valid.between(1, MAX_OBJECT_SIZE))
    upload_prefix: str = option("uploads/", check=valid.upload_prefix)
    upload_expire: int = option(600, check=valid.between(1))

    def upload_size_limit(self, max_size: int | None = None, *, multipart: bool = False) -> int:
        """The largest file, in bytes, a direct upload to this storage may be: ``max_size``
        (a field's limit) when given, capped by ``max_file_size`` when set, capped by S3's
        limit for the upload's path: one POST takes at most 5 GiB, a ``multipart`` upload
        one object's most, 5 TiB. The one rule for the policy, the signed-URL and multipart
        views, the widget's hint and the test uploads.

        ``max_file_size`` left unset (None) is S3's limit for each path, which a single
        number could not say: a site that sets it to 5 GiB caps multipart uploads too.
        """
        ceiling = MAX_OBJECT_SIZE if multipart else S3_MAX_POST_SIZE
        caps = [cap for cap in (max_size, self.max_file_size) if cap]
        return min([ceiling, *caps])


@dataclasses.dataclass(frozen=True)
class Option:
    """One row of the option table, as read off its ``S3Settings`` field."""

    name: str
    aws_key: str
    #: The classes a value may be, from the field's annotation (``float`` takes an ``int``
    #: too, a ``bool`` is never an ``int``); None for ``Any``: the check alone decides.
    types: tuple[type, ...] | None
    #: ``dataclasses.MISSING`` when there is none or it comes from a factory.
    default: Any
    required: str | None
    check: valid.Check | None

    @property
    def empty_is_unset(self) -> bool:
        """An optional string (``str | None``): ``""`` means the same as not set."""
        return self.types == (str, type(None))

    def type_error(self, value: Any) -> str | None:
        """What is wrong with ``value``'s type, or None if it has one the option takes."""
        if self.types is None or (
            isinstance(value, self.types) and (bool in self.types or not isinstance(value, bool))
        ):
            return None
        names = " or ".join("None" if t is type(None) else t.__name__ for t in self.types)
        return f"must be of type {names}, not {type(value).__name__}"


def _isinstance_types(hint: Any) -> tuple[type, ...] | None:
    if hint is Any:
        return None
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    classes: list[type] = []
    for cls in typing.get_args(hint) if union else (hint,):
        cls = typing.get_origin(cls) or cls  # Mapping[str, Any] is checked as Mapping
        classes.extend((int, float) if cls is float else (cls,))
    return tuple(classes)


def _option_table() -> dict[str, Option]:
    hints = typing.get_type_hints(S3Settings)
    return {
        field.name: Option(
            name=field.name,
            aws_key=field.metadata["aws_key"] or field.name.upper(),
            types=_isinstance_types(hints[field.name]),
            default=field.default,
            required=field.metadata["required"],
            check=field.metadata["check"],
        )
        for field in dataclasses.fields(S3Settings)
    }


#: Every option by name, in declaration order (the order they are checked in).
OPTIONS = _option_table()
_OPTION_BY_AWS_KEY = {row.aws_key: row.name for row in OPTIONS.values()}


def check_option_names(options: Mapping[str, Any]) -> None:
    """Raise ``ImproperlyConfigured`` for an unknown storage option (no settings access)."""
    for name in options:
        if name not in OPTIONS:
            raise ImproperlyConfigured(
                f"Unknown S3 storage option {name!r}. Known options: {', '.join(sorted(OPTIONS))}."
            )


def read_aws_dict(aws: Any = None) -> dict[str, Any]:
    """The ``AWS`` setting as option names; unknown keys raise ``ImproperlyConfigured``."""
    if aws is None:
        aws = getattr(settings, "AWS", None) or {}
    if not isinstance(aws, Mapping):
        raise ImproperlyConfigured("The AWS setting must be a dict.")
    options: dict[str, Any] = {}
    for key, value in aws.items():
        name = _OPTION_BY_AWS_KEY.get(key)
        if name is None:
            raise ImproperlyConfigured(f"Unknown key {key!r} in the AWS setting.")
        options[name] = value
    return options


def _validate(values: dict[str, Any], source: Mapping[str, str]) -> None:
    """Check every option's presence, type and value, row by row; keep what the checks
    return (once per storage). ``source`` says where each value came from.

    Everything boto3 would otherwise only refuse at the first request (or, worse, accept and
    misbehave with) is refused here, with ``ImproperlyConfigured`` naming the key.
    """
    for row in OPTIONS.values():
        name = row.name
        if row.empty_is_unset and values.get(name) == "":
            values[name] = None
        value = values.get(name)
        if row.required and not value:
            raise ImproperlyConfigured(
                f"No {row.required} configured: set AWS[{row.aws_key!r}] "
                f"or the storage option {name!r}."
            )
        if name not in values or (value is None and row.default is None):
            continue
        where = f"{source.get(name, 'option')} {name!r}"
        wrong_type = row.type_error(value)
        if wrong_type:
            raise ImproperlyConfigured(f"{where} {wrong_type}.")
        if row.check is not None:
            try:
                values[name] = row.check(value)
            except valid.Refused as refused:
                shown = f", not {value!r}." if refused.quote_value else ""
                raise ImproperlyConfigured(f"{where} {refused.must}{shown}") from None
    if (values.get("access_key") is None) != (values.get("secret_key") is None):
        raise ImproperlyConfigured(
            "Set both the S3 access key and secret key (AWS['ACCESS_KEY'] and "
            "AWS['SECRET_KEY']), or neither to use boto3's credential chain."
        )


def resolve(options: Mapping[str, Any], aws: Any = None) -> S3Settings:
    """Merge the ``AWS`` dict and storage options (the option wins) into ``S3Settings``."""
    check_option_names(options)
    from_aws = read_aws_dict(aws)
    source = {name: f"AWS[{OPTIONS[name].aws_key!r}]" for name in from_aws}
    given = {name: value for name, value in options.items() if value is not None}
    source.update({name: "option" for name in given})
    values = {**from_aws, **given}
    _validate(values, source)
    return S3Settings(**values)
