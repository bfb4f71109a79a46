"""A Ceph RGW as the test suite and the benchmarks see it: pytest-free, so ``bench/`` (whose
extra has no pytest) shares it with ``tests/rgw.py``. Starting one is ``tools/ceph-rgw.sh``.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config


@dataclasses.dataclass(frozen=True)
class RGW:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    #: The server's ceph.conf, when known (we started it, or ``RGW_CEPH_CONF``): lets us
    #: run RGW's garbage collector.
    ceph_conf: Path | None = None

    def client(self, **config: Any) -> Any:
        """A plain boto3 client: path style, SigV4, us-east-1 (as the test suite uses)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def storage_options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """Options for ``buckets.storage.S3Storage`` on this server and bucket."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint_url,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region_name": self.region,
            "addressing_style": "path",
            **extra,
        }

    def env(self) -> dict[str, str]:
        """Environment variables that make a child process use this server."""
        return {
            "RGW_ENDPOINT": self.endpoint_url,
            "RGW_ACCESS_KEY": self.access_key,
            "RGW_SECRET_KEY": self.secret_key,
        }

    def collect_garbage(self) -> None:
        """Free deleted objects now (RGW otherwise keeps a deleted object's data for hours,
        and the memstore OSD holds it in RAM). Only possible when ``ceph_conf`` is known."""
        if self.ceph_conf is None:
            return
        subprocess.run(
            ["radosgw-admin", "-c", str(self.ceph_conf), "gc", "process", "--include-all"],
            capture_output=True,
            timeout=120,
            check=False,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def empty_bucket(client: Any, bucket: str) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for up in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ()):
        client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", ()))
    return keys
