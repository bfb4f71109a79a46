"""``manage.py buckets_migrate`` against ``aws s3 sync``: one tree of files on disk (``--files``
files, ``--size`` bytes in all: mostly small, some of a few MiB, a few large enough to go up
in parts) into a fresh RGW bucket each, then an immediate re-run of each.

Both run as their own processes, timed from start to exit (start-up included), their peak
RSS sampled every 20 ms. The Django side is ``bench.migrate_site``: one ``FileField`` model
whose rows name every file. Targets: the first run's throughput at least 0.8× ``aws s3
sync``'s, the re-run at least 20× faster than the first run, peak RSS under
``MAX_RSS_MIB``. RGW keeps data in RAM (memstore): one copy of the tree is stored at a
time, each bucket removed (and its space collected) before the next.

    python -m bench.bench_migrate [--files 5000] [--size 2G] [--workers 8] [--dir /tmp]

Needs ``psutil`` (the ``bench`` extra) and ``aws`` (found as ``bench_multipart`` finds it:
``./run-bench`` installs awscli into ``.venv-awscli``).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from ._common import GiB, MiB, parse_size, table, verdict
from ._rgw import RGW, bench_bucket, log, rgw_server
from .bench_multipart import aws_cli

HERE = Path(__file__).resolve().parent
MIN_THROUGHPUT_RATIO = 0.8
MIN_RERUN_SPEEDUP = 20.0
MAX_RSS_MIB = 300.0


def file_sizes(files: int, total: int, rng: random.Random) -> list[int]:
    """Mostly small files (8-160 KiB), one in ten of 1-6 MiB, one in 250 large: the large
    ones take what is left of ``total`` (at least 9 MiB each, so they go up in parts)."""
    large = max(1, files // 250)
    sizes = [
        rng.randint(MiB, 6 * MiB) if i % 10 == 0 else rng.randint(8 * 1024, 160 * 1024)
        for i in range(files - large)
    ]
    rest = max(total - sum(sizes), large * 9 * MiB)
    return sizes + [rest // large] * large


def file_name(i: int) -> str:
    """Names as sites have them: folders by date, spaces, accents, ``+``."""
    year, month = 2015 + i % 10, 1 + i % 12
    kind = ("report", "photo été", "scan+copy", "notes (v2)")[i % 4]
    return f"uploads/{year}/{month:02d}/{kind} {i:05d}.bin"


def make_tree(media: Path, files: int, total: int) -> list[str]:
    rng = random.Random(16)
    block = os.urandom(8 * MiB)
    names = []
    for i, size in enumerate(file_sizes(files, total, rng)):
        name = file_name(i)
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        start = (i * 4099) % MiB
        with open(path, "wb") as f:
            f.write(f"{i:016d}".encode())
            left = size - 16
            while left > 0:
                piece = block[start : start + min(left, len(block) - start)]
                f.write(piece)
                left -= len(piece)
                start = 0
        names.append(name)
    return names


def fill_database(env: dict[str, str], names: list[str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from bench.migrate_site.models import Attachment

    call_command("migrate", run_syncdb=True, verbosity=0)
    Attachment.objects.bulk_create([Attachment(file=name) for name in names], batch_size=1000)


def measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time, CPU time (user + system: far steadier than wall time
    on a shared machine), peak RSS (MiB) and output."""
    with tempfile.TemporaryFile("w+") as out:
        began = time.monotonic()
        proc = subprocess.Popen(command, env=env, cwd=HERE.parent, stdout=out, stderr=out)
        watched = psutil.Process(proc.pid)
        peak = 0
        ended: tuple[int, int, Any] = (0, 0, None)
        while not ended[0]:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.02)
            ended = os.wait4(proc.pid, os.WNOHANG)
        seconds = time.monotonic() - began
        _, status, usage = ended
        returncode = os.waitstatus_to_exitcode(status)
        proc.returncode = returncode
        out.seek(0)
        output = out.read()
    if returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... failed ({returncode}):\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu": cpu, "rss_mib": peak / MiB, "output": output}


def count_keys(rgw: RGW, bucket: str) -> tuple[int, int]:
    client, count, size = rgw.client(), 0, 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", ()):
            count, size = count + 1, size + int(obj["Size"])
    return count, size


