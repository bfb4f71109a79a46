"""Load: the signed-URL endpoint and the fake upload endpoint under concurrent clients,
through a real WSGI server (waitress, in a child process: ``bench.load_site``).

``--clients`` threads on 127.0.0.1, each with its own ``requests.Session`` (keep-alive),
send ``--requests`` requests to each endpoint, bounded by ``--max-seconds`` per endpoint:

* ``POST /s3/signed-url/`` with ``{"key": "file.txt"}``: expects 200 and a policy whose key
  is under the staging prefix;
* ``POST /media/s3/uploads`` with fields signed beforehand (each for its own staging key)
  and a small file: expects 204; afterwards every stored file is read back and compared.

Prints requests/s, p50/p99 latency and errors per endpoint, and the server's RSS after a
warm-up and after the run: growth over the run must stay under ``--max-growth`` MiB
(default 4), i.e. ~0, or it says MISS.

    python -m bench.bench_load [--requests 10000] [--clients 8] [--server-threads 4]

Needs ``waitress``, ``requests`` and ``psutil`` (dev/test/bench dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import requests
from urllib3 import encode_multipart_formdata

from bench._common import MiB, table, verdict

HERE = Path(__file__).resolve().parent
SIGN_PATH = "/s3/signed-url/"
SIGN_BODY = json.dumps({"key": "file.txt"}).encode()
JSON = {"Content-Type": "application/json"}


def start_server(media_root: str, threads: int) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, BENCH_MEDIA_ROOT=media_root, DJANGO_SETTINGS_MODULE="bench.load_site")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.load_site", str(threads)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
        env=env,
    )
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=60):
            proc.kill()
            raise RuntimeError("the server did not start within 60 s")
    return proc, int(proc.stdout.readline())


class Uploads:
    """Multipart bodies for the upload endpoint, each signed for its own key (made here, with
    the same settings as the server, so no request is spent on signing)."""

    def __init__(self, n: int, size: int) -> None:
        from buckets.test.storage import FakeS3Storage
        from buckets.uploads import new_upload_name

        self.storage = FakeS3Storage()
        self.items: list[tuple[str, bytes, bytes, str]] = []  # key, file, body, content type
        for i in range(n):
            name = new_upload_name("file.txt", field_label=None, user=None)
            fields = self.storage.presigned_post(name)["fields"]
            data = (f"{i:08d}".encode() * (size // 8 + 1))[:size]
            body, content_type = encode_multipart_formdata(
                [*fields.items(), ("file", ("file.txt", data, "text/plain"))]
            )
            self.items.append((fields["key"], data, body, content_type))


def drive(
    port: int, n: int, clients: int, max_seconds: float, send: Callable[[Any, int], bool]
) -> dict[str, Any]:
    """``send(session, i)`` for i in 0..n-1 from ``clients`` threads; stops at the deadline."""
    next_index = iter(range(n))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + max_seconds
    start_line = threading.Barrier(clients + 1, timeout=60)

    def client() -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        with requests.Session() as session:
            start_line.wait()
            while time.monotonic() < deadline:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    break
                began = time.perf_counter()
                try:
                    ok = send(session, i)
                except requests.RequestException:
                    ok = False
                mine.append(time.perf_counter() - began)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start_line.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=max_seconds + 30)
    elapsed = time.perf_counter() - began
    done = len(latencies)
    ordered = sorted(latencies) or [0.0]
    return {
        "requests": done,
        "errors": errors + (n - done),  # never sent (deadline) counts as failed
        "rps": done / elapsed if elapsed else 0.0,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "elapsed": elapsed,
    }


def sign_once(port: int) -> Callable[[Any, int], bool]:
    url = f"http://127.0.0.1:{port}{SIGN_PATH}"

    def send(session: Any, i: int) -> bool:
        response = session.post(url, data=SIGN_BODY, headers=JSON, timeout=10)
        if response.status_code != 200:
            return False
        key = response.json()["fields"]["key"]
        return bool(key.startswith("uploads/") and key.endswith("/file.txt"))

    return send


def upload_once(port: int, uploads: Uploads, offset: int) -> Callable[[Any, int], bool]:
    url = f"http://127.0.0.1:{port}{uploads.storage.upload_url()}"

    def send(session: Any, i: int) -> bool:
        _, _, body, content_type = uploads.items[offset + i]
        response = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=10)
        return bool(response.status_code == 204)

    return send


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="per endpoint (10000)")
    parser.add_argument("--warmup", type=int, default=1000, help="per endpoint, unmeasured")
    parser.add_argument("--clients", type=int, default=8, help="client threads (8)")
    parser.add_argument("--server-threads", type=int, default=4, help="waitress threads (4)")
    parser.add_argument("--size", type=int, default=1024, help="uploaded file bytes (1024)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="per endpoint (180)")
    parser.add_argument("--max-growth", type=float, default=4.0, help="MiB of RSS growth (4)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as media_root:
        os.environ["BENCH_MEDIA_ROOT"] = media_root
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.load_site"
        import django

        django.setup()
        uploads = Uploads(args.warmup + args.requests, args.size)
        proc, port = start_server(media_root, args.server_threads)
        try:
            for send in (sign_once(port), upload_once(port, uploads, 0)):
                warm = drive(port, args.warmup, args.clients, args.max_seconds, send)
                assert warm["errors"] == 0, f"warm-up failed: {warm}"
            before = rss(proc.pid)
            signed = drive(port, args.requests, args.clients, args.max_seconds, sign_once(port))
            after_sign = rss(proc.pid)
            posted = drive(
                port,
                args.requests,
                args.clients,
                args.max_seconds,
                upload_once(port, uploads, args.warmup),
            )
            after = rss(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        lost = 0
        for key, data, _, _ in uploads.items[: args.warmup + posted["requests"]]:
            try:
                with uploads.storage.open(key) as f:
                    lost += f.read() != data
            except OSError:
                lost += 1

    rows = [
        [
            name,
            str(r["requests"]),
            str(r["errors"]),
            f"{r['rps']:.0f}",
            f"{r['p50']:.2f}",
            f"{r['p99']:.2f}",
        ]
        for name, r in (("POST /s3/signed-url/", signed), ("POST /media/s3/uploads", posted))
    ]
    print(
        f"waitress, {args.server_threads} threads; {args.clients} client threads with "
        f"keep-alive sessions on 127.0.0.1; {args.size}-byte files"
    )
    print(table(["endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms"], rows))
    growth = (after - before) / MiB
    grown_ok = growth < args.max_growth
    served = signed["requests"] + posted["requests"]
    print()
    print(
        table(
            ["server memory (RSS)", "MiB"],
            [
                ["after warm-up", f"{before / MiB:.1f}"],
                ["after the signed-URL run", f"{after_sign / MiB:.1f}"],
                ["after the upload run", f"{after / MiB:.1f}"],
                [
                    f"growth over {served} requests",
                    f"{growth:+.1f} (< {args.max_growth:g}) {verdict(grown_ok)}",
                ],
            ],
        )
    )
    stored = args.warmup + posted["requests"]
    print(f"\nfiles stored and read back: {stored - lost} of {stored}, lost or wrong: {lost}")
    ok = signed["errors"] == 0 and posted["errors"] == 0 and lost == 0 and grown_ok
    print("OK" if ok else "FAILED")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
