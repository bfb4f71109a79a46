"""µs per ``url()`` call: django-buckets' S3Storage vs django-storages 1.14.6's S3Storage.

Both storages point at the same RGW bucket, endpoint, credentials and path-style
addressing; each is timed signed (``querystring_auth=True``) and public
(``querystring_auth=False``) over the same names (new ones for every round, so no cache
helps), after a warm-up, best of N rounds (``time.perf_counter_ns``, garbage collector
off while timing, as ``timeit`` does).
``url()`` does no I/O, but the URLs are checked against the live server: a signed URL of
each storage must GET 200, and so must a public URL of a public-read object.

    python -m bench.bench_url [--keys 2000] [--rounds 7] [--budget 20]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from ._common import setup_django, table, verdict
from ._rgw import RGW, bench_bucket, log, rgw_server

#: Targets: django-storages' µs/call divided by ours must be at least this.
TARGETS = {"signed": 30.0, "public": 100.0}
OURS, THEIRS = "django-buckets", "django-storages"

#: (signed or public, library)
Case = tuple[str, str]


def make_keys(n: int, batch: int = 0) -> list[str]:
    """Names as a site stores them: mostly ASCII paths, 20 % with spaces or non-ASCII
    characters. Each ``batch`` gives different names."""
    keys = []
    for i in range(n):
        if i % 10 == 9:
            keys.append(f"docs/{batch}/{i % 7}/Résumé {i} – été.pdf")
        elif i % 10 == 8:
            keys.append(f"uploads/user {i % 13}/{batch}/photo ({i}).JPG")
        else:
            keys.append(f"media/photos/{2000 + batch}/{i % 12 + 1:02d}/img_{i:06d}.jpg")
    return keys


def time_urls(
    urls: dict[Case, Callable[[str], str]], n_keys: int, rounds: int, budget_s: float
) -> dict[Case, list[float]]:
    """µs per call of each ``url`` function, one list entry per round of ``n_keys`` calls.

    The cases take turns within every round, so a burst of load on a shared machine hits
    both libraries alike. Every round (and the warm-up) uses names never asked before, so
    a per-name cache in either storage could not turn this into a measurement of dict
    look-ups. Stops after ``budget_s`` seconds once three rounds are done.
    """
    batches = [make_keys(n_keys, batch) for batch in range(rounds + 1)]
    for url in urls.values():
        for key in batches[0]:  # warm-up: clients, URL templates, signing keys
            url(key)
    per_call: dict[Case, list[float]] = {case: [] for case in urls}
    deadline = time.monotonic() + budget_s
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for done, keys in enumerate(batches[1:], 1):
            for case, url in urls.items():
                t0 = time.perf_counter_ns()
                for key in keys:
                    url(key)
                per_call[case].append((time.perf_counter_ns() - t0) / n_keys / 1000)
            if done >= 3 and time.monotonic() > deadline:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return per_call


def make_storages(rgw: RGW, bucket: str) -> dict[Case, Any]:
    from storages.backends.s3 import S3Storage as DSStorage

    from buckets.storage import S3Storage

    ours = rgw.storage_options(bucket)
    theirs = {
        "bucket_name": bucket,
        "endpoint_url": rgw.endpoint_url,
        "access_key": rgw.access_key,
        "secret_key": rgw.secret_key,
        "region_name": rgw.region,
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": True,
    }
    return {
        ("signed", OURS): S3Storage(**ours, querystring_auth=True),
        ("signed", THEIRS): DSStorage(**theirs, querystring_auth=True),
        ("public", OURS): S3Storage(**ours, querystring_auth=False),
        ("public", THEIRS): DSStorage(**theirs, querystring_auth=False),
    }


def check_urls(rgw: RGW, bucket: str, storages: dict[Case, Any]) -> list[str]:
    """GET real URLs: signed ones of a private object, public ones of a public-read object.
    Returns the failures (empty when every URL works as it should)."""
    client = rgw.client()
    private, public = "check/private é.txt", "check/public ü.txt"
    client.put_object(Bucket=bucket, Key=private, Body=b"private")
    client.put_object(Bucket=bucket, Key=public, Body=b"public", ACL="public-read")
    failures = []
    for (kind, impl), storage in storages.items():
        name = private if kind == "signed" else public
        url = storage.url(name)
        r = requests.get(url, timeout=10)
        expected = b"private" if kind == "signed" else b"public"
        ok = r.status_code == 200 and r.content == expected
        log(f"  GET {kind} URL of {impl}: {r.status_code} {'ok' if ok else 'FAILED'}  {url}")
        if not ok:
            failures.append(f"{impl} {kind} URL: HTTP {r.status_code} {r.text[:200]}")
    # The public URL must be public because of the ACL, not because the server lets all in.
    r = requests.get(storages[("public", OURS)].url(private), timeout=10)
    if r.status_code != 403:
        failures.append(f"public URL of a private object answered {r.status_code}, not 403")
    return failures


def same_signed_url(storages: dict[Case, Any], key: str) -> bool:
    """Do both libraries sign the same bytes? (Retried: the two calls can straddle a second.)"""
    ours, theirs = storages[("signed", OURS)], storages[("signed", THEIRS)]
    for _ in range(3):
        if ours.url(key) == theirs.url(key):
            return True
    return False


def run(rgw: RGW, *, n_keys: int, rounds: int, budget_s: float) -> bool:
    """Run the URL benchmark on ``rgw``; True when every check and target passed."""
    setup_django()
    with bench_bucket(rgw, "bench-url") as bucket:
        storages = make_storages(rgw, bucket)
        log("checking URLs against RGW:")
        failures = check_urls(rgw, bucket, storages)
        log(f"timing url() ({rounds} rounds of {n_keys} names per case)...")
        results = time_urls(
            {case: storage.url for case, storage in storages.items()}, n_keys, rounds, budget_s
        )
        identical = all(same_signed_url(storages, k) for k in make_keys(50, rounds + 1))

    rows = []
    all_ok = not failures
    for kind in ("signed", "public"):
        ours, theirs = results[(kind, OURS)], results[(kind, THEIRS)]
        ratio = min(theirs) / min(ours)
        paired = statistics.median(t / o for t, o in zip(theirs, ours, strict=True))
        ok = ratio >= TARGETS[kind]
        all_ok &= ok
        rows.append(
            [
                kind,
                f"{min(ours):.2f}",
                f"{statistics.median(ours):.2f}",
                f"{min(theirs):.1f}",
                f"{statistics.median(theirs):.1f}",
                f"{ratio:.1f}x",
                f"{paired:.1f}x",
                f">={TARGETS[kind]:.0f}x {verdict(ok)}",
            ]
        )
    print()
    print(
        f"url(): µs per call, best/median of {len(results[('signed', OURS)])} rounds of "
        f"{n_keys} new names (20 % need percent-encoding); ratio = django-storages / ours, "
        "of the bests and the median of per-round ratios"
    )
    print(
        table(
            [
                "url()",
                "buckets best",
                "median",
                "django-storages best",
                "median",
                "ratio of bests",
                "median ratio",
                "target",
            ],
            rows,
        )
    )
    print(f"signed URLs byte-identical to django-storages' (botocore's): {identical}")
    print("URLs verified by GET against RGW: " + ("all ok" if not failures else "FAILED"))
    for failure in failures:
        print(f"  {failure}")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=2000, help="names per round (2000)")
    parser.add_argument("--rounds", type=int, default=7, help="timed passes, best kept (7)")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds before stopping early (30)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    with rgw_server() as rgw:
        ok = run(rgw, n_keys=args.keys, rounds=max(3, args.rounds), budget_s=args.budget)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
