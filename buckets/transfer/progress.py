"""Progress of a transfer: files and bytes done of the total, rate and time left.

On a terminal, one line redrawn in place a few times a second; otherwise (a log, a pipe)
a plain line now and then; or nothing. Called from every worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Progress", "format_bytes", "format_duration"]

#: Seconds between redraws on a terminal, and between plain lines elsewhere.
TERMINAL_EVERY = 0.2
PLAIN_EVERY = 10.0


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Stream(Protocol):
    def write(self, text: str, /) -> object: ...
    def flush(self) -> None: ...


class Progress:
    """Counts files and bytes done; draws to ``out`` (``terminal``: in place) unless
    ``out`` is None. ``clock`` is injectable for tests."""

    def __init__(
        self,
        out: Stream | None,
        *,
        terminal: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._terminal = terminal
        self._clock = clock
        self._lock = threading.Lock()
        self.files = self.total_files = 0
        self.bytes = self.total_bytes = 0
        self._started = self._drawn = 0.0
        self._width = 0
        self._begun = False

    def start(self, total_files: int, total_bytes: int) -> None:
        with self._lock:
            self.total_files, self.total_bytes = total_files, total_bytes
            self.files = self.bytes = 0
            self._begun = True
            self._started = self._drawn = self._clock()

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            self._maybe_draw()

    def add_file(self) -> None:
        with self._lock:
            self.files += 1
            self._maybe_draw()

    def line(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.bytes / elapsed
        left = (self.total_bytes - self.bytes) / rate if rate > 0 else None
        return (
            f"{self.files}/{self.total_files} files, "
            f"{format_bytes(self.bytes)}/{format_bytes(self.total_bytes)}, "
            f"{format_bytes(rate)}/s, "
            f"{'--:--' if left is None else format_duration(left)} left"
        )

    def _maybe_draw(self) -> None:
        if self._out is None:
            return
        now = self._clock()
        if now - self._drawn < (TERMINAL_EVERY if self._terminal else PLAIN_EVERY):
            return
        self._drawn = now
        self._draw()

    def _draw(self) -> None:
        assert self._out is not None
        text = self.line()
        if self._terminal:
            self._out.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self._out.write(text + "\n")
        self._out.flush()

    def finish(self) -> None:
        """The last figures, and a new line after a line drawn in place."""
        with self._lock:
            if self._out is None or not self._begun:
                return
            self._draw()
            if self._terminal:
                self._out.write("\n")
                self._out.flush()
