"""Requests per second of ``POST /s3/signed-url/`` vs a plain Django view on boto3's
``generate_presigned_post``, same Django, same middleware, same client.

The plain view comes in two forms. The *guide* view follows boto3's own documentation,
whose ``create_presigned_post`` makes ``boto3.client('s3')`` on every call; the *tuned*
view makes one client at first use and shares it. Both do what a hand-written signing
view does: parse the JSON body, pick the key the same way (staging prefix, random part,
cleaned name), and ask boto3 for a policy with the same conditions: the bucket, ``key``
equal to the key, ``Content-Type`` equal to the declared type, ``content-length-range``
1..MAX_FILE_SIZE, 600 s. The policies are compared condition by condition before anything
is timed. The target (5x) is checked against the guide view; the tuned view's ratio is
printed beside it with its ceiling (the ratio a view taking no time at all would reach).

Two clients drive the views, alternating rounds (best and median of the rounds):

* ``test Client``: ``django.test.Client().post(...)``, as a test suite would;
* ``WSGI``: Django's ``WSGIHandler`` called with a prepared environ (CSRF cookie and header
  included), which is what a WSGI server does per request, minus the socket.

Signing needs no server. With ``--rgw`` every view's answer is also used to upload to a
throw-away Ceph RGW (expecting 204), proving every policy works.

    python -m bench.bench_signed_url [--requests 2000] [--rounds 7] [--budget 20] [--rgw]
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ._common import table, verdict

TARGET = 5.0
MAX_SIZE = 10 * 1024**2
BODY = json.dumps({"key": "My holiday photo.jpg", "content_type": "image/jpeg"}).encode()
OURS, BOTO3, GUIDE, NULL = "/s3/signed-url/", "/boto3/signed-url/", "/boto3-guide/", "/null/"
PATHS = (OURS, BOTO3, GUIDE, NULL)
CSRF_SECRET = "benchCSRFsecret0123456789abcdefg"  # 32 characters, as Django's cookie holds

_boto_client: Any = None
_bucket = ""


def _boto3_answer(request: Any, client: Any) -> Any:
    from django.http import JsonResponse
    from django.utils.text import get_valid_filename

    if request.method != "POST":
        return JsonResponse({"detail": ["Method not allowed: use POST."]}, status=405)
    data = json.loads(request.body)
    key = f"uploads/{secrets.token_hex(8)}/{get_valid_filename(data['key'])}"
    content_type = data["content_type"]
    post = client.generate_presigned_post(
        _bucket,
        key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_SIZE]],
        ExpiresIn=600,
    )
    return JsonResponse(post)


def boto3_view(request: Any) -> Any:
    """The tuned baseline: a plain view on boto3's ``generate_presigned_post`` with one
    client made at first use and shared (what django-storages-based views do)."""
    global _boto_client
    if _boto_client is None:
        from django.core.files.storage import default_storage

        # The same settings, endpoint and credentials.
        _boto_client = default_storage.client  # type: ignore[attr-defined]
    return _boto3_answer(request, _boto_client)


def boto3_guide_view(request: Any) -> Any:
    """The baseline as boto3's guide writes it: ``create_presigned_post`` in the boto3
    documentation ("Presigned URLs") makes ``boto3.client('s3')`` inside the function, so
    a view built on it makes a client per request (boto3's default session, so the
    service model stays cached)."""
    import boto3
    from django.core.files.storage import default_storage

    storage: Any = default_storage
    from buckets.storage import clients

    s = storage.settings
    client = boto3.client(
        "s3",
        aws_access_key_id=s.access_key,
        aws_secret_access_key=s.secret_key,
        region_name=s.region_name,
        endpoint_url=s.endpoint_url,
        config=clients.client_config(s),
    )
    return _boto3_answer(request, client)


def null_view(request: Any) -> Any:
    """The floor: the same request through the same stack, answered with no work at all."""
    from django.http import JsonResponse

    return JsonResponse({"url": "", "fields": {}})


def configure(storage_options: dict[str, Any]) -> None:
    import django
    from django.conf import settings
    from django.urls import include, path

    global _bucket
    _bucket = storage_options["bucket_name"]
    urls = type(sys)("bench_signed_url_urls")
    # The baselines first: resolving them walks none of the upload endpoints' patterns.
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path(BOTO3.strip("/") + "/", boto3_view),
        path(GUIDE.strip("/") + "/", boto3_guide_view),
        path(NULL.strip("/") + "/", null_view),
        path("", include("buckets.urls")),
    ]
    settings.configure(
        SECRET_KEY="bench-only-not-secret",
        USE_TZ=True,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "buckets",
        ],
        # A typical stack; no session cookie is sent, so no database is touched.
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        ROOT_URLCONF=urls,
        DATABASES={},
        STORAGES={
            "default": {
                "BACKEND": "buckets.storage.S3Storage",
                "OPTIONS": {**storage_options, "max_file_size": MAX_SIZE},
            }
        },
        BUCKETS_UPLOAD_PERMISSION=None,  # both views let anyone sign: same work
    )
    django.setup()


# -- clients ------------------------------------------------------------------------------


def test_client() -> Callable[[str], tuple[int, bytes]]:
    from django.test import Client

    client = Client()

    def send(path: str) -> tuple[int, bytes]:
        response = client.post(path, BODY, content_type="application/json")
        return response.status_code, response.content

    return send


def wsgi_client() -> Callable[[str], tuple[int, bytes]]:
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    base = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_COOKIE": f"csrftoken={CSRF_SECRET}",
        "HTTP_X_CSRFTOKEN": CSRF_SECRET,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(s: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(s)
        return lambda data: None

    def send(path: str) -> tuple[int, bytes]:
        environ = dict(base, PATH_INFO=path)
        environ["wsgi.input"] = io.BytesIO(BODY)
        status.clear()
        result = handler(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return int(status[0].split()[0]), body

    return send


CLIENTS = {"test Client": test_client, "WSGI": wsgi_client}

# -- checks and timing --------------------------------------------------------------------


def conditions(answer: bytes) -> tuple[str, set[str]]:
    """(key, the policy's conditions normalised) of a view's answer, to compare the views."""
    fields = json.loads(answer)["fields"]
    document = json.loads(base64.b64decode(fields["policy"]))
    out = set()
    for cond in document["conditions"]:
        if isinstance(cond, dict):
            ((name, value),) = cond.items()
            cond = ["eq", f"${name}", value]
        if cond[0] == "eq":
            value = "<the key>" if cond[1].lower() == "$key" else cond[2]
            value = "<date>" if cond[1] in ("$x-amz-date", "$x-amz-credential") else value
            out.add(f"eq {cond[1].lower()} {value}")
        else:
            out.add(json.dumps(cond))
    return fields["key"], out


def upload_check(answer: bytes) -> int:
    import requests

    signed = json.loads(answer)
    files = {"file": ("photo.jpg", b"\xff\xd8 not really a jpeg")}
    return requests.post(signed["url"], data=signed["fields"], files=files, timeout=30).status_code


def time_rounds(
    send: Callable[[str], tuple[int, bytes]], n: int, rounds: int, budget_s: float
) -> dict[str, list[float]]:
    """Requests per second of each view, rounds alternating between the views. The guide
    view is some 30 times slower, so it gets a twentieth of the requests per round."""
    counts = {path: max(50, n // 20) if path == GUIDE else n for path in PATHS}
    for path in PATHS:  # warm-up: clients, caches, lazy imports
        for _ in range(min(counts[path], 300)):
            send(path)
    rates: dict[str, list[float]] = {path: [] for path in PATHS}
    deadline = time.monotonic() + budget_s
    for _ in range(rounds):
        for path in PATHS:
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(counts[path]):
                send(path)
            rates[path].append(counts[path] / (time.perf_counter() - t0))
        if len(rates[OURS]) >= 3 and time.monotonic() > deadline:
            break
    return rates


def time_signing(n: int) -> tuple[float, float]:
    """Best µs per call of the two signing calls alone (the views' only different part)."""
    from django.core.files.storage import default_storage

    storage: Any = default_storage
    client = storage.client
    key = "uploads/0123456789abcdef/My_holiday_photo.jpg"

    def ours() -> Any:
        return storage.presigned_post(key, min_size=1, content_type="image/jpeg")

    def theirs() -> Any:
        conditions = [{"Content-Type": "image/jpeg"}, ["content-length-range", 1, MAX_SIZE]]
        return client.generate_presigned_post(
            _bucket, key, Fields={"Content-Type": "image/jpeg"}, Conditions=conditions
        )

    best = {}
    for name, call in (("ours", ours), ("theirs", theirs)):
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                call()
            times.append((time.perf_counter() - t0) / n * 1e6)
        best[name] = min(times)
    return best["ours"], best["theirs"]


def run(storage_options: dict[str, Any], *, n: int, rounds: int, budget_s: float, rgw: bool):
    """Time the views with both clients; True when every check passed and the target met
    against the guide view (the tuned view's ratio is printed beside it, with its ceiling)."""
    configure(storage_options)
    failures: list[str] = []
    send = wsgi_client()
    answers = {}
    for path in (OURS, BOTO3, GUIDE):
        code, body = send(path)
        if code != 200:
            raise SystemExit(f"{path} answered {code}: {body[:500]!r}")
        answers[path] = body
    key_a, ours = conditions(answers[OURS])
    same = True
    for path in (BOTO3, GUIDE):
        key_b, theirs = conditions(answers[path])
        if ours != theirs or key_a.rsplit("/", 1)[1] != key_b.rsplit("/", 1)[1]:
            same = False
            failures.append(
                f"different policies:\n  ours  {sorted(ours)}\n  {path} {sorted(theirs)}"
            )
    if rgw:
        for path, body in answers.items():
            status = upload_check(body)
            print(f"  upload to RGW with the answer of {path}: {status}", file=sys.stderr)
            if status != 204:
                failures.append(f"upload with {path}'s policy: HTTP {status}")

    rows, own_rows = [], []
    all_ok = not failures
    for name, make in CLIENTS.items():
        rates = time_rounds(make(), n, rounds, budget_s)
        best = {path: max(r) for path, r in rates.items()}
        us = {path: 1e6 / rate for path, rate in best.items()}
        tuned, guide = best[OURS] / best[BOTO3], best[OURS] / best[GUIDE]
        ok = guide >= TARGET
        all_ok &= ok
        rows.append(
            [
                name,
                f"{best[OURS]:,.0f} ({statistics.median(rates[OURS]):,.0f})",
                f"{best[GUIDE]:,.0f} ({statistics.median(rates[GUIDE]):,.0f})",
                f"{guide:.1f}x {verdict(ok)}",
                f"{best[BOTO3]:,.0f} ({statistics.median(rates[BOTO3]):,.0f})",
                f"{tuned:.2f}x",
                f"{us[BOTO3] / us[NULL]:.2f}x",
                f"{best[NULL]:,.0f}",
            ]
        )
        own_ours, own_theirs = us[OURS] - us[NULL], us[BOTO3] - us[NULL]
        own_rows.append(
            [
                name,
                f"{us[NULL]:.0f}",
                f"{own_ours:.0f}",
                f"{own_theirs:.0f}",
                f"{own_theirs / own_ours:.1f}x" if own_ours > 0 else "-",
                f"{us[GUIDE] - us[NULL]:.0f}",
            ]
        )
    sign_ours, sign_theirs = time_signing(max(200, n // 2))

    print()
    print(f"POST /s3/signed-url/ vs boto3 views: requests/s, best (median) of rounds of {n}")
    headers = ["client", "django-buckets", "boto3 guide view", f"ratio (>={TARGET:.0f}x)"]
    headers += ["boto3 tuned view", "ratio", "ceiling", "empty view"]
    print(table(headers, rows))
    print("guide view: a client made per request, as boto3's guide writes create_presigned_post")
    print("tuned view: one client shared by all requests")
    print("ceiling: the tuned ratio if our view took no time = tuned view µs / empty view µs")
    print()
    print("µs per request spent in the view: request time minus the empty view's")
    headers = ["client", "empty view", "django-buckets", "boto3 tuned", "ratio", "boto3 guide"]
    print(table(headers, own_rows))
    print()
    print("the signing call alone, µs per call (best of 5)")
    print(
        table(
            ["call", "µs", "ratio"],
            [
                ["S3Storage.presigned_post", f"{sign_ours:.1f}", ""],
                ["boto3 generate_presigned_post", f"{sign_theirs:.1f}", ""],
                ["", "", f"{sign_theirs / sign_ours:.1f}x"],
            ],
        )
    )
    print()
    print("same key layout and policy conditions in all three: " + ("yes" if same else "NO"))
    if rgw:
        print("all three policies accepted by RGW: " + ("yes" if not failures else "NO"))
    for failure in failures:
        print(f"  {failure}")
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, best kept (default 7)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per client (20)")
    parser.add_argument("--rgw", action="store_true", help="also upload with both answers")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    from django.conf import settings

    if settings.configured:  # e.g. run from a runner that configured Django already
        cmd = [sys.executable, "-m", "bench.bench_signed_url", *(argv or sys.argv[1:])]
        return subprocess.run(cmd, check=False).returncode

    kwargs = {"n": args.requests, "rounds": max(3, args.rounds), "budget_s": args.budget}
    if args.rgw or os.environ.get("RGW_ENDPOINT"):
        from ._rgw import bench_bucket, rgw_server

        with rgw_server() as server, bench_bucket(server, "bench-post") as bucket:
            ok = run(server.storage_options(bucket), rgw=True, **kwargs)
    else:
        options = {
            "bucket_name": "bench-bucket",
            "endpoint_url": "http://127.0.0.1:9",  # signing does no I/O
            "access_key": "bench-ak",
            "secret_key": "bench-sk",
            "region_name": "us-east-1",
            "addressing_style": "path",
        }
        ok = run(options, rgw=False, **kwargs)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
