"""``manage.py buckets_cleanup``: delete abandoned direct uploads from the staging prefix.

The local fake has no lifecycle rules, so this does by hand what ``buckets_lifecycle`` asks
a real bucket to do: every file under the staging prefix older than ``--hours`` is deleted.
It works through the Storage API, so it works on ``S3Storage`` too.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from django.core.files.storage import Storage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone as dj_timezone


def walk(storage: Storage, path: str) -> Iterator[str]:
    """Every file name under ``path``, depth first."""
    dirs, files = storage.listdir(path)
    for name in files:
        yield posixpath.join(path, name)
    for sub in dirs:
        yield from walk(storage, posixpath.join(path, sub))


class Command(BaseCommand):
    help = "Delete files under the staging prefix (uploads/) older than --hours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=float, default=24.0, help="Age (default 24).")
        parser.add_argument("--storage", default="default", help="Storage alias (default).")
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        storage = storages[options["storage"]]
        settings = getattr(storage, "settings", None)
        prefix = getattr(settings, "upload_prefix", None)
        if not prefix:
            raise CommandError(f"Storage {options['storage']!r} has no staging prefix.")
        now = datetime.now(timezone.utc)
        cutoff = now - timedelta(hours=options["hours"])
        deleted = 0
        for name in walk(storage, prefix.rstrip("/")):
            modified = storage.get_modified_time(name)
            if dj_timezone.is_naive(modified):
                modified = dj_timezone.make_aware(modified)
            if modified < cutoff:
                if not options["dry_run"]:
                    storage.delete(name)
                deleted += 1
                self.stdout.write(f"{'would delete' if options['dry_run'] else 'deleted'} {name}")
        self.stdout.write(f"{deleted} staged file(s) older than {options['hours']} h.")
