"""What every local S3 server has: an endpoint and a key pair, a boto3 client on it, and
the helpers the suite and the benchmarks use to look into a bucket."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, TypeVar

import boto3
from botocore.config import Config

T = TypeVar("T")


class ServerUnavailable(Exception):
    """The server cannot run here (not installed) or did not start; the message says why.
    The test suite turns it into a skip (a failure in CI), the benchmarks into an exit."""


@dataclasses.dataclass(frozen=True)
class S3Server:
    """A running S3 server on 127.0.0.1, as clients see it."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    #: A short name for messages and test ids ("rgw", "seaweedfs").
    name: str = "s3"

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

    def collect_garbage(self) -> None:
        """Free deleted objects' space now, where the server keeps it for a while."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports on 127.0.0.1 that were free a moment ago (all held open
    together while choosing, so no two are the same)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


def poll(
    attempt: Callable[[], T],
    *,
    deadline: float,
    what: str,
    interval: float = 0.05,
    alive: Callable[[], str | None] = lambda: None,
) -> T:
    """``attempt()`` until it returns without raising, at most ``deadline`` seconds; then
    :class:`ServerUnavailable` with the last error. ``alive()`` returns why the server can
    no longer answer (it exited), which ends the wait at once."""
    end = time.monotonic() + deadline
    while True:
        try:
            return attempt()
        except Exception as exc:  # noqa: BLE001 -- any failure means "not yet"
            last = exc
        dead = alive()
        if dead is not None:
            raise ServerUnavailable(f"{what}: {dead}")
        if time.monotonic() > end:
            raise ServerUnavailable(f"{what}: not within {deadline:.0f} s ({last!r})")
        time.sleep(interval)


@contextlib.contextmanager
def temporary_bucket(
    client: Any, prefix: str = "t", on_error: Callable[[str, Exception], None] | None = None
) -> Iterator[str]:
    """A new, empty bucket on the client's server, emptied and removed on exit. A failure to
    remove it goes to ``on_error`` (bucket name, exception), never over the caller's result."""
    name = f"{prefix}-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        try:
            empty_bucket(client, name)
            client.delete_bucket(Bucket=name)
        except Exception as exc:  # noqa: BLE001 -- cleanup must not mask the caller's result
            if on_error is not None:
                on_error(name, exc)


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete every object and abort every multipart upload in ``bucket``."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for up in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ()):
        client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key in ``bucket`` under ``prefix``, in the server's order."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", ()))
    return keys
