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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, in the language the command runs in (argparse takes no lazy text).
        self.help = _(
            "Delete staged direct uploads (under the staging prefix, uploads/) older than --hours. "
            "Only names this site signed are deleted; anything else there is listed and kept."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=float, default=24.0, help=_("Age (default 24)."))
        parser.add_argument("--storage", default="default", help=_("Storage alias (default)."))
        parser.add_argument("--dry-run", action="store_true", help=_("List, delete nothing."))

    def handle(self, *args: Any, **options: Any) -> None:
        storage = storages[options["storage"]]
        settings = getattr(storage, "settings", None)
        prefix = getattr(settings, "upload_prefix", None)
        if not prefix:
            raise CommandError(
                _("Storage %(alias)r has no staging prefix.") % {"alias": options["storage"]}
            )
        labels = upload_field_labels()
        now = datetime.now(timezone.utc)
        cutoff = now - timedelta(hours=options["hours"])
        deleted = kept = 0
        for name in walk(storage, prefix.rstrip("/")):
            if not is_upload_name(name, prefix=prefix, field_labels=labels):
                kept += 1
                self.stdout.write(
                    _("kept %(name)s: not a staged upload made by this site") % {"name": name}
                )
                continue
            modified = storage.get_modified_time(name)
            if dj_timezone.is_naive(modified):
                modified = dj_timezone.make_aware(modified)
            if modified < cutoff:
                if not options["dry_run"]:
                    storage.delete(name)
                deleted += 1
                said = _("would delete %(name)s") if options["dry_run"] else _("deleted %(name)s")
                self.stdout.write(said % {"name": name})
        hours = options["hours"]
        self.stdout.write(
            ngettext(
                "%(count)d staged file older than %(hours)s h.",
                "%(count)d staged files older than %(hours)s h.",
                deleted,
            )
            % {"count": deleted, "hours": hours}
        )
        aborted = self._abort_stale_multipart(storage, prefix, labels, cutoff, options["dry_run"])
        if aborted is not None:
            self.stdout.write(
                ngettext(
                    "%(count)d unfinished multipart upload older than %(hours)s h.",
                    "%(count)d unfinished multipart uploads older than %(hours)s h.",
                    aborted,
                )
                % {"count": aborted, "hours": hours}
            )
        if kept:
            self.stdout.write(
                ngettext(
                    "%(count)d other file under %(prefix)s kept. The staging prefix is for "
                    "direct uploads only: move it elsewhere (buckets_lifecycle's rule would "
                    "expire it).",
                    "%(count)d other files under %(prefix)s kept. The staging prefix is for "
                    "direct uploads only: move them elsewhere (buckets_lifecycle's rule would "
                    "expire them).",
                    kept,
                )
                % {"count": kept, "prefix": prefix}
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
                self.stdout.write(
                    _("kept multipart upload of %(name)s: not made by this site") % {"name": name}
                )
                continue
            if isinstance(began, datetime) and began < cutoff:
                if not dry_run:
                    storage.abort_multipart_upload(name, str(upload["UploadId"]))  # type: ignore[attr-defined]
                aborted += 1
                if dry_run:
                    said = _("would abort the multipart upload of %(name)s")
                else:
                    said = _("aborted the multipart upload of %(name)s")
                self.stdout.write(said % {"name": name})
        return aborted
