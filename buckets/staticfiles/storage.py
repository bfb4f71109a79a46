"""``S3StaticStorage`` and ``S3ManifestStaticStorage``: ``STORAGES["staticfiles"]`` on S3.

Configured as the media storage is (the ``AWS`` dict and ``OPTIONS``), with the defaults
static files want, set as options (an option given wins): public URLs
(``querystring_auth`` False), ``file_overwrite`` on (a collected file replaces the old one
under its own name) and their own ``location``, ``"static"``, so they never mix with media
even when ``AWS["LOCATION"]`` is set. A content-hashed name is served with a long
``Cache-Control`` (:data:`buckets.staticfiles.names.HASHED_CACHE_CONTROL`, or the
``hashed_cache_control`` option; None turns it off).

The public URL needs the objects to be readable by anyone: a bucket policy on the static
prefix, or ``default_acl="public-read"`` where the bucket allows ACLs.

``collectstatic`` (``buckets.management.commands.collectstatic``) enters
:meth:`S3StaticStorage.collecting` for its run; outside it, every method asks the bucket as
``S3Storage`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.utils.deconstruct import deconstructible

from buckets.staticfiles.collecting import DEFAULT_WORKERS, Collecting
from buckets.staticfiles.names import HASHED_CACHE_CONTROL, is_hashed_name
from buckets.storage.keys import clean_name, prefix_for
from buckets.storage.s3 import S3Storage
from buckets.storage.s3io import translate_error

__all__ = ["STATIC_LOCATION", "S3ManifestStaticStorage", "S3StaticStorage"]

#: Where static files go in the bucket unless the ``location`` option says otherwise.
STATIC_LOCATION = "static"
#: The manifest's paths before the manifest is read (compared by identity).
_NOT_READ: dict[str, str] = {}


@deconstructible(path="buckets.staticfiles.S3StaticStorage")
class S3StaticStorage(S3Storage):
    """Static files in an S3 bucket, at public URLs."""

    def __init__(
        self, *, hashed_cache_control: str | None = HASHED_CACHE_CONTROL, **options: Any
    ) -> None:
        options.setdefault("location", STATIC_LOCATION)
        options.setdefault("file_overwrite", True)
        options.setdefault("querystring_auth", False)
        self.hashed_cache_control = hashed_cache_control
        self._collecting: Collecting | None = None
        super().__init__(**options)

    def _put_args(
        self, name: str, content: Any = None, metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        args = super()._put_args(name, content, metadata)
        if self.hashed_cache_control and is_hashed_name(name):
            args["CacheControl"] = self.hashed_cache_control
        return args

    # -- one collectstatic run -----------------------------------------------------------

    @contextlib.contextmanager
    def collecting(self, workers: int = DEFAULT_WORKERS) -> Iterator[Collecting]:
        """The state of one ``collectstatic`` run (:mod:`buckets.staticfiles.collecting`):
        one listing of ``location`` now, uploads on ``workers`` threads, all of them
        finished (or, on an error or Ctrl-C, the queued ones cancelled) when it ends."""
        if self._collecting is not None:
            raise RuntimeError("This storage is already collecting static files.")
        run = Collecting(self, workers)
        self._collecting = run
        finished = False
        try:
            yield run
            run.wait()
            finished = True
        finally:
            self._collecting = None
            run.close(cancel=not finished)

    def exists(self, name: str) -> bool:
        """Whether an object is under ``name``, or, for a directory (``""``, ``a/``: what
        ``collectstatic --clear`` asks), under that prefix."""
        if not name or name.endswith("/"):
            prefix = prefix_for(name, self.location)
            try:
                found = self.client.list_objects_v2(
                    Bucket=self.bucket_name, Prefix=prefix, MaxKeys=1
                )
            except (ClientError, BotoCoreError) as exc:
                raise translate_error(exc, prefix) from exc
            return bool(found.get("KeyCount") or found.get("Contents"))
        run = self._collecting
        known = run.exists(name) if run is not None else None
        return super().exists(name) if known is None else known

    def size(self, name: str) -> int:
        remote = self._listed(name)
        return super().size(name) if remote is None else remote.size

    def _last_modified(self, name: str) -> datetime:
        remote = self._listed(name)
        return super()._last_modified(name) if remote is None else remote.modified

    def _listed(self, name: str) -> Any:
        """The listing's entry for ``name`` during a run (``FileNotFoundError`` if it has
        none); None outside a run or while the run uploads it (then ask the bucket)."""
        run = self._collecting
        if run is None:
            return None
        remote = run.known(name)
        if remote is None:
            raise FileNotFoundError(f"S3 object {self._key(name)!r} does not exist.")
        return None if run.is_uploading(remote) else remote

    def delete(self, name: str) -> None:
        run = self._collecting
        if run is not None and run.delete(name):
            return
        super().delete(name)

    def _save(
        self,
        name: str,
        content: Any,
        max_length: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """During a run, queued on the run's pool (not sent when the bucket holds the same
        bytes); otherwise ``S3Storage``'s."""
        run = self._collecting
        if run is None or metadata:
            return super()._save(name, content, max_length, metadata)
        name = clean_name(name)
        run.save(name, content)
        return name


