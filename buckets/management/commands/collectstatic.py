"""``manage.py collectstatic``, fast on the S3 static storages.

Django's command, unchanged for any other storage. With ``S3StaticStorage`` or
``S3ManifestStaticStorage`` the run is one :meth:`~buckets.staticfiles.S3StaticStorage.collecting`
block: one listing of the static prefix instead of a HEAD per file, each file compared by
content (MD5) with what the bucket holds and sent only when it differs, uploads on
``--workers`` threads, and hashed names computed from the local files. The output is
Django's ("N static files copied, M unmodified, K post-processed.").

Django finds the first app in ``INSTALLED_APPS`` that has a command of a name: list
``"buckets"`` before ``"django.contrib.staticfiles"`` for this one to run.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.files.storage import Storage
from django.core.management.base import CommandError, CommandParser

from buckets.staticfiles.collecting import COPIED, DEFAULT_WORKERS, Collecting


class Command(collectstatic.Command):
    help = (
        "Collect static files in a single location; on django-buckets' S3 static storages, "
        "only the files whose content changed are sent, several at once."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._run: Collecting | None = None
        self._found: dict[str, tuple[Storage, str]] = {}
        self._copies: list[tuple[str, str, Future[str]]] = []

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=f"Uploads at once to an S3 static storage ({DEFAULT_WORKERS}).",
        )

    def set_options(self, **options: Any) -> None:
        self.workers = options.get("workers") or DEFAULT_WORKERS
        if self.workers < 1:
            raise CommandError("--workers must be at least 1.")
        super().set_options(**options)

    def collect(self) -> dict[str, list[str]]:
        collecting = getattr(self.storage, "collecting", None)
        if collecting is None or self.symlink:
            return super().collect()
        try:
            with collecting(workers=self.workers) as run:
                return self._collect(run)
        except KeyboardInterrupt:
            self.stderr.write(
                "Stopped: uploads under way were finished, queued ones not started; "
                "the manifest was not written."
            )
            raise

    def _collect(self, run: Collecting) -> dict[str, list[str]]:
        """Django's collect (finders, ``--clear``, ignore patterns) with copies queued on
        ``run``; then the post-processing once every copy is done."""
        self._run = run
        post_process, self.post_process = self.post_process, False
        try:
            # Django's own counts (6.0 adds skipped and deleted files) stay in the answer.
            collected = super().collect()
        finally:
            self.post_process = post_process
        self._finish_copies()
        if self.post_process and hasattr(self.storage, "post_process"):
            self._post_process_found()
        self._run = None
        return {
            **collected,
            "modified": self.copied_files + self.symlinked_files,
            "unmodified": self.unmodified_files,
            "post_processed": self.post_processed_files,
        }

    def copy_file(self, path: str, prefixed_path: str, source_storage: Storage) -> None:
        run = self._run
        if run is None:
            super().copy_file(path, prefixed_path, source_storage)
            return
        self._found[prefixed_path] = (source_storage, path)
        future = run.upload(prefixed_path, lambda: source_storage.open(path), dry_run=self.dry_run)
        self._copies.append((path, prefixed_path, future))

    def _finish_copies(self) -> None:
        for path, prefixed_path, future in self._copies:
            if future.result() == COPIED:
                verb = "Pretending to copy" if self.dry_run else "Copying"
                self.log(f"{verb} '{path}'", level=1 if self.dry_run else 2)
                self.copied_files.append(prefixed_path)
            else:
                self.log(f"Skipping '{path}' (not modified)")
                self.unmodified_files.append(prefixed_path)
        self._copies = []

    def _post_process_found(self) -> None:
        processed_files = self.storage.post_process(self._found, dry_run=self.dry_run)
        for original, processed_name, processed in processed_files:
            if isinstance(processed, Exception):
                self.stderr.write(f"Post-processing '{original}' failed!\n")
                raise processed
            if processed:
                self.log(f"Post-processed '{original}' as '{processed_name}'", level=2)
                self.post_processed_files.append(original)
            else:
                self.log(f"Skipped post-processing '{original}'")
