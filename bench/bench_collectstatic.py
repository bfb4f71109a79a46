"""collectstatic of a realistic site to RGW: django-buckets against django-storages 1.14
and ``aws s3 sync``, a first run and an unchanged re-run each, with their S3 requests.

The site: Django admin's static files plus ``--files`` generated ones (images, scripts,
stylesheets whose ``url()``s name the images and fonts; ``bench/static_tree.py``). Each
contender collects into a fresh bucket of its own, twice:

* django-buckets' ``S3StaticStorage`` and ``S3ManifestStaticStorage`` with its
  ``collectstatic`` (``buckets.management.commands.collectstatic``);
* django-storages' ``S3StaticStorage`` and ``S3ManifestStaticStorage`` with Django's own
  ``collectstatic``, as its users run it;
* ``aws s3 sync`` (awscli) of the same files collected locally first by Django's
  ``collectstatic``: the plain tree, and the tree ``ManifestStaticFilesStorage`` makes
  (originals, hashed copies, manifest), the workaround django-storages' issue #904
  recommends. Both steps are timed, and shown apart.

Times are inside the process, imports done (no interpreter, Django or awscli start-up for
any contender), and count in what each needs to build: the storage and its boto3 client
(a manifest storage reads its manifest from the bucket), awscli's driver. Requests
are counted where botocore sends them (``s3servers/counting.py``), awscli's too (it runs
in a child process with the same counter).

Targets: unchanged re-run at least 20x faster than django-storages' manifest storage and no
slower than local collectstatic + ``aws s3 sync`` of the same files; first run at least 3x
faster than django-storages. The ratios against the sync alone are printed too.

    python -m bench.bench_collectstatic [--files 1900] [--workers 8]

Needs the ``bench`` extra (django-storages), awscli (``./run-bench`` installs it in
``.venv-awscli``; ``AWS_CLI`` names another) and an RGW (``RGW_ENDPOINT``, or one is
started).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import MiB, table, verdict
from bench._rgw import RGW, bench_bucket, log, rgw_server
from bench.bench_multipart import aws_cli
from bench.static_tree import ADMIN_STATIC, admin_file_count, generate

ROOT = Path(__file__).resolve().parent.parent

# Run by the Python of awscli's venv (botocore, no boto3): the counter is loaded by its path.
AWSCLI = r"""
import importlib.util, json, sys, time
from awscli.clidriver import create_clidriver

spec = importlib.util.spec_from_file_location("counting", COUNTING)
counting = importlib.util.module_from_spec(spec)
spec.loader.exec_module(counting)
count_requests = counting.count_requests

with count_requests() as counts:
    started = time.perf_counter()
    rc = create_clidriver().main(sys.argv[1:])
    seconds = time.perf_counter() - started
