"""The widget's multipart uploads in a real Chromium, against a real Ceph RGW bucket.

With ``BUCKETS_MULTIPART_THRESHOLD`` lowered to 5 MiB, parts are 5 MiB (the plan's least),
4 at a time. The network-cut test sends the acceptance's 300 MiB (61 parts); the reload
and cancel tests need only an upload long enough to interrupt: a little over 40 MiB
(9 parts). Files are written to disk in slices and the stored object is read back in
slices (hashes compared), so no test holds a file whole. The tests count the part PUTs the
browser sends (per part number, and which of them the bucket answered with 200): a lost
network or a reload must never send a part the bucket already holds again. Uploads are
slowed down (Chromium's network emulation) where a test must catch one still going; every
wait is on an event, never on time.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

from s3servers import RGW, empty_bucket
from tests.browser.test_widget import hidden_value, save, throttle, widget
from tests.testapp.models import Document

pytestmark = [pytest.mark.browser, pytest.mark.rgw]

MiB = 1024 * 1024
THRESHOLD = 5 * MiB
#: The acceptance's 300 MiB file (and 123 bytes): 60 parts of 5 MiB and a short last one.
FILM = 300 * MiB + 123
#: 8 parts of 5 MiB and a last one of 123 bytes.
SHORT = 40 * MiB + 123


def part_count(size: int) -> int:
    return -(-size // THRESHOLD)


@dataclasses.dataclass(frozen=True)
class OnDisk:
    """A file written for a test, and what a copy of it must hash to."""

    path: Path
    size: int
    sha256: str


def random_file(path: Path, size: int) -> OnDisk:
    """``size`` random bytes written to ``path`` 8 MiB at a time (a file on disk, so choosing
    it again is the same file, with the same mtime)."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MiB))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return OnDisk(path, size, digest.hexdigest())


