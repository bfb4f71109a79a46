"""The widget's multipart uploads in a real Chromium, against a real Ceph RGW bucket.

With ``BUCKETS_MULTIPART_THRESHOLD`` lowered to 5 MiB, a file of a little over 40 MiB goes up
in 9 parts (8 of 5 MiB and a short last one), 4 at a time. The tests count the part PUTs the
browser sends (per part number, and which of them the bucket answered with 200): a lost
network or a reload must never send a part the bucket already holds again. Uploads are
slowed down (Chromium's network emulation) so that an upload is still going when a test
cuts the network, reloads or cancels; every wait is on an event, never on time.
"""

from __future__ import annotations

import collections
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.test_widget import hidden_value, save, throttle, widget
from tests.testapp.models import Document

pytestmark = [pytest.mark.browser, pytest.mark.rgw]

MiB = 1024 * 1024
THRESHOLD = 5 * MiB
#: 8 parts of 5 MiB and a last one of 123 bytes.
SIZE = 40 * MiB + 123
PARTS = 9


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, bytes]:
    """A file on disk (so choosing it again is the same file, with the same mtime)."""
    data = os.urandom(SIZE)
    path = tmp_path / "film.bin"
    path.write_bytes(data)
    return path, data


class PartLog:
    """Every part PUT the page sends: its part number, phase, and how it ended."""

    def __init__(self, page: Page) -> None:
        self.phase = 1
        self.sent: list[tuple[int, int]] = []  # (phase, part number)
        self.stored: list[tuple[int, int]] = []  # answered 200 by the bucket
        self.failed: list[tuple[int, int]] = []  # no answer (network cut, aborted)
        self.calls: list[tuple[int, str, str]] = []  # (phase, method, path) to our endpoints
        self.any_failed: list[str] = []
        page.on("request", self._request)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)

    @staticmethod
    def part_of(request: Request) -> int | None:
        if request.method != "PUT":
            return None
        numbers = parse_qs(urlsplit(request.url).query).get("partNumber")
        return int(numbers[0]) if numbers else None

    def _request(self, request: Request) -> None:
        part = self.part_of(request)
        if part is not None:
            self.sent.append((self.phase, part))
        path = urlsplit(request.url).path
        if path.startswith("/s3/multipart/"):
            self.calls.append((self.phase, request.method, path))

    def _finished(self, request: Request) -> None:
        part = self.part_of(request)
        response = request.response()
        if part is not None and response is not None and response.status == 200:
            self.stored.append((self.phase, part))

    def _failed(self, request: Request) -> None:
        self.any_failed.append(f"{request.method} {request.url[:80]} {request.failure}")
        part = self.part_of(request)
        if part is not None:
            self.failed.append((self.phase, part))

    def count(self, entries: list[tuple[int, int]], phase: int | None = None) -> dict[int, int]:
        return collections.Counter(p for ph, p in entries if phase is None or ph == phase)

    def calls_to(self, path: str, phase: int | None = None) -> int:
        return sum(1 for ph, _m, p in self.calls if p == path and (phase is None or ph == phase))


def a_part_stored(request: Request) -> bool:
    response = request.response()
    return PartLog.part_of(request) is not None and response is not None and response.status == 200


def open_form(page: Page, live_server: Any, login: Any, user: Any, settings: Any) -> Any:
    settings.BUCKETS_MULTIPART_THRESHOLD = THRESHOLD
    login(page.context, user)
    page.goto(f"{live_server.url}/documents/new/")
    page.fill("#id_name", "Film")
    return widget(page, "file")


def open_uploads(target: Any) -> list[Any]:
    return target.s3.list_multipart_uploads(Bucket=target.bucket).get("Uploads", [])


