"""Reading a source file for a copy: in order, digested as read, stoppable between chunks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from buckets.transfer.digests import ContentDigest
from buckets.transfer.errors import Cancelled

__all__ = ["SourceReader"]


class SourceReader:
    """A read-only stream over an open source file that feeds every byte it hands out to
    ``digest`` and raises :class:`Cancelled` once ``stop`` is set. ``size`` is the size the
    source said it had; ``seek(0)`` before the first read is allowed (storages rewind what
    they save), any other seek is not: the digest must see the bytes once, in order."""

    def __init__(
        self,
        fileobj: Any,
        size: int,
        digest: ContentDigest,
        stop: threading.Event,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self._file = fileobj
        self.size = size
        self.digest = digest
        self._stop = stop
        self._on_bytes = on_bytes

    def read(self, n: int = -1) -> bytes:
        if self._stop.is_set():
            raise Cancelled()
        data: bytes = self._file.read(n)
        if data:
            self.digest.update(data)
            if self._on_bytes is not None:
                self._on_bytes(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0 and self.digest.size == 0:
            return 0
        raise OSError("A source being copied is read once, in order.")

    def tell(self) -> int:
        return self.digest.size

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._file.close()
