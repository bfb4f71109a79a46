"""Memory of the fake S3 upload endpoint under a big POST: is the file ever held in RAM?

Starts the fake (``buckets.test.urls`` + ``FakeS3Storage``) under a real WSGI server
(waitress) in a child process, warms it with a small upload, resets the child's peak-RSS
counter (``/proc/PID/clear_refs``; sampling every 5 ms with psutil as well), then POSTs one
``--size`` file (default 1 GiB) as a browser would: the signed fields, then the file, as
``multipart/form-data`` with a Content-Length, generated on the fly so the client holds no
copy either. Prints the server's RSS before, its peak during, the growth (target: under
64 MiB), the throughput and whether the stored object's ETag is the MD5 of what was sent.

waitress spools a request body above 512 KiB to a temporary file before the application
sees it, so the figure is the endpoint's own: the multipart reader, the policy check, the
streamed write and the rename.

    python -m bench.bench_fake_upload [--size 1G] [--dir /tmp]

Needs ``waitress`` and ``psutil`` (dev/bench dependencies).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil

from bench._common import MiB, format_size, parse_size, table

SECRET_KEY = "bench-only-not-secret"
TARGET_GROWTH = 64 * MiB

SERVER = r"""
import socket, sys
import django
from django.conf import settings

settings.configure(**SETTINGS)
django.setup()
import waitress
from django.core.wsgi import get_wsgi_application

app = get_wsgi_application()
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(64)
print(sock.getsockname()[1], flush=True)
waitress.serve(app, sockets=[sock], threads=2, max_request_body_size=64 * 1024**3,
               _quiet=True)
"""


def django_settings(media_root: str) -> dict[str, object]:
    return {
        "DEBUG": True,
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": ["*"],
        "USE_TZ": True,
        "INSTALLED_APPS": ["django.contrib.contenttypes", "django.contrib.auth", "buckets"],
        "DATABASES": {},
        "MIDDLEWARE": [],
        "ROOT_URLCONF": "buckets.test.urls",
        "MEDIA_ROOT": media_root,
        "MEDIA_URL": "/media/",
        "STORAGES": {
            "default": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
            "staticfiles": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        },
    }


def start_server(media_root: str) -> tuple[subprocess.Popen[str], int]:
    code = f"SETTINGS = {django_settings(media_root)!r}\n{SERVER}"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, port


def multipart(
    fields: dict[str, str], size: int, boundary: str, md5: hashlib._Hash
) -> tuple[int, Iterator[bytes]]:
    """``(Content-Length, body chunks)``: the fields, then ``size`` random bytes of file
    (fed to ``md5`` as they are generated)."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = os.urandom(MiB)

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            md5.update(piece)
            yield piece
        yield tail

    return len(head) + size + len(tail), chunks()


def post(port: int, url: str, fields: dict[str, str], size: int) -> tuple[int, str, float, str]:
    boundary = uuid.uuid4().hex
    md5 = hashlib.md5(usedforsecurity=False)
    length, body = multipart(fields, size, boundary, md5)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.putrequest("POST", url)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    for chunk in body:
        conn.send(chunk)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, response.getheader("ETag") or "", elapsed, md5.hexdigest()


class PeakRSS:
    """The child's peak RSS from now on: the kernel's high-water mark, reset first, and a
    5 ms psutil sampler as a cross-check (and the fallback off Linux)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.process = psutil.Process(pid)
        self.sampled = 0
        self.peak = 0
        self._stop = threading.Event()
        self.kernel_reset = self._reset_hwm()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _reset_hwm(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def _hwm(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.sampled = max(self.sampled, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.sampled, self._hwm() if self.kernel_reset else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size (1G, 256M...)")
    parser.add_argument("--dir", default=None, help="where the fake's MEDIA_ROOT goes")
    args = parser.parse_args()
    size = parse_size(args.size)

    import django
    from django.conf import settings

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-fake-") as media_root:
        settings.configure(**django_settings(media_root))  # type: ignore[arg-type]
        django.setup()
        from buckets.test.storage import FakeS3Storage

        storage = FakeS3Storage()
        proc, port = start_server(media_root)
        try:
            warm = post(
                port, storage.upload_url(), storage.presigned_post("warm.bin")["fields"], MiB
            )
            assert warm[0] == 204, warm
            baseline = psutil.Process(proc.pid).memory_info().rss
            fields = storage.presigned_post("big.bin")["fields"]
            with PeakRSS(proc.pid) as peak:
                status, etag, elapsed, sent_md5 = post(port, storage.upload_url(), fields, size)
            stored = storage.size("big.bin") if storage.exists("big.bin") else -1
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    growth = peak.peak - baseline
    rows = [
        ["file size", format_size(size)],
        ["answer", str(status)],
        ["stored size", str(stored)],
        ["ETag = MD5 of the bytes sent", str(etag == f'"{sent_md5}"')],
        ["time", f"{elapsed:.2f} s"],
        ["throughput", f"{size / MiB / elapsed:.0f} MiB/s"],
        ["server RSS before", f"{baseline / MiB:.1f} MiB"],
        ["server RSS peak", f"{peak.peak / MiB:.1f} MiB"],
        ["peak RSS growth", f"{growth / MiB:.1f} MiB (target < {TARGET_GROWTH // MiB} MiB)"],
        ["peak source", "VmHWM (reset) + 5 ms samples" if peak.kernel_reset else "5 ms samples"],
    ]
    print(table(["fake S3 POST (waitress)", "value"], rows))
    ok = status == 204 and stored == size and etag == f'"{sent_md5}"' and growth < TARGET_GROWTH
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
