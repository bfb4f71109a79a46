"""A large upload from Chromium to RGW through the widget: in parts, in one POST, and
``aws s3 cp`` of the same file.

A file of ``--size`` bytes (2 GiB by default; a 64 MiB random block repeated) is written to
disk. A page of ``bench.widget_site`` (waitress, in a child process) shows the upload
widget; headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) chooses
the file and the widget sends it straight to an RGW bucket on 127.0.0.1:

* ``multipart``: the default threshold, so the file goes up in the server's part plan
  (5 MiB parts up to 48 GiB), 6 parts at a time;
* ``post``: no threshold, so the file goes up in one pre-signed POST (S3 takes up to 5 GiB);
* ``aws s3 cp``: awscli (from PyPI) uploads the same file, with its defaults (8 MiB parts,
  10 at a time). Its time includes starting the CLI, as a person typing it waits for it;
* ``put-file`` and ``put-slice``: no widget, a script sends the file in one pre-signed PUT,
  as the ``File`` or as a ``Blob`` slice of all of it. A part's body is always a slice
  (Uppy's too), which Chromium sends through its blob system at a higher CPU cost than a
  ``File``: ``put-slice`` is that cost with no multipart work around it, the floor for a
  browser multipart upload on a machine whose cores are all busy.

Beside each browser upload, the CPU time Chromium's processes spent on it is printed (the
cores are shared with RGW, so CPU decides the speed on a small machine).

A widget upload is timed inside the page, from the widget's ``s3file:start`` event to its
``s3file:uploaded`` (which comes after the server completed a multipart upload); each
stored object's size is checked, then the object is deleted and RGW's garbage collector
run, so the RAM-backed OSD holds one copy at a time. Runs of the modes alternate; the
median of ``--repeat`` runs is compared. Target: the widget's multipart upload at least
0.7x the throughput of ``aws s3 cp``.

    python -m bench.bench_multipart [--size 2G] [--repeat 1] [--dir /tmp]

Needs ``playwright`` (never ``playwright install``: Debian's Chromium is used) and
``waitress`` (the bench extra), and ``aws`` (awscli from PyPI: ``./run-bench`` puts it in
``.venv-awscli``, apart, because it pins a docutils that twine refuses; or ``AWS_CLI``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from s3servers.chromium import CHROMIUM, CHROMIUM_ARGS, chromium_processes, cpu_seconds

from ._common import MiB, format_size, parse_size, table, verdict
from ._rgw import RGW, bench_bucket, log, rgw_server

HERE = Path(__file__).resolve().parent
MODES = {
    "multipart": "widget, multipart (5 MiB parts, 6 at once)",
    "post": "widget, one POST",
    "aws": "aws s3 cp (awscli defaults)",
    "put-file": "script, one PUT of the File",
    "put-slice": "script, one PUT of a Blob slice",
}
#: The widget's multipart upload against ``aws s3 cp``: throughput ratio at least this.
MIN_RATIO = 0.7
#: Seconds one upload may take.
UPLOAD_TIMEOUT = 1800


def write_file(path: Path, size: int) -> None:
    """``size`` bytes: a 64 MiB random block, repeated (written, never held whole)."""
    block = os.urandom(64 * MiB)
    with path.open("wb") as out:
        left = size
        while left:
            left -= out.write(block[: min(left, len(block))])


@contextmanager
def widget_site(storage_options: dict[str, Any]) -> Iterator[str]:
    """``bench.widget_site`` under waitress in a child process: its base URL."""
    env = dict(
        os.environ,
        BENCH_STORAGE_OPTIONS=json.dumps(storage_options),
        DJANGO_SETTINGS_MODULE="bench.widget_site",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.widget_site"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
        env=env,
    )
    assert proc.stdout is not None
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=60):
                raise RuntimeError("the widget site did not start within 60 s")
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


#: Installed in the page before the file is chosen: the widget's own events, timed there.
TIMER = """() => {
    window.__bench = {};
    const root = document.querySelector("[data-s3file]");
    root.addEventListener("s3file:start", () => { window.__bench.start = performance.now(); });
    root.addEventListener("s3file:uploaded", (event) => {
        window.__bench.end = performance.now();
        window.__bench.name = event.detail.name;
    });
    root.addEventListener("s3file:error", (event) => {
        window.__bench.error = event.detail.message;
    });
}"""


def chromium_cpu() -> dict[int, float]:
    """CPU seconds used so far by each Chromium process this process started."""
    used = {}
    for pid in chromium_processes():
        with contextlib.suppress(OSError):  # the process ended meanwhile
            used[pid] = cpu_seconds(pid)
    return used


class Browser:
    """One headless Chromium; each upload in a fresh page."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        if not Path(CHROMIUM).exists():
            raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        self.last_cpu = 0.0

    def upload(self, url: str, path: Path) -> tuple[float, str]:
        """Seconds the widget took to upload ``path`` from the page at ``url``, and the
        storage name it got; Chromium's CPU seconds for it are kept in ``last_cpu``."""
        page = self._browser.new_page()
        try:
            page.goto(url)
            page.evaluate(TIMER)
            cpu_before = chromium_cpu()
            page.set_input_files("[data-s3file] input[type='file']", str(path))
            page.wait_for_function(
                "() => window.__bench.end !== undefined || window.__bench.error !== undefined",
                timeout=UPLOAD_TIMEOUT * 1000,
                polling=100,
            )
            # Before the page's renderer ends; a process begun meanwhile counts from zero.
            cpu_after = chromium_cpu()
            self.last_cpu = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after)
            result = page.evaluate("() => window.__bench")
        finally:
            page.close()
        if "error" in result:
            raise RuntimeError(f"the widget failed: {result['error']}")
        return (result["end"] - result["start"]) / 1000, result["name"]

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def aws_cli() -> str:
    """The ``aws`` command: ``AWS_CLI`` (``./run-bench`` installs awscli into its own venv:
    it pins a docutils that twine refuses), else the one beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("aws")
    found = os.environ.get("AWS_CLI") or (str(beside) if beside.exists() else shutil.which("aws"))
    if not found:
        raise SystemExit("aws is missing: ./run-bench installs it (or pip install awscli)")
    return found


def aws_upload(rgw: RGW, bucket: str, path: Path, key: str) -> float:
    """Seconds ``aws s3 cp`` took, from start to exit (no user config read)."""
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=rgw.access_key,
        AWS_SECRET_ACCESS_KEY=rgw.secret_key,
        AWS_DEFAULT_REGION=rgw.region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    command = [aws_cli(), "s3", "cp", "--no-progress", "--endpoint-url", rgw.endpoint_url]
    started = time.perf_counter()
    subprocess.run(
        [*command, str(path), f"s3://{bucket}/{key}"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=UPLOAD_TIMEOUT,
    )
    return time.perf_counter() - started


def run(
    rgw: RGW, *, size: int, repeat: int, workdir: str | None, modes: list[str] | None = None
) -> bool:
    from buckets.management.commands.buckets_cors import upload_cors_rule

    s3 = rgw.client()
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(dir=workdir, prefix="bench-multipart-") as tmp:
        path = Path(tmp) / "big.bin"
        log(f"writing a {format_size(size)} file...")
        write_file(path, size)
        with (
            bench_bucket(rgw, "multipart") as bucket,
            widget_site(rgw.storage_options(bucket)) as site,
        ):
            s3.put_bucket_cors(
                Bucket=bucket, CORSConfiguration={"CORSRules": [upload_cors_rule([site])]}
            )
            browser = Browser()
            try:
                uploads: dict[str, Callable[[], tuple[float, str]]] = {
                    "multipart": lambda: browser.upload(f"{site}/?mode=multipart", path),
                    "post": lambda: browser.upload(f"{site}/?mode=post", path),
                    "aws": lambda: (aws_upload(rgw, bucket, path, "aws.bin"), "aws.bin"),
                    "put-file": lambda: browser.upload(f"{site}/?mode=put-file", path),
                    "put-slice": lambda: browser.upload(f"{site}/?mode=put-slice", path),
                }
                for i in range(repeat):
                    for mode in modes or list(MODES):
                        log(f"run {i + 1}/{repeat}: {mode}...")
                        seconds, key = uploads[mode]()
                        stored = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
                        if stored != size:
                            raise RuntimeError(f"{mode}: stored {stored} bytes, not {size}")
                        s3.delete_object(Bucket=bucket, Key=key)
                        rgw.collect_garbage()
                        times[mode].append(seconds)
                        if mode != "aws":
                            cpu[mode].append(browser.last_cpu)
                        log(f"  {seconds:.1f} s, {size / MiB / seconds:.0f} MiB/s")
            finally:
                browser.close()
    return report(size, times, cpu)


def report(size: int, times: dict[str, list[float]], cpu: dict[str, list[float]]) -> bool:
    """The table of the modes that ran; the verdict when both multipart and awscli ran."""
    median = {mode: statistics.median(runs) for mode, runs in times.items() if runs}
    speed = {mode: size / MiB / seconds for mode, seconds in median.items()}
    reference = speed.get("aws")
    rows = [
        [
            MODES[mode],
            f"{median[mode]:.1f} s",
            f"{speed[mode]:.0f} MiB/s",
            f"{speed[mode] / reference:.2f}x" if reference else "-",
            f"{statistics.median(cpu[mode]):.1f} s" if cpu.get(mode) else "-",
            " ".join(f"{s:.1f}" for s in times[mode]),
        ]
        for mode in median
    ]
    print(f"\nUpload of {format_size(size)} from Chromium to RGW on 127.0.0.1 (median of runs)")
    print(table(["upload", "time", "throughput", "vs aws s3 cp", "Chromium CPU", "runs (s)"], rows))
    if not reference or "multipart" not in speed:
        return True
    ratio = speed["multipart"] / reference
    ok = ratio >= MIN_RATIO
    print(f"widget multipart vs aws s3 cp: {ratio:.2f}x (target >= {MIN_RATIO}x) {verdict(ok)}")
    return ok


def memstore_bytes(size: int) -> int:
    """OSD space for the run: one stored copy at a time, plus headroom; at least 4 GiB."""
    return max(4 * 1024**3, 2 * size + 1024**3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="2G", help="file size (2G)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode (1)")
    parser.add_argument("--dir", default=None, help="where the file is written")
    parser.add_argument(
        "--mode", action="append", choices=list(MODES), help="only these uploads (all)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    with rgw_server(memstore_bytes(size)) as rgw:
        ok = run(rgw, size=size, repeat=max(1, args.repeat), workdir=args.dir, modes=args.mode)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
