"""``S3File``: what reading an ``S3FileField`` gives, a Django ``File`` backed by the storage.

Nothing is fetched until asked: ``.name`` and ``.url`` cost no request (a list page of 100
rows signs 100 URLs locally), ``.size`` is one HEAD, and ``open()``/``read()``/``chunks()``
stream through the storage, never through an HTTP fetch of a stored URL.
"""

from __future__ import annotations

import io
import os
import stat
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage

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


class S3File(File):
    _file: Any = None

    def __init__(self, instance: Any, field: Any, name: str) -> None:
        super().__init__(None, name)
        self.instance = instance
        self.field = field
        self.storage: Storage = field.storage

    def __eq__(self, other: object) -> bool:
        if hasattr(other, "name"):
            return self.name == other.name
        return self.name == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __bool__(self) -> bool:
        return bool(self.name)

    def __repr__(self) -> str:
        return f"<S3File: {self.name}>"

    def _require_name(self) -> str:
        if not self.name:
            raise ValueError(f"The {self.field.name!r} field has no file associated with it.")
        return self.name

    def _get_file(self) -> Any:
        if self._file is None:
            self._file = self.storage.open(self._require_name(), "rb")
        return self._file

    def _set_file(self, file: Any) -> None:
        self._file = file

    def _del_file(self) -> None:
        del self._file

    file = property(_get_file, _set_file, _del_file)  # type: ignore[assignment]

    @property
    def url(self) -> str:
        """A fresh URL from the storage (signed when the storage signs)."""
        return self.storage.url(self._require_name())

    @property
    def size(self) -> int:  # type: ignore[override]
        if self._file is not None and hasattr(self._file, "size"):
            return int(self._file.size)
        return self.storage.size(self._require_name())

    @property
    def closed(self) -> bool:
        return self._file is None or bool(getattr(self._file, "closed", True))

    def open(self, mode: str = "rb", *args: Any, **kwargs: Any) -> S3File:  # type: ignore[override]
        name = self._require_name()
        if self._file is None or self.closed:
            self._file = self.storage.open(name, mode)
        else:
            self._file.seek(0)
        return self

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def delete(self, save: bool = True) -> None:
        """Delete the object now and clear the field (the row is saved when ``save``)."""
        if not self.name:
            return
        self.close()
        self.storage.delete(self.name)
        self.name = None  # type: ignore[assignment]
        setattr(self.instance, self.field.attname, None)
        if save:
            self.instance.save()

    # The pickle protocol keeps a file picklable for caches: drop the open stream.
    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "instance": self.instance, "field": self.field, "_file": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.storage = self.field.storage


def originals(instance: Any) -> dict[str, str]:
    """The values a model instance's file fields were loaded with (by field attname)."""
    return instance.__dict__.setdefault("_buckets_originals", {})


class S3FileDescriptor:
    """Wraps stored keys in ``S3File`` on read; remembers the value loaded from the database."""

    def __init__(self, field: Any) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        attname = self.field.attname
        if attname not in instance.__dict__:
            instance.refresh_from_db(fields=[attname])  # a deferred field
        value = instance.__dict__[attname]
        if value is None or value == "":
            return None
        if isinstance(value, S3File) or isinstance(value, File):
            return value
        name = self.field.name_for_value(value, strict=False)
        file = S3File(instance, self.field, name)
        instance.__dict__[attname] = file
        return file

    def __set__(self, instance: Any, value: Any) -> None:
        attname = self.field.attname
        loaded = originals(instance)
        if instance.__dict__.get("_buckets_initialised") and attname not in loaded:
            # First load of a deferred field, through refresh_from_db().
            loaded[attname] = self.field.stored_name(value)
        instance.__dict__[attname] = value


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
