"""Object keys as files under one directory: safely (no key leaves it) and atomically.

The fake S3's storage and its upload endpoint both write through :class:`Disk`, so the two
share one set of rules:

* A key maps to ``root/<key>``. Beyond :func:`buckets.storage.keys.clean_name` (no ``..``, no
  absolute path, no NUL), a key may not have an empty, ``.`` or ``..`` segment (also once
  percent-decoded, in case whatever serves ``MEDIA_ROOT`` decodes them), may not use the
  spool directory, and must resolve, symlinks followed, inside the root.
* Every write goes to a temporary file in ``root/.buckets-tmp`` (same file system) and is
  renamed or linked into place, so a reader never sees half a file and a failed or refused
  write leaves nothing.
* S3 has no directories: removing a key removes the directories it leaves empty, and a
  listing shows no empty prefix.
* The Content-Type and ETag S3 would keep with an object, and the other headers it would
  serve (``Cache-Control``, ``x-amz-meta-*``...), are kept in extended attributes
  (``user.buckets.*``) where the file system has them; elsewhere the type is guessed from
  the name, and no ETag or other header is served.

Over 300 lines on purpose: the path rules and the atomic writes guard the same root, and
splitting them would put the escape checks apart from the writes they protect.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from buckets.signing.limits import MAX_KEY_BYTES
from buckets.storage.keys import clean_name

#: Where writes are spooled before the rename; reserved, never a key.
TMP_DIR = ".buckets-tmp"
CHUNK_SIZE = 256 * 1024

#: PutObject parameters S3 serves back as the same-named response header. ``ContentType``,
#: ``Expires`` and ``Metadata`` are handled apart; the others (``ACL``...) add no header.
HEADER_PARAMETERS = {
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
}

_XATTR_TYPE = "user.buckets.content_type"
_XATTR_ETAG = "user.buckets.etag"
_XATTR_HEADERS = "user.buckets.headers"


class UnholdableKey(SuspiciousFileOperation):
    """A key S3 could hold but a directory of files cannot (``a/``, ``a//b``, a ``.``
    segment, the spool directory): no such object can exist here, and none is written."""


def read_meta(path: str) -> tuple[str | None, str | None]:
    """``(content_type, etag)`` recorded with a file, where the file system keeps xattrs."""
    values: list[str | None] = []
    for attr in (_XATTR_TYPE, _XATTR_ETAG):
        try:
            values.append(os.getxattr(path, attr).decode("utf-8"))
        except (AttributeError, OSError, UnicodeDecodeError):
            values.append(None)
    return values[0], values[1]


def read_headers(path: str) -> dict[str, str]:
    """The other response headers recorded with a file (``{}`` where there are none)."""
    try:
        headers = json.loads(os.getxattr(path, _XATTR_HEADERS).decode("utf-8"))
    except (AttributeError, OSError, ValueError):
        return {}
    return headers if isinstance(headers, dict) else {}


def read_parameters(path: str) -> dict[str, Any]:
    """What a file was written with, as PutObject arguments (``ContentType``,
    ``CacheControl``..., ``Metadata``): the inverse of ``headers.served_headers``."""
    content_type, _ = read_meta(path)
    headers = read_headers(path)
    prefix = "x-amz-meta-"
    params: dict[str, Any] = {"ContentType": content_type} if content_type else {}
    for param, header in {**HEADER_PARAMETERS, "Expires": "Expires"}.items():
        if headers.get(header) is not None:
            params[param] = headers[header]
    params["Metadata"] = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
    return params


def write_meta(
    fd: int,
    content_type: str | None,
    etag: str | None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Best effort: without xattrs, GET guesses the type from the name and sends no ETag
    and no other stored header."""
    encoded = json.dumps(dict(headers), separators=(",", ":")) if headers else None
    for attr, value in (
        (_XATTR_TYPE, content_type),
        (_XATTR_ETAG, etag),
        (_XATTR_HEADERS, encoded),
    ):
        if value:
            with contextlib.suppress(AttributeError, OSError):
                os.setxattr(fd, attr, value.encode("utf-8"))


@dataclasses.dataclass
class Spooled:
    """A finished temporary file, not yet visible under any key."""

    path: str
    size: int
    md5: str


