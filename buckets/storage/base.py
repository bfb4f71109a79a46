"""``BucketStorage``: what ``S3Storage`` and the local ``FakeS3Storage`` share, so that the two
behave the same wherever the behaviour is not the server's.

* ``save()`` is Django's, name checks included, but gives ``_save()`` the ``max_length``
  too: a save that loses a race for its name and takes another keeps within it.
* Text content (a ``str`` ``ContentFile``, a file opened in text mode) is stored as UTF-8,
  as Django's ``FileSystemStorage`` and django-storages store it.
* ``get_available_name()`` with ``file_overwrite`` keeps the name, cut to ``max_length``
  as Django's ``FileSystemStorage(allow_overwrite=True)`` cuts it.
* Pickling and ``copy.deepcopy()`` rebuild the storage from its constructor arguments,
  which ``deconstruct()`` still returns afterwards.
* Object metadata (S3's ``x-amz-meta-*``): ``save(..., metadata=...)`` adds to what
  ``object_parameters`` sets, ``metadata(name)`` reads it back (names lower-cased, as S3
  keeps them). ``S3FileField`` marks what it writes with :data:`FIELD_METADATA` and deletes
  as orphans only objects marked with its own label.
* ``copy_to_available_name(src, name)`` writes a new object as ``save()`` would, never
  over an existing one (whatever ``file_overwrite`` says, unless ``overwrite=True``): the
  source's bytes, Content-Type and headers, with ``object_parameters`` and ``default_acl``
  applied, and the source's metadata without its field mark, plus ``metadata``.
"""

from __future__ import annotations

import pathlib
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name

from buckets.signing import post_policy as policy
from buckets.storage.files import as_binary
from buckets.storage.keys import clean_name
from buckets.storage.multipart import MultipartUploads

if TYPE_CHECKING:
    from buckets import conf

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


