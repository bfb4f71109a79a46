"""One place that reads the storage options, wherever they are set.

Every option has one lower-case name (django-storages' name where one exists, so users can
move over by changing the backend path) and the ``AWS`` dict uses the upper-case form.
Four sources, the first that sets an option wins (``None`` as an option, class attribute or
global setting sets nothing, as in django-storages):

1. the storage's options (``STORAGES[...]["OPTIONS"]``, ``S3Storage(...)``);
2. class attributes of an ``S3Storage`` subclass (``location = "media"``);
3. the ``AWS`` dict;
4. django-storages' global settings (``AWS_STORAGE_BUCKET_NAME``, ``AWS_S3_*``...).

The first, second and fourth are django-storages' own order: its storage sets every
keyword argument over the instance, and fills a setting's value in only where the class has
no attribute of that name. The ``AWS`` dict is this project's own global setting, named on
purpose, so it wins over the global names a settings file may keep from before.
Anything unknown or missing raises ``ImproperlyConfigured`` naming the key, because a typo
in a settings dict should never silently fall back to a default; so does a django-storages
name with no meaning here (:mod:`buckets.conf.storages_names`).

Each option is declared once, as a field of :class:`S3Settings`: the field's name, type
annotation and default are the option's, and its :func:`option` call says the rest. The
validator reads nothing else (:data:`OPTIONS` is that table, one :class:`Option` a row,
read off the fields by :mod:`buckets.conf.table`): django-storages' global names are the
``setting`` column of :func:`option`, and each way of naming options is one source in
:func:`resolve`, never a branch per option.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from buckets.conf import storages_names
from buckets.conf import values as valid
from buckets.conf.storages_names import refusal, setting_refusal
from buckets.conf.table import Option, option, option_table
from buckets.signing.limits import MAX_OBJECT_SIZE, MAX_URL_EXPIRES, S3_MAX_POST_SIZE

__all__ = [
    "CLASS_ATTRIBUTES",
    "GLOBAL_SETTINGS",
    "OPTIONS",
    "Option",
    "S3Settings",
    "check_option_names",
    "read_aws_dict",
    "read_storages_globals",
    "resolve",
]


@dataclasses.dataclass(frozen=True)
class S3Settings:
    """The resolved configuration of one storage (frozen: a storage never changes under
    you), and the declaration of every option: one field each."""

    bucket_name: str = option(
        aws_key="BUCKET", setting="AWS_STORAGE_BUCKET_NAME", required="S3 bucket"
    )
    access_key: str | None = option(None, setting=("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"))
    secret_key: str | None = option(
        None, setting=("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
    )
    security_token: str | None = option(None, setting=("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"))
    session_profile: str | None = option(None, setting="AWS_S3_SESSION_PROFILE")
    region_name: str | None = option(
        None, aws_key="REGION", setting="AWS_S3_REGION_NAME", check=valid.region_name
    )
    endpoint_url: str | None = option(None, setting="AWS_S3_ENDPOINT_URL", check=valid.endpoint_url)
    use_ssl: bool = option(True, setting="AWS_S3_USE_SSL")
    addressing_style: str | None = option(
        None, setting="AWS_S3_ADDRESSING_STYLE", check=valid.one_of(valid.ADDRESSING_STYLES)
    )
    #: One of ``valid.SIGNATURE_VERSIONS``, or ``botocore.UNSIGNED``.
    signature_version: Any = option(
        "s3v4", setting="AWS_S3_SIGNATURE_VERSION", check=valid.signature_version
    )
    location: str = option("", setting="AWS_LOCATION", check=valid.location)
    querystring_auth: bool = option(True, setting="AWS_QUERYSTRING_AUTH")
    querystring_expire: int = option(
        3600, setting="AWS_QUERYSTRING_EXPIRE", check=valid.between(1, MAX_URL_EXPIRES)
    )
    #: False: none (django-storages' way to switch off a global one in a subclass).
    custom_domain: str | None = option(
        None, setting="AWS_S3_CUSTOM_DOMAIN", check=valid.custom_domain
    )
    url_protocol: str = option("https:", setting="AWS_S3_URL_PROTOCOL", check=valid.url_protocol)
    #: CloudFront signed URLs for ``custom_domain`` with ``querystring_auth``: the key pair's
    #: id and its PEM private key (the ``cloudfront`` extra).
    cloudfront_key_id: str | None = option(None, setting="AWS_CLOUDFRONT_KEY_ID")
    cloudfront_key: str | bytes | None = option(
        None, setting="AWS_CLOUDFRONT_KEY", check=valid.cloudfront_key
    )
    default_acl: str | None = option(
        None,
        setting="AWS_DEFAULT_ACL",
        check=valid.one_of(valid.CANNED_ACLS, "must be a canned ACL: {}"),
    )
    object_parameters: Mapping[str, Any] = option(
        factory=dict, setting="AWS_S3_OBJECT_PARAMETERS", check=valid.object_parameters
    )
    #: Saves with one of ``gzip_content_types`` are stored compressed, ``Content-Encoding:
    #: gzip`` (unless ``object_parameters`` set a ``ContentEncoding``).
    gzip: bool = option(False, setting="AWS_IS_GZIPPED")
    gzip_content_types: Sequence[str] = option(
        valid.GZIP_CONTENT_TYPES, setting="GZIP_CONTENT_TYPES", check=valid.content_types
    )
    file_overwrite: bool = option(False, setting="AWS_S3_FILE_OVERWRITE")
    #: Bytes of a file being written (``open(name, "wb")``) held in memory before the part
    #: being filled moves to a temporary file; 0: no limit (django-storages' meaning).
    max_memory_size: int = option(
        8 * 1024**2, setting="AWS_S3_MAX_MEMORY_SIZE", check=valid.between(0)
    )
    transfer_config: Any = option(
        None,
        setting="AWS_S3_TRANSFER_CONFIG",
        check=valid.instance_of("boto3.s3.transfer.TransferConfig"),
    )
    client_config: Any = option(
        None, setting="AWS_S3_CLIENT_CONFIG", check=valid.instance_of("botocore.config.Config")
    )
    #: botocore's ``proxies``: ``{"https": "http://proxy:3128"}``.
    proxies: Mapping[str, str] | None = option(None, setting="AWS_S3_PROXIES", check=valid.proxies)
    connect_timeout: float = option(10.0, check=valid.seconds)
    read_timeout: float = option(60.0, check=valid.seconds)
    max_attempts: int = option(3, check=valid.between(0))
    verify: bool | str | None = option(None, setting="AWS_S3_VERIFY")
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


#: Every option by name, in declaration order (the order they are checked in).
OPTIONS = option_table(S3Settings)
_OPTION_BY_AWS_KEY = {row.aws_key: row.name for row in OPTIONS.values()}
#: django-storages' global settings django-buckets reads, to use or to refuse (a change
#: resets storages).
GLOBAL_SETTINGS = frozenset(name for row in OPTIONS.values() for name in row.settings) | {
    row.setting for row in storages_names.NO_MEANING.values() if row.setting
}
#: The class attributes of a storage subclass read as options, or refused as
#: django-storages' with no meaning here.
CLASS_ATTRIBUTES = frozenset(OPTIONS) | {n for n in storages_names.NO_MEANING if n.islower()}


def check_option_names(options: Mapping[str, Any], where: str = "storage option") -> None:
    """Raise ``ImproperlyConfigured`` for an unknown storage option, or django-storages'
    with no meaning here (no settings access). ``where``: what ``options`` are."""
    for name, value in options.items():
        if name in OPTIONS:
            continue
        message = refusal(name, value, f"The {where}")
        if message is not None:
            raise ImproperlyConfigured(message)
        if name not in storages_names.NO_MEANING:
            raise ImproperlyConfigured(
                f"Unknown S3 {where} {name!r}. Known options: {', '.join(sorted(OPTIONS))}."
            )


def read_storages_globals(django_settings: Any = None) -> dict[str, tuple[Any, str]]:
    """django-storages' global settings as ``{option: (value, where it was set)}`` (unset
    and None ones left out), then the environment variables it reads where no setting is
    set (:data:`~buckets.conf.storages_names.ENVIRONMENT`); ``ImproperlyConfigured`` for a
    setting with no meaning here."""
    if django_settings is None:
        django_settings = settings
    message = setting_refusal(django_settings)
    if message is not None:
        raise ImproperlyConfigured(message)
    found: dict[str, tuple[Any, str]] = {}
    for row in OPTIONS.values():
        for setting_name in row.settings:
            value = getattr(django_settings, setting_name, None)
            if value is not None:
                found[row.name] = (value, f"setting {setting_name}")
                break
    for name, variable in storages_names.ENVIRONMENT.items():
        if name not in found and os.environ.get(variable):
            found[name] = (os.environ[variable], f"environment variable {variable}")
    return found


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
        if row.empty_is_unset and (values.get(name) == "" or values.get(name) is False):
            values[name] = None  # django-storages' custom_domain = False
        value = values.get(name)
        if row.required and not value:
            raise ImproperlyConfigured(
                f"No {row.required} configured: set AWS[{row.aws_key!r}], "
                f"the storage option {name!r} or django-storages' {row.settings[0]}."
            )
        if name not in values or (value is None and row.default is None):
            continue
        where = source.get(name, f"option {name!r}")
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
    if (values.get("cloudfront_key_id") is None) != (values.get("cloudfront_key") is None):
        raise ImproperlyConfigured(
            "Set both cloudfront_key_id and cloudfront_key (AWS_CLOUDFRONT_KEY_ID and "
            "AWS_CLOUDFRONT_KEY), or neither."
        )


def resolve(
    options: Mapping[str, Any],
    aws: Any = None,
    *,
    class_attributes: Mapping[str, Any] | None = None,
    storages_globals: Mapping[str, tuple[Any, str]] | None = None,
) -> S3Settings:
    """Merge the four sources (the module's docstring: options win, then
    ``class_attributes``, the ``AWS`` dict, django-storages' ``storages_globals``) into
    ``S3Settings``. ``aws`` and ``storages_globals`` are read from the Django settings
    when not given."""
    check_option_names(options)
    check_option_names(class_attributes or {}, "class attribute")
    if storages_globals is None:
        storages_globals = read_storages_globals()
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for name, (value, where) in storages_globals.items():
        values[name], source[name] = value, f"{where} ({name!r})"
    for name, value in read_aws_dict(aws).items():
        values[name], source[name] = value, f"AWS[{OPTIONS[name].aws_key!r}] {name!r}"
    for where, given in (("class attribute", class_attributes or {}), ("option", options)):
        for name, value in given.items():
            if value is not None and name in OPTIONS:
                values[name], source[name] = value, f"{where} {name!r}"
    _validate(values, source)
    return S3Settings(**values)