def test_a_large_file_goes_up_in_parts_and_survives_a_network_cut(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    big_file: tuple[Path, bytes],
    screenshot: Any,
) -> None:
    path, data = big_file
    w = open_form(page, live_server, login, admin_user, settings)
    log = PartLog(page)
    network = {"offline": False}

    def cut_at_the_fifth_part(route: Route) -> None:
        """Part 5 starts once one of parts 1-4 is stored: the network goes down then, and
        the parts in flight fail as a dropped network fails them."""
        part = PartLog.part_of(route.request)
        if part is not None and part >= 5 and log.phase == 1:
            log.phase = 2
            page.context.set_offline(True)
            network["offline"] = True
        if part is not None and network["offline"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r"[?&]partNumber="), cut_at_the_fifth_part)
    page.set_input_files("#id_file_file", str(path))
    expect(w.locator(".s3file-status")).to_have_text(
        "The connection was lost. The upload goes on by itself when it is back.", timeout=60_000
    )
    expect(w).to_have_attribute("data-state", "uploading")
    # Bytes done of the total, the speed and the time left.
    expect(w.locator(".s3file-detail")).to_contain_text(re.compile(r" of 40\.0 MiB · "))
    screenshot(w, "widget-multipart-offline")
    # Parts sent before the cut that the bucket stored. Their "finished" events may reach
    # the log after the cut began, so they are matched by when they were sent.
    sent_before = {part for phase, part in log.sent if phase == 1}
    stored_before = {part for _phase, part in log.stored if part in sent_before}
    assert stored_before, "a part was stored before the cut"

    network["offline"] = False
    page.context.set_offline(False)
    expect(w).to_have_attribute("data-state", "filled", timeout=120_000)
    screenshot(w, "widget-multipart-done")

    # The cut hit the upload: some PUT got no answer. Back online, the widget asked the
    # bucket what it holds; no part the bucket held was sent again; each part stored once.
    assert log.failed, (log.any_failed, log.sent, log.stored, log.calls)
    assert log.calls_to("/s3/multipart/parts/", phase=2) >= 1
    sent = log.count(log.sent)
    for part in stored_before:
        assert sent[part] == 1, (part, log.sent)
    assert log.count(log.stored) == {n: 1 for n in range(1, PARTS + 1)}, log.stored
    assert log.calls_to("/s3/multipart/") == 1  # one upload, created once
    assert log.calls_to("/s3/multipart/complete/") == 1

    staged = hidden_value(w)
    assert staged.startswith("uploads/") and staged.endswith("/film.bin")
    save(page)
    document = Document.objects.get()
    assert document.file.name == "film.bin"
    assert rgw_target.read("film.bin") == data
    assert rgw_target.keys() == ["film.bin"]
    assert open_uploads(rgw_target) == []
    assert page.evaluate("() => Object.keys(localStorage)") == []


def test_a_reload_mid_upload_resumes_from_the_parts_the_bucket_holds(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    big_file: tuple[Path, bytes],
) -> None:
    path, data = big_file
    w = open_form(page, live_server, login, admin_user, settings)
    log = PartLog(page)
    slow = throttle(page, 8 * MiB)
    with page.expect_request_finished(a_part_stored, timeout=60_000):
        page.set_input_files("#id_file_file", str(path))
    page.reload()
    log.phase = 2
    slow.detach()
    held = {part["PartNumber"] for part in _listed_parts(rgw_target)}
    assert held and len(held) < PARTS
    assert set(log.count(log.stored, 1)) <= held

    page.fill("#id_name", "Film")
    w = widget(page, "file")
    page.set_input_files("#id_file_file", str(path))
    expect(w).to_have_attribute("data-state", "filled", timeout=120_000)

    # Only the parts the bucket did not hold went up again, once each; no new upload.
    assert set(log.count(log.sent, 2)) == set(range(1, PARTS + 1)) - held, log.sent
    assert log.count(log.stored, 2) == {n: 1 for n in set(range(1, PARTS + 1)) - held}
    assert log.calls_to("/s3/multipart/", phase=2) == 0
    assert log.calls_to("/s3/multipart/parts/", phase=2) >= 1
    save(page)
    assert Document.objects.get().file.name == "film.bin"
    assert rgw_target.read("film.bin") == data
    assert open_uploads(rgw_target) == []


def _listed_parts(target: Any) -> list[dict[str, Any]]:
    (upload,) = open_uploads(target)
    return target.s3.list_parts(
        Bucket=target.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
    ).get("Parts", [])


