"""``BucketStorage``: what ``S3Storage`` and the local ``FakeS3Storage`` share, so that the two
behave the same wherever the behaviour is not the server's.

* ``save()`` is Django's, name checks included, but gives ``_save()`` the ``max_length``
  too: a save that loses a race for its name and takes another keeps within it.
* Text content (a ``str`` ``ContentFile``, a file opened in text mode) is stored as UTF-8,
  as Django's ``FileSystemStorage`` and django-storages store it.
* ``get_available_name()`` with ``file_overwrite`` keeps the name, cut to ``max_length``
  as Django's ``FileSystemStorage(allow_overwrite=True)`` cuts it.
* Settings are resolved once (``ImproperlyConfigured`` naming a wrong key, at
  ``check_settings()`` or first use) and read again after a change, in tests, to one of the
  Django settings the class lists in ``RESET_ON``.
* A subclass configures the storage with class attributes, as django-storages' subclasses
  do (``location = "media"``, ``default_acl = "public-read"``): every attribute named as an
  option is one (:data:`buckets.conf.CLASS_ATTRIBUTES`), between the storage options and
  the settings, and is checked as they are.
* ``_save()`` rewinds the content first: a file a form already read is saved whole. A save
  that must not overwrite retries with the next available name while a concurrent save
  takes the one it tried (:meth:`BucketStorage._write_to_free_name`).
* What an object is written with (Content-Type, headers, metadata, ACL) is one rule,
  :mod:`buckets.storage.put_args`.
* ``get_modified_time()`` is aware (UTC) with ``USE_TZ``, naive local time without, as
  Django's ``FileSystemStorage`` gives it.
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

Over 300 lines because of this docstring: the code is the shared half's methods, each a few
lines, and the contract above is what both storages promise; splitting it would put the
promise apart from the one place that keeps it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.core.signals import setting_changed
from django.utils import timezone as dj_timezone
from django.utils.functional import cached_property

from buckets import conf
from buckets.signing import post_policy as policy
from buckets.storage.files import as_binary
from buckets.storage.keys import clean_name, fit_name, name_to_key
from buckets.storage.multipart import MultipartUploads
from buckets.storage.put_args import FIELD_METADATA, put_args

__all__ = ["FIELD_METADATA", "NAME_ATTEMPTS", "BucketStorage", "name_type_error"]

#: How many names a save that must not overwrite tries, each taken meanwhile by another save.
NAME_ATTEMPTS = 20

logger = logging.getLogger(__name__)

_live_storages: weakref.WeakSet[BucketStorage] = weakref.WeakSet()


class BucketStorage(MultipartUploads, Storage):
    """The shared half of both storages; subclasses give ``_write``, ``_last_modified``,
    ``metadata``, ``upload_url`` and ``_post_signer``, the multipart methods
    (``MultipartUploads``), and list in ``CACHED`` what they compute from the settings."""

    #: The Django settings whose change (``setting_changed``, as tests send it) drops
    #: what the storage computed from them.
    RESET_ON: ClassVar[frozenset[str]] = frozenset({"AWS", *conf.GLOBAL_SETTINGS})
    #: The options a subclass sets as class attributes (:meth:`__init_subclass__`).
    class_options: ClassVar[dict[str, Any]] = {}
    #: The cached attributes computed from the settings.
    CACHED: ClassVar[tuple[str, ...]] = ("settings",)

    if TYPE_CHECKING:  # what the subclasses provide

        def upload_url(self) -> str: ...

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Read the subclass's class attributes named as options into ``class_options``.

        One that would hide the storage's own property or cached value of that name
        (``location``, ``bucket_name``, ``file_overwrite``, ``transfer_config``) is taken
        off the class, so the storage answers with the checked, resolved value.
        """
        super().__init_subclass__(**kwargs)
        options = dict(cls.class_options)
        for name in sorted(conf.CLASS_ATTRIBUTES & vars(cls).keys()):
            value = vars(cls)[name]
            if hasattr(value, "__get__"):  # the storage's own property or method
                continue
            options[name] = value
            if any(hasattr(vars(base).get(name), "__get__") for base in cls.__mro__[1:]):
                delattr(cls, name)
        cls.class_options = options

    def __init__(self, **options: Any) -> None:
        conf.check_option_names(options)
        conf.check_option_names(self.class_options, "class attribute")
        self._options = options
        _live_storages.add(self)

    # -- configuration -------------------------------------------------------------------

    @cached_property
    def settings(self) -> conf.S3Settings:
        """The resolved settings, read once until one of ``RESET_ON`` changes."""
        return self.resolve_settings()

    def resolve_settings(self) -> conf.S3Settings:
        """The ``AWS`` setting and the storage options, resolved (``ImproperlyConfigured``
        naming the key if they are wrong)."""
        return conf.resolve(self._options, class_attributes=self.class_options)

    def check_settings(self) -> None:
        """Resolve the settings now: ``ImproperlyConfigured`` naming the key if they are wrong."""
        self.settings  # noqa: B018

    def _reset(self) -> None:
        for attr in self.CACHED:
            self.__dict__.pop(attr, None)

    @property
    def bucket_name(self) -> str:
        return self.settings.bucket_name

    @property
    def location(self) -> str:
        return self.settings.location

    @property
    def file_overwrite(self) -> bool:
        return self.settings.file_overwrite

    def _key(self, name: str) -> str:
        return name_to_key(name, self.location)

    # -- writing -------------------------------------------------------------------------

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
        """Write ``content`` from its start (a form may have read it) under ``name``, or,
        unless ``file_overwrite``, under the next available name if ``name`` is taken
        meanwhile; return the name used."""
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        return self._write(name, content, max_length, metadata)

    def _write(
        self,
        name: str,
        content: Any,
        max_length: int | None,
        metadata: Mapping[str, str] | None,
    ) -> str:
        raise NotImplementedError("subclasses of BucketStorage must provide _write()")

    def _put_args(
        self, name: str, content: Any = None, metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """What an object written under ``name`` is written with
        (:func:`buckets.storage.put_args.put_args`)."""
        return put_args(self.settings, name, content, metadata, self.get_object_parameters(name))

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """The PutObject arguments of an object written (saved, opened for writing or
        copied) under ``name``: ``object_parameters``. django-storages' hook for
        per-object arguments, such as a ``ContentDisposition`` for some names: a subclass
        that overrides it works unchanged."""
        return dict(self.settings.object_parameters)

    def _write_to_free_name(
        self, name: str, max_length: int | None, write: Callable[[str], None]
    ) -> str:
        """``write(name)``, which raises ``FileExistsError`` when ``name`` is taken (never
        replacing that object), retried with the next available name (within
        ``max_length``) until one is free; the name used. Two concurrent saves of one name
        thus get two names, never one object."""
        for _ in range(NAME_ATTEMPTS):
            try:
                write(name)
            except FileExistsError:
                taken = name
                name = self.available_name(name, max_length, overwrite=False)
                logger.debug("%s was taken meanwhile; trying %s", taken, name)
                continue
            return clean_name(name)
        raise OSError(f"Could not find a free name for {name!r} after {NAME_ATTEMPTS} attempts.")

    # -- reading -------------------------------------------------------------------------

    def metadata(self, name: str) -> dict[str, str]:
        """The object's ``x-amz-meta-*`` metadata, names lower-cased (``FileNotFoundError``
        if there is no such object)."""
        raise NotImplementedError("subclasses of BucketStorage must provide metadata()")

    def get_modified_time(self, name: str) -> datetime:
        """When the object was last written: aware (UTC) with ``USE_TZ``, else naive."""
        modified = self._last_modified(name)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=timezone.utc)
        if dj_timezone.is_naive(dj_timezone.now()):  # USE_TZ = False
            return dj_timezone.make_naive(modified)
        return modified

    def _last_modified(self, name: str) -> datetime:
        """When the object was last written, as the server says (naive means UTC)."""
        raise NotImplementedError("subclasses of BucketStorage must provide _last_modified()")

    # -- uploads ---------------------------------------------------------------------------

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
        :func:`buckets.signing.content_types.signed_content_type` signs it.
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
            max_size=s.upload_size_limit(max_size),
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


def name_type_error(name: Any) -> TypeError:
    """The error for a name that is no ``str`` (``url(None)``: a field with no file)."""
    return TypeError(f"A file name must be a str, not {type(name).__name__}.")


def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    for storage in list(_live_storages):
        if setting in storage.RESET_ON:
            storage._reset()


setting_changed.connect(_reset_on_settings_change)
