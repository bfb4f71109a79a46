from __future__ import annotations

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
