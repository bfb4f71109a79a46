"""``manage.py buckets_migrate``: copy the files model fields point at from one storage into
another (the bucket), under the same names.

    python manage.py buckets_migrate shop.Invoice.pdf --to bucket

The work is :mod:`buckets.migrate` (which fields, which names) and :mod:`buckets.transfer`
(parallel, verified, resumable copies). This module only reads the arguments and prints.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from buckets.migrate import file_fields, items_of, storage_named
from buckets.transfer import Progress, Report, Transfer, target_for
from buckets.transfer.copying import CANCELLED, COPIED, REPLACED, SKIPPED
from buckets.transfer.progress import Stream, format_bytes

#: Exit status after Ctrl-C, as a shell gives a process stopped by SIGINT.
INTERRUPTED_STATUS = 130


class Command(BaseCommand):
    help = (
        "Copy the files of FileField, ImageField and S3FileField columns from one storage to "
        "another under the same names: in parallel, each copy verified, files already there "
        "and identical skipped."
    )
    #: The storages it names are checked as it uses them; the project's other system checks
    #: (which build every storage's client) would only slow an immediate re-run down.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "labels", nargs="+", metavar="app_label[.Model[.field]]", help="What to copy."
        )
        parser.add_argument(
            "--from",
            dest="source",
            help="STORAGES alias or dotted path of the storage to read (default: each "
            "field's own storage).",
        )
        parser.add_argument(
            "--to", dest="target", required=True, help="STORAGES alias or dotted path to write."
        )
        parser.add_argument("--workers", type=int, default=10, help="Files at once (10).")
        parser.add_argument(
            "--checksum",
            action="store_true",
            help="Compare the content of files already there (MD5 against the ETag), "
            "not only size and time.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Copy nothing; say what.")
        parser.add_argument("--no-progress", action="store_true", help="No progress line.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fields = file_fields(options["labels"])
            source = storage_named(options["source"]) if options["source"] else None
            target = target_for(storage_named(options["target"]), options["workers"])
        except (LookupError, ValueError, FieldDoesNotExist, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        if options["workers"] < 1:
            raise CommandError(_("--workers must be at least 1."))
        quiet = options["no_progress"] or options["dry_run"] or options["verbosity"] < 1
        out = None if quiet else cast(Stream, self.stdout._out)  # no newline added
        progress = Progress(out, terminal=out is not None and self.stdout.isatty())
        transfer = Transfer(
            target,
            workers=options["workers"],
            checksum=options["checksum"],
            dry_run=options["dry_run"],
            progress=progress,
        )
        report = transfer.run(items_of(fields, source))
        self.print_report(report, options["verbosity"])
        if report.interrupted:
            raise CommandError(
                _("Interrupted: nothing half-written was left."), returncode=INTERRUPTED_STATUS
            )
        if report.failed:
            raise CommandError(
                _("%(count)d file(s) could not be copied (see above).")
                % {"count": len(report.failed)}
            )

    def print_report(self, report: Report, verbosity: int) -> None:
        write = self.stdout.write
        for outcome in report.of(REPLACED):
            verb = _("would replace") if report.dry_run else _("replaced")
            write(f"{verb} {outcome.name}: {outcome.why}")
        if report.dry_run and verbosity > 1:
            for outcome in report.of(COPIED):
                write(_("would copy %(name)s") % {"name": outcome.name})
        for outcome in report.failed:
            write(_("FAILED %(name)s: %(why)s") % {"name": outcome.name, "why": outcome.why})
        copied, replaced = report.of(COPIED), report.of(REPLACED)
        counts = {
            "copied": len(copied),
            "replaced": len(replaced),
            "bytes": format_bytes(report.bytes_copied),
            "skipped": len(report.of(SKIPPED)),
            "failed": len(report.failed),
            "cancelled": len(report.of(CANCELLED)),
        }
        if report.dry_run:
            line = _(
                "Dry run: %(copied)d to copy, %(replaced)d to replace (%(bytes)s), "
                "%(skipped)d already there and identical, %(failed)d failed."
            )
        else:
            line = _(
                "%(copied)d copied, %(replaced)d replaced (%(bytes)s), "
                "%(skipped)d already there and identical, %(failed)d failed."
            )
        write(line % counts)
        if counts["cancelled"]:
            write(_("%(cancelled)d not done (interrupted).") % counts)