def _utf8(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def _has_files(directory: str) -> bool:
    """Whether a directory holds a file somewhere below: S3 lists no empty prefixes."""
    return any(files for _, _, files in os.walk(directory))


class Disk:
    """The files of one fake bucket (or of one ``location`` in it) under ``root``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)  # symlinks above the root are the user's choice

    def inside(self, path: str) -> bool:
        """Whether ``path``, symlinks resolved, is strictly below the root."""
        real = os.path.realpath(path)
        return real != self.root and os.path.commonpath([self.root, real]) == self.root

    def key_path(self, key: str) -> str:
        """The file for ``key``, or ``SuspiciousFileOperation`` if the disk can't hold it
        safely (see the module docstring)."""
        clean_name(key)
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise SuspiciousFileOperation(f"S3 keys are limited to {MAX_KEY_BYTES} bytes.")
        segments = key.split("/")
        if any(s in ("", ".", "..") or unquote(unquote(s)) in (".", "..") for s in segments):
            raise UnholdableKey(
                f"The fake S3 stores keys as files; {key[:80]!r} has an empty, '.' or '..' part."
            )
        if segments[0] == TMP_DIR:
            raise UnholdableKey(f"{TMP_DIR!r} is reserved by the fake S3.")
        path = os.path.join(self.root, *segments)
        if not self.inside(path):
            raise SuspiciousFileOperation(f"The key {key[:80]!r} resolves outside the root.")
        return path

    # -- writing -------------------------------------------------------------------------

    def temp_file(self) -> Any:
        """A new temporary file in the spool directory (kept on close; rename or discard)."""
        spool = os.path.join(self.root, TMP_DIR)
        os.makedirs(spool, mode=0o700, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=spool, prefix="part-", delete=False)

    def spool(
        self,
        chunks: Iterable[bytes],
        content_type: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> Spooled:
        """Write ``chunks`` to a temporary file (MD5 on the way), recording ``content_type``
        and the other ``headers`` to serve with it; not yet under any key.

        If ``chunks`` raises, the temporary file is removed and the exception goes on.
        """
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        fh = self.temp_file()
        try:
            with fh:
                for chunk in chunks:
                    md5.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
                write_meta(fh.fileno(), content_type, f'"{md5.hexdigest()}"', headers)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(fh.name)
            raise
        return Spooled(fh.name, size, md5.hexdigest())

    def discard(self, spooled: Spooled) -> None:
        with contextlib.suppress(OSError):
            os.unlink(spooled.path)

    def publish(self, tmp_path: str, key: str, *, overwrite: bool) -> None:
        """Move a spooled file under ``key``: all or nothing.

        ``overwrite=False`` links instead of renaming, so a concurrent writer of the same
        key makes this raise ``FileExistsError`` rather than silently replace its file.
        A disk cannot hold both ``a`` and ``a/b``: the second raises ``IsADirectoryError``
        or ``NotADirectoryError``. On success the temporary file is gone; on failure it is
        left to the caller.
        """
        permissions = settings.FILE_UPLOAD_PERMISSIONS
        os.chmod(tmp_path, 0o644 if permissions is None else permissions)
        for _ in range(5):
            path = self.key_path(key)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            except (FileExistsError, NotADirectoryError) as exc:
                raise NotADirectoryError(
                    errno.ENOTDIR, "A prefix of the key is itself a key", key
                ) from exc
            if not self.inside(path):  # a symlink appeared on the way
                raise SuspiciousFileOperation(f"The key {key[:80]!r} resolves outside the root.")
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "The key is a prefix of other keys", key)
            try:
                if overwrite:
                    os.replace(tmp_path, path)
                else:
                    os.link(tmp_path, path)
                    os.unlink(tmp_path)
                return
            except FileNotFoundError:
                if not os.path.exists(tmp_path):
                    raise
                # A removal pruned the directory meanwhile: make it again.
        raise OSError(f"Could not publish {key!r}: its directory keeps disappearing.")

    # -- reading and removing ------------------------------------------------------------

    def remove(self, key: str) -> None:
        """Remove a key's file, then the directories it leaves empty; no error if absent."""
        path = self.key_path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, IsADirectoryError):
            return
        parent = os.path.dirname(path)
        while parent != self.root and parent.startswith(self.root + os.sep):
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

    def listdir(self, prefix: str) -> tuple[list[str], list[str]]:
        """``(dirs, files)`` directly below a ``/``-terminated prefix (``""``: the root),
        sorted as S3 sorts keys (UTF-8 bytes)."""
        directory = os.path.join(self.root, *prefix.split("/"))
        dirs: list[str] = []
        files: list[str] = []
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return [], []
        for entry in entries:
            if (not prefix and entry.name == TMP_DIR) or not self.inside(entry.path):
                continue
            if entry.is_file():
                files.append(entry.name)
            elif entry.is_dir() and _has_files(entry.path):
                dirs.append(entry.name)
        return sorted(dirs, key=_utf8), sorted(files, key=_utf8)


class AtomicWriter:
    """A file opened for writing under a key: a temporary file, published on ``close()``
    (replacing the key, as an S3 PUT does) or dropped by ``abort()``."""

    def __init__(
        self, disk: Disk, key: str, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._disk = disk
        self._key = key
        self._content_type = content_type
        self._headers = headers
        self._file = disk.temp_file()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.closed = False

    def write(self, data: bytes | str) -> int:
        """Bytes, or ``str`` as UTF-8 (in any write mode, as ``S3Storage``'s writer)."""
        written = len(data) if isinstance(data, str) else memoryview(data).nbytes
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._md5.update(data)
        self._file.write(data)
        return written

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self._file.flush()

    def abort(self) -> None:
        """Drop what was written: nothing appears under the key."""
        if not self.closed:
            self.closed = True
            self._file.close()
            with contextlib.suppress(OSError):
                os.unlink(self._file.name)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            etag = f'"{self._md5.hexdigest()}"'
            write_meta(self._file.fileno(), self._content_type, etag, self._headers)
            self._file.close()
            self._disk.publish(self._file.name, self._key, overwrite=True)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self._file.name)
