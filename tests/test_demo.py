"""The demo site (``example/``) as a new user meets it: a real server, a real Chromium.

Each test sets the demo up with ``manage.py demo_setup`` in a temporary directory, starts
``manage.py runserver`` in a subprocess and drives it with Playwright: log in as demo/demo,
upload a file with the widget on the upload page, see it listed, open its link and get the
same bytes back, then upload a document and a picture in the admin. Every page must render
without a console error, an uncaught exception or a failed request. It runs twice: on the
default fake storage, and on a Ceph RGW bucket chosen by the ``DEMO_S3_*`` environment
variables alone, where the CORS command the demo prints is run as pasted. The demo's own
edit, delete and About pages, its models' names and its per-mode data folders are tested
too; ``tests/browser/test_demo_seaweedfs.py`` drives ``./run-demo --seaweedfs``.
Screenshots go to ``test-output/screenshots/demo-*.png``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Browser, Page, expect

from s3servers import free_port, list_keys
from s3servers.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example"
CLEAN_CHECK = "System check identified no issues (0 silenced)."
START_TIMEOUT = 30.0


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    """A valid PNG (a blue-to-teal gradient), made here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((11, 107 + 3 * x, 203 - 2 * y)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# -- the demo as a process ---------------------------------------------------------------


@dataclasses.dataclass
class Demo:
    """One demo site: its environment, its files and (once started) its URL."""

    env: dict[str, str]
    media: Path
    port: int
    #: The CORS command ``demo_setup`` printed for a real bucket, to paste as is.
    cors_command: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"manage.py {' '.join(args)} exited {proc.returncode}:\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
                pytrace=False,
            )
        return proc

    @contextlib.contextmanager
    def serve(self, log: Path) -> Iterator[str]:
        """``runserver`` until the block ends; fails with the server's log if it never
        starts answering within ``START_TIMEOUT`` seconds."""
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=EXAMPLE,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_listening(proc, log)
            yield self.url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _wait_until_listening(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        attempts = int(START_TIMEOUT / 0.05)
        for _ in range(attempts):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            try:  # waits for the process, up to 50 ms: a crash ends the loop at once
                code = proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"runserver exited {code}:\n{log.read_text()[-3000:]}", pytrace=False)
        pytest.fail(
            f"runserver did not listen within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}",
            pytrace=False,
        )


def make_demo(tmp_path: Path, **extra: str) -> Demo:
    """A demo set up by ``demo_setup`` in ``tmp_path``, with extra environment variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_")) and k != "PYTHONPATH"
    }
    env.update(
        DEMO_DATABASE=str(tmp_path / "demo.sqlite3"),
        DEMO_MEDIA_ROOT=str(tmp_path / "media"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    port = free_port()
    env["PORT"] = str(port)
    demo = Demo(env=env, media=tmp_path / "media", port=port)
    out = demo.manage("demo_setup").stdout
    assert f"Demo site: {demo.url}/  (log in as demo / demo" in out, out
    if "DEMO_S3_BUCKET" in extra:
        demo.cors_command = printed_command(out, f"buckets_cors --origin {demo.url}")
    return demo


def printed_command(output: str, ending: str) -> str:
    """The command line (indented on a line of its own) the demo printed ending so."""
    (line,) = [
        ln.strip() for ln in output.splitlines() if ln.startswith("  ") and ln.endswith(ending)
    ]
    return line


def run_as_pasted(command: str) -> str:
    """Run a printed command line as a person pasting it would: in a shell at the
    repository root, with none of the demo's environment variables set (the line must carry
    what it needs) and no virtualenv on PATH (the line names its Python)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_", "VIRTUAL_ENV")) and k != "PYTHONPATH"
    }
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    proc = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


