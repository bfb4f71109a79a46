"""Keys that would leave the fake's root: refused (4xx), and nothing written anywhere.

S3 itself stores ``../x`` as an ordinary key; a directory on disk cannot, so these run
against the fake only. The policies are signed directly with ``build_post_policy`` (the
storage would refuse to sign most of them), so the endpoint's own checks are what is
tested. The whole temporary directory (the media root, the fake's root and a directory
beside them) is compared before and after each request.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from buckets.signing import post_policy as policy
from buckets.signing.limits import MAX_KEY_BYTES
from tests.conformance.conftest import Target

SECRET = b"top secret bytes"


def snapshot(top: Path) -> dict[str, bytes]:
    files = {}
    for dirpath, _, names in os.walk(top):
        for name in names:
            path = Path(dirpath, name)
            files[str(path.relative_to(top))] = path.read_bytes()
    return files


@pytest.fixture
def disk(fake: Target, tmp_path: Path) -> Path:
    """A secret file beside the root and one in a directory a symlink inside the root
    points to: what an escape would reach."""
    assert fake.root is not None
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    fake.root.mkdir(parents=True, exist_ok=True)
    (fake.root.parent / "secret.txt").write_bytes(SECRET)
    (fake.root / "link").symlink_to(outside, target_is_directory=True)
    return tmp_path


def signed(fake: Target, key: str) -> dict[str, str]:
    if len(key.encode()) > MAX_KEY_BYTES:  # build_post_policy refuses to sign it; do it by hand
        return fake.custom([["eq", "$key", key]], {"key": key})
    fields, _ = policy.build_post_policy(
        bucket=fake.bucket,
        key=key,
        access_key=fake.access_key,
        secret_key=fake.secret_key,
        region=fake.region,
    )
    return fields


HOSTILE_KEYS = [
    "../x.txt",
    "/etc/x.txt",
    "%2e%2e/x.txt",
    "%252e%252e/x.txt",
    "a/../../x.txt",
    "a/%2E%2E/%2e%2e/x.txt",
    "..\\x.txt",
    "nul\x00byte.txt",
    "k" * 1025,
    "d/" + "é" * 600,  # 1,202 bytes of UTF-8 in 602 characters
    "n" * 300,  # a valid S3 key, but one path segment longer than a file name may be
    "link/x.txt",  # a symlink inside the root, pointing out of it
    ".buckets-tmp/x.txt",  # the spool directory
    "a//b.txt",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_key_refused_and_nothing_written(fake: Target, disk: Path, key: str) -> None:
    before = snapshot(disk)
    response = fake.post(signed(fake, key), b"evil")
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert snapshot(disk) == before
    assert not Path("/etc/x.txt").exists()


HOSTILE_PATHS = [
    "../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "..%2fsecret.txt",
    "%252e%252e/secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "link/secret.txt",
    "link%2fsecret.txt",
    "a/../../secret.txt",
    "nul%00byte",
    ".buckets-tmp/x",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_get_never_reads_outside(fake: Target, disk: Path, path: str) -> None:
    """Raw requests (no client-side normalisation of ``..``), answered 404 NoSuchKey."""
    url = urlsplit(fake.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request("GET", url.path + "/" + path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert 400 <= response.status < 500, body
    assert SECRET not in body
    assert b"root:" not in body


def test_a_symlink_inside_the_root_to_inside_is_served(fake: Target, disk: Path) -> None:
    """The check resolves links rather than refusing them: inside stays inside."""
    assert fake.root is not None
    (fake.root / "real").mkdir()
    (fake.root / "real" / "f.txt").write_bytes(b"fine")
    (fake.root / "alias").symlink_to(fake.root / "real", target_is_directory=True)
    assert fake.get("alias/f.txt")[0] == b"fine"


@pytest.mark.parametrize(("first", "second"), [("a/b.txt", "a"), ("a", "a/b.txt")])
def test_a_key_and_its_prefix_cannot_both_be_files(
    fake: Target, disk: Path, first: str, second: str
) -> None:
    """S3 holds ``a`` and ``a/b.txt`` side by side; a disk cannot: a clean 400, no 500."""
    assert fake.post(signed(fake, first), b"1").status_code == 204
    before = snapshot(disk)
    response = fake.post(signed(fake, second), b"2")
    assert response.status_code == 400, response.text
    assert snapshot(disk) == before
