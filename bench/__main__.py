"""Run every benchmark: ``python -m bench [--size 1G] [--only url,transfer] [--strict]``.

``bench_url`` and ``bench_transfer`` run here, on one throw-away RGW; every other
``bench/bench_*.py`` runs as ``python -m bench.<name>`` with its own defaults, in a child
process that is given the same RGW (``RGW_ENDPOINT`` and keys) in its environment.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import bench_transfer, bench_url
from ._common import parse_size
from ._rgw import log, rgw_server

HERE = Path(__file__).resolve().parent
#: Seconds any one other benchmark may take.
OTHER_TIMEOUT = 1800


def other_benchmarks() -> list[str]:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    return [n for n in names if n not in ("url", "transfer")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="transfer file size (1G)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each transfer (3)")
    parser.add_argument("--keys", type=int, default=2000, help="url() names per round (2000)")
    parser.add_argument("--rounds", type=int, default=7, help="url() timed rounds (7)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated subset of: " + ", ".join(["url", "transfer", *other_benchmarks()]),
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    everything = ["url", "transfer", *other_benchmarks()]
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or everything
    unknown = set(chosen) - set(everything)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    outcome: dict[str, str] = {}
    with rgw_server(bench_transfer.memstore_bytes(size)) as rgw:
        if "url" in chosen:
            ok = bench_url.run(rgw, n_keys=args.keys, rounds=max(3, args.rounds), budget_s=30.0)
            outcome["url"] = "targets met" if ok else "target MISSED"
        if "transfer" in chosen:
            ok = bench_transfer.run(rgw, size=size, repeat=max(1, args.repeat), workdir=None)
            outcome["transfer"] = "targets met" if ok else "target MISSED"
        for name in [n for n in chosen if n not in ("url", "transfer")]:
            print(f"\n== bench.bench_{name}", flush=True)
            log(f"running python -m bench.bench_{name}")
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", f"bench.bench_{name}"],
                    env=dict(os.environ, **rgw.env()),  # with RGW_CEPH_CONF: children run the GC
                    cwd=HERE.parent,
                    timeout=OTHER_TIMEOUT,
                    check=False,
                )
                outcome[name] = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
            except subprocess.TimeoutExpired:
                outcome[name] = f"FAILED (over {OTHER_TIMEOUT} s)"
    print()
    for name, result in outcome.items():
        print(f"{name:14s} {result}")
    ok = all(r in ("ok", "targets met") for r in outcome.values())
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
