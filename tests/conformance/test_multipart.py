"""Multipart uploads: the storage's methods and pre-signed part PUTs, on RGW and on the fake.

The client's side is what a browser does: PUT each part's bytes to the URL
``presign_upload_part`` signed (its ``Content-Length`` pinned), read the ``ETag`` answered.
The server's side is the storage's methods (create, list, complete, abort). Both servers
must take a valid upload, refuse a part whose length, part number or expiry is not what
was signed, refuse to complete with parts they do not hold (publishing nothing), and
answer ``NoSuchUpload`` once the upload is aborted.
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from django.core.files.base import ContentFile

from buckets.signing import sigv4 as signing
from buckets.storage import InvalidPartsError, NoSuchUploadError
from buckets.storage.multipart import MIN_PART_SIZE, multipart_etag
from tests.conformance.conftest import Target, assert_error, expect, past

pytestmark = pytest.mark.rgw

FIRST = os.urandom(MIN_PART_SIZE)  # every part but the last: at least 5 MiB
SECOND = FIRST[::-1]
LAST = b"the last part may be small"


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def part_url(target: Target, name: str, upload_id: str, number: int, length: int) -> str:
    """The storage's URL for one part, made absolute (the fake's is relative)."""
    url = target.storage.presign_upload_part(name, upload_id, number, length)
    if url.startswith("/"):
        parts = urlsplit(target.url)
        url = f"{parts.scheme}://{parts.netloc}{url}"
    return url


def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.put(url, data=data, headers=headers, timeout=60)


def upload_part(target: Target, name: str, upload_id: str, number: int, data: bytes) -> str:
    response = put(part_url(target, name, upload_id, number, len(data)), data)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


@pytest.fixture
def multipart(target: Target) -> Iterator[Target]:
    """The target; afterwards, every upload left in progress is aborted (and must go)."""
    yield target
    for upload in target.storage.list_multipart_uploads():
        target.storage.abort_multipart_upload(str(upload["Key"]), str(upload["UploadId"]))
    assert target.storage.list_multipart_uploads() == []


def test_valid_upload(multipart: Target) -> None:
    storage = multipart.storage
    name = "big/file.pdf"
    upload_id = storage.create_multipart_upload(
        name, content_type="application/pdf", metadata={"origin": "test"}
    )
    listed = storage.list_multipart_uploads("big/")
    assert [(u["Key"], u["UploadId"]) for u in listed] == [(name, upload_id)]
    assert storage.list_parts(name, upload_id) == []
    # Parts may arrive in any order; each answers its MD5 as ETag.
    etag2 = upload_part(multipart, name, upload_id, 2, LAST)
    etag1 = upload_part(multipart, name, upload_id, 1, FIRST)
    assert (etag1, etag2) == (md5_etag(FIRST), md5_etag(LAST))
    assert storage.list_parts(name, upload_id) == [
        {"PartNumber": 1, "Size": len(FIRST), "ETag": etag1},
        {"PartNumber": 2, "Size": len(LAST), "ETag": etag2},
    ]
    etag = storage.complete_multipart_upload(name, upload_id, [(1, etag1), (2, etag2)])
    expected = multipart_etag([hashlib.md5(FIRST).hexdigest(), hashlib.md5(LAST).hexdigest()])
    assert etag == expected
    body, content_type = multipart.get(name)
    assert body == FIRST + LAST
    assert content_type == "application/pdf"
    assert storage.metadata(name)["origin"] == "test"
    response = requests.head(multipart.storage_url(name, "HEAD"), timeout=30)
    assert response.headers["ETag"] == expected
    assert storage.list_multipart_uploads() == []
    with pytest.raises(NoSuchUploadError):
        storage.list_parts(name, upload_id)


def test_a_part_uploaded_again_replaces_it(multipart: Target) -> None:
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("again.bin", content_type="text/plain")
    first = upload_part(multipart, "again.bin", upload_id, 1, b"first try")
    etag = upload_part(multipart, "again.bin", upload_id, 1, b"second")
    listed = storage.list_parts("again.bin", upload_id)
    assert [part["PartNumber"] for part in listed] == [1]  # one part, whatever the server lists
    if expect(multipart, "multipart: part uploaded again, listed", aws="latest") == "latest":
        assert listed == [{"PartNumber": 1, "Size": 6, "ETag": etag}]
    else:
        assert listed[0]["ETag"] in (first, etag)
    storage.complete_multipart_upload("again.bin", upload_id, [(1, etag)])
    assert multipart.get("again.bin")[0] == b"second"


@pytest.mark.parametrize("sent", [b"x" * 11, b"x" * 9, b""], ids=["longer", "shorter", "empty"])
def test_wrong_content_length_is_refused(multipart: Target, sent: bytes) -> None:
    """The URL pins 10 bytes: any other length is refused (a signature over another
    Content-Length) and stores nothing."""
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("len.bin", content_type="text/plain")
    response = put(part_url(multipart, "len.bin", upload_id, 1, 10), sent)
    assert_error(response, 403, "SignatureDoesNotMatch")
    assert storage.list_parts("len.bin", upload_id) == []


def test_tampered_part_number_is_refused(multipart: Target) -> None:
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("num.bin", content_type="text/plain")
    url = part_url(multipart, "num.bin", upload_id, 1, 5)
    assert "partNumber=1&" in url
    response = put(url.replace("partNumber=1&", "partNumber=2&"), b"12345")
    assert_error(response, 403, "SignatureDoesNotMatch")
    assert storage.list_parts("num.bin", upload_id) == []


def test_tampered_upload_id_is_refused(multipart: Target) -> None:
    """Another upload's id in a URL signed for this one: the signature no longer matches."""
    storage = multipart.storage
    mine = storage.create_multipart_upload("id.bin", content_type="text/plain")
    other = storage.create_multipart_upload("id.bin", content_type="text/plain")
    url = part_url(multipart, "id.bin", mine, 1, 5)
    tampered = url.replace(signing.quote_query(mine), signing.quote_query(other))
    assert tampered != url
    assert_error(put(tampered, b"12345"), 403, "SignatureDoesNotMatch")
    assert storage.list_parts("id.bin", other) == []