def stored_sha256(target: Any, key: str) -> str:
    """The SHA-256 of an object in the bucket, read 1 MiB at a time."""
    digest = hashlib.sha256()
    body = target.s3.get_object(Bucket=target.bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(MiB):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def big_file(tmp_path: Path) -> OnDisk:
    return random_file(tmp_path / "film.bin", SHORT)


@pytest.fixture
def film(tmp_path: Path, rgw: RGW, rgw_target: Any) -> Iterator[OnDisk]:
    """The 300 MiB file. RGW's memstore OSD keeps deleted objects' bytes in RAM until its
    garbage collector runs: afterwards the bucket is emptied and the collector run, so the
    rest of the session has that RAM back."""
    yield random_file(tmp_path / "film.bin", FILM)
    empty_bucket(rgw_target.s3, rgw_target.bucket)
    rgw.collect_garbage()


class PartLog:
    """Every part PUT the page sends: its part number, phase, and how it ended. A request
    counts in the phase it was sent in: one sent before a reload may end after it."""

    def __init__(self, page: Page) -> None:
        self.phase = 1
        self.sent: list[tuple[int, int]] = []  # (phase, part number)
        self.stored: list[tuple[int, int]] = []  # answered 200 by the bucket
        self.failed: list[tuple[int, int]] = []  # no answer (network cut, aborted)
        self.calls: list[tuple[int, str, str]] = []  # (phase, method, path) to our endpoints
        self.any_failed: list[str] = []
        self._sent_in: dict[Request, int] = {}
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
            self._sent_in[request] = self.phase
        path = urlsplit(request.url).path
        if path.startswith("/s3/multipart/"):
            self.calls.append((self.phase, request.method, path))

    def _finished(self, request: Request) -> None:
        part = self.part_of(request)
        response = request.response()
        if part is not None and response is not None and response.status == 200:
            self.stored.append((self._sent_in.get(request, self.phase), part))

    def _failed(self, request: Request) -> None:
        self.any_failed.append(f"{request.method} {request.url[:80]} {request.failure}")
        part = self.part_of(request)
        if part is not None:
            self.failed.append((self._sent_in.get(request, self.phase), part))

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
    film: OnDisk,
    screenshot: Any,
) -> None:
    parts = part_count(FILM)
    cut_at = parts // 2
    w = open_form(page, live_server, login, admin_user, settings)
    log = PartLog(page)
    network = {"offline": False}
    part_url = re.compile(r"[?&]partNumber=")

    def cut_halfway(route: Route) -> None:
        """When the middle part starts, the network goes down, and the parts in flight fail
        as a dropped network fails them (Chromium's offline mode spares PUTs already sent)."""
        part = PartLog.part_of(route.request)
        if part is not None and part >= cut_at and log.phase == 1:
            log.phase = 2
            page.context.set_offline(True)
            network["offline"] = True
        if part is not None and network["offline"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(part_url, cut_halfway)
    page.set_input_files("#id_file_file", str(film.path))
    expect(w.locator(".s3file-status")).to_have_text(
        "The connection was lost. The upload goes on by itself when it is back.", timeout=120_000
    )
    expect(w).to_have_attribute("data-state", "uploading")
    # Bytes done of the total, the speed and the time left.
    expect(w.locator(".s3file-detail")).to_contain_text(re.compile(r" of 300\.0 MiB · "))
    screenshot(w, "widget-multipart-offline")
    # Parts sent before the cut that the bucket stored. Their "finished" events may reach
    # the log after the cut began, so they are matched by when they were sent.
    sent_before = {part for phase, part in log.sent if phase == 1}
    stored_before = {part for _phase, part in log.stored if part in sent_before}
    assert len(stored_before) >= cut_at - 4, "the cut came mid-upload"

    page.unroute(part_url, cut_halfway)  # the rest goes straight through
    network["offline"] = False
    page.context.set_offline(False)
    expect(w).to_have_attribute("data-state", "filled", timeout=180_000)
    screenshot(w, "widget-multipart-done")

    # The cut hit the upload: some PUT got no answer. Back online, the widget asked the
    # bucket what it holds; no part the bucket held was sent again; each part stored once.
    assert log.failed, (log.any_failed, log.sent, log.stored, log.calls)
    assert log.calls_to("/s3/multipart/parts/", phase=2) >= 1
    sent = log.count(log.sent)
    for part in stored_before:
        assert sent[part] == 1, (part, log.sent)
    assert log.count(log.stored) == {n: 1 for n in range(1, parts + 1)}, log.stored
    assert log.calls_to("/s3/multipart/") == 1  # one upload, created once
    assert log.calls_to("/s3/multipart/complete/") == 1

    staged = hidden_value(w)
    assert staged.startswith("uploads/") and staged.endswith("/film.bin")
    save(page)
    document = Document.objects.get()
    assert document.file.name == "film.bin"
    assert rgw_target.keys() == ["film.bin"]
    assert stored_sha256(rgw_target, "film.bin") == film.sha256
    assert open_uploads(rgw_target) == []
    assert page.evaluate("() => Object.keys(localStorage)") == []


def test_a_reload_mid_upload_resumes_from_the_parts_the_bucket_holds(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    big_file: OnDisk,
) -> None:
    path = big_file.path
    every_part = set(range(1, part_count(SHORT) + 1))
    w = open_form(page, live_server, login, admin_user, settings)
    log = PartLog(page)
    slow = throttle(page, 8 * MiB)
    with page.expect_request_finished(a_part_stored, timeout=60_000):
        page.set_input_files("#id_file_file", str(path))
    page.reload()
    log.phase = 2
    slow.detach()
    held = {part["PartNumber"] for part in _listed_parts(rgw_target)}
    assert held and held != every_part
    assert set(log.count(log.stored, 1)) <= held

    page.fill("#id_name", "Film")
    w = widget(page, "file")
    with page.expect_response(re.compile(r"/s3/multipart/parts/\?")) as listed:
        page.set_input_files("#id_file_file", str(path))
    expect(w).to_have_attribute("data-state", "filled", timeout=120_000)

    # Only the parts the bucket did not hold went up again, once each; no new upload. What
    # the widget was told it holds, not what the test listed: a part whose body was sent
    # before the reload may still have been stored in between.
    told = {part["PartNumber"] for part in listed.value.json()["parts"]}
    assert held <= told
    assert set(log.count(log.sent, 2)) == every_part - told, log.sent
    assert log.count(log.stored, 2) == {n: 1 for n in every_part - told}
    assert log.calls_to("/s3/multipart/", phase=2) == 0
    assert log.calls_to("/s3/multipart/parts/", phase=2) >= 1
    save(page)
    assert Document.objects.get().file.name == "film.bin"
    assert stored_sha256(rgw_target, "film.bin") == big_file.sha256
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
    big_file: OnDisk,
    screenshot: Any,
) -> None:
    path = big_file.path
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
