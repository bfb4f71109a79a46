"""Fixtures for the reliability tests: a fault proxy in front of the session RGW, storages
that talk through it with short timeouts, and a database that many threads can write.

Why a database of our own for the threaded tests: pytest-django's SQLite test database is
``:memory:`` in shared-cache mode, where two threads touching one table get "database table
is locked" at once (shared-cache locks are not retried). ``threaded_db`` adds a file-backed
SQLite alias for the test's duration, with ``transaction_mode="IMMEDIATE"`` (each
transaction takes the write lock at ``BEGIN``, as a serialisable database would order them)
and a busy timeout, so threads queue instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
import pytest
from django.core.management import call_command

from buckets.storage import S3Storage
from tests.reliability.proxy import FaultProxy
from tests.site_settings import apply, s3_site

#: Short timeouts for the fault tests: a dead server must be noticed within seconds.
FAST = {"connect_timeout": 1, "read_timeout": 1, "max_attempts": 1}
THREADED_DB = "reliability"


def time_bound(connect_timeout: float, read_timeout: float, max_attempts: int) -> float:
    """The longest one storage call may take against a dead server with these options:
    every attempt (the first and ``max_attempts`` retries) waits at most a connect and a
    read timeout, plus botocore's one second for ``100 Continue`` before a request body;
    botocore's standard retry mode sleeps at most ``2 ** (n - 1)`` seconds before retry
    ``n``; plus a second of slack for the machine."""
    attempts = max_attempts + 1
    backoff = sum(2 ** (n - 1) for n in range(1, attempts))
    return attempts * (connect_timeout + read_timeout + 1.0) + backoff + 1.0


@pytest.fixture
def proxy(rgw: Any) -> Iterator[FaultProxy]:
    """A ``FaultProxy`` forwarding to the session RGW (which is never stopped itself)."""
    parts = urlsplit(rgw.endpoint_url)
    with FaultProxy((parts.hostname or "127.0.0.1", parts.port or 80)) as p:
        yield p


@pytest.fixture
def proxied(rgw: Any, bucket: str, proxy: FaultProxy) -> S3Storage:
    """An ``S3Storage`` on a fresh bucket, through the proxy, with ``FAST`` timeouts."""
    return S3Storage(**rgw.storage_options(bucket, endpoint_url=proxy.url, **FAST))


@pytest.fixture
def proxied_default(settings: Any, rgw: Any, bucket: str, proxy: FaultProxy) -> S3Storage:
    """The default storage (``AWS`` setting) on a fresh bucket, through the proxy."""
    return apply(settings, s3_site(rgw, bucket, endpoint_url=proxy.url, **FAST))


@pytest.fixture
def threaded_db(tmp_path: Path, django_db_blocker: Any) -> Iterator[str]:
    """The alias of a file-backed SQLite database with the test app's tables, usable from
    many threads at once; removed afterwards. Each worker thread should call
    ``connections.close_all()`` when done."""
    if django.VERSION < (5, 1):
        pytest.skip("SQLite transaction_mode needs Django 5.1")
    from django.db import connections

    configured = connections.configure_settings(
        {
            "default": connections.settings["default"],
            THREADED_DB: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "threads.sqlite3"),
                "OPTIONS": {"timeout": 60, "transaction_mode": "IMMEDIATE"},
            },
        }
    )
    connections.settings[THREADED_DB] = configured[THREADED_DB]
    try:
        with django_db_blocker.unblock():
            call_command("migrate", database=THREADED_DB, run_syncdb=True, verbosity=0)
            yield THREADED_DB
    finally:
        connections[THREADED_DB].close()
        del connections[THREADED_DB]
        del connections.settings[THREADED_DB]
