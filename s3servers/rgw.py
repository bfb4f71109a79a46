"""Ceph's RADOS Gateway: the S3 server that enforces POST policies and SigV4 the way AWS
does. A throw-away single-node cluster (data in RAM) is started by ``ceph-rgw.sh`` beside
this module; ``RGW_ENDPOINT`` (with ``RGW_ACCESS_KEY``/``RGW_SECRET_KEY``) names a running
one instead.

RGW keeps a deleted object's data until its garbage collector runs (hours later by
default) and the memstore OSD keeps that data in RAM: :meth:`RGW.collect_garbage` runs
it, when the server's ``ceph.conf`` is known (we started it, or ``RGW_CEPH_CONF``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._common import S3Server, ServerUnavailable, free_ports

SCRIPT = Path(__file__).resolve().with_name("ceph-rgw.sh")


@dataclasses.dataclass(frozen=True)
class RGW(S3Server):
    name: str = "rgw"
    #: The server's ceph.conf, when known: lets us run RGW's garbage collector.
    ceph_conf: Path | None = None

    def env(self) -> dict[str, str]:
        """Environment variables that make a child process use this server (and, where
        known, run its garbage collector)."""
        env = {
            "RGW_ENDPOINT": self.endpoint_url,
            "RGW_ACCESS_KEY": self.access_key,
            "RGW_SECRET_KEY": self.secret_key,
        }
        if self.ceph_conf is not None:
            env["RGW_CEPH_CONF"] = str(self.ceph_conf)
        return env

    def collect_garbage(self) -> None:
        """Free deleted objects now (see the module's docstring); a no-op without
        ``ceph_conf``."""
        if self.ceph_conf is None:
            return
        subprocess.run(
            ["radosgw-admin", "-c", str(self.ceph_conf), "gc", "process", "--include-all"],
            capture_output=True,
            timeout=120,
            check=False,
        )


def from_environment(access_key: str, secret_key: str) -> RGW | None:
    """The RGW named by ``RGW_ENDPOINT`` (keys default to the given ones), or None."""
    endpoint = os.environ.get("RGW_ENDPOINT")
    if not endpoint:
        return None
    conf = os.environ.get("RGW_CEPH_CONF")
    return RGW(
        endpoint,
        os.environ.get("RGW_ACCESS_KEY", access_key),
        os.environ.get("RGW_SECRET_KEY", secret_key),
        ceph_conf=Path(conf) if conf else None,
    )


@contextlib.contextmanager
def running_rgw(
    *,
    access_key: str = "rgwtestak",
    secret_key: str = "rgwtestsecret",
    memstore_bytes: int | None = None,
    attempts: int = 2,
) -> Iterator[RGW]:
    """A throw-away RGW on free 127.0.0.1 ports, stopped and removed on exit.

    ``memstore_bytes`` sizes the RAM-backed OSD (the script's default otherwise). A loaded
    machine can lose Ceph's start-up races, so a failed start is tried again, up to
    ``attempts`` times in all; then :class:`ServerUnavailable` with each attempt's error.
    """
    if not shutil.which("radosgw"):
        raise ServerUnavailable("radosgw is not installed (./run-tests installs it)")
    env = dict(os.environ, RGW_ACCESS_KEY=access_key, RGW_SECRET_KEY=secret_key)
    if memstore_bytes is not None:
        env["MEMSTORE_BYTES"] = str(memstore_bytes)
    errors = []
    for _attempt in range(attempts):
        workdir = Path(tempfile.mkdtemp(prefix="buckets-rgw-"))
        port, mon_port = free_ports(2)
        try:
            proc = subprocess.run(
                ["bash", str(SCRIPT), "start", str(workdir), str(port), str(mon_port)],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            proc = None
        if proc is not None and proc.returncode == 0:
            break
        errors.append(
            "timed out" if proc is None else f"exit {proc.returncode}: {proc.stderr[-1500:]}"
        )
        _stop(workdir)
    else:
        raise ServerUnavailable("Ceph RGW did not start: " + " / ".join(errors))
    try:
        yield RGW(
            f"http://127.0.0.1:{port}", access_key, secret_key, ceph_conf=workdir / "ceph.conf"
        )
    finally:
        _stop(workdir)


def _stop(workdir: Path) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop", str(workdir)], capture_output=True, check=False)
    shutil.rmtree(workdir, ignore_errors=True)