@deconstructible(path="buckets.staticfiles.S3ManifestStaticStorage")
class S3ManifestStaticStorage(ManifestFilesMixin, S3StaticStorage):  # type: ignore[misc]  # url()
    """Django's ``ManifestFilesMixin`` on :class:`S3StaticStorage`: content-hashed copies
    of every file and the manifest (``staticfiles.json``) in the bucket, under ``location``.

    During a ``collectstatic`` run, a file is hashed from its local source, never fetched
    back from the bucket; hashed copies go up on the run's pool once post-processing has
    settled which are wanted (:meth:`Collecting.holding_writes`), and the manifest only
    once every one of them is in place, so a stopped run leaves the previous manifest, whose
    files are all still there.

    The manifest is read from the bucket on first need (the first hashed ``url()``), not
    when the storage is made: building it (``manage.py check``, a process starting) sends
    no request, and ``collectstatic``, which writes a new manifest, never reads the old.
    """

    def __init__(self, **options: Any) -> None:
        self._manifest: tuple[dict[str, str], str] | None = None
        self._building = True
        super().__init__(**options)
        self._building = False

    def load_manifest(self) -> Any:
        if self._building:  # Django's __init__ asks: answered on first need instead
            return _NOT_READ, ""
        return super().load_manifest()

    def _read_manifest_once(self) -> tuple[dict[str, str], str]:
        if self._manifest is None or self._manifest[0] is _NOT_READ:
            self._manifest = self.load_manifest()
        return self._manifest

    @property  # type: ignore[override]
    def hashed_files(self) -> dict[str, str]:
        return self._read_manifest_once()[0]

    @hashed_files.setter
    def hashed_files(self, value: dict[str, str]) -> None:
        self._manifest = (value, self._manifest[1] if self._manifest else "")

    @property  # type: ignore[override]
    def manifest_hash(self) -> str:
        return self._read_manifest_once()[1]

    @manifest_hash.setter
    def manifest_hash(self, value: str) -> None:
        files = self._manifest[0] if self._manifest else _NOT_READ
        self._manifest = (files, value)

    def post_process(self, paths: dict[str, Any], dry_run: bool = False, **options: Any) -> Any:
        run = self._collecting
        if run is None or dry_run:
            yield from super().post_process(paths, dry_run=dry_run, **options)
            return
        run.sources = dict(paths)
        with run.holding_writes():
            yield from super().post_process(paths, dry_run=dry_run, **options)

    def save_manifest(self) -> None:
        run = self._collecting
        if run is not None:  # every hashed file is in place before the manifest names it
            run.flush()
            run.wait()
        super().save_manifest()

    def file_hash(self, name: str, content: Any = None) -> str | None:
        """Django's (the MD5 of the content, cut to twelve digits), but during a run a file on
        disk is read for its MD5 once, whichever of the run's steps asks first."""
        run = self._collecting
        if run is None or content is None:
            return super().file_hash(name, content)  # type: ignore[no-any-return]
        return run.hashes.md5(getattr(content, "file", content))[0][:12]

    def hashed_name(self, name: str, content: Any = None, filename: Any = None) -> str:
        """Django's, but during a run a file collected by it is hashed from its source."""
        run = self._collecting
        if content is None and run is not None:
            wanted = urlsplit(unquote(filename or name)).path.strip()
            source = run.source_of(wanted) if wanted else None
            if source is not None:
                source_storage, path = source
                with source_storage.open(path) as local:
                    return str(super().hashed_name(name, local, filename))
        return str(super().hashed_name(name, content, filename))