def test_cancel_aborts_the_upload_on_s3(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    big_file: tuple[Path, bytes],
    screenshot: Any,
) -> None:
    path, _data = big_file
    w = open_form(page, live_server, login, admin_user, settings)
    slow = throttle(page, 4 * MiB)
    with page.expect_request_finished(a_part_stored, timeout=60_000):
        page.set_input_files("#id_file_file", str(path))
        # Bytes done of the total, the speed and the time left.
        expect(w.locator(".s3file-detail")).to_contain_text(
            re.compile(r"iB of 40\.0 MiB · .+/s · .+ left")
        )
        screenshot(w, "widget-multipart-uploading")
    assert len(open_uploads(rgw_target)) == 1
    with page.expect_response(re.compile(r"/s3/multipart/abort/$")) as aborted:
        w.get_by_role("button", name="Cancel").click()
    assert aborted.value.status == 204
    expect(w).to_have_attribute("data-state", "empty")
    # There was no file before: nothing "previous" to keep.
    expect(w.locator(".s3file-status")).to_have_text("Upload cancelled.")
    slow.detach()
    assert open_uploads(rgw_target) == []
    assert rgw_target.keys() == []
    assert hidden_value(w) == ""
    assert page.evaluate("() => Object.keys(localStorage)") == []


# -- a file larger than S3 takes in one POST, against the fake -------------------------------

HUGE = 5 * 1024 * MiB + 3 * MiB + 7  # over 5 GiB: 1,025 parts of 5 MiB and a short last one


def peak_rss(pid: int) -> int:
    """A process's peak resident memory in bytes (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def chromium_processes() -> dict[int, str]:
    """Every Chromium process this test process started (through Playwright's driver)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry.name))
    found: dict[int, str] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                # Chromium rewrites its children's titles into one string: split on spaces.
                words = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").split()
            except OSError:
                continue
            if words and b"chromium" in words[0]:
                kind = next((w for w in words if w.startswith(b"--type=")), b"--type=browser")
                sub = next((w for w in words if w.startswith(b"--utility-sub-type=")), b"=")
                found[child] = f"{kind.decode()[7:]} {sub.decode().split('=')[1]}".strip()
    return found


@pytest.mark.skipif(
    os.environ.get("BUCKETS_TEST_HUGE") != "1" or not Path("/proc/self/status").exists(),
    reason="uploads over 5 GiB (minutes): set BUCKETS_TEST_HUGE=1 (Linux)",
)
def test_a_file_over_5_gib_uploads_to_the_fake_with_bounded_memory(
    page: Page,
    live_server: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    from tests.browser.conftest import _fake_target

    settings.ROOT_URLCONF = "tests.browser.urls"
    fake = _fake_target(settings, tmp_path)
    path = tmp_path / "huge.bin"
    with path.open("wb") as sparse:
        sparse.truncate(HUGE)  # a hole on disk: no space, reads as zeros
    w = open_form(page, live_server, login, admin_user, settings)
    page.set_input_files("#id_file_file", str(path))
    expect(w).to_have_attribute("data-state", "filled", timeout=1_800_000)
    save(page)
    assert Document.objects.get().file.name == "huge.bin"

    stored = Path(fake.storage.root) / "huge.bin"
    assert stored.stat().st_size == HUGE
    zeros = bytes(8 * MiB)
    with stored.open("rb") as body:
        while chunk := body.read(len(zeros)):
            assert chunk == zeros[: len(chunk)]

    server = peak_rss(os.getpid())  # the live server runs in this process
    browser = {pid: (kind, peak_rss(pid)) for pid, kind in chromium_processes().items()}
    figures = ", ".join(f"{kind} {rss // MiB} MiB" for kind, rss in sorted(browser.values()))
    print(f"\npeak RSS: test process (Django + fake) {server // MiB} MiB; Chromium: {figures}")
    # Far below the file's size: nothing held the file whole.
    assert server < 1024 * MiB
    assert all(rss < 1024 * MiB for _kind, rss in browser.values())
