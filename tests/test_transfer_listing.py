"""The bulk client's listings (``buckets.transfer.listing``): read by our hook, they must say
what botocore's own parse says, page after page, and a page S3 sends with a 200 status but
an error (or cut short) must still be retried as botocore has it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from buckets.storage import S3Storage
from buckets.transfer.bucket_target import raw_time_client
from buckets.transfer.listing import _before_parse
from buckets.transfer.target_base import parse_time

#: Names a listing must give back unchanged (URL-encoded on the wire, XML-escaped too).
NAMES = [
    "media/a b.txt",
    "media/c++ & d.txt",
    "media/été/crème.txt",
    "media/100% <done>.txt",
    "media/日本語.txt",
    "media/deep/er/file.txt",
    "media/z.txt",
]


def test_listing_pages_say_what_botocore_says(rgw: Any, s3: Any, bucket: str) -> None:
    for i, name in enumerate(NAMES):
        s3.put_object(Bucket=bucket, Key=name, Body=b"x" * (i * 10))
    storage = S3Storage(**rgw.storage_options(bucket))
    ours = raw_time_client(storage, 2)
    pages = list(
        ours.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="media/", PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 4  # continuation tokens survive the hook
    listed = [obj for page in pages for obj in page.get("Contents", ())]
    theirs = s3.list_objects_v2(Bucket=bucket, Prefix="media/")["Contents"]
    assert [o["Key"] for o in listed] == [o["Key"] for o in theirs] == sorted(NAMES)
    for mine, plain in zip(listed, theirs, strict=True):
        assert (mine["Size"], mine["ETag"]) == (plain["Size"], plain["ETag"])
        assert parse_time(mine["LastModified"]) == plain["LastModified"]


def test_delimited_listing_keeps_its_prefixes(rgw: Any, s3: Any, bucket: str) -> None:
    for name in NAMES:
        s3.put_object(Bucket=bucket, Key=name, Body=b"x")
    ours = raw_time_client(S3Storage(**rgw.storage_options(bucket)), 2)
    page = ours.list_objects_v2(Bucket=bucket, Prefix="media/", Delimiter="/")
    assert sorted(p["Prefix"] for p in page["CommonPrefixes"]) == ["media/deep/", "media/été/"]
    assert len(page["Contents"]) == len(NAMES) - 2


# No server sends these on purpose: S3 documents a 200 answer carrying an error, and a
# connection can cut a page short. The hook is called as botocore calls it.
@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><Error><Code>InternalError</Code></Error>',
        b'<?xml version="1.0"?><ListBucketResult><Contents><Key>a</Key>',
    ],
    ids=["error-with-200", "cut-short"],
)
def test_a_bad_page_with_200_is_retried(body: bytes) -> None:
    response: dict[str, Any] = {"status_code": 200, "body": body, "headers": {}}
    extra: dict[str, Any] = {}
    _before_parse(SimpleNamespace(name="ListObjectsV2"), response, extra)
    assert response["status_code"] == 500
    assert extra == {}
