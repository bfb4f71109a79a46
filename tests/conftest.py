from __future__ import annotations

from typing import Any

import pytest

from buckets.storage import S3Storage

pytest_plugins = ["tests.rgw"]


@pytest.fixture
def storage(rgw: Any, bucket: str) -> S3Storage:
    """An ``S3Storage`` on a fresh RGW bucket."""
    return S3Storage(**rgw.storage_options(bucket))
