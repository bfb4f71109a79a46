"""What makes an unchanged ``collectstatic`` re-run cheap must not change what it decides:
listing timestamps read without dateutil are the datetimes botocore's parser gives, and a
local file hashed once per run is hashed again when it changed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from buckets.staticfiles.objects import ContentHashes
from buckets.storage.clients import parse_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-06T05:10:41.123Z",
        "2026-12-06T05:10:41Z",
        "2026-12-06T05:10:41.123456Z",
        "2026-02-29T00:00:00.5Z",  # not a date: botocore's parser decides
        "Sun, 06 Dec 2026 05:10:41 GMT",
        "1765000000",
    ],
)
def test_timestamps_parse_as_botocore_parses_them(value):
    try:
        expected = botocore_parse_timestamp(value)
    except ValueError:
        with pytest.raises(ValueError):
            parse_timestamp(value)
        return
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_a_file_is_hashed_again_when_it_changed(tmp_path: Path):
    path = tmp_path / "app.css"
    path.write_bytes(b"body {}\n")
    hashes = ContentHashes()
    with path.open("rb") as first:
        assert hashes.md5(first) == (hashlib.md5(b"body {}\n").hexdigest(), 8)
        assert first.tell() == 0
    with path.open("rb") as again:
        assert hashes.md5(again) == (hashlib.md5(b"body {}\n").hexdigest(), 8)
        assert again.tell() == 0
    stat = path.stat()
    path.write_bytes(b"body{}\n\n")  # same size, same inode: only the time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with path.open("rb") as changed:
        assert hashes.md5(changed) == (hashlib.md5(b"body{}\n\n").hexdigest(), 8)


def test_content_not_on_disk_is_hashed_each_time():
    hashes = ContentHashes()
    assert hashes.md5(io.BytesIO(b"a")) == (hashlib.md5(b"a").hexdigest(), 1)
    assert hashes.md5(io.BytesIO(b"b")) == (hashlib.md5(b"b").hexdigest(), 1)
