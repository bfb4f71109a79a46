"""Why one file was not copied; a copy stops at once on :class:`Cancelled`."""

from __future__ import annotations

__all__ = ["Cancelled", "CopyFailed"]


class CopyFailed(Exception):
    """A file could not be copied, or its copy did not verify; the message says why (the
    copy, if one was written, has been removed)."""


class Cancelled(Exception):  # noqa: N818 -- a state, not an error
    """The transfer was stopped (Ctrl-C) before this file was done: nothing was written."""
