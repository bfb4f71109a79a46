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
``url()`` is ``MEDIA_URL`` (``/media/`` when unset) + ``s3/uploads/`` + the quoted key.
"""

from __future__ import annotations

import dataclasses
import errno
import mimetypes
import os
import stat
import weakref
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host
from django.utils import timezone as dj_timezone
from django.utils.crypto import salted_hmac
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from buckets import conf
from buckets.checks import fake as checks_fake  # noqa: F401 -- registers the DEBUG = False warning
from buckets.signing import sigv4 as signing
from buckets.storage.base import BucketStorage, copy_parameters, name_type_error, with_metadata
from buckets.storage.files import AbortOnErrorFile
from buckets.storage.keys import clean_name, name_to_key, prefix_for
from buckets.storage.object_urls import query_params
from buckets.test.disk import (
    CHUNK_SIZE,
    TMP_DIR,
    AtomicWriter,
    Disk,
    Spooled,
    UnholdableKey,
    read_headers,
    read_meta,
    read_parameters,
)
from buckets.test.headers import served_headers
from buckets.test.multipart_store import FakeMultipartMixin

__all__ = ["TMP_DIR", "FakeS3Storage", "Spooled", "read_headers", "read_meta"]

DEFAULT_BUCKET = "fake-bucket"
DEFAULT_REGION = "us-east-1"
DEFAULT_ROOT = "s3"
#: The object URL path under ``MEDIA_URL`` (the upload endpoint is the same without the key).
URL_PATH = "s3/uploads/"
#: The options holding credentials: read from the ``AWS`` dict only when they are the fake's.
CREDENTIAL_OPTIONS = frozenset({"access_key", "secret_key", "security_token"})
_CREDENTIAL_AWS_KEYS = frozenset(conf.OPTIONS[name].aws_key for name in CREDENTIAL_OPTIONS)
_live_storages: weakref.WeakSet[FakeS3Storage] = weakref.WeakSet()


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


def own_hosts() -> list[str]:
    """The hosts whose absolute URLs the fake takes as its own (``validate_host`` patterns).

    ``ALLOWED_HOSTS`` without ``"*"``: a wildcard says which ``Host`` headers the site
    answers, not which hosts are the site's, so it makes no other host's URL ours. A
    ``.example.com`` entry names a domain the site owner listed and stays. With ``DEBUG``
    and no ``ALLOWED_HOSTS``, Django's development hosts (``.localhost``, ``127.0.0.1``,
    ``[::1]``).
    """
    allowed = list(django_settings.ALLOWED_HOSTS)
    if django_settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return [host for host in allowed if host != "*"]


def media_url() -> str:
    """``MEDIA_URL``, or ``/media/`` when unset: the fake always has somewhere to live.

    Django turns an unset (empty) ``MEDIA_URL`` into the script prefix, ``/``; that counts as
    unset too, or the fake would claim the site's root.
    """
    url = django_settings.MEDIA_URL
    if url in ("", "/"):
        url = "/media/"
    return url if url.endswith("/") else url + "/"


def media_path() -> str:
    """The path part of ``MEDIA_URL`` without the leading ``/`` (for URL patterns)."""
    return urlsplit(media_url()).path.lstrip("/")


@deconstructible(path="buckets.test.storage.FakeS3Storage")
class FakeS3Storage(FakeMultipartMixin, BucketStorage):
    """Objects as files under ``MEDIA_ROOT/<root>``, served and uploaded like S3 objects
    (``BucketStorage``: what it shares with ``S3Storage``, from ``save()`` to pickling)."""

    def __init__(self, **options: Any) -> None:
        self._root_option = options.pop("root", None)
        conf.check_option_names(options)
        self._options = options
        _live_storages.add(self)

    def _reset(self) -> None:
        for attr in ("settings", "root", "disk"):
            self.__dict__.pop(attr, None)

    # -- configuration -------------------------------------------------------------------

    @cached_property
    def settings(self) -> conf.S3Settings:
        """The same settings object as ``S3Storage``'s, with the fake's defaults filled in.

        The ``AWS`` dict's credentials are read only when they are the fake's
        (:func:`aws_credentials_are_the_fakes`); otherwise, and when there are none, the
        fake signs with its own storage options' keys, else a pair derived from
        ``SECRET_KEY``.
        """
        raw_aws = getattr(django_settings, "AWS", None) or {}
        aws = conf.read_aws_dict(raw_aws)  # ImproperlyConfigured for a bad AWS setting
        options = dict(self._options)
        if not options.get("bucket_name") and not aws.get("bucket_name"):
            options["bucket_name"] = DEFAULT_BUCKET
        if not aws_credentials_are_the_fakes():
            raw_aws = {
                key: value for key, value in raw_aws.items() if key not in _CREDENTIAL_AWS_KEYS
            }
        resolved = conf.resolve(options, raw_aws)
        changes: dict[str, Any] = {"region_name": resolved.region_name or DEFAULT_REGION}
        if not resolved.access_key:
            secret = django_settings.SECRET_KEY
            digest = salted_hmac("buckets.test.access-key", "", secret=secret).hexdigest()
            changes["access_key"] = "FAKE" + digest[:16].upper()
            changes["secret_key"] = salted_hmac(
                "buckets.test.secret-key", "", secret=secret, algorithm="sha256"
            ).hexdigest()[:40]
        return dataclasses.replace(resolved, **changes)

    def check_settings(self) -> None:
        """Resolve the settings now: ``ImproperlyConfigured`` naming the key if wrong."""
        self.settings  # noqa: B018

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
    def bucket_name(self) -> str:
        return self.settings.bucket_name

    @property
    def location(self) -> str:
        return self.settings.location

    @property
    def file_overwrite(self) -> bool:
        return self.settings.file_overwrite

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

    def _key(self, name: str) -> str:
        return name_to_key(name, self.location)

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

    def _object_meta(
        self, name: str, content: Any = None, metadata: Mapping[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        """The Content-Type and other headers S3 would serve with an object ``S3Storage``
        writes under ``name``: ``object_parameters`` win, then the content's type, then
        the type guessed from the name (as ``S3Storage._put_args``); ``metadata`` added
        to theirs."""
        params = with_metadata(self.settings.object_parameters, metadata)
        content_type = params.get("ContentType") or getattr(content, "content_type", None)
        if not content_type:
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return content_type, served_headers(params)

    def _save(
        self,
        name: str,
        content: Any,
        max_length: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        content_type, headers = self._object_meta(name, content, metadata)
        chunks = (
            content.chunks(CHUNK_SIZE)
            if hasattr(content, "chunks")
            else iter(lambda: content.read(CHUNK_SIZE), b"")
        )
        self._path(name)  # refuse a bad name before writing anything
        spooled = self.disk.spool(chunks, content_type, headers)
        return self._publish(spooled, name, max_length, overwrite=self.file_overwrite)

    def _publish(
        self, spooled: Spooled, name: str, max_length: int | None = None, *, overwrite: bool
    ) -> str:
        """Move a spooled file under ``name`` (replacing it only if ``overwrite``) and
        return the name used. The link that claims a free name fails if the name exists,
        so two concurrent writers of one name get two names, never one file."""
        try:
            for _ in range(20):
                try:
                    self.disk.publish(spooled.path, self._key(name), overwrite=overwrite)
                except FileExistsError:  # taken meanwhile: never overwrite, pick another
                    name = self.available_name(name, max_length, overwrite=False)
                    continue
                return clean_name(name)
        finally:
            self.disk.discard(spooled)
        raise OSError(f"Could not find a free name for {name!r} after 20 attempts.")

    def _spool_copy(
        self, src_name: str, metadata: Mapping[str, str] | None = None, *, replace: bool = True
    ) -> Spooled:
        """The source's bytes in a spooled file, under no key yet, with the Content-Type
        and headers ``S3Storage.copy_to_available_name`` gives a copy (``copy_parameters``:
        the source's, then ``object_parameters``, then ``metadata``), or without
        ``replace`` exactly the source's (S3's CopyObject keeps them all)."""
        src = self._object_path(src_name)
        if replace:
            params = copy_parameters(
                read_parameters(src), self.settings.object_parameters, metadata
            )
            content_type, headers = params.get("ContentType"), served_headers(params)
        else:
            content_type, headers = read_meta(src)[0], read_headers(src)
        try:
            with open(src, "rb") as fh:
                chunks = iter(lambda: fh.read(CHUNK_SIZE), b"")
                return self.disk.spool(chunks, content_type, headers)
        except IsADirectoryError as exc:
            raise FileNotFoundError(errno.ENOENT, "No such key", src_name) from exc

    def copy(self, src_name: str, dst_name: str) -> None:
        """Server-side copy, as S3's CopyObject: ``dst_name`` is replaced if it exists."""
        dst_key = self._key(dst_name)
        self.disk.key_path(dst_key)
        spooled = self._spool_copy(src_name, replace=False)
        try:
            self.disk.publish(spooled.path, dst_key, overwrite=True)
        finally:
            self.disk.discard(spooled)

    def copy_to_available_name(
        self,
        src_name: str,
        name: str,
        max_length: int | None = None,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Copy ``src_name`` to ``name``, or to the next available name; return the name used.

        As ``S3Storage.copy_to_available_name``: unless ``overwrite``, nothing is ever
        replaced (whatever ``file_overwrite`` says) and two concurrent copies to one name
        get two names; the copy is written as ``save()`` writes, ``metadata`` added. It
        is spooled first, then linked under the name (as ``save()`` publishes), so the
        name is claimed and filled in one step: no window, no placeholder.
        """
        name = self.available_name(name, max_length, overwrite=overwrite)
        self._path(name)  # refuse a bad name before reading anything
        spooled = self._spool_copy(src_name, metadata)
        return self._publish(spooled, name, max_length, overwrite=overwrite)

    def metadata(self, name: str) -> dict[str, str]:
        """The object's ``x-amz-meta-*`` metadata, as ``S3Storage.metadata`` (names
        lower-cased; none where the file system keeps no extended attributes)."""
        self._stat(name)
        prefix = "x-amz-meta-"
        headers = read_headers(self._object_path(name))
        return {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}

    # -- the Storage API -----------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode in ("rb", "r"):
            path = self._object_path(name)
            try:
                return AbortOnErrorFile(open(path, "rb"), name)
            except IsADirectoryError as exc:
                raise FileNotFoundError(errno.ENOENT, "No such key", name) from exc
        if mode in ("wb", "w"):
            key = self._key(name)
            self.disk.key_path(key)
            content_type, headers = self._object_meta(name)
            writer: Any = AtomicWriter(self.disk, key, content_type, headers)
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

    def get_modified_time(self, name: str) -> datetime:
        modified = datetime.fromtimestamp(self._stat(name).st_mtime, tz=timezone.utc)
        if dj_timezone.is_naive(dj_timezone.now()):  # USE_TZ = False
            return dj_timezone.make_naive(modified)
        return modified

    def path(self, name: str) -> str:
        """Not supported, as on ``S3Storage``: code relying on it would break in production."""
        raise NotImplementedError("FakeS3Storage, like S3Storage, has no local paths.")

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.disk.listdir(prefix_for(path, self.location))

    # -- URLs and uploads ----------------------------------------------------------------

    def base_url(self) -> str:
        """``MEDIA_URL`` + ``s3/uploads/``: objects are served below it."""
        return media_url() + URL_PATH

    def key_url(self, key: str) -> str:
        return self.base_url() + signing.quote_path(key)

    def url(  # type: ignore[override]
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """``MEDIA_URL`` + ``s3/uploads/`` + the quoted key, pre-signed with SigV4 as
        ``S3Storage`` signs (``querystring_auth``, the default: the fake's endpoint refuses
        unsigned reads), else plain, as a public bucket's (``parameters`` then dropped, as
        ``S3Storage`` drops them). A relative ``MEDIA_URL`` gives a relative URL, signed
        for no host: the endpoint accepts that."""
        if not isinstance(name, str):
            raise name_type_error(name)
        key = self._key(name)
        query = query_params(parameters)  # the same names and errors as S3Storage.url()
        s = self.settings
        if not s.querystring_auth:
            return self.key_url(key)
        base = urlsplit(self.base_url())
        return signing.presign_url(
            scheme_host=f"{base.scheme}://{base.netloc}" if base.netloc else "",
            path=base.path + key,
            access_key=s.access_key or "",
            secret_key=s.secret_key or "",
            token=s.security_token,
            region=self.region,
            expires=s.querystring_expire if expire is None else expire,
            query=query,
            method=http_method or "GET",
        )

    def name_from_url(self, url: str) -> str | None:
        """The storage name behind a URL this storage produces, or None if it is not ours.

        Accepts the relative form, and absolute forms only on a host the settings name:
        ``MEDIA_URL``'s host when that is absolute, else a host ``ALLOWED_HOSTS`` lists
        (:func:`own_hosts`: ``"*"`` names no host, so with only ``"*"`` an absolute URL
        is never ours).
        """
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        base = urlsplit(self.base_url())
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or "@" in parts.netloc:
                return None
            if base.netloc:
                if parts.netloc.lower() != base.netloc.lower():
                    return None
            else:
                domain, _ = split_domain_port(parts.netloc.lower())
                if not domain or not validate_host(domain, own_hosts()):
                    return None
        elif not parts.path.startswith("/"):
            return None
        if not parts.path.startswith(base.path):
            return None
        try:
            key = unquote(parts.path[len(base.path) :], errors="strict")
        except UnicodeDecodeError:
            return None
        location = self.location
        if location:
            if not key.startswith(location + "/"):
                return None
            name = key[len(location) + 1 :]
        else:
            name = key
        try:
            self.disk.key_path(name_to_key(name, location))
        except (SuspiciousFileOperation, ValueError):
            return None
        return name

    def upload_url(self) -> str:
        """Where a browser POSTs uploads (no trailing slash, as ``S3Storage.upload_url``)."""
        return self.base_url().rstrip("/")

    def _post_signer(self, key: str) -> tuple[str, str, str | None, str]:
        """The configured keys (or the ones derived from SECRET_KEY), after checking the
        key is one the disk can hold."""
        self.disk.key_path(key)
        s = self.settings
        return s.access_key or "", s.secret_key or "", s.security_token, self.region


_RESET_ON = {"MEDIA_ROOT", "MEDIA_URL", "AWS", "SECRET_KEY", "STORAGES", "DEFAULT_FILE_STORAGE"}


def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting in _RESET_ON:
        for storage in list(_live_storages):
            storage._reset()


setting_changed.connect(_reset_on_settings_change)
