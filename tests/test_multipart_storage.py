"""``S3Storage``'s multipart methods where only a real server can answer: a missing bucket
is a configuration error (``NoSuchBucketError``), never a missing upload, so ``abort`` does
not pass over it. The rest runs on every server in ``tests/conformance/test_multipart.py``."""

from __future__ import annotations

from typing import Any

import pytest

from buckets.storage import NoSuchBucketError, NoSuchUploadError, S3Storage

pytestmark = pytest.mark.rgw


@pytest.fixture
def no_bucket(rgw: Any) -> S3Storage:
    return S3Storage(**rgw.storage_options("no-such-bucket-for-multipart"))


def test_missing_bucket_is_no_missing_upload(no_bucket: S3Storage) -> None:
    with pytest.raises(NoSuchBucketError):
        no_bucket.create_multipart_upload("a.bin", content_type="text/plain")
    with pytest.raises(NoSuchBucketError):
        no_bucket.list_parts("a.bin", "some-upload")
    with pytest.raises(NoSuchBucketError):
        no_bucket.abort_multipart_upload("a.bin", "some-upload")
    with pytest.raises(NoSuchBucketError):
        no_bucket.complete_multipart_upload("a.bin", "some-upload", [(1, '"x"')])
    with pytest.raises(NoSuchBucketError):
        no_bucket.list_multipart_uploads()


def test_no_such_upload_is_an_oserror(storage: S3Storage) -> None:
    """A caller catching ``OSError`` (as for every storage failure) catches it too."""
    with pytest.raises(OSError) as caught:
        storage.list_parts("a.bin", "never-created")
    assert isinstance(caught.value, NoSuchUploadError)
    assert caught.value.code == "NoSuchUpload"
