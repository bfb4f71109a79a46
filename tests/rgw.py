"""A throw-away Ceph RGW for the test session, and a fresh bucket for each test.

The server is real (signatures, policies and CORS are enforced as AWS does), so anything
the suite proves about S3 behaviour is proved against it, never against a mock.
Set ``RGW_ENDPOINT`` (with ``RGW_ACCESS_KEY``/``RGW_SECRET_KEY``) to use a running server.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "ceph-rgw.sh"


@dataclasses.dataclass(frozen=True)
class RGW:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    workdir: Path | None = None

    def client(self, **config: Any) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def storage_options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint_url,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region_name": self.region,
            "addressing_style": "path",
            **extra,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        yield RGW(f"http://127.0.0.1:{port}", "rgwtestak", "rgwtestsecret", workdir=workdir)
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3(rgw: RGW) -> Any:
    """A plain boto3 client on RGW, for checking what the code under test did."""
    return rgw.client()


def empty_bucket(client: Any, bucket: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for up in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ()):
        client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])


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


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", ()))
    return keys
