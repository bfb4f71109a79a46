"""Many files at once: a bounded pool of threads plans then copies every item; a failure
is recorded and the rest go on; :meth:`Transfer.stop` (Ctrl-C) stops cleanly.

Two passes: the first stats each source and compares it with what the target holds (after
one listing of the target), so the second knows the files and bytes to copy for its
progress line. Stopping lets each worker finish or abort the one request it is making:
a single PUT is whole or absent, an unfinished multipart upload is aborted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.exceptions import SuspiciousFileOperation

from buckets.transfer import copying
from buckets.transfer.copying import (
    CANCELLED,
    COPIED,
    FAILED,
    REPLACED,
    SKIPPED,
    Item,
    Outcome,
    Plan,
)
from buckets.transfer.errors import Cancelled, CopyFailed
from buckets.transfer.progress import Progress
from buckets.transfer.target_base import Target

__all__ = ["Report", "Transfer"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Report:
    """Every file's outcome; ``dry_run`` outcomes say what would be done."""

    outcomes: list[Outcome] = field(default_factory=list)
    dry_run: bool = False
    interrupted: bool = False

    def of(self, action: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == action]

    @property
    def failed(self) -> list[Outcome]:
        return self.of(FAILED)

    @property
    def bytes_copied(self) -> int:
        return sum(o.size for o in self.outcomes if o.action in (COPIED, REPLACED))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CopyFailed | SuspiciousFileOperation):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "missing from the source"
    if isinstance(exc, PermissionError):
        return f"unreadable or refused: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _plan_name(planned: Plan) -> list[str]:
    return [planned.item.name]


def _batch_names(batch: list[Item]) -> list[str]:
    return [item.name for item in batch]


#: Files planned per task, at most.
PLAN_BATCH = 100


def _batches(items: list[Item], workers: int) -> list[list[Item]]:
    """``items`` in batches: up to :data:`PLAN_BATCH` files each, at least four batches per
    worker when there are enough files (planning a file may take a request)."""
    size = max(1, min(PLAN_BATCH, len(items) // (workers * 4)))
    return [items[i : i + size] for i in range(0, len(items), size)]


class Transfer:
    """Copies ``items`` to ``target`` with ``workers`` threads."""

    def __init__(
        self,
        target: Target,
        *,
        workers: int = 8,
        checksum: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.target = target
        self.workers = max(1, workers)
        self.checksum = checksum
        self.dry_run = dry_run
        self.progress = progress or Progress(None)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._planning_outcomes: list[Outcome] = []

    def stop(self) -> None:
        """Stop soon: no new file is begun, files in flight stop at their next chunk."""
        self._stop.set()

    def run(self, items: Iterable[Item]) -> Report:
        report = Report(dry_run=self.dry_run)
        safe: list[Item] = []
        for item in items:
            problem = copying.name_problem(item.name)
            if problem:
                report.outcomes.append(Outcome(item.name, FAILED, why=problem))
            else:
                safe.append(item)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="buckets-transfer") as pool:
            try:
                self.target.prefetch(i.name for i in safe)
                batches = _batches(safe, self.workers)
                plans = [
                    p
                    for batch in self._each(pool, batches, self._plan_batch, _batch_names, report)
                    for p in batch
                ]
                report.outcomes += self._planning_outcomes
                # Largest first: a large file begun last would leave one worker busy alone.
                todo = sorted((p for p in plans if p.action != "skip"), key=lambda p: -p.size)
                report.outcomes += [
                    Outcome(p.item.name, SKIPPED, p.size) for p in plans if p.action == "skip"
                ]
                if self._stop.is_set():
                    report.outcomes += [Outcome(p.item.name, CANCELLED) for p in todo]
                    return report
                if self.dry_run:
                    report.outcomes += [self._would(p) for p in todo]
                    return report
                self.progress.start(len(todo), sum(p.size for p in todo))
                self._each(pool, todo, self._copy, _plan_name, report)
            finally:
                report.interrupted = self._stop.is_set()
                self.progress.finish()
        return report

    def _each(
        self,
        pool: ThreadPoolExecutor,
        work: Sequence[T],
        step: Callable[[T], R | Outcome],
        names_of: Callable[[T], list[str]],
        report: Report,
    ) -> list[R]:
        """``step`` on every element in the pool; Outcomes go to the report, the rest back.
        Ctrl-C here stops the transfer and waits for the workers (no thread is left writing
        after the command returns); what was not begun is reported as cancelled."""
        futures: list[Future[R | Outcome]] = []
        try:
            for element in work:
                futures.append(pool.submit(step, element))
            wait(futures)
        except KeyboardInterrupt:
            self.stop()
            for pending in futures:
                pending.cancel()
            wait(futures)
        results: list[R] = []
        for index, element in enumerate(work):
            done = futures[index] if index < len(futures) else None
            if done is None or done.cancelled():
                report.outcomes += [Outcome(name, CANCELLED) for name in names_of(element)]
                continue
            result = done.result()
            if isinstance(result, Outcome):
                report.outcomes.append(result)
            else:
                results.append(result)
        return results

    def _plan_batch(self, batch: list[Item]) -> list[Plan]:
        """Plan several files in one task (a task per file costs more than a stat); the
        outcomes of files that can't be planned go to the report."""
        plans: list[Plan] = []
        for item in batch:
            planned = self._plan(item)
            if isinstance(planned, Outcome):
                with self._lock:
                    self._planning_outcomes.append(planned)
            else:
                plans.append(planned)
        return plans

    def _plan(self, item: Item) -> Plan | Outcome:
        try:
            if self._stop.is_set():
                raise Cancelled()
            return copying.plan(item, self.target, checksum=self.checksum, stop=self._stop)
        except Cancelled:
            return Outcome(item.name, CANCELLED)
        except (OSError, SuspiciousFileOperation, CopyFailed, ValueError) as exc:
            return Outcome(item.name, FAILED, why=_reason(exc))

    def _copy(self, planned: Plan) -> Outcome:
        name = planned.item.name
        try:
            copying.copy(planned, self.target, stop=self._stop, on_bytes=self.progress.add_bytes)
        except Cancelled:
            return Outcome(name, CANCELLED)
        except (OSError, SuspiciousFileOperation, CopyFailed, ValueError) as exc:
            return Outcome(name, FAILED, planned.size, why=_reason(exc))
        self.progress.add_file()
        action = REPLACED if planned.action == "replace" else COPIED
        return Outcome(name, action, planned.size, why=planned.why)

    @staticmethod
    def _would(planned: Plan) -> Outcome:
        action = REPLACED if planned.action == "replace" else COPIED
        return Outcome(planned.item.name, action, planned.size, why=planned.why)
