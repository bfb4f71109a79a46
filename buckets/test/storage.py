"""``FakeS3Storage``: the ``S3Storage`` interface on the local disk, for development and tests.

Objects are files under ``MEDIA_ROOT/<root>`` (storage option ``root``, default ``"s3"``;
an absolute path is used as is). Names follow the very same key rules as ``S3Storage``
(:mod:`buckets.storage.keys`); the disk adds a few of its own and makes every write atomic
(:mod:`buckets.test.disk`). A key S3 could hold but a directory of files cannot (``a/``,
``a//b``) is missing to reads (``exists()`` False, ``FileNotFoundError``), as such a key
with no object is on S3, and refused to writes (``SuspiciousFileOperation``). What the two
storages share (``save()``, text as UTF-8, ``max_length``, pickling) is
:class:`buckets.storage.base.BucketStorage`. Upload policies are signed by
:func:`buckets.signing.post_policy.build_post_policy`, as ``S3Storage`` signs them, and
checked by the fake endpoint (:mod:`buckets.test.views`) with
:func:`buckets.signing.post_verify.verify_post`.

Configuration: the ``AWS`` dict and ``S3Storage``'s storage options are read the same way
(unknown keys are errors), so changing the backend path is the only switch; options that
only matter to a real server (``endpoint_url``, ``custom_domain``...) are accepted and
ignored, and ``object_parameters`` set the headers an object is served with, as on S3
(``CacheControl``, ``ContentDisposition``, ``ContentEncoding``, ``ContentLanguage``,
``ContentType``, ``Expires``, ``Metadata``). Without ``AWS['BUCKET']`` the bucket is
``"fake-bucket"``; without keys, the key pair is derived from ``SECRET_KEY``; without
``REGION``, ``us-east-1``. The ``AWS`` dict's keys count only when they are the fake's
(:func:`aws_credentials_are_the_fakes`): the fake never holds a real storage's credentials.
URLs and upload signing are :mod:`buckets.test.storage_urls`; copies and metadata
:mod:`buckets.test.storage_copies`.

A little over 300 lines because of this docstring, which states what the fake keeps of S3's
behaviour; the rest lives in the modules named above.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.utils.crypto import salted_hmac
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from buckets import conf
from buckets.checks import fake as checks_fake  # noqa: F401 -- registers the DEBUG = False warning
from buckets.storage import gzip_writes
from buckets.storage.base import BucketStorage
from buckets.storage.files import AbortOnErrorFile
from buckets.storage.keys import prefix_for
from buckets.test.disk import (
    CHUNK_SIZE,
    TMP_DIR,
    AtomicWriter,
    Disk,
    Spooled,
    UnholdableKey,
    read_headers,
    read_meta,
)
from buckets.test.headers import served_headers
from buckets.test.storage_copies import FakeCopiesMixin
from buckets.test.storage_multipart import FakeMultipartMixin
from buckets.test.storage_urls import URL_PATH, FakeUrlsMixin, media_path, media_url, own_hosts

__all__ = [
    "TMP_DIR",
    "URL_PATH",
    "FakeS3Storage",
    "Spooled",
    "aws_credentials_are_the_fakes",
    "media_path",
    "media_url",
    "own_hosts",
    "read_headers",
    "read_meta",
]

DEFAULT_BUCKET = "fake-bucket"
DEFAULT_REGION = "us-east-1"
DEFAULT_ROOT = "s3"
#: The options holding credentials: read from the ``AWS`` dict only when they are the fake's.
CREDENTIAL_OPTIONS = frozenset({"access_key", "secret_key", "security_token"})
_CREDENTIAL_AWS_KEYS = frozenset(conf.OPTIONS[name].aws_key for name in CREDENTIAL_OPTIONS)


def aws_credentials_are_the_fakes() -> bool:
    """True when ``STORAGES`` configures a ``FakeS3Storage`` and no ``S3Storage``.

    Only then is the ``AWS`` dict the fake's own settings, so its keys make policies look
    as in production. Beside an ``S3Storage`` (a production site that mounts the fake's
    endpoints by mistake, or a test project using both) they are real credentials, and
    with no fake configured (the endpoints' fallback storage, a field's own fake) nothing
    says they are meant for the fake: the fake never signs, verifies or serves with them.
    """
    from django.utils.module_loading import import_string

    from buckets.storage import S3Storage

    fake = real = False
    for params in (getattr(django_settings, "STORAGES", None) or {}).values():
        try:
            backend = import_string(params.get("BACKEND", ""))
        except ImportError:
            continue
        if isinstance(backend, type):
            fake = fake or issubclass(backend, FakeS3Storage)
            real = real or issubclass(backend, S3Storage)
    return fake and not real


@deconstructible(path="buckets.test.storage.FakeS3Storage")
class FakeS3Storage(FakeUrlsMixin, FakeCopiesMixin, FakeMultipartMixin, BucketStorage):  # type: ignore[misc]
    """Objects as files under ``MEDIA_ROOT/<root>``, served and uploaded like S3 objects
    (``BucketStorage``: what it shares with ``S3Storage``, from ``save()`` to pickling)."""

    #: Besides ``AWS``: ``MEDIA_ROOT`` (the root), ``MEDIA_URL`` (URLs), ``SECRET_KEY`` (the
    #: derived keys), ``STORAGES`` and ``DEFAULT_FILE_STORAGE`` (whose credentials the
    #: ``AWS`` dict holds).
    RESET_ON: ClassVar[frozenset[str]] = frozenset(
        {
            "MEDIA_ROOT",
            "MEDIA_URL",
            "AWS",
            "SECRET_KEY",
            "STORAGES",
            "DEFAULT_FILE_STORAGE",
            *conf.GLOBAL_SETTINGS,
        }
    )
    CACHED: ClassVar[tuple[str, ...]] = ("settings", "root", "disk")

    def __init__(self, **options: Any) -> None:
        self._root_option = options.pop("root", None)
        super().__init__(**options)

    # -- configuration -------------------------------------------------------------------

    def resolve_settings(self) -> conf.S3Settings:
        """The same settings object as ``S3Storage``'s, with the fake's defaults filled in.

        The ``AWS`` dict's credentials are read only when they are the fake's
        (:func:`aws_credentials_are_the_fakes`); otherwise, and when there are none, the
        fake signs with its own storage options' keys, else a pair derived from
        ``SECRET_KEY``.
        """
        raw_aws = getattr(django_settings, "AWS", None) or {}
        aws = conf.read_aws_dict(raw_aws)  # ImproperlyConfigured for a bad AWS setting
        storages_globals = conf.read_storages_globals()
        options = dict(self._options)
        if not any(
            source.get("bucket_name")
            for source in (options, self.class_options, aws, storages_globals)
        ):
            options["bucket_name"] = DEFAULT_BUCKET
        if not aws_credentials_are_the_fakes():
            raw_aws = {
                key: value for key, value in raw_aws.items() if key not in _CREDENTIAL_AWS_KEYS
            }
            storages_globals = {
                name: found
                for name, found in storages_globals.items()
                if name not in CREDENTIAL_OPTIONS
            }
        resolved = conf.resolve(
            options,
            raw_aws,
            class_attributes=self.class_options,
            storages_globals=storages_globals,
        )
        changes: dict[str, Any] = {"region_name": resolved.region_name or DEFAULT_REGION}
        if not resolved.access_key:
            secret = django_settings.SECRET_KEY
            digest = salted_hmac(
                "buckets.test.access-key", "", secret=secret, algorithm="sha256"
            ).hexdigest()
            changes["access_key"] = "FAKE" + digest[:16].upper()
            changes["secret_key"] = salted_hmac(
                "buckets.test.secret-key", "", secret=secret, algorithm="sha256"
            ).hexdigest()[:40]
        return dataclasses.replace(resolved, **changes)

    @cached_property
    def root(self) -> str:
        """The absolute directory holding the objects (not created until a write)."""
        option = self._root_option if self._root_option is not None else DEFAULT_ROOT
        if os.path.isabs(option):
            return os.path.normpath(option)
        if not django_settings.MEDIA_ROOT:
            raise ImproperlyConfigured(
                "FakeS3Storage keeps files under MEDIA_ROOT: set MEDIA_ROOT, "
                "or give the storage an absolute 'root' option."
            )
        return os.path.normpath(os.path.join(str(django_settings.MEDIA_ROOT), option))

    @property
    def region(self) -> str:
        return self.settings.region_name or DEFAULT_REGION

    def secret_for(self, access_key: str) -> str | None:
        """The secret of this fake's one key pair, for ``post_verify.verify_post``."""
        return self.settings.secret_key if access_key == self.settings.access_key else None

    @cached_property
    def disk(self) -> Disk:
        """The files under the root: key checks, atomic writes (``buckets.test.disk``)."""
        return Disk(self.root)

    # -- keys and paths ------------------------------------------------------------------

    def key_path(self, key: str) -> str:
        """The file holding ``key`` (``SuspiciousFileOperation`` if none safely can)."""
        return self.disk.key_path(key)

    def _path(self, name: str) -> str:
        return self.disk.key_path(self._key(name))

    def _object_path(self, name: str) -> str:
        """``_path`` for reading: a key S3 could hold but the disk cannot (``a/``,
        ``a//b``) is no object here, so ``FileNotFoundError``, as S3 answers for it."""
        try:
            return self._path(name)
        except UnholdableKey as exc:
            raise FileNotFoundError(errno.ENOENT, "No such key", name) from exc

    # -- writing -------------------------------------------------------------------------

    def _write(
        self,
        name: str,
        content: Any,
        max_length: int | None,
        metadata: Mapping[str, str] | None,
    ) -> str:
        args = self._put_args(name, content, metadata)
        if gzip_writes.wanted(self.settings, args):  # stored compressed, as on S3
            content = gzip_writes.compress(content, self.settings.max_memory_size)
            args = self._put_args(name, content, metadata)
        chunks = (
            content.chunks(CHUNK_SIZE)
            if hasattr(content, "chunks")
            else iter(lambda: content.read(CHUNK_SIZE), b"")
        )
        self._path(name)  # refuse a bad name before writing anything
        spooled = self.disk.spool(chunks, args["ContentType"], served_headers(args))
        return self._publish(spooled, name, max_length, overwrite=self.file_overwrite)

    def _publish(
        self, spooled: Spooled, name: str, max_length: int | None = None, *, overwrite: bool
    ) -> str:
        """Move a spooled file under ``name`` (replacing it only if ``overwrite``) and
        return the name used. The link that claims a free name fails if the name exists,
        so two concurrent writers of one name get two names, never one file."""
        try:
            return self._write_to_free_name(
                name,
                max_length,
                lambda free: self.disk.publish(spooled.path, self._key(free), overwrite=overwrite),
            )
        finally:
            self.disk.discard(spooled)

    # -- the Storage API -----------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode in ("rb", "r"):
            path = self._object_path(name)
            try:
                stored = open(path, "rb")  # noqa: SIM115 -- closed with the File
                if self.settings.gzip and read_headers(path).get("Content-Encoding") == "gzip":
                    return AbortOnErrorFile(gzip_writes.reader(stored), name)
                return AbortOnErrorFile(stored, name)
            except IsADirectoryError as exc:
                raise FileNotFoundError(errno.ENOENT, "No such key", name) from exc
        if mode in ("wb", "w"):
            key = self._key(name)
            self.disk.key_path(key)
            args = self._put_args(name)
            writer: Any = AtomicWriter(self.disk, key, args["ContentType"], served_headers(args))
            return AbortOnErrorFile(writer, name)
        raise ValueError(f"FakeS3Storage opens files in 'rb' or 'wb' mode, not {mode!r}.")

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        try:
            self.disk.remove(self._key(name))
        except UnholdableKey:
            pass  # no such object can exist here: deleting it is a no-op, as on S3

    def _stat(self, name: str) -> os.stat_result:
        result = os.stat(self._object_path(name))
        if not stat.S_ISREG(result.st_mode):
            raise FileNotFoundError(errno.ENOENT, "No such key", name)
        return result

    def exists(self, name: str) -> bool:
        try:
            return os.path.isfile(self._object_path(name))
        except FileNotFoundError:
            return False

    def size(self, name: str) -> int:
        return self._stat(name).st_size

    def _last_modified(self, name: str) -> datetime:
        return datetime.fromtimestamp(self._stat(name).st_mtime, tz=timezone.utc)

    def path(self, name: str) -> str:
        """Not supported, as on ``S3Storage``: code relying on it would break in production."""
        raise NotImplementedError("FakeS3Storage, like S3Storage, has no local paths.")

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.disk.listdir(prefix_for(path, self.location))