def copy_parameters(
    source: Mapping[str, Any],
    params: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """PutObject arguments for a copy of an object with ``source``'s (its Content-Type,
    :data:`COPIED_PARAMETERS` and ``Metadata``), written with ``params``
    (``object_parameters``, which win) and ``metadata`` added. The source's metadata is
    kept but for the field mark: the copy is not what that field wrote."""
    args = {p: source[p] for p in ("ContentType", *COPIED_PARAMETERS) if source.get(p)}
    args.update(params)
    kept = {k.lower(): v for k, v in (source.get("Metadata") or {}).items() if k != FIELD_METADATA}
    own = {**(params.get("Metadata") or {}), **(metadata or {})}
    args["Metadata"] = {**kept, **{k.lower(): v for k, v in own.items()}}
    return args


def with_metadata(
    params: Mapping[str, Any], metadata: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``params`` (PutObject arguments) with ``metadata`` added to their ``Metadata``."""
    merged = dict(params)
    if metadata:
        merged["Metadata"] = {**(params.get("Metadata") or {}), **metadata}
    return merged


class BucketStorage(MultipartUploads, Storage):
    """The shared half of both storages; subclasses give ``file_overwrite``, ``_save``,
    ``metadata`` and ``_post_signer``, and the multipart methods (``MultipartUploads``)."""

    if TYPE_CHECKING:  # what the subclasses provide

        @property
        def settings(self) -> conf.S3Settings: ...
        @property
        def bucket_name(self) -> str: ...
        def _key(self, name: str) -> str: ...
        def upload_url(self) -> str: ...

    @property
    def file_overwrite(self) -> bool:
        raise NotImplementedError("subclasses of BucketStorage must provide file_overwrite")

    def save(
        self,
        name: str | None,
        content: Any,
        max_length: int | None = None,
        *,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Django's ``Storage.save()`` (4.2 to 6.0), passing ``max_length`` to ``_save``,
        and ``metadata`` (``x-amz-meta-*``, added to ``object_parameters``' own)."""
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        content = as_binary(content)
        # Django checks the name before and after get_available_name(), and the result.
        validate_file_name(name, allow_relative_path=True)
        name = self.get_available_name(name, max_length=max_length)
        validate_file_name(name, allow_relative_path=True)
        name = self._save(name, content, max_length=max_length, metadata=metadata)
        validate_file_name(name, allow_relative_path=True)
        return name

    def _save(
        self,
        name: str,
        content: Any,
        max_length: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        raise NotImplementedError("subclasses of BucketStorage must provide a _save() method")

    def metadata(self, name: str) -> dict[str, str]:
        """The object's ``x-amz-meta-*`` metadata, names lower-cased (``FileNotFoundError``
        if there is no such object)."""
        raise NotImplementedError("subclasses of BucketStorage must provide metadata()")

    def _post_signer(self, key: str) -> tuple[str, str, str | None, str]:
        """``(access key, secret key, session token, region)`` to sign an upload of
        ``key`` with, once ``key`` is known to be one the storage can hold."""
        raise NotImplementedError("subclasses of BucketStorage must provide _post_signer()")

    def presigned_post(
        self,
        name: str,
        *,
        max_size: int | None = None,
        min_size: int = 0,
        content_type: str | None = None,
        accept: Any = None,
        expire: int | None = None,
        success_action_status: int | None = None,
    ) -> dict[str, Any]:
        """``{"url", "fields"}`` for one browser upload of exactly ``name``.

        The policy pins the key, the size (``max_size`` or ``MAX_FILE_SIZE``) and the
        Content-Type: ``content_type`` (or, undeclared, the one exact type of ``accept``, or
        ``application/octet-stream``) as
        :func:`buckets.signing.post_policy.signed_content_type` signs it.
        ``PolicyError`` (a ``ValueError``) for a request that must not be signed.
        """
        s = self.settings
        key = self._key(name)
        access_key, secret_key, token, region = self._post_signer(key)
        fields, _ = policy.build_post_policy(
            bucket=self.bucket_name,
            key=key,
            access_key=access_key,
            secret_key=secret_key,
            token=token,
            region=region,
            max_size=min(max_size, s.max_file_size) if max_size else s.max_file_size,
            min_size=min_size,
            content_type=content_type,
            accept=accept,
            success_action_status=success_action_status,
            expires=s.upload_expire if expire is None else expire,
        )
        return {"url": self.upload_url(), "fields": fields}

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.available_name(name, max_length, overwrite=self.file_overwrite)

    def available_name(self, name: str, max_length: int | None, *, overwrite: bool) -> str:
        """``get_available_name()`` as if ``file_overwrite`` were ``overwrite``: a free
        name (Django's rule) or, overwriting, the name cut to ``max_length``."""
        name = clean_name(name)
        if not overwrite:
            return str(super().get_available_name(name, max_length=max_length))
        return fit_name(name, max_length)

    def __getstate__(self) -> dict[str, Any]:
        # Clients, locks and thread-locals don't pickle; the constructor arguments rebuild
        # them, and deconstruct() must still give those arguments after a round trip.
        return {"_constructor_args": self._constructor_args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        args, kwargs = state["_constructor_args"]
        self.__init__(*args, **kwargs)  # type: ignore[misc]
        self._constructor_args = (args, kwargs)

    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]


def fit_name(name: str, max_length: int | None) -> str:
    """``name`` with its file name's root cut to fit ``max_length`` (extensions kept), as
    Django's ``FileSystemStorage(allow_overwrite=True)`` does; ``SuspiciousFileOperation``
    when even an empty root would not fit."""
    dir_name, file_name = posixpath.split(name)
    validate_file_name(file_name)
    if max_length is None or len(name) <= max_length:
        return name
    file_ext = "".join(pathlib.PurePath(file_name).suffixes)
    file_root = file_name.removesuffix(file_ext)
    file_root = file_root[: -(len(name) - max_length)]
    if not file_root:
        raise SuspiciousFileOperation(
            f'Storage can not find an available filename for "{name}". Please make sure '
            'that the corresponding file field allows sufficient "max_length".'
        )
    return posixpath.join(dir_name, file_root + file_ext)


def name_type_error(name: Any) -> TypeError:
    """The error for a name that is no ``str`` (``url(None)``: a field with no file)."""
    return TypeError(f"A file name must be a str, not {type(name).__name__}.")
