"""File helpers of the storages: text content stored as UTF-8 bytes, a write that aborts on
error, and the local path behind an upload (for a managed transfer from disk)."""

from __future__ import annotations

import io
import os
import stat
from typing import Any

from django.core.files.base import ContentFile, File

__all__ = ["TEXT_CHUNK", "AbortOnErrorFile", "EncodedReader", "as_binary", "disk_path"]

#: Characters read at a time from a text stream being stored (at most 4 bytes each).
TEXT_CHUNK = 64 * 1024


class EncodedReader(io.RawIOBase):
    """A text stream read as bytes: its characters as UTF-8, a chunk at a time (bounded
    memory). Each ``read(n)`` gives ``n`` bytes until the end; it can only be rewound."""

    size = None  # unknown until read to the end (what File.size reports)

    def __init__(self, text: Any) -> None:
        self._text = text
        self._pending = memoryview(b"")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False  # no random access: boto3 reads it as a stream

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("A text stream read as UTF-8 can only be rewound.")
        self._text.seek(0)
        self._pending = memoryview(b"")
        self._pos = 0
        return 0

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                text = self._text.read(TEXT_CHUNK)
                if not text:
                    break
                encoded = text.encode("utf-8") if isinstance(text, str) else bytes(text)
                self._pending = memoryview(encoded)
            n = min(len(view) - filled, len(self._pending))
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        self._pos += filled
        return filled


def as_binary(content: File) -> File:
    """``content`` itself when it holds bytes; text content (a ``str`` ``ContentFile``, a
    file opened in text mode) as a ``File`` of its UTF-8 bytes, keeping its name and
    ``content_type``. A ``StringIO`` is encoded at once (it is in memory already); any
    other text stream is encoded as it is read."""
    inner = getattr(content, "file", content)
    while isinstance(inner, File):
        inner = inner.file
    if not isinstance(inner, io.TextIOBase):
        return content
    encoded: File
    if isinstance(inner, io.StringIO):
        encoded = ContentFile(inner.getvalue().encode("utf-8"), name=content.name)
    else:
        if inner.seekable():
            inner.seek(0)  # Django's save() reads content from the beginning
        encoded = File(EncodedReader(inner), name=content.name)  # type: ignore[arg-type]
    content_type = getattr(content, "content_type", None)
    if content_type:
        encoded.content_type = content_type  # type: ignore[attr-defined]
    return encoded


class AbortOnErrorFile(File):
    """A ``File`` whose ``with`` block, left by an exception, aborts a write.

    Django's ``File.__exit__`` always closes, and closing a streaming write publishes it:
    half a file would appear under the name. Both storages' writers have ``abort()``.
    """

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        abort = getattr(self.file, "abort", None)
        if exc_type is not None and abort is not None:
            abort()
        else:
            self.close()


def disk_path(content: Any, fileobj: Any) -> str | None:
    """The path of a file on disk behind ``content``, if it is one, else None."""
    temporary = getattr(content, "temporary_file_path", None)
    if callable(temporary):
        return str(temporary())
    name = getattr(fileobj, "name", None)
    fileno = getattr(fileobj, "fileno", None)
    if not isinstance(name, str) or not callable(fileno):
        return None
    try:
        opened, on_disk = os.fstat(fileno()), os.stat(name)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    if (opened.st_dev, opened.st_ino) != (on_disk.st_dev, on_disk.st_ino):
        return None
    return name if stat.S_ISREG(opened.st_mode) else None
