"""A throw-away Ceph RGW for the test session, and a fresh bucket for each test.

The server is real (signatures, policies and CORS are enforced as AWS does), so anything
the suite proves about S3 behaviour is proved against it, never against a mock.
Set ``RGW_ENDPOINT`` (with ``RGW_ACCESS_KEY``/``RGW_SECRET_KEY``) to use a running server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rgw_server import RGW, empty_bucket, free_port, list_keys

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "ceph-rgw.sh"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Ceph RGW is required in CI and could not start: {reason}", pytrace=False)
    pytest.skip(f"Ceph RGW not available: {reason}")


@pytest.fixture(scope="session")
def rgw() -> Iterator[RGW]:
    if os.environ.get("RGW_ENDPOINT"):
        yield RGW(
            os.environ["RGW_ENDPOINT"],
            os.environ.get("RGW_ACCESS_KEY", "rgwtestak"),
            os.environ.get("RGW_SECRET_KEY", "rgwtestsecret"),
        )
        return
    if not shutil.which("radosgw"):
        _unavailable("radosgw is not installed (./run-tests installs it)")
    env = dict(os.environ, RGW_ACCESS_KEY="rgwtestak", RGW_SECRET_KEY="rgwtestsecret")
    errors = []
    for _attempt in range(2):  # a loaded machine can lose Ceph's start-up races: once more
        workdir = Path(tempfile.mkdtemp(prefix="buckets-rgw-"))
        port, mon_port = free_port(), free_port()
        proc = subprocess.run(
            ["bash", str(SCRIPT), "start", str(workdir), str(port), str(mon_port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if proc.returncode == 0:
            break
        errors.append(f"exit {proc.returncode}: {proc.stderr[-1500:]}")
        subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        _unavailable(" / ".join(errors))
    try:
        yield RGW(
            f"http://127.0.0.1:{port}",
            "rgwtestak",
            "rgwtestsecret",
            ceph_conf=workdir / "ceph.conf",
        )
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3(rgw: RGW) -> Any:
    """A plain boto3 client on RGW, for checking what the code under test did."""
    return rgw.client()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh, empty bucket, removed after the test."""
    name = f"t-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    yield name
    try:
        empty_bucket(s3, name)
        s3.delete_bucket(Bucket=name)
    except Exception:  # noqa: BLE001 -- cleanup must not mask the test's own result
        pass


__all__ = ["RGW", "empty_bucket", "free_port", "list_keys"]
