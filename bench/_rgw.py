"""The benchmarks' Ceph RGW: the one named by ``RGW_ENDPOINT`` (``RGW_ACCESS_KEY``,
``RGW_SECRET_KEY``, and ``RGW_CEPH_CONF`` to let the benchmarks free deleted objects'
RAM), or a throw-away one started by ``s3servers`` (shared with the test suite); plus a
bucket. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator

from s3servers import RGW, ServerUnavailable, temporary_bucket
from s3servers.rgw import from_environment, running_rgw

DEFAULT_AK = "rgwbenchak"
DEFAULT_SK = "rgwbenchsecret"
GiB = 1024**3

__all__ = ["RGW", "bench_bucket", "log", "rgw_server"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextlib.contextmanager
def rgw_server(memstore_bytes: int = 2 * GiB) -> Iterator[RGW]:
    """The RGW named by ``RGW_ENDPOINT``, or a throw-away one with at least
    ``memstore_bytes`` of (RAM-backed) OSD space, stopped and removed on exit."""
    given = from_environment(DEFAULT_AK, DEFAULT_SK)
    if given is not None:
        yield given
        return
    memstore_bytes = max(memstore_bytes, int(os.environ.get("MEMSTORE_BYTES", "0") or 0))
    log(f"starting Ceph RGW (memstore {memstore_bytes / GiB:.1f} GiB)...")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            rgw = stack.enter_context(
                running_rgw(
                    access_key=DEFAULT_AK, secret_key=DEFAULT_SK, memstore_bytes=memstore_bytes
                )
            )
        except ServerUnavailable as exc:
            raise SystemExit(f"{exc} (or set RGW_ENDPOINT)") from None
        log(f"RGW up on {rgw.endpoint_url} in {time.monotonic() - started:.0f} s")
        yield rgw


@contextlib.contextmanager
def bench_bucket(rgw: RGW, prefix: str = "bench") -> Iterator[str]:
    """A fresh bucket, emptied and removed on exit (its deleted data freed at once)."""
    on_error = lambda name, exc: log(f"(could not remove bucket {name}: {exc})")  # noqa: E731
    with temporary_bucket(rgw.client(), prefix, on_error=on_error) as name:
        yield name
    rgw.collect_garbage()
