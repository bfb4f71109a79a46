"""``manage.py buckets_cleanup``: delete abandoned direct uploads from the staging prefix.

The local fake has no lifecycle rules, so this does by hand what ``buckets_lifecycle`` asks
a real bucket to do: every staged upload older than ``--hours`` is deleted. It works through
the Storage API, so it works on ``S3Storage`` too.

Only what is certainly an abandoned upload of this site is deleted: a name shaped as
:func:`buckets.uploads.new_upload_name` makes them (``<prefix><48 hex digits>/<cleaned file
name>``) whose field MAC verifies, with this site's ``SECRET_KEY`` (or a fallback), for one
of the project's ``S3FileField`` fields or for a plain upload. Anything else found under the
prefix (a file some code saved there, an upload signed by another site sharing the bucket)
is listed as kept, never deleted. Multipart uploads begun more than ``--hours`` ago and never
completed are aborted by the same rule (their parts are stored and billed until then).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone as dj_timezone

from buckets.uploads.field_tokens import field_label
from buckets.uploads.staging_names import is_upload_name


def walk(storage: Storage, path: str) -> Iterator[str]:
    """Every file name under ``path``, depth first."""
    dirs, files = storage.listdir(path)
    for name in files:
        yield posixpath.join(path, name)
    for sub in dirs:
        yield from walk(storage, posixpath.join(path, sub))


def upload_field_labels() -> set[str | None]:
    """Labels of every ``S3FileField`` of the project, and None (an upload for no field)."""
    from buckets.fields import S3FileField

    labels: set[str | None] = {None}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, S3FileField):
                labels.add(field_label(field))
    return labels


class Command(BaseCommand):
    help = (
        "Delete staged direct uploads (under the staging prefix, uploads/) older than --hours. "
        "Only names this site signed are deleted; anything else there is listed and kept."
    )

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
        labels = upload_field_labels()
        now = datetime.now(timezone.utc)
        cutoff = now - timedelta(hours=options["hours"])
        deleted = kept = 0
        for name in walk(storage, prefix.rstrip("/")):
            if not is_upload_name(name, prefix=prefix, field_labels=labels):
                kept += 1
                self.stdout.write(f"kept {name}: not a staged upload made by this site")
                continue
            modified = storage.get_modified_time(name)
            if dj_timezone.is_naive(modified):
                modified = dj_timezone.make_aware(modified)
            if modified < cutoff:
                if not options["dry_run"]:
                    storage.delete(name)
                deleted += 1
                self.stdout.write(f"{'would delete' if options['dry_run'] else 'deleted'} {name}")
        self.stdout.write(f"{deleted} staged file(s) older than {options['hours']} h.")
        aborted = self._abort_stale_multipart(storage, prefix, labels, cutoff, options["dry_run"])
        if aborted is not None:
            self.stdout.write(
                f"{aborted} unfinished multipart upload(s) older than {options['hours']} h."
            )
        if kept:
            self.stdout.write(
                f"{kept} other file(s) under {prefix} kept. The staging prefix is for direct "
                "uploads only: move them elsewhere (buckets_lifecycle's rule would expire them)."
            )

    def _abort_stale_multipart(
        self,
        storage: Storage,
        prefix: str,
        labels: set[str | None],
        cutoff: datetime,
        dry_run: bool,
    ) -> int | None:
        """Abort this site's multipart uploads under ``prefix`` begun before ``cutoff``; None
        for a storage without multipart uploads."""
        list_uploads = getattr(storage, "list_multipart_uploads", None)
        if list_uploads is None:
            return None
        aborted = 0
        for upload in list_uploads(prefix):
            name, began = str(upload["Key"]), upload["Initiated"]
            if not is_upload_name(name, prefix=prefix, field_labels=labels):
                self.stdout.write(f"kept multipart upload of {name}: not made by this site")
                continue
            if isinstance(began, datetime) and began < cutoff:
                if not dry_run:
                    storage.abort_multipart_upload(name, str(upload["UploadId"]))  # type: ignore[attr-defined]
                aborted += 1
                verb = "would abort" if dry_run else "aborted"
                self.stdout.write(f"{verb} the multipart upload of {name}")
        return aborted
