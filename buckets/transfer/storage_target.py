"""Any other Django storage as the target: ``exists``/``size`` tell what is there, ``save``
writes (the name must come back unchanged), the bytes read back compare content."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from django.core.files.base import File
from django.core.files.storage import Storage

from buckets.storage.base import BucketStorage
from buckets.transfer.digests import ContentDigest
from buckets.transfer.errors import CopyFailed
from buckets.transfer.reader import SourceReader
from buckets.transfer.target_base import READ_CHUNK, ObjectInfo, Target

__all__ = ["StorageTarget"]


class StorageTarget(Target):
    """Any other Django storage: ``exists``/``size`` to tell what is there, ``save`` to
    write (the name must come back unchanged), the bytes read back to compare content."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def info(self, name: str) -> ObjectInfo | None:
        if not self.storage.exists(name):
            return None
        try:
            modified = self.storage.get_modified_time(name)
        except NotImplementedError:
            modified = None
        return ObjectInfo(self.storage.size(name), None, modified)

    def same_content(self, name: str, held: ObjectInfo, digest: ContentDigest) -> bool | None:
        held_digest = self.digest_for(held.size)
        with self.storage.open(name, "rb") as f:
            for chunk in iter(lambda: f.read(READ_CHUNK), b""):
                held_digest.update(chunk)
        return held_digest.md5_hex == digest.md5_hex

    def write(
        self,
        name: str,
        reader: SourceReader,
        metadata: Mapping[str, str] | None,
        on_bytes: Callable[[int], None],
    ) -> None:
        if self.storage.exists(name):
            self.storage.delete(name)
        content = File(reader, name)  # type: ignore[arg-type]  # any object with read()
        if isinstance(self.storage, BucketStorage):
            saved = self.storage.save(name, content, metadata=metadata)
        else:
            saved = self.storage.save(name, content)
        on_bytes(reader.digest.size)
        if saved != name:
            self.storage.delete(saved)
            raise CopyFailed(f"the target storage renamed it to {saved!r}; removed")
        held = self.info(name)
        if held is None or held.size != reader.digest.size:
            with contextlib.suppress(OSError):
                self.storage.delete(name)
            raise CopyFailed("the copy did not verify (its size differs); it was removed")