def test_expired_url_is_refused(multipart: Target) -> None:
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("old.bin", content_type="text/plain")
    signed_at = signing.amz_date(past(minutes=20))
    with mock.patch.object(signing, "amz_date", lambda now=None: signed_at):
        url = storage.presign_upload_part("old.bin", upload_id, 1, 5, expires=60)
    if url.startswith("/"):
        parts = urlsplit(multipart.url)
        url = f"{parts.scheme}://{parts.netloc}{url}"
    assert_error(put(url, b"12345"), 403, "AccessDenied")
    assert storage.list_parts("old.bin", upload_id) == []


def test_unsigned_part_upload_is_refused(multipart: Target) -> None:
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("anon.bin", content_type="text/plain")
    url = part_url(multipart, "anon.bin", upload_id, 1, 5).split("&X-Amz-Algorithm=")[0]
    assert_error(put(url, b"12345"), 403, "AccessDenied")
    assert storage.list_parts("anon.bin", upload_id) == []


@pytest.fixture
def two_parts(multipart: Target) -> tuple[Target, str, str, str]:
    """An upload of ``c.bin`` holding parts 1 and 2 (5 MiB each, so either may come before
    another): ``(target, upload id, etag1, etag2)``."""
    upload_id = multipart.storage.create_multipart_upload("c.bin", content_type="text/plain")
    etag1 = upload_part(multipart, "c.bin", upload_id, 1, FIRST)
    etag2 = upload_part(multipart, "c.bin", upload_id, 2, SECOND)
    return multipart, upload_id, etag1, etag2


def _refused(target: Target, upload_id: str, parts: list[tuple[int, str]], code: str) -> None:
    """Completing with ``parts`` is refused with S3's ``code``; nothing is published and the
    upload is still there, its parts untouched."""
    storage = target.storage
    held = storage.list_parts("c.bin", upload_id)
    with pytest.raises((InvalidPartsError, NoSuchUploadError)) as caught:
        storage.complete_multipart_upload("c.bin", upload_id, parts)
    assert caught.value.code == code
    assert not target.exists("c.bin")
    assert storage.list_parts("c.bin", upload_id) == held


