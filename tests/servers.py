"""The real S3 servers of the test session (``s3servers``), and a fresh bucket per test.

The servers are real (signatures, policies and CORS are enforced), so anything the suite
proves about S3 behaviour is proved against them, never against a mock. Each starts once
per session, on first use, on free 127.0.0.1 ports. Set ``RGW_ENDPOINT`` (with
``RGW_ACCESS_KEY``/``RGW_SECRET_KEY``) to use a running RGW instead.

A server that cannot run here skips the tests that need it, except in CI (``CI=true``),
where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from s3servers import RGW, SeaweedFS, ServerUnavailable, temporary_bucket
from s3servers.rgw import from_environment, running_rgw
from s3servers.seaweedfs import running_seaweedfs


def _unavailable(server: str, reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{server} is required in CI and could not start: {reason}", pytrace=False)
    pytest.skip(f"{server} not available: {reason}")


@pytest.fixture(scope="session")
def rgw() -> Iterator[RGW]:
    """Ceph RGW: the server that refuses what AWS refuses."""
    given = from_environment("rgwtestak", "rgwtestsecret")
    if given is not None:
        yield given
        return
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_rgw())
        except ServerUnavailable as exc:
            _unavailable("Ceph RGW", str(exc))
        yield server


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """SeaweedFS: a second real S3 server (``tests/conformance/differences.py``)."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_seaweedfs())
        except ServerUnavailable as exc:
            _unavailable("SeaweedFS", str(exc))
        yield server


def fresh_bucket(client: Any) -> contextlib.AbstractContextManager[str]:
    """A new, empty bucket on the client's server, emptied and removed afterwards."""
    return temporary_bucket(client)


@pytest.fixture(scope="session")
def s3(rgw: RGW) -> Any:
    """A plain boto3 client on RGW, for checking what the code under test did."""
    return rgw.client()


@pytest.fixture(scope="session")
def seaweedfs_s3(seaweedfs: SeaweedFS) -> Any:
    """A plain boto3 client on SeaweedFS, made once per session (as ``s3`` is for RGW)."""
    return seaweedfs.client()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh, empty RGW bucket, removed after the test."""
    with fresh_bucket(s3) as name:
        yield name
