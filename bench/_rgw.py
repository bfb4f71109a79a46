"""A Ceph RGW for the benchmarks: started here (``tools/ceph-rgw.sh``) or taken from the
environment (``RGW_ENDPOINT``, ``RGW_ACCESS_KEY``, ``RGW_SECRET_KEY``), plus a bucket.

RGW keeps a deleted object's data until its garbage collector runs (hours later by
default) and the memstore OSD keeps that data in RAM, so after deleting big objects the
benchmarks run ``radosgw-admin gc process``. For a server started elsewhere, give its
config file in ``RGW_CEPH_CONF`` to allow that; otherwise its memstore must be big enough
for every object a benchmark writes.

The server object itself is ``tests.rgw_server.RGW``, shared with the test suite.
All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.rgw_server import RGW, empty_bucket, free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "ceph-rgw.sh"
DEFAULT_AK = "rgwbenchak"
DEFAULT_SK = "rgwbenchsecret"
GiB = 1024**3


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextlib.contextmanager
def rgw_server(memstore_bytes: int = 2 * GiB) -> Iterator[RGW]:
    """The RGW named by ``RGW_ENDPOINT``, or a throw-away one with at least
    ``memstore_bytes`` of (RAM-backed) OSD space, stopped and removed on exit."""
    if os.environ.get("RGW_ENDPOINT"):
        conf = os.environ.get("RGW_CEPH_CONF")
        yield RGW(
            os.environ["RGW_ENDPOINT"],
            os.environ.get("RGW_ACCESS_KEY", DEFAULT_AK),
            os.environ.get("RGW_SECRET_KEY", DEFAULT_SK),
            ceph_conf=Path(conf) if conf else None,
        )
        return
    if not shutil.which("radosgw"):
        raise SystemExit(
            "radosgw is not installed (./run-tests installs it), and RGW_ENDPOINT is not set."
        )
    memstore_bytes = max(memstore_bytes, int(os.environ.get("MEMSTORE_BYTES", "0") or 0))
    workdir = Path(tempfile.mkdtemp(prefix="buckets-bench-rgw-"))
    port, mon_port = free_port(), free_port()
    env = dict(
        os.environ,
        RGW_ACCESS_KEY=DEFAULT_AK,
        RGW_SECRET_KEY=DEFAULT_SK,
        MEMSTORE_BYTES=str(memstore_bytes),
    )
    log(f"starting Ceph RGW on 127.0.0.1:{port} (memstore {memstore_bytes / GiB:.1f} GiB)...")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), "start", str(workdir), str(port), str(mon_port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if proc.returncode != 0:
            raise SystemExit(f"Ceph RGW did not start (exit {proc.returncode}): {proc.stderr}")
        log(f"RGW up in {time.monotonic() - started:.0f} s")
        yield RGW(
            f"http://127.0.0.1:{port}", DEFAULT_AK, DEFAULT_SK, ceph_conf=workdir / "ceph.conf"
        )
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def bench_bucket(rgw: RGW, prefix: str = "bench") -> Iterator[str]:
    """A fresh bucket, emptied and removed on exit."""
    client = rgw.client()
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        try:
            empty_bucket(client, name)
            client.delete_bucket(Bucket=name)
        except Exception as exc:  # noqa: BLE001 -- cleanup must not hide the figures
            log(f"(could not remove bucket {name}: {exc})")
        rgw.collect_garbage()


@contextlib.contextmanager
def rgw_bucket(memstore_bytes: int = 2 * GiB, prefix: str = "bench") -> Iterator[tuple[RGW, str]]:
    """Both at once: ``with rgw_bucket() as (rgw, bucket): ...``."""
    with rgw_server(memstore_bytes) as rgw, bench_bucket(rgw, prefix) as bucket:
        yield rgw, bucket