def test_complete_with_an_extra_part_is_refused(two_parts: tuple[Target, str, str, str]) -> None:
    target, upload_id, etag1, etag2 = two_parts
    extra = [(1, etag1), (2, etag2), (3, etag2)]
    _refused(target, upload_id, extra, "InvalidPart")


def test_complete_with_a_missing_part_is_refused(two_parts: tuple[Target, str, str, str]) -> None:
    """Part 2 is held; the list names part 3 (never uploaded) in its place."""
    target, upload_id, etag1, etag2 = two_parts
    _refused(target, upload_id, [(1, etag1), (3, etag2)], "InvalidPart")


def test_complete_with_another_etag_is_refused(two_parts: tuple[Target, str, str, str]) -> None:
    target, upload_id, etag1, _ = two_parts
    _refused(target, upload_id, [(1, etag1), (2, etag1)], "InvalidPart")


def test_complete_out_of_order(two_parts: tuple[Target, str, str, str]) -> None:
    """AWS refuses parts not in ascending order (``InvalidPartOrder``)."""
    target, upload_id, etag1, etag2 = two_parts
    parts = [(2, etag2), (1, etag1)]
    if expect(target, "multipart: complete out of order", aws="refused") == "refused":
        _refused(target, upload_id, parts, "InvalidPartOrder")
    else:
        target.storage.complete_multipart_upload("c.bin", upload_id, parts)
        assert target.get("c.bin")[0] == FIRST + SECOND


def test_complete_with_a_small_part_first_is_refused(multipart: Target) -> None:
    """Every part but the last must be at least 5 MiB."""
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("c.bin", content_type="text/plain")
    etag1 = upload_part(multipart, "c.bin", upload_id, 1, LAST)
    etag2 = upload_part(multipart, "c.bin", upload_id, 2, LAST)
    _refused(multipart, upload_id, [(1, etag1), (2, etag2)], "EntityTooSmall")


def test_complete_with_no_parts_is_refused(two_parts: tuple[Target, str, str, str]) -> None:
    target, upload_id, _, _ = two_parts
    code = expect(target, "multipart: complete with no parts", aws="MalformedXML")
    _refused(target, upload_id, [], code)


def test_complete_with_a_subset_of_the_parts(two_parts: tuple[Target, str, str, str]) -> None:
    """AWS completes with the parts listed and drops the others. Where a server refuses
    instead, it is with ``InvalidPart``. Either way the site's own check (it lists the
    parts itself) is what refuses an incomplete upload."""
    target, upload_id, etag1, _ = two_parts
    if expect(target, "multipart: complete with a subset", aws="completed") == "refused":
        _refused(target, upload_id, [(1, etag1)], "InvalidPart")
    else:
        target.storage.complete_multipart_upload("c.bin", upload_id, [(1, etag1)])
        assert target.get("c.bin")[0] == FIRST


def test_abort_then_upload_is_no_such_upload(multipart: Target) -> None:
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("gone.bin", content_type="text/plain")
    etag = upload_part(multipart, "gone.bin", upload_id, 1, b"12345")
    url = part_url(multipart, "gone.bin", upload_id, 2, 5)
    storage.abort_multipart_upload("gone.bin", upload_id)
    assert_error(put(url, b"12345"), 404, "NoSuchUpload")
    with pytest.raises(NoSuchUploadError):
        storage.list_parts("gone.bin", upload_id)
    answer = expect(multipart, "multipart: complete after abort", aws="NoSuchUpload")
    with pytest.raises(OSError) as caught:  # either way, nothing is completed
        storage.complete_multipart_upload("gone.bin", upload_id, [(1, etag)])
    assert isinstance(caught.value, NoSuchUploadError) == (answer == "NoSuchUpload")
    storage.abort_multipart_upload("gone.bin", upload_id)  # again: fine
    assert not multipart.exists("gone.bin")
    assert storage.list_multipart_uploads() == []


def test_an_upload_id_belongs_to_its_key(multipart: Target) -> None:
    """The id of ``a.bin``'s upload names no upload of ``b.bin``."""
    storage = multipart.storage
    upload_id = storage.create_multipart_upload("a.bin", content_type="text/plain")
    assert_error(put(part_url(multipart, "b.bin", upload_id, 1, 5), b"12345"), 404, "NoSuchUpload")
    with pytest.raises(NoSuchUploadError):
        storage.list_parts("b.bin", upload_id)
    assert storage.list_parts("a.bin", upload_id) == []


