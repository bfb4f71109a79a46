"""A file larger than S3 takes in one POST (over 5 GiB) goes up from Chromium to the fake in
parts and saves, with the browser's and the server's memory bounded (measured).

The file is sparse (a hole on disk: no space, reads as zeros). The live server runs in this
process, so the server's figure is this process's peak resident memory over the upload,
less what it held before (the kernel's high-water mark, reset first). Chromium's is each of
its processes' peak. Both must stay far below the file's size: nothing holds the file
whole. The fake's files (the parts, then the object and its copy: about twice the file at
the most) are removed afterwards, whatever the outcome. It runs by default; about a minute
and a half of CPU (Chromium and the live server about evenly), so ``BUCKETS_TEST_HUGE=0``
skips it in a quick local run.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from s3servers.chromium import chromium_processes, cpu_seconds
from tests.browser.conftest import Target, _fake_target
from tests.browser.test_multipart_widget import THRESHOLD, open_form, part_count
from tests.testapp.models import Document

MiB = 1024 * 1024
GiB = 1024 * MiB
#: Over 5 GiB: 1,025 parts of 5 MiB and a short last one.
HUGE = 5 * GiB + 3 * MiB + 7
#: Bounds far below the file's size.
SERVER_GROWTH_BOUND = 256 * MiB
CHROMIUM_PROCESS_BOUND = 512 * MiB
CHROMIUM_TOTAL_BOUND = 2 * GiB
#: Disk the fake needs at the most (parts, then the object and the form's copy of it).
DISK_NEEDED = 2 * HUGE + GiB

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path("/proc/self/clear_refs").exists(), reason="measures memory through Linux /proc"
    ),
    pytest.mark.skipif(
        os.environ.get("BUCKETS_TEST_HUGE") == "0", reason="BUCKETS_TEST_HUGE=0 (minutes of CPU)"
    ),
]


def resident(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def reset_peak(pid: int) -> None:
    """Make the process's peak resident memory its current one (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture
def fake(settings: Any, live_server: Any, tmp_path: Path) -> Iterator[Target]:
    """The fake, its files removed afterwards (pytest keeps the last runs' tmp_path)."""
    free = shutil.disk_usage(tmp_path).free
    if free < DISK_NEEDED:
        pytest.skip(f"needs {DISK_NEEDED / GiB:.0f} GiB free in {tmp_path} ({free / GiB:.1f})")
    settings.ROOT_URLCONF = "tests.browser.urls"
    target = _fake_target(settings, tmp_path)
    try:
        yield target
    finally:
        shutil.rmtree(target.storage.root, ignore_errors=True)


def test_a_file_over_5_gib_uploads_to_the_fake_with_bounded_memory(
    page: Page,
    live_server: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    tmp_path: Path,
    fake: Target,
) -> None:
    path = tmp_path / "huge.bin"
    with path.open("wb") as sparse:
        sparse.truncate(HUGE)
    assert part_count(HUGE) > 1024 and THRESHOLD < HUGE
    w = open_form(page, live_server, login, admin_user, settings)
    browser = chromium_processes()
    assert any(kind == "browser" for kind in browser.values()), browser
    for pid in [os.getpid(), *browser]:
        reset_peak(pid)
    server_before = resident(os.getpid(), "VmRSS")
    cpu_before = {pid: cpu_seconds(pid) for pid in [os.getpid(), *browser]}

    started = time.monotonic()
    page.set_input_files("#id_file_file", str(path))
    expect(w).to_have_attribute("data-state", "filled", timeout=900_000)
    uploaded = time.monotonic()
    # Saving copies the object to its final name: minutes for the fake on a busy machine.
    with page.expect_navigation(url=re.compile(r"saved="), timeout=900_000):
        page.locator("#save").click(no_wait_after=True)
    saved = time.monotonic()
    server_growth = resident(os.getpid(), "VmHWM") - server_before
    cpu = {
        pid: cpu_seconds(pid) - before
        for pid, before in cpu_before.items()
        if Path(f"/proc/{pid}").exists()  # a helper process may have ended
    }
    peaks = {pid: (kind, resident(pid, "VmHWM")) for pid, kind in chromium_processes().items()}

    assert Document.objects.get().file.name == "huge.bin"
    stored = Path(fake.storage.root) / "huge.bin"
    assert stored.stat().st_size == HUGE
    zeros = bytes(8 * MiB)
    with stored.open("rb") as body:
        while chunk := body.read(len(zeros)):
            assert chunk == zeros[: len(chunk)]
    assert fake.keys() == ["huge.bin"]  # the staged upload and its parts are gone

    figures = ", ".join(f"{kind} {rss // MiB}" for kind, rss in sorted(peaks.values()))
    busy = ", ".join(
        f"{browser.get(pid, 'test process')} {seconds:.0f}"
        for pid, seconds in sorted(cpu.items(), key=lambda item: -item[1])
        if seconds >= 1
    )
    print(
        f"\n{HUGE / GiB:.2f} GiB: upload {uploaded - started:.0f} s "
        f"({HUGE / MiB / (uploaded - started):.0f} MiB/s), save {saved - uploaded:.0f} s; "
        f"server RSS growth {server_growth // MiB} MiB; Chromium peak RSS (MiB): {figures}; "
        f"CPU seconds (upload and save): {busy}"
    )
    assert server_growth < SERVER_GROWTH_BOUND
    assert all(rss < CHROMIUM_PROCESS_BOUND for _kind, rss in peaks.values()), peaks
    assert sum(rss for _kind, rss in peaks.values()) < CHROMIUM_TOTAL_BOUND, peaks
