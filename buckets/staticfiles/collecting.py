"""``Collecting``: what one ``collectstatic`` run knows about the bucket, and its uploads.

Entered only by ``collectstatic`` (through ``S3StaticStorage.collecting()``) and dropped
when the command ends, so no web request ever answers from it.

* One listing of the static prefix, made on entry, answers ``exists()``, ``size()`` and
  ``get_modified_time()`` for the run; every upload and delete of the run updates it.
* Uploads run on a bounded thread pool; at most ``2 * workers`` are queued, so memory stays
  bounded whatever the number of files. Each file is hashed first (streamed from disk) and
  not sent when the object under its name already holds the same bytes
  (:func:`buckets.staticfiles.objects.same_content`).
* Post-processing writes are held back (:meth:`Collecting.holding_writes`): Django's
  ``HashedFilesMixin`` deletes a hashed name and saves it again (the same bytes when nothing
  changed), and saves intermediate names that a later pass deletes. Inside the block a save
  is only recorded (its content kept in memory up to :data:`HELD_MEMORY` in all, on disk
  beyond) and a delete only noted; when the
  block ends, the saves still wanted go up (those whose bytes the bucket already holds cost
  no request) and then the deletes still wanted are made.
* An error or Ctrl-C cancels the uploads not yet started and waits for the ones under way:
  each object is written whole (a PUT, or a multipart upload boto3 aborts on failure) or
  not at all; held writes and deletes are not made.

Over 300 lines on purpose: the listing, the queue of uploads and the held writes are one
run's state under one lock (an upload's end updates the listing that ``exists()`` reads),
so :class:`Collecting` keeps them together.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import posixpath
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile, File

from buckets.staticfiles.names import CONTENT_MD5_METADATA
from buckets.staticfiles.objects import (
    ContentHashes,
    RemoteObject,
    list_objects,
    same_content,
)
from buckets.storage.files import disk_path
from buckets.storage.keys import clean_name, prefix_for

if TYPE_CHECKING:
    from django.core.files.storage import Storage

    from buckets.staticfiles.storage import S3StaticStorage

__all__ = ["COPIED", "DEFAULT_WORKERS", "UNMODIFIED", "Collecting", "Opener", "opener_for"]

logger = logging.getLogger(__name__)

#: Uploads at once unless the command is told otherwise.
DEFAULT_WORKERS = 8
#: What an upload task found: the file was sent, or the bucket already held its bytes.
COPIED = "copied"
UNMODIFIED = "unmodified"
#: Bytes of content that is neither on disk nor in memory held in memory while queued.
SPOOL_MEMORY = 1024 * 1024
#: Bytes of held post-processing writes kept in memory in all; the rest waits on disk.
HELD_MEMORY = 64 * 1024 * 1024

#: Opens the content to upload, afresh each call (a task may run after its caller closed
#: what it had open).
Opener = Callable[[], File]

_UPLOADING = RemoteObject(-1, "", datetime.min.replace(tzinfo=timezone.utc))
_DEFERRED = RemoteObject(-2, "", datetime.min.replace(tzinfo=timezone.utc))
#: What :meth:`Collecting.upload` gives for a file found unmodified without the pool.
_FOUND_UNMODIFIED: Future[str] = Future()
_FOUND_UNMODIFIED.set_result(UNMODIFIED)


class Collecting:
    """The state of one ``collectstatic`` run on one storage."""

    def __init__(self, storage: S3StaticStorage, workers: int = DEFAULT_WORKERS) -> None:
        if workers < 1:
            raise ValueError("collectstatic needs at least one upload worker.")
        self.storage = storage
        prefix = prefix_for("", storage.location)
        self._objects: dict[str, RemoteObject] = dict(
            list_objects(storage.client, storage.bucket_name, prefix)
        )
        #: Every directory some object of the run was in (``collectstatic --clear`` asks).
        self._dirs: set[str] = set()
        for name in self._objects:
            self._add_dirs(name)
        self._held: dict[str, RemoteObject] = {}
        #: Saves recorded while holding: name -> (opener, the object it would replace).
        self._deferred: dict[str, tuple[Opener, RemoteObject | None]] = {}
        self._holding = False
        self._spool_dir: str | None = None
        self._held_bytes = 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(2 * workers)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="collectstatic")
        self._pending: list[Future[str]] = []
        #: The last upload queued under each name: a later upload or delete of that name
        #: waits for it (Django's post-processing saves, deletes and saves one name again).
        self._queued: dict[str, Future[str]] = {}
        #: Storage name -> (source storage, path) of the files being collected.
        self.sources: dict[str, tuple[Storage, str]] = {}
        #: The MD5s of the local files read by this run.
        self.hashes = ContentHashes()

    # -- what the listing knows ----------------------------------------------------------

    def known(self, name: str) -> RemoteObject | None:
        """The object under ``name``: None when there is none, ``UPLOADING`` while a task of
        this run writes it."""
        with self._lock:
            return self._objects.get(clean_name(name))

    @staticmethod
    def is_uploading(remote: RemoteObject | None) -> bool:
        """Whether ``remote`` stands for an object this run is writing (or will write)."""
        return remote is _UPLOADING or remote is _DEFERRED

    def exists(self, name: str) -> bool | None:
        """Whether an object is under ``name``; None for a directory-like name (``""``,
        ``a/``), which the listing of objects does not answer."""
        if not name or name.endswith("/"):
            return None
        name = clean_name(name)
        with self._lock:
            return name in self._objects or name in self._dirs

    def _add_dirs(self, name: str) -> None:
        parent = posixpath.dirname(name)
        while parent and parent not in self._dirs:
            self._dirs.add(parent)
            parent = posixpath.dirname(parent)

    def source_of(self, name: str) -> tuple[Storage, str] | None:
        """The local source of the collected file ``name`` (as collectstatic names it)."""
        return self.sources.get(name)

    # -- deletes -------------------------------------------------------------------------

    @contextlib.contextmanager
    def holding_writes(self) -> Iterator[None]:
        """Saves and deletes inside the block are held until it ends (see the module's
        docstring); on an error they are dropped."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        self.flush()
        self.wait()
        with self._lock:
            held, self._held = list(self._held), {}
        for name in held:
            self.storage.delete(name)

    def delete(self, name: str) -> bool:
        """Forget ``name``; True when the delete is held or cancels a held save (no request
        now), False when the caller must make it."""
        name = clean_name(name)
        self._settle(name)
        with self._lock:
            remote = self._objects.pop(name, None)
            if remote is _DEFERRED:
                remote = self._deferred.pop(name)[1]
                if remote is not None:
                    self._held[name] = remote
                return True
            if self._holding and remote is not None and remote is not _UPLOADING:
                self._held[name] = remote
                return True
        return False

    def save(self, name: str, content: Any) -> None:
        """Write ``content`` under ``name``: held while holding writes, else queued."""
        name = clean_name(name)
        if not self._holding:
            self.upload(name, opener_for(content))
            return
        opener = self._held_opener(content)
        self._settle(name)
        with self._lock:
            previous = self._objects.get(name) or self._held.pop(name, None)
            if previous is _DEFERRED:
                previous = self._deferred.pop(name)[1]
            self._objects[name] = _DEFERRED
            self._add_dirs(name)
            self._deferred[name] = (opener, previous)

    def _held_opener(self, content: Any) -> Opener:
        """An opener for a held save: bytes in memory stay there while the held ones total
        at most :data:`HELD_MEMORY`; anything else not on disk is copied to disk."""
        fileobj = getattr(content, "file", content)
        if isinstance(fileobj, io.BytesIO):
            size = fileobj.getbuffer().nbytes
            if self._held_bytes + size <= HELD_MEMORY:
                self._held_bytes += size
                return opener_for(content)
        return opener_for(content, spool_dir=self._spool())

    def flush(self) -> None:
        """Queue the held saves, in the order they were made."""
        with self._lock:
            deferred, self._deferred = self._deferred, {}
        self._held_bytes = 0
        for name, (opener, previous) in deferred.items():
            self._submit(name, opener, previous, dry_run=False)

    def _spool(self) -> str:
        if self._spool_dir is None:
            self._spool_dir = tempfile.mkdtemp(prefix="collectstatic-")
        return self._spool_dir

    # -- uploads -------------------------------------------------------------------------

    def upload(self, name: str, opener: Opener, *, dry_run: bool = False) -> Future[str]:
        """Queue the upload of what ``opener()`` opens to ``name`` (blocking while the queue
        is full); the future gives :data:`COPIED` or :data:`UNMODIFIED`."""
        name = clean_name(name)
        self._settle(name)
        with self._lock:
            previous = self._objects.get(name) or self._held.pop(name, None)
        return self._submit(name, opener, previous, dry_run=dry_run)

    def _submit(
        self, name: str, opener: Opener, previous: RemoteObject | None, *, dry_run: bool
    ) -> Future[str]:
        known: tuple[str, int] | None = None
        if previous is not None and previous.single_part and not self.is_uploading(previous):
            # Decided here, without a task: what the listing says is enough.
            with opener() as content:
                known = self.hashes.md5(getattr(content, "file", content))
            if same_content(previous, *known, dict):
                if not dry_run:
                    with self._lock:
                        self._objects[name] = previous
                        self._add_dirs(name)
                return _FOUND_UNMODIFIED
        if not dry_run:
            with self._lock:
                self._objects[name] = _UPLOADING
                self._add_dirs(name)
        self._slots.acquire()
        try:
            future = self._pool.submit(self._upload, name, opener, previous, dry_run, known)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        self._pending.append(future)
        self._queued[name] = future
        return future

    def _settle(self, name: str) -> None:
        """Wait for the upload queued under ``name``, if any (its error is raised later, by
        :meth:`wait`)."""
        queued = self._queued.pop(name, None)
        if queued is not None:
            queued.exception()

    def _upload(
        self,
        name: str,
        opener: Opener,
        previous: RemoteObject | None,
        dry_run: bool,
        known: tuple[str, int] | None,
    ) -> str:
        try:
            return self._send(name, opener, previous, dry_run, known)
        except BaseException:
            with self._lock:  # the bucket still holds what it held
                if previous is None:
                    self._objects.pop(name, None)
                else:
                    self._objects[name] = previous
            raise

    def _send(
        self,
        name: str,
        opener: Opener,
        previous: RemoteObject | None,
        dry_run: bool,
        known: tuple[str, int] | None,
    ) -> str:
        """Send what ``opener()`` opens unless ``previous`` holds its bytes; ``known``: its
        MD5 and size when :meth:`_submit` has them already."""
        with opener() as content:
            fileobj = getattr(content, "file", content)
            md5, size = known if known is not None else self.hashes.md5(fileobj)
            if previous is not None and known is None:
                if same_content(previous, md5, size, lambda: self.storage.metadata(name)):
                    self._record(name, previous, dry_run)
                    return UNMODIFIED
            if not dry_run:
                metadata = {CONTENT_MD5_METADATA: md5}
                if size < self.storage.transfer_config.multipart_threshold:
                    self.storage._put(name, content, fileobj, metadata)
                else:
                    self.storage._upload(name, content, fileobj, metadata)
                self._record(name, RemoteObject(size, md5, datetime.now(timezone.utc)), False)
        return COPIED

    def _record(self, name: str, remote: RemoteObject, dry_run: bool) -> None:
        if not dry_run:
            with self._lock:
                self._objects[name] = remote

    def wait(self) -> None:
        """Wait for every queued upload; the first failure is raised once all have ended."""
        pending, self._pending = self._pending, []
        error: BaseException | None = None
        for future in pending:
            exc = future.exception()
            if exc is not None and error is None:
                error = exc
        if error is not None:
            raise error

    def close(self, *, cancel: bool) -> None:
        """Stop the pool: ``cancel`` drops the uploads not yet started (after an error or
        Ctrl-C); those under way always finish, so no object is left half-written."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)


def opener_for(content: Any, *, spool_dir: str | None = None) -> Opener:
    """How a task opens ``content`` again, whatever its caller does with it afterwards: a
    file on disk by its path; anything else copied now, into a file in ``spool_dir`` when
    given (the content may wait long: nothing of it stays in memory), else kept as bytes
    when it is bytes in memory already, else spooled (in memory up to
    :data:`SPOOL_MEMORY`, on disk beyond)."""
    fileobj = getattr(content, "file", content)
    path = disk_path(content, fileobj)
    if path is None and spool_dir is not None:
        fd, path = tempfile.mkstemp(dir=spool_dir)
        with os.fdopen(fd, "wb") as spooled_file:
            _copy(content, fileobj, spooled_file)
    if path is not None:
        on_disk = path
        return lambda: File(open(on_disk, "rb"), name=on_disk)  # noqa: SIM115 -- the task closes it
    if isinstance(fileobj, io.BytesIO):
        data = fileobj.getvalue()
        return lambda: ContentFile(data, name=getattr(content, "name", None))
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
    _copy(content, fileobj, spooled)

    def reopen() -> File:
        spooled.seek(0)
        return File(spooled, name=getattr(content, "name", None))

    return reopen


def _copy(content: Any, fileobj: Any, target: Any) -> None:
    if hasattr(content, "seek"):
        content.seek(0)
    if hasattr(content, "chunks"):
        for chunk in content.chunks():
            target.write(chunk)
        return
    while chunk := fileobj.read(SPOOL_MEMORY):
        target.write(chunk)