def test_unknown_upload_id(multipart: Target) -> None:
    storage = multipart.storage
    with pytest.raises(NoSuchUploadError):
        storage.list_parts("x.bin", "no-such-upload")
    storage.abort_multipart_upload("x.bin", "no-such-upload")
    response = put(part_url(multipart, "x.bin", "no-such-upload", 1, 5), b"12345")
    assert_error(response, 404, "NoSuchUpload")


def test_part_urls_refuse_parts_s3_cannot_take(multipart: Target) -> None:
    storage = multipart.storage
    for number, length in ((0, 5), (10_001, 5), (1, -1), (1, 5 * 1024**3 + 1)):
        with pytest.raises(ValueError):
            storage.presign_upload_part("x.bin", "id", number, length)


def test_list_uploads_by_prefix(multipart: Target) -> None:
    storage = multipart.storage
    a = storage.create_multipart_upload("p/a.bin", content_type="text/plain")
    b = storage.create_multipart_upload("q/b.bin", content_type="text/plain")
    assert [(u["Key"], u["UploadId"]) for u in storage.list_multipart_uploads("p/")] == [
        ("p/a.bin", a)
    ]
    every = {(u["Key"], u["UploadId"]) for u in storage.list_multipart_uploads()}
    assert every == {("p/a.bin", a), ("q/b.bin", b)}


def test_parts_uploaded_at_once(multipart: Target) -> None:
    """Parts sent in parallel, as the widget sends them, make the object in part order."""
    storage = multipart.storage
    parts = {1: FIRST, 2: SECOND, 3: LAST}
    upload_id = storage.create_multipart_upload("par.bin", content_type="text/plain")

    def send(number: int) -> tuple[int, str]:
        return number, upload_part(multipart, "par.bin", upload_id, number, parts[number])

    with ThreadPoolExecutor(3) as pool:
        etags = dict(pool.map(send, parts))
    storage.complete_multipart_upload("par.bin", upload_id, sorted(etags.items()))
    assert multipart.get("par.bin")[0] == FIRST + SECOND + LAST


# -- the fake alone ------------------------------------------------------------------------


@pytest.mark.parametrize("upload_id", ["../../..", "..", "a/b", "", "x" * 43 + "/.."])
def test_fake_upload_ids_name_no_path(fake: Target, upload_id: str) -> None:
    """An upload id is looked up, never joined into a path: any but the fake's own form
    names no upload, and nothing is written or removed outside the uploads."""
    storage = fake.storage
    storage.save("kept.txt", ContentFile(b"kept"))
    with pytest.raises(NoSuchUploadError):
        storage.list_parts("kept.txt", upload_id)
    with pytest.raises(NoSuchUploadError):
        storage.complete_multipart_upload("kept.txt", upload_id, [(1, '"x"')])
    storage.abort_multipart_upload("kept.txt", upload_id)
    response = put(part_url(fake, "kept.txt", upload_id, 1, 5), b"12345")
    assert_error(response, 404, "NoSuchUpload")
    assert fake.keys() == ["kept.txt"]


def test_fake_streams_a_part_in_bounded_memory(fake: Target, tmp_path: Path) -> None:
    """A 64 MiB part goes to disk in chunks: the process (client and live server) never
    holds more than a few MiB of it."""
    size = 64 * 1024**2
    source = tmp_path / "part.bin"
    with open(source, "wb") as fh:
        fh.truncate(size)  # sparse: zeros
    storage = fake.storage
    upload_id = storage.create_multipart_upload("huge.bin", content_type="text/plain")
    url = part_url(fake, "huge.bin", upload_id, 1, size)
    tracemalloc.start()
    try:
        with open(source, "rb") as fh:
            response = requests.put(url, data=fh, timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == md5_etag(b"\0" * size)
    assert peak < 8 * 1024**2
    assert storage.list_parts("huge.bin", upload_id)[0]["Size"] == size
    storage.abort_multipart_upload("huge.bin", upload_id)
