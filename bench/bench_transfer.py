"""Big-file transfer: django-buckets' ``save()``/``open().read()`` vs raw boto3.

Uploads a file of ``--size`` bytes from disk with ``storage.save(name, File(f))`` and with
boto3's ``upload_fileobj`` (boto3's default ``TransferConfig``; also, for reference, with
the storage's own ``TransferConfig``), then reads it back with ``storage.open(name)`` in
1 MiB ``read()`` calls and with ``download_fileobj`` into a null sink.

Every measurement runs in a fresh Python process, so one peak cannot hide another: the
child builds its storage or client, makes one request to warm the connection, records its
RSS, then samples RSS every 10 ms (psutil, in a thread) during the transfer; the figure is
the peak minus that baseline (``ru_maxrss`` catches a peak between two samples). Runs of
the different modes alternate; the median wall time of ``--repeat`` runs is compared.

    python -m bench.bench_transfer [--size 1G] [--repeat 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import MiB, format_size, parse_size, setup_django, table, verdict
from ._rgw import RGW, bench_bucket, log, rgw_server

READ_CHUNK = MiB

#: mode -> (what it is, reference mode for its ratio)
UPLOADS = {
    "save": ("buckets save()", "boto3-upload"),
    "boto3-upload": ("boto3 upload_fileobj, boto3 TransferConfig()", "boto3-upload"),
    "boto3-upload-storagecfg": ("boto3 upload_fileobj, storage's TransferConfig", "boto3-upload"),
}
DOWNLOADS = {
    "open-read": ("buckets open().read(1 MiB) loop", "boto3-download"),
    "boto3-download": ("boto3 download_fileobj -> null sink", "boto3-download"),
}
#: Targets: median wall time vs raw boto3, and peak RSS growth in MiB.
MAX_SAVE_RATIO = 1.1
MAX_RSS_MIB = {"save": 100.0, "open-read": 64.0}


# -- the child: one measurement in a fresh process ---------------------------------------


class PeakRSS:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.01) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0
        self.samples = 0

    def rss(self) -> int:
        return int(self._proc.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self.samples += 1
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


class NullSink(io.RawIOBase):
    """A seekable writable that keeps nothing (so download_fileobj may write out of order)."""

    def __init__(self) -> None:
        self.pos = 0
        self.written = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(memoryview(data).cast("B"))
        self.pos += n
        self.written += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self.pos = offset
        elif whence == io.SEEK_CUR:
            self.pos += offset
        else:
            raise OSError("NullSink has no end to seek from")
        return self.pos

    def tell(self) -> int:
        return self.pos


def _prepare(mode: str, rgw: RGW, bucket: str, key: str, path: str) -> Callable[[], int]:
    """Build everything the transfer needs (outside the measurement); return the transfer,
    which returns the bytes it moved."""
    from boto3.s3.transfer import TransferConfig

    setup_django()
    from django.core.files import File

    from buckets.storage import S3Storage

    if mode in ("save", "open-read", "boto3-upload-storagecfg"):
        storage = S3Storage(**rgw.storage_options(bucket))
        client = storage.client
        config = storage.transfer_config
    else:
        storage = None
        client = rgw.client()
        config = TransferConfig()
    client.head_bucket(Bucket=bucket)  # a live, pooled connection for both sides

    if mode == "save":

        def transfer() -> int:
            assert storage is not None
            with open(path, "rb") as f:
                saved = storage.save(key, File(f))
            if saved != key:
                raise RuntimeError(f"save() stored {saved!r}, not {key!r}")
            return os.path.getsize(path)

    elif mode in ("boto3-upload", "boto3-upload-storagecfg"):

        def transfer() -> int:
            with open(path, "rb") as f:
                client.upload_fileobj(f, bucket, key, Config=config)
            return os.path.getsize(path)

    elif mode == "open-read":

        def transfer() -> int:
            assert storage is not None
            n = 0
            with storage.open(key, "rb") as f:
                while chunk := f.read(READ_CHUNK):
                    n += len(chunk)
            return n

    elif mode == "boto3-download":

        def transfer() -> int:
            sink = NullSink()
            client.download_fileobj(bucket, key, sink, Config=config)
            return sink.written

    else:
        raise ValueError(f"unknown mode {mode!r}")
    return transfer


def child(mode: str, bucket: str, key: str, path: str) -> dict[str, Any]:
    rgw = RGW(
        os.environ["RGW_ENDPOINT"], os.environ["RGW_ACCESS_KEY"], os.environ["RGW_SECRET_KEY"]
    )
    transfer = _prepare(mode, rgw, bucket, key, path)
    gc.collect()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with PeakRSS(0.01) as sampler:
        base = sampler.peak
        t0 = time.perf_counter()
        moved = transfer()
        wall = time.perf_counter() - t0
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = sampler.peak
    if maxrss_after > maxrss_before:  # a new lifetime peak, set during the transfer
        peak = max(peak, maxrss_after)
    return {
        "mode": mode,
        "wall": wall,
        "bytes": moved,
        "rss_base": base,
        "rss_growth": peak - base,
        "samples": sampler.samples,
    }


# -- the parent: drive the children, check results, print the figures --------------------


def make_file(path: Path, size: int) -> None:
    """``size`` bytes of incompressible data: a random 4 MiB block, each copy stamped with
    its offset so no two parts are alike."""
    block = bytearray(os.urandom(4 * MiB))
    with open(path, "wb") as f:
        offset = 0
        while offset < size:
            block[:16] = offset.to_bytes(16, "big")
            n = min(len(block), size - offset)
            f.write(memoryview(block)[:n])
            offset += n


def run_child(rgw: RGW, mode: str, bucket: str, key: str, path: Path, size: int) -> dict[str, Any]:
    env = dict(os.environ, **rgw.env(), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "bench.bench_transfer", "--child", mode]
    cmd += ["--bucket", bucket, "--key", key, "--file", str(path)]
    timeout = 120 + size / (5 * MiB)  # bounded, whatever happens on the server
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["bytes"] != size:
        raise RuntimeError(f"{mode} moved {result['bytes']} bytes, not {size}")
    return result


def run(rgw: RGW, *, size: int, repeat: int, workdir: str | None) -> bool:
    """Run the transfer benchmark on ``rgw``; True when every target passed."""
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in [*UPLOADS, *DOWNLOADS]}
    client = rgw.client()
    with (
        tempfile.TemporaryDirectory(prefix="buckets-bench-", dir=workdir) as tmp,
        bench_bucket(rgw, "bench-xfer") as bucket,
    ):
        path = Path(tmp) / "payload.bin"
        log(f"writing a {format_size(size)} file in {tmp}...")
        make_file(path, size)
        # The object the reads use goes up first, untimed: it also warms RGW up.
        read_key = "down/payload.bin"
        client.upload_file(str(path), bucket, read_key)
        modes = list(UPLOADS)
        for rep in range(repeat):
            for mode in modes[rep % len(modes) :] + modes[: rep % len(modes)]:
                key = f"up/{mode}/{uuid.uuid4().hex}.bin"
                r = run_child(rgw, mode, bucket, key, path, size)
                stored = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
                if stored != size:
                    raise RuntimeError(f"{mode} stored {stored} bytes, not {size}")
                results[mode].append(r)
                log(f"  {mode:24s} {r['wall']:7.2f} s  +{r['rss_growth'] / MiB:6.1f} MiB RSS")
                client.delete_object(Bucket=bucket, Key=key)
                rgw.collect_garbage()  # memstore keeps deleted data in RAM until collected
        modes = list(DOWNLOADS)
        for rep in range(repeat):
            for mode in modes[rep % len(modes) :] + modes[: rep % len(modes)]:
                r = run_child(rgw, mode, bucket, read_key, path, size)
                results[mode].append(r)
                log(f"  {mode:24s} {r['wall']:7.2f} s  +{r['rss_growth'] / MiB:6.1f} MiB RSS")
    return report(results, size, repeat)


def report(results: dict[str, list[dict[str, Any]]], size: int, repeat: int) -> bool:
    def median_wall(mode: str) -> float:
        return statistics.median(r["wall"] for r in results[mode])

    all_ok = True
    rows = []
    for mode, (label, ref) in [*UPLOADS.items(), *DOWNLOADS.items()]:
        walls = [r["wall"] for r in results[mode]]
        growth = max(r["rss_growth"] for r in results[mode]) / MiB
        ratio = median_wall(mode) / median_wall(ref)
        checks = []
        if mode == "save":
            ok = ratio <= MAX_SAVE_RATIO
            checks.append(f"time<={MAX_SAVE_RATIO}x {verdict(ok)}")
            all_ok &= ok
        if mode in MAX_RSS_MIB:
            ok = growth <= MAX_RSS_MIB[mode]
            checks.append(f"RSS<={MAX_RSS_MIB[mode]:.0f} MiB {verdict(ok)}")
            all_ok &= ok
        rows.append(
            [
                label,
                f"{min(walls):.2f}",
                f"{statistics.median(walls):.2f}",
                f"{size / MiB / statistics.median(walls):.0f}",
                f"{ratio:.2f}x",
                f"{growth:.1f}",
                ", ".join(checks) or "-",
            ]
        )
    print()
    print(
        f"transfer of {format_size(size)}: wall seconds (best/median of {repeat}), ratio of "
        "medians vs raw boto3, peak RSS growth (max over runs), each run a fresh process"
    )
    print(
        table(
            ["operation", "best s", "median s", "MiB/s", "vs boto3", "peak RSS +MiB", "target"],
            rows,
        )
    )
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size: 1G (default), 256M, 64K...")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each operation (3)")
    parser.add_argument("--dir", default=None, help="where to write the file (temp dir)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.bucket, args.key, args.file)))
        return 0
    size = parse_size(args.size)
    with rgw_server(memstore_bytes(size)) as rgw:
        ok = run(rgw, size=size, repeat=max(1, args.repeat), workdir=args.dir)
    return 1 if args.strict and not ok else 0


def memstore_bytes(size: int) -> int:
    """OSD space for the run: one stored copy at a time (each is deleted and collected),
    plus the copy kept for the reads, with plenty of headroom; at least 4 GiB."""
    return max(4 * 1024**3, 4 * size)


if __name__ == "__main__":
    sys.exit(main())