# -- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Problems:
    """Console errors, uncaught exceptions and failed requests seen by a page.

    Not the site's: opening a stored file's link shows it on the bucket's origin, where
    Chromium then asks for a ``/favicon.ico`` the bucket does not have; and a request a
    navigation cuts short (``net::ERR_ABORTED``) has not failed.
    """

    def __init__(self, page: Page, site: str) -> None:
        self.seen: list[str] = []
        self.site = site
        page.on("console", self.on_console)
        page.on("pageerror", lambda exc: self.seen.append(f"uncaught: {exc} ({page.url})"))
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)

    def on_console(self, msg: Any) -> None:
        where = msg.location.get("url") or ""
        if msg.type not in ("error", "assert"):
            return
        if where.endswith("/favicon.ico") and not where.startswith(self.site + "/"):
            return
        self.seen.append(f"console {msg.type}: {msg.text} ({where})")

    def on_request_failed(self, request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":  # cut short by a navigation: not an error
            self.seen.append(f"failed: {request.url}: {request.failure}")

    def on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.seen.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


# -- what a new user does ----------------------------------------------------------------


def upload_with_widget(
    page: Page, field: str, name: str, data: bytes, mime: str, *, replacing: bool = False
) -> str:
    """Choose a file in the widget of ``field`` (empty, or holding a saved file when
    ``replacing``); wait until it is in the bucket; the staging name the hidden input then
    carries."""
    widget = page.locator(f"[data-s3file]:has(> input[type='hidden'][name='{field}'])")
    expect(widget).to_have_attribute("data-state", "filled" if replacing else "empty")
    page.set_input_files(
        f"#id_{field}_file", files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    expect(widget.locator("> input[type='hidden']")).to_have_value(re.compile(r"^uploads/"))
    expect(widget).to_have_attribute("data-state", "filled")
    expect(widget.locator(".s3file-error")).to_be_empty()
    value = widget.locator("> input[type='hidden']").input_value()
    assert value.startswith("uploads/") and value.endswith("/" + name.replace(" ", "_")), value
    return value


def fetch(page: Page, href: str) -> bytes:
    """The bytes behind a link, fetched with the page's cookies (a PDF link would open
    Chromium's viewer instead of giving its bytes to a navigation)."""
    response = page.request.get(urljoin(page.url, href))
    assert response.ok, (response.status, href)
    return response.body()


def walk_through_the_demo(page: Page, demo: Demo, screenshots: str | None) -> dict[str, bytes]:
    """Everything a new user does; returns ``{stored key: bytes}`` of what was saved."""
    problems = Problems(page, demo.url)
    saved: dict[str, bytes] = {}

    page.goto(demo.url + "/")
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    expect(page.get_by_text("No documents yet.")).to_be_visible()

    # The upload page asks for a login first, then comes back.
    page.get_by_role("link", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/login/\?next=/upload/$"))
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("input[type='submit']")
    page.wait_for_url(demo.url + "/upload/")
    expect(page.get_by_role("heading", name="Upload a document")).to_be_visible()
    if screenshots:
        shot(page, f"{screenshots}-upload-empty")

    notes = b"Minutes of the meeting\n" + os.urandom(2048).hex().encode() + b"\n"
    page.fill("#id_title", "Meeting notes")
    upload_with_widget(page, "file", "meeting notes.txt", notes, "text/plain")
    if screenshots:
        shot(page, f"{screenshots}-upload")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(demo.url + "/")
    expect(page.locator(".message")).to_have_text("Saved “Meeting notes”.")
    row = page.locator("table.files tbody tr", has_text="Meeting notes")
    link = row.locator("td.file a")
    expect(link).to_have_text(re.compile(r"^documents/\d{4}/\d\d/meeting_notes\.txt$"))
    key = link.inner_text()
    href = link.get_attribute("href") or ""
    assert fetch(page, href) == notes
    link.click()  # and a person clicking it sees the text
    page.wait_for_url(urljoin(demo.url, href))
    assert page.locator("body").inner_text().startswith("Minutes of the meeting")
    page.go_back()
    saved[key] = notes

    # The admin: a document, and a picture the list page then shows.
    report = b"%PDF-1.4\n% not much of a PDF, but its type is right\n"
    page.goto(demo.url + "/admin/demo/document/add/")
    page.fill("#id_title", "Annual report")
    upload_with_widget(page, "file", "report.pdf", report, "application/pdf")
    if screenshots:
        shot(page, f"{screenshots}-admin")
    page.click("input[name='_save']")
    page.wait_for_url(demo.url + "/admin/demo/document/")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    png = tiny_png()
    page.goto(demo.url + "/admin/demo/picture/add/")
    page.fill("#id_caption", "Gradient")
    upload_with_widget(page, "image", "gradient.png", png, "image/png")
    page.click("input[name='_save']")
    page.wait_for_url(demo.url + "/admin/demo/picture/")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    # The admin's inline: one widget per attachment row renders and works.
    page.goto(demo.url + "/admin/demo/folder/add/")
    page.fill("#id_name", "Contracts")
    upload_with_widget(page, "attachments-0-file", "contract.txt", b"signed", "text/plain")
    if screenshots:
        shot(page, f"{screenshots}-admin-inline")
    page.click("input[name='_save']")
    page.wait_for_url(demo.url + "/admin/demo/folder/")
    saved["attachments/contract.txt"] = b"signed"

    page.goto(demo.url + "/")
    row = page.locator("table.files tbody tr", has_text="Annual report")
    link = row.locator("td.file a")
    expect(link).to_have_text(re.compile(r"^documents/\d{4}/\d\d/report\.pdf$"))
    assert fetch(page, link.get_attribute("href") or "") == report
    saved[link.inner_text()] = report
    image = page.get_by_role("img", name="Gradient")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 48
    saved["pictures/gradient.png"] = png
    if screenshots:
        shot(page, f"{screenshots}-list")

    assert problems.seen == []
    return saved


# -- the tests ---------------------------------------------------------------------------


def test_the_demo_on_the_fake_storage(page: Page, tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    check = demo.manage("check")
    assert CLEAN_CHECK in check.stdout and not check.stderr, check
    with demo.serve(tmp_path / "runserver.log"):
        saved = walk_through_the_demo(page, demo, screenshots="demo")
    expect(page.locator(".storage")).to_have_text(
        f"Storage: FakeS3Storage, on this computer: {demo.media / 's3'}"
    )
    root = demo.media / "s3"
    on_disk = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".buckets-tmp" not in p.parts
    }
    assert on_disk == saved  # and the staged copies are gone


def test_the_fake_storage_warns_when_debug_is_off(tmp_path: Path) -> None:
    demo = make_demo(tmp_path, DEMO_DEBUG="0")
    out = demo.manage("check").stderr
    assert "buckets.test.W001" in out and "buckets.test.W002" in out, out


@pytest.mark.rgw
def test_the_demo_on_a_real_bucket_by_environment_variables_alone(
    page: Page, tmp_path: Path, rgw: Any, s3: Any, bucket: str
) -> None:
    demo = make_demo(
        tmp_path,
        DEMO_S3_BUCKET=bucket,
        DEMO_S3_ENDPOINT_URL=rgw.endpoint_url,
        DEMO_S3_ACCESS_KEY=rgw.access_key,
        DEMO_S3_SECRET_KEY=rgw.secret_key,
        DEMO_S3_REGION=rgw.region,
    )
    check = demo.manage("check")
    assert CLEAN_CHECK in check.stdout and not check.stderr, check
    assert "DEMO_S3_SECRET_KEY=" in demo.cors_command
    assert "Set the CORS configuration of bucket" in run_as_pasted(demo.cors_command)
    with demo.serve(tmp_path / "runserver.log"):
        saved = walk_through_the_demo(page, demo, screenshots="demo-rgw")
    expect(page.locator(".storage")).to_have_text(
        f"Storage: S3Storage, bucket “{bucket}” at {rgw.endpoint_url}"
    )
    for href in page.locator("table.files td.file a").evaluate_all(
        "links => links.map(a => a.href)"
    ):
        assert href.startswith(f"{rgw.endpoint_url}/{bucket}/documents/"), href
        assert "X-Amz-Signature=" in href, href  # signed URLs: the bucket is private
    assert sorted(list_keys(s3, bucket)) == sorted(saved)  # and the staged copies are gone
    for key, data in saved.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert not (demo.media / "s3").exists()  # nothing went to the local disk


# -- the demo's own pages and modes ------------------------------------------------------


def log_in(page: Page, demo: Demo, then: str) -> None:
    page.goto(f"{demo.url}/admin/login/?next={then}")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("input[type='submit']")
    page.wait_for_url(demo.url + then)


def stored_files(root: Path) -> dict[str, bytes]:
    """The fake bucket's objects (staged uploads included), by key."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".buckets-tmp" not in p.parts
    }


def test_edit_delete_and_about_pages(page: Page, tmp_path: Path) -> None:
    """Besides the admin: edit a document (its replaced file is deleted once saved), delete
    it (its file goes too), and the About page, whose every link works."""
    demo = make_demo(tmp_path)
    root = demo.media / "s3"
    with demo.serve(tmp_path / "runserver.log"):
        problems = Problems(page, demo.url)
        log_in(page, demo, "/upload/")
        page.fill("#id_title", "Draft")
        upload_with_widget(page, "file", "draft.txt", b"first version", "text/plain")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(demo.url + "/")
        (first,) = stored_files(root)

        row = page.locator("table.files tbody tr", has_text="Draft")
        row.get_by_role("link", name="Edit “Draft”").click()
        expect(page.get_by_role("heading", name="Edit “Draft”")).to_be_visible()
        expect(page.locator("#id_title")).to_have_value("Draft")
        page.fill("#id_title", "Final")
        upload_with_widget(
            page, "file", "final.txt", b"second version", "text/plain", replacing=True
        )
        shot(page, "demo-edit")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(demo.url + "/")
        expect(page.locator(".message")).to_have_text("Saved “Final”.")
        link = page.locator("table.files tbody tr", has_text="Final").locator("td.file a")
        expect(link).to_have_text(re.compile(r"^documents/\d{4}/\d\d/final\.txt$"))
        assert stored_files(root) == {link.inner_text(): b"second version"}  # first: gone
        assert first != link.inner_text()

        page.get_by_role("link", name="Delete “Final”").click()
        expect(page.get_by_role("heading", name="Delete “Final”?")).to_be_visible()
        shot(page, "demo-delete")
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(demo.url + "/")
        expect(page.locator(".message")).to_have_text("Deleted “Final”.")
        expect(page.get_by_text("No documents yet.")).to_be_visible()
        assert stored_files(root) == {}

        page.get_by_role("link", name="About", exact=True).click()
        expect(page.get_by_role("heading", name="What this demo shows")).to_be_visible()
        for name in ["Upload", "Files", "Admin"]:
            expect(page.locator("dl.tour dt").get_by_role("link", name=name)).to_be_visible()
        shot(page, "demo-about")
        for href in page.locator("main a").evaluate_all("links => links.map(a => a.href)"):
            assert page.request.get(href).ok, href
        assert problems.seen == []


def test_models_name_themselves(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    code = (
        "from demo.models import *; f = Folder.objects.create(name='Contracts');"
        "print(Document(title='Report')); print(Picture(caption='Sea'));"
        "print(Picture(image='pictures/a.png')); print(f);"
        "print(Attachment(folder=f, file='attachments/c.txt')); print(Attachment(folder=f))"
    )
    out = demo.manage("shell", "-c", code).stdout.splitlines()
    assert out[-6:] == [  # (Django 5.2's shell first says what it imported)
        "Report",
        "Sea",
        "pictures/a.png",
        "Contracts",
        "attachments/c.txt",
        "Contracts: (no file)",
    ]


def test_each_mode_keeps_its_own_database_and_files(tmp_path: Path) -> None:
    """Switching between the fake and a bucket never shows rows naming the other's files."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_")) and k != "PYTHONPATH"
    }
    env["DEMO_VAR"] = str(tmp_path / "var")

    def data_of(**extra: str) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", "demo_setup"],
            cwd=EXAMPLE,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("Data of this mode: ")]
        return line.removeprefix("Data of this mode: ")

    fake = data_of()
    bucket = data_of(DEMO_S3_BUCKET="media", DEMO_S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert fake == str(tmp_path / "var" / "fake" / "db.sqlite3")
    assert bucket == str(tmp_path / "var" / "s3-media" / "db.sqlite3")
    assert Path(fake).is_file() and Path(bucket).is_file()
