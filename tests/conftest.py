from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from buckets.storage import S3Storage
from tests.site_settings import apply, s3_site

pytest_plugins = ["tests.servers"]


@pytest.fixture
def storage(rgw: Any, bucket: str) -> S3Storage:
    """An ``S3Storage`` on a fresh RGW bucket."""
    return S3Storage(**rgw.storage_options(bucket))


@pytest.fixture
def s3_default(settings: Any, rgw: Any, bucket: str) -> S3Storage:
    """Point the ``AWS`` setting and the default storage at a fresh RGW bucket."""
    return apply(settings, s3_site(rgw, bucket))


@pytest.fixture(autouse=True, scope="session")
def _requests_leave_connections_alone() -> Iterator[None]:
    """Django closes stale database connections when a request starts and ends. A live
    server's thread can end a request after its test is over (the server answered early, the
    client was still sending), when pytest-django blocks the database: that printed a
    traceback in passing runs. The test database is in memory and managed by pytest-django,
    so the suite turns that housekeeping off."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
