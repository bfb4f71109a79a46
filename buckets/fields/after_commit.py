"""Clean-up a saved row leaves for after its transaction commits, run so that it can never
undo the save.

Once the row is committed, the save has happened: deleting the staged copy of a moved
upload, or the object a row no longer points at, is housekeeping. A failure there (S3
unreachable, a refused DELETE) is logged on this module's logger (``buckets.fields.
after_commit``) and swallowed, so a committed save never becomes a 500, and the clean-up
callbacks registered after it still run. What is left behind is reclaimed later: a
staged copy by ``buckets_cleanup`` (or the bucket's lifecycle rule), as any abandoned
upload.

``transaction.on_commit(..., robust=True)`` is used where Django has it (5.0 and later);
the catch here is what Django 4.2 lacks, and gives the message its words.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import django
from django.db import transaction

__all__ = ["ROBUST_ON_COMMIT", "after_commit", "run_logged"]

logger = logging.getLogger(__name__)

#: Whether ``transaction.on_commit`` takes ``robust`` (Django 5.0 and later).
ROBUST_ON_COMMIT = django.VERSION >= (5, 0)


def run_logged(func: Callable[[], Any], failure: str, *args: Any) -> None:
    """Call ``func``; an ``Exception`` it raises is logged (a warning with its traceback:
    ``failure % args``) instead of raised."""
    try:
        func()
    except Exception:
        logger.warning(failure, *args, exc_info=True)


def after_commit(func: Callable[[], Any], failure: str, *args: Any, using: str) -> None:
    """Run ``func`` once the transaction on ``using`` commits (at once outside one), by
    :func:`run_logged`: a failure is logged with ``failure % args`` and never raised."""
    run = functools.partial(run_logged, func, failure, *args)
    if ROBUST_ON_COMMIT:
        transaction.on_commit(run, using=using, robust=True)
    else:
        transaction.on_commit(run, using=using)
