"""``S3File``: what reading an ``S3FileField`` gives, a Django ``File`` backed by the storage.

Nothing is fetched until asked: ``.name`` and ``.url`` cost no request (a list page of 100
rows signs 100 URLs locally), ``.size`` is one HEAD, and ``open()``/``read()``/``chunks()``
stream through the storage, never through an HTTP fetch of a stored URL.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import File
from django.core.files.storage import Storage

__all__ = ["S3File", "S3FileDescriptor", "originals"]


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
