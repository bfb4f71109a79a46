"""One conformance suite, three servers: Ceph RGW and SeaweedFS (real S3 servers, from
``s3servers``) and the fake (``buckets.test``).

Every test takes the ``target`` fixture and runs once per server, with the same requests
and, unless a test says why, the same expected answer. The fake is served by pytest-django's
``live_server`` (a real HTTP server in a thread), so requests go over the wire exactly as
they go to the real servers. Where a real server answers otherwise than AWS documents,
:func:`expect` reads that server's answer from ``differences.py``; the fake must give AWS's.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from buckets.signing import sigv4 as signing
from buckets.storage import S3Storage
from buckets.test.disk import TMP_DIR
from buckets.test.storage import FakeS3Storage
from s3servers import S3Server
from tests.conformance import differences
from tests.servers import fresh_bucket

CORS_RULE = {
    "AllowedOrigins": ["*"],
    "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag", "Location"],
    "MaxAgeSeconds": 3000,
}


@dataclasses.dataclass
class Target:
    """A server under test and what the suite needs to drive and inspect it."""

    name: str  # "rgw", "seaweedfs" or "fake"
    storage: S3Storage | FakeS3Storage
    url: str  # absolute upload URL
    access_key: str
    secret_key: str
    region: str
    s3: Any = None  # boto3 client (a real server)
    root: Path | None = None  # the fake's directory
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # the storage's

    def storage_with(self, **options: Any) -> S3Storage | FakeS3Storage:
        """Another storage on the same bucket (or directory), with more options."""
        return type(self.storage)(**self.options, **options)

    @property
    def real(self) -> bool:
        """A real S3 server (reached with boto3 too), not the fake."""
        return self.s3 is not None

    @property
    def bucket(self) -> str:
        return self.storage.bucket_name

    def presigned(self, key: str, **kwargs: Any) -> dict[str, str]:
        """Fields from the storage's own ``presigned_post``: the production path."""
        fields: dict[str, str] = self.storage.presigned_post(key, **kwargs)["fields"]
        return fields

    def custom(
        self,
        conditions: list[Any],
        fields: dict[str, str],
        *,
        expiration: str = "2099-01-01T00:00:00Z",
        secret_key: str | None = None,
    ) -> dict[str, str]:
        """A hand-made policy (``success_action_redirect``, ``starts-with``...) signed with
        ``buckets.signing.sigv4``, for conditions ``presigned_post`` never writes."""
        stamp = signing.amz_date()
        auth = {
            "x-amz-algorithm": signing.ALGORITHM,
            "x-amz-credential": signing.credential(self.access_key, stamp[:8], self.region),
            "x-amz-date": stamp,
        }
        document = {
            "expiration": expiration,
            "conditions": [
                {"bucket": self.bucket},
                *conditions,
                *({k: v} for k, v in auth.items()),
            ],
        }
        policy_b64 = base64.b64encode(json.dumps(document).encode()).decode()
        signature = signing.sign_policy(
            policy_b64, secret_key or self.secret_key, stamp[:8], self.region
        )
        return {**fields, **auth, "policy": policy_b64, "x-amz-signature": signature}

    def post(
        self,
        fields: dict[str, str],
        content: bytes = b"hello",
        *,
        filename: str = "hello.txt",
        after: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        file_first: bool = False,
        with_file: bool = True,
    ) -> requests.Response:
        """A browser's multipart POST: the fields in order, then ``file``, then ``after``."""
        parts: list[tuple[str, Any]] = [(k, (None, v)) for k, v in fields.items()]
        file_part = [("file", (filename, content))] if with_file else []
        parts = file_part + parts if file_first else parts + file_part
        parts += [(k, (None, v)) for k, v in (after or {}).items()]
        return requests.post(
            self.url, files=parts, headers=headers, allow_redirects=False, timeout=30
        )

    def exists(self, key: str) -> bool:
        if self.real:
            found = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key).get("Contents", [])
            return any(o["Key"] == key for o in found)
        return self.storage.exists(key)

    def keys(self) -> list[str]:
        if self.real:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))
        assert self.root is not None
        found = []
        for dirpath, dirnames, files in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != TMP_DIR]
            found += [os.path.relpath(os.path.join(dirpath, f), self.root) for f in files]
        return sorted(found)

    def get(self, key: str) -> tuple[bytes, str]:
        """The stored object's bytes and Content-Type, read back through the server."""
        if self.real:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
            return obj["Body"].read(), obj["ContentType"]
        response = requests.get(self.storage_url(key), timeout=30)
        assert response.status_code == 200, response.text
        return response.content, response.headers["Content-Type"]

    def object_url(self, key: str) -> str:
        return self.url.rstrip("/") + "/" + signing.quote_path(key)

    def storage_url(
        self, name: str, method: str = "GET", parameters: dict[str, str] | None = None
    ) -> str:
        """``storage.url(name)`` made absolute: what a page would link to (signed on a
        real server)."""
        url = self.storage.url(name, parameters=parameters, http_method=method)
        if url.startswith("/"):  # the fake's relative URL, on the live server
            parts = urlsplit(self.url)
            url = f"{parts.scheme}://{parts.netloc}{url}"
        return url


def expect(target: Target, case: str, *, aws: Any) -> Any:
    """The answer expected from this target in ``case``: AWS's documented one (the fake's),
    or the server's own where ``differences.DIFFERENCES`` lists one."""
    return differences.expected(target.name, case, aws=aws)


def error_code(response: requests.Response) -> str | None:
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    return root.findtext("Code")


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert (response.status_code, error_code(response)) == (status, code), response.text


TARGETS = [
    pytest.param("rgw", marks=pytest.mark.rgw),
    pytest.param("seaweedfs", marks=pytest.mark.seaweedfs),
    "fake",
]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "fake":
        yield from _fake_target(request)
        return
    server: S3Server = request.getfixturevalue(request.param)  # the session's server
    s3 = request.getfixturevalue({"rgw": "s3", "seaweedfs": "seaweedfs_s3"}[request.param])
    with fresh_bucket(s3) as bucket:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [CORS_RULE]})
        options = server.storage_options(bucket)
        storage = S3Storage(**options)
        yield Target(
            request.param,
            storage,
            storage.upload_url(),
            server.access_key,
            server.secret_key,
            server.region,
            s3=s3,
            options=options,
        )


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The fake alone, for what only it must do (refuse keys its disk cannot hold)."""
    yield from _fake_target(request)


def _fake_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    settings = request.getfixturevalue("settings")
    tmp_path: Path = request.getfixturevalue("tmp_path")
    # The live server's request threads may use the test database (sessions, users): grant
    # it database access, as pytest-django does for tests naming ``live_server`` directly.
    request.getfixturevalue("transactional_db")
    live_server = request.getfixturevalue("live_server")
    from tests.site_settings import apply, fake_site

    apply(settings, fake_site(tmp_path / "media", "tests.conformance.urls"))
    storage = FakeS3Storage()
    s = storage.settings
    yield Target(
        "fake",
        storage,
        live_server.url + storage.upload_url(),
        s.access_key or "",
        s.secret_key or "",
        storage.region,
        root=Path(storage.root),
    )
    # Whatever the answer, no spooled upload may be left behind.
    spool = Path(storage.root) / TMP_DIR
    assert not spool.exists() or list(spool.iterdir()) == []


def past(minutes: int = 20) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
