"""What an object is written with: boto3's PutObject arguments, as both storages build them.

``S3Storage`` sends them to S3; ``FakeS3Storage`` stores the headers S3 would serve from
them. One rule for both, so a site sees the same Content-Type, headers and metadata on
either storage.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buckets.storage.gzip_writes import GzippedContent

if TYPE_CHECKING:
    from buckets import conf

__all__ = ["COPIED_PARAMETERS", "FIELD_METADATA", "copy_args", "put_args", "with_metadata"]

#: The metadata name (``x-amz-meta-buckets-field``) of the field that wrote an object.
FIELD_METADATA = "buckets-field"
#: PutObject parameters a copy keeps from its source unless ``object_parameters`` set them.
COPIED_PARAMETERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
)


def with_metadata(
    params: Mapping[str, Any], metadata: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``params`` (PutObject arguments) with ``metadata`` added to their ``Metadata``."""
    merged = dict(params)
    if metadata:
        merged["Metadata"] = {**(params.get("Metadata") or {}), **metadata}
    return merged


def put_args(
    settings: conf.S3Settings,
    name: str,
    content: Any = None,
    metadata: Mapping[str, str] | None = None,
    object_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The arguments of an object written under ``name``: ``object_parameters`` (the
    storage's ``get_object_parameters(name)`` when given, else the setting) with
    ``metadata`` added, the Content-Type (``object_parameters``' own, else the content's
    ``content_type``, else guessed from the name, else ``application/octet-stream``) and
    ``default_acl`` unless they set an ACL; the content's own ``content_encoding`` when it
    is compressed (:mod:`buckets.storage.gzip_writes`)."""
    params = settings.object_parameters if object_parameters is None else object_parameters
    args = with_metadata(params, metadata)
    if isinstance(content, GzippedContent):
        args.setdefault("ContentEncoding", content.content_encoding)
    args["ContentType"] = (
        args.get("ContentType")
        or getattr(content, "content_type", None)
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    return _with_acl(settings, args)


def copy_args(
    settings: conf.S3Settings,
    source: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
    object_parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The arguments of a copy of an object written with ``source``: its Content-Type,
    :data:`COPIED_PARAMETERS` and ``Metadata``, then ``object_parameters`` (which win),
    ``metadata`` added and ``default_acl``. The source's metadata is kept but for the field
    mark: the copy is not what that field wrote."""
    args = {p: source[p] for p in ("ContentType", *COPIED_PARAMETERS) if source.get(p)}
    params = settings.object_parameters if object_parameters is None else object_parameters
    args.update(params)
    kept = {k.lower(): v for k, v in (source.get("Metadata") or {}).items() if k != FIELD_METADATA}
    own = {**(params.get("Metadata") or {}), **(metadata or {})}
    args["Metadata"] = {**kept, **{k.lower(): v for k, v in own.items()}}
    return _with_acl(settings, args)


def _with_acl(settings: conf.S3Settings, args: dict[str, Any]) -> dict[str, Any]:
    if settings.default_acl and "ACL" not in args:
        args["ACL"] = settings.default_acl
    return args
