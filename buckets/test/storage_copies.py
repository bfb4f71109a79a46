"""``FakeCopiesMixin``: server-side copies and object metadata for ``FakeS3Storage``.

A copy is written as ``S3Storage`` writes one (:func:`buckets.storage.put_args.copy_args`)
and, like a save, is spooled first and then linked under its name, so a name is claimed
and filled in one step.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import TYPE_CHECKING

from buckets.storage.base import BucketStorage
from buckets.storage.put_args import copy_args
from buckets.test.disk import CHUNK_SIZE, Disk, Spooled, read_headers, read_meta, read_parameters
from buckets.test.headers import served_headers

if TYPE_CHECKING:
    import os

    _Base = BucketStorage
else:
    _Base = object


class FakeCopiesMixin(_Base):
    """Copies and metadata; needs the fake's ``disk``, ``_path``, ``_object_path``,
    ``_stat`` and ``_publish``."""

    if TYPE_CHECKING:

        @property
        def disk(self) -> Disk: ...
        def _path(self, name: str) -> str: ...
        def _object_path(self, name: str) -> str: ...
        def _stat(self, name: str) -> os.stat_result: ...
        def _publish(
            self, spooled: Spooled, name: str, max_length: int | None = None, *, overwrite: bool
        ) -> str: ...

    def _spool_copy(
        self,
        src_name: str,
        metadata: Mapping[str, str] | None = None,
        *,
        replace: bool = True,
        dst_name: str = "",
    ) -> Spooled:
        """The source's bytes in a spooled file, under no key yet, with the Content-Type
        and headers a copy is written with (:func:`buckets.storage.put_args.copy_args`:
        the source's, then ``object_parameters``, then ``metadata``), or without
        ``replace`` exactly the source's (S3's CopyObject keeps them all)."""
        src = self._object_path(src_name)
        if replace:
            object_parameters = self.get_object_parameters(dst_name)
            params = copy_args(self.settings, read_parameters(src), metadata, object_parameters)
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
        spooled = self._spool_copy(src_name, metadata, dst_name=name)
        return self._publish(spooled, name, max_length, overwrite=overwrite)

    def metadata(self, name: str) -> dict[str, str]:
        """The object's ``x-amz-meta-*`` metadata, as ``S3Storage.metadata`` (names
        lower-cased; none where the file system keeps no extended attributes)."""
        self._stat(name)
        prefix = "x-amz-meta-"
        headers = read_headers(self._object_path(name))
        return {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