def run(rgw: RGW, *, files: int, size: int, workers: int, workdir: str | None) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-migrate-", dir=workdir) as tmp:
        media = Path(tmp) / "media"
        log(f"writing {files} files, {size / GiB:.2f} GiB, under {media}...")
        names = make_tree(media, files, size)
        os.sync()  # the tree on disk: no write-back of it competing with the first run
        total = sum(p.stat().st_size for p in media.rglob("*") if p.is_file())
        env = dict(
            os.environ,
            **rgw.env(),
            DJANGO_SETTINGS_MODULE="bench.migrate_site.settings",
            BENCH_DB=str(Path(tmp) / "site.sqlite3"),
            BENCH_MEDIA_ROOT=str(media),
            PYTHONPATH=str(HERE.parent),
        )
        fill_database(env, names)
        ours = [sys.executable, "-m", "django", "buckets_migrate", "migrate_site.Attachment.file"]
        ours += ["--to", "bucket", "--no-progress", "--workers", str(workers)]
        results: dict[str, dict[str, Any]] = {}
        with bench_bucket(rgw, "migrate") as bucket:
            env["BENCH_BUCKET"] = bucket
            log("buckets_migrate, first run...")
            results["ours-1"] = measured(ours, env)
            log("buckets_migrate, re-run...")
            results["ours-2"] = measured(ours, env)
            held = count_keys(rgw, bucket)
        if held != (files, total) or f"{files} copied" not in results["ours-1"]["output"]:
            raise SystemExit(f"buckets_migrate stored {held}, not {(files, total)}")
        if f"0 copied, 0 replaced (0 B), {files} already" not in results["ours-2"]["output"]:
            raise SystemExit("the re-run copied something:\n" + results["ours-2"]["output"])
        aws = aws_cli()
        config = Path(tmp) / "aws-config"
        config.write_text("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n")
        aws_env = dict(
            env,
            AWS_ACCESS_KEY_ID=rgw.access_key,
            AWS_SECRET_ACCESS_KEY=rgw.secret_key,
            AWS_CONFIG_FILE=str(config),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "none"),
        )
        with bench_bucket(rgw, "sync") as bucket:
            sync = [aws, "s3", "sync", str(media), f"s3://{bucket}/media"]
            sync += ["--endpoint-url", rgw.endpoint_url, "--only-show-errors", "--no-progress"]
            log("aws s3 sync, first run...")
            results["aws-1"] = measured(sync, aws_env)
            log("aws s3 sync, re-run...")
            results["aws-2"] = measured(sync, aws_env)
            aws_held = count_keys(rgw, bucket)
        if aws_held != (files, total):
            raise SystemExit(f"aws s3 sync stored {aws_held}, not {(files, total)}")
    return report(results, files, total, workers)


def report(results: dict[str, dict[str, Any]], files: int, total: int, workers: int) -> bool:
    def rate(key: str) -> float:
        return total / results[key]["seconds"] / MiB

    ratio = rate("ours-1") / rate("aws-1")
    speedup = results["ours-1"]["seconds"] / results["ours-2"]["seconds"]
    rss = max(results["ours-1"]["rss_mib"], results["ours-2"]["rss_mib"])
    rows = [
        [
            label,
            f"{results[key]['seconds']:.2f} s",
            f"{results[key]['cpu']:.2f} s",
            f"{rate(key):.0f} MiB/s" if key.endswith("1") else "",
            f"{results[key]['rss_mib']:.0f} MiB",
        ]
        for key, label in [
            ("ours-1", f"buckets_migrate, first run ({workers} workers)"),
            ("ours-2", "buckets_migrate, re-run"),
            ("aws-1", "aws s3 sync, first run"),
            ("aws-2", "aws s3 sync, re-run"),
        ]
    ]
    print(f"\n{files} files, {total / GiB:.2f} GiB, disk -> RGW (memstore) on 127.0.0.1\n")
    print(table(["run", "wall time", "CPU time", "throughput", "peak RSS"], rows))
    checks = [
        (
            f"throughput vs aws s3 sync >= {MIN_THROUGHPUT_RATIO}x",
            f"{ratio:.2f}x",
            ratio >= MIN_THROUGHPUT_RATIO,
        ),
        (
            f"re-run >= {MIN_RERUN_SPEEDUP:.0f}x faster than the first",
            f"{speedup:.1f}x",
            speedup >= MIN_RERUN_SPEEDUP,
        ),
        (f"peak RSS <= {MAX_RSS_MIB:.0f} MiB", f"{rss:.0f} MiB", rss <= MAX_RSS_MIB),
    ]
    print()
    print(table(["target", "got", ""], [[t, g, verdict(ok)] for t, g, ok in checks]))
    return all(ok for _, _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000, help="files in the tree (5000)")
    parser.add_argument("--size", default="2G", help="bytes in the tree (2G)")
    parser.add_argument("--workers", type=int, default=10, help="buckets_migrate --workers (10)")
    parser.add_argument("--dir", default=None, help="where to write the tree (the temp dir)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    with rgw_server(max(4 * GiB, size + 2 * GiB)) as rgw:
        ok = run(rgw, files=args.files, size=size, workers=args.workers, workdir=args.dir)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