print("BENCH " + json.dumps({"rc": rc, "seconds": seconds, "requests": counts}), file=sys.stderr)
"""


@dataclass
class Run:
    seconds: float
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    summary: str = ""
    #: For aws s3 sync: the local collectstatic it needs first (not in ``seconds``).
    local_seconds: float = 0.0

    @property
    def total(self) -> float:
        return self.seconds + self.local_seconds

    def shown_time(self) -> str:
        if not self.local_seconds:
            return f"{self.seconds:.2f} s"
        return f"{self.total:.2f} s ({self.local_seconds:.2f} + {self.seconds:.2f})"

    def shown_requests(self) -> str:
        total = sum(self.requests.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.requests.items()))
        return f"{total} ({parts})" if parts else "0"


def setup(sources: list[Path], static_root: Path) -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bench-only-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.staticfiles"],
        DATABASES={},
        STATIC_URL="/static/",
        STATIC_ROOT=str(static_root),
        STATICFILES_DIRS=[str(s) for s in sources],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
    )
    django.setup()


def collect(command: Any, make_storage: Callable[[], Any], **options: Any) -> Run:
    """One collectstatic with ``command`` on a storage built inside the timed block."""
    from django.core.management import call_command

    from s3servers.counting import count_requests

    out = io.StringIO()
    with count_requests() as counts:
        started = time.perf_counter()
        command.storage = make_storage()
        call_command(command, interactive=False, verbosity=1, stdout=out, **options)
        seconds = time.perf_counter() - started
    return Run(seconds, counts, out.getvalue().strip().splitlines()[-1])


def contenders(rgw: RGW, workers: int) -> dict[str, tuple[Callable[[], Any], dict[str, Any], Any]]:
    """Name -> (command class, its options, storage factory given a bucket)."""
    from django.contrib.staticfiles.management.commands import collectstatic as django_cmd
    from storages.backends import s3 as ds

    from buckets.management.commands import collectstatic as ours_cmd
    from buckets.staticfiles import S3ManifestStaticStorage, S3StaticStorage

    def ours(cls: type) -> tuple[Callable[[], Any], dict[str, Any], Any]:
        def storage(bucket: str) -> Any:
            return cls(**rgw.storage_options(bucket))

        return ours_cmd.Command, {"workers": workers}, storage

    def theirs(cls: type) -> tuple[Callable[[], Any], dict[str, Any], Any]:
        def storage(bucket: str) -> Any:
            return cls(
                bucket_name=bucket,
                endpoint_url=rgw.endpoint_url,
                access_key=rgw.access_key,
                secret_key=rgw.secret_key,
                region_name=rgw.region,
                addressing_style="path",
                signature_version="s3v4",
                location="static",
            )

        return django_cmd.Command, {}, storage

    return {
        "django-buckets S3StaticStorage": ours(S3StaticStorage),
        "django-buckets S3ManifestStaticStorage": ours(S3ManifestStaticStorage),
        "django-storages S3StaticStorage": theirs(ds.S3StaticStorage),
        "django-storages S3ManifestStaticStorage": theirs(ds.S3ManifestStaticStorage),
    }


def aws_sync(rgw: RGW, tree: Path, bucket: str, config: Path) -> Run:
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=rgw.access_key,
        AWS_SECRET_ACCESS_KEY=rgw.secret_key,
        AWS_DEFAULT_REGION=rgw.region,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    args = ["s3", "sync", str(tree), f"s3://{bucket}/static", "--endpoint-url", rgw.endpoint_url]
    code = f"COUNTING = {str(ROOT / 's3servers' / 'counting.py')!r}\n{AWSCLI}"
    proc = subprocess.run(
        [awscli_python(), "-c", code, *args, "--only-show-errors"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    line = next((x for x in proc.stderr.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"aws s3 sync failed: {proc.stderr[-2000:]}")
    result = json.loads(line[len("BENCH ") :])
    if result["rc"] != 0:
        raise SystemExit(f"aws s3 sync exited {result['rc']}: {proc.stderr[-2000:]}")
    return Run(result["seconds"], collections.Counter(result["requests"]))


def awscli_python() -> str:
    """The Python awscli is installed in: ``./run-bench`` gives it a venv of its own."""
    beside = Path(aws_cli()).with_name("python")
    return str(beside) if beside.exists() else sys.executable


def collect_locally(manifest: bool, static_root: Path) -> float:
    """Django's collectstatic into ``static_root`` (the step before ``aws s3 sync``); its
    seconds."""
    from django.contrib.staticfiles.management.commands import collectstatic as django_cmd
    from django.contrib.staticfiles.storage import (
        ManifestStaticFilesStorage,
        StaticFilesStorage,
    )
    from django.core.management import call_command

    cls = ManifestStaticFilesStorage if manifest else StaticFilesStorage
    started = time.perf_counter()
    cmd = django_cmd.Command()
    cmd.storage = cls(location=str(static_root))
    call_command(cmd, interactive=False, verbosity=0)
    return time.perf_counter() - started


def run(rgw: RGW, workers: int) -> bool:
    results: dict[str, tuple[Run, Run]] = {}
    for name, (command, options, storage) in contenders(rgw, workers).items():
        with bench_bucket(rgw, "bench-static") as bucket:
            log(f"{name}: first run")
            first = collect(command(), lambda s=storage, b=bucket: s(b), **options)
            log(f"{name}: {first.seconds:.1f} s; unchanged re-run")
            again = collect(command(), lambda s=storage, b=bucket: s(b), **options)
            log(f"{name}: {again.seconds:.1f} s")
            results[name] = (first, again)
    with tempfile.TemporaryDirectory(prefix="bench-static-aws-") as tmp:
        config = Path(tmp) / "config"
        config.write_text("[default]\ns3 =\n    addressing_style = path\n")
        for label, manifest in (("collected tree", False), ("manifest tree", True)):
            tree = Path(tmp) / label.replace(" ", "-")
            with bench_bucket(rgw, "bench-static") as bucket:
                runs = []
                for attempt in ("first run", "unchanged re-run"):
                    log(f"local collectstatic + aws s3 sync ({label}): {attempt}")
                    local = collect_locally(manifest, tree)
                    synced = aws_sync(rgw, tree, bucket, config)
                    synced.local_seconds = local
                    runs.append(synced)
                results[f"aws s3 sync ({label})"] = (runs[0], runs[1])

    rows = [
        [name, a.shown_time(), a.shown_requests(), b.shown_time(), b.shown_requests()]
        for name, (a, b) in results.items()
    ]
    print(table(["collectstatic", "first run", "requests", "re-run", "requests"], rows))
    print()
    for name, (a, b) in results.items():
        if a.summary:
            print(f"{name}: first: {a.summary!r}; re-run: {b.summary!r}")
    return targets(results)


def targets(results: dict[str, tuple[Run, Run]]) -> bool:
    ours_static, ours_manifest = (results[f"django-buckets {k}"] for k in STORAGE_NAMES)
    ds_static, ds_manifest = (results[f"django-storages {k}"] for k in STORAGE_NAMES)
    sync_plain, sync_manifest = (
        results[f"aws s3 sync ({k})"] for k in ("collected tree", "manifest tree")
    )
    checks = [
        ("re-run, manifest: vs django-storages", ds_manifest[1].total, ours_manifest[1], 20.0),
        ("re-run, static: vs django-storages", ds_static[1].total, ours_static[1], 0.0),
        ("re-run, static: vs collectstatic + aws s3 sync", sync_plain[1].total, ours_static[1], 1),
        ("re-run, static: vs aws s3 sync alone", sync_plain[1].seconds, ours_static[1], 0.0),
        ("re-run, manifest: vs collectstatic + sync", sync_manifest[1].total, ours_manifest[1], 1),
        ("re-run, manifest: vs aws s3 sync alone", sync_manifest[1].seconds, ours_manifest[1], 0),
        ("first run, static: vs django-storages", ds_static[0].total, ours_static[0], 3.0),
        ("first run, manifest: vs django-storages", ds_manifest[0].total, ours_manifest[0], 3.0),
        ("first run, static: vs collectstatic + sync", sync_plain[0].total, ours_static[0], 0),
        (
            "first run, manifest: vs collectstatic + sync",
            sync_manifest[0].total,
            ours_manifest[0],
            0,
        ),
    ]
    rows = []
    for name, theirs, ours, target in checks:
        ratio = theirs / ours.seconds
        shown = [f">= {target:g}x", verdict(ratio >= target)] if target else ["", ""]
        rows.append([name, f"{ratio:.1f}x", *shown])
    print()
    print(table(["django-buckets, faster by", "ratio", "target", ""], rows))
    return all(theirs / ours.seconds >= target for _, theirs, ours, target in checks)


STORAGE_NAMES = ("S3StaticStorage", "S3ManifestStaticStorage")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1900, help="generated files (1900)")
    parser.add_argument("--workers", type=int, default=8, help="django-buckets' uploads at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-static-") as tmp:
        site = Path(tmp) / "site-src"
        size = generate(site, args.files)
        admin = admin_file_count()
        print(
            f"{admin + args.files} files: Django admin's {admin} and {args.files} generated "
            f"({size / MiB:.0f} MiB); django-buckets uploads {args.workers} at once"
        )
        setup([ADMIN_STATIC, site], Path(tmp) / "unused-static-root")
        with rgw_server() as rgw:
            ok = run(rgw, args.workers)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
