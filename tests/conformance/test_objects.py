"""Stored objects, read and copied: the same calls to RGW and to the fake, the same results.

Through the Storage API (``open()`` with seeks and partial reads, ``size()``,
``copy_to_available_name()``) and through the URL ``storage.url()`` gives a page (ranged
GETs, as a ``<video>`` element or a resumed download sends them).
"""

from __future__ import annotations

import datetime
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
import pytest
import requests
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from buckets.storage import S3Storage
from buckets.test.storage import FakeS3Storage
from tests.conformance.conftest import Target, assert_error, expect

pytestmark = pytest.mark.rgw

DATA = b"0123456789abcdefghij"  # 20 bytes: byte n is easy to read off


def get(
    target: Target, name: str, range_: str | None = None, method: str = "GET"
) -> requests.Response:
    headers = {"Range": range_} if range_ is not None else {}
    return requests.request(method, target.storage_url(name, method), headers=headers, timeout=30)


@pytest.fixture
def stored(target: Target) -> Target:
    assert target.storage.save("r/data.txt", ContentFile(DATA)) == "r/data.txt"
    assert target.storage.save("r/empty.txt", ContentFile(b"")) == "r/empty.txt"
    return target


# -- the Storage API -----------------------------------------------------------------------


def test_open_seeks_and_reads_parts(stored: Target) -> None:
    storage = stored.storage
    assert storage.size("r/data.txt") == 20
    with storage.open("r/data.txt") as f:
        assert f.size == 20
        assert f.read(4) == b"0123"
        f.seek(15)
        assert f.read(100) == b"fghij"
        assert f.read() == b""
        f.seek(-3, io.SEEK_END)
        assert f.read() == b"hij"
        f.seek(5)
        assert f.read(2) == b"56"
        f.seek(100)
        assert f.read(1) == b""
    with storage.open("r/empty.txt") as f:
        assert (f.size, f.read()) == (0, b"")


# -- ranged GETs of the object URL ---------------------------------------------------------


def test_whole_object_advertises_ranges(stored: Target) -> None:
    response = get(stored, "r/data.txt")
    assert (response.status_code, response.content) == (200, DATA)
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("range_", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=0-0", 0, 0),
        ("bytes=-5", 15, 19),  # the last 5 bytes
        ("bytes=-100", 0, 19),  # a suffix longer than the object: all of it
        ("bytes=15-", 15, 19),
        ("bytes=5-100", 5, 19),  # an end past the object is cut to it
        ("BYTES = 2-3", 2, 3),  # the unit is case-insensitive; spaces allowed
        # Positions longer than any object, past Python's int-string limit (4,300 digits):
        ("bytes=0-" + "9" * 5000, 0, 19),  # an end past the object is cut to it
        ("bytes=-" + "9" * 5000, 0, 19),  # a suffix longer than the object: all of it
        ("bytes=" + "0" * 5000 + "5-0006", 5, 6),  # leading zeros, however many
    ],
    ids=lambda value: value[:24] if isinstance(value, str) else str(value),
)
def test_one_range_answers_206(stored: Target, range_: str, first: int, last: int) -> None:
    whole = get(stored, "r/data.txt")
    response = get(stored, "r/data.txt", range_)
    if range_ == "BYTES = 2-3":
        case = "range: capitals and spaces"
    elif "9" * 5000 in range_:
        case = "range: a position of thousands of digits"
    else:
        case = "range: one range"
    status = expect(stored, case, aws=206)
    if status == 200:  # the Range header ignored
        assert (response.status_code, response.content) == (200, DATA)
        return
    if status == 416:
        assert_error(response, 416, "InvalidRange")
        return
    assert response.status_code == 206, response.text
    assert response.content == DATA[first : last + 1]
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/20"
    assert response.headers["Content-Length"] == str(last - first + 1)
    for same in ("Content-Type", "ETag", "Accept-Ranges"):
        assert response.headers.get(same) == whole.headers.get(same), same


def test_head_with_a_range_answers_206_without_a_body(stored: Target) -> None:
    response = get(stored, "r/data.txt", "bytes=4-7", method="HEAD")
    if expect(stored, "range: HEAD", aws=206) == 200:
        assert (response.status_code, response.content) == (200, b"")
        return
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 4-7/20"
    # The fake runs in Django's development server here, and Django 4.2's deletes
    # Content-Length from every HEAD response (django.core.servers.basehttp.ServerHandler
    # .cleanup_headers; later versions drop only a "0"). The view does send it:
    # test_fake_storage.py::test_ranged_head_has_the_range_length.
    if stored.real or django.VERSION >= (5, 0):
        assert response.headers["Content-Length"] == "4"
    assert response.content == b""


@pytest.mark.parametrize(
    ("name", "range_"),
    [
        ("r/data.txt", "bytes=20-30"),
        ("r/data.txt", "bytes=20-"),
        ("r/empty.txt", "bytes=0-9"),
        ("r/data.txt", "bytes=" + "9" * 5000 + "-"),  # a start past any object
        ("r/data.txt", "bytes=9223372036854775808-"),  # past a 64-bit position
    ],
    ids=lambda value: value[:24],
)
def test_range_past_the_end_is_invalid_range(stored: Target, name: str, range_: str) -> None:
    assert_error(get(stored, name, range_), 416, "InvalidRange")


def test_several_ranges(stored: Target) -> None:
    response = get(stored, "r/data.txt", "bytes=0-1,4-5")
    # AWS serves no multipart/byteranges: it ignores the header (200, the whole object).
    expected = expect(stored, "range: several ranges", aws=(200, DATA))
    assert (response.status_code, response.content) == expected


@pytest.mark.parametrize("range_", ["bytes=abc", "bytes=9-5"])
def test_malformed_range(stored: Target, range_: str) -> None:
    response = get(stored, "r/data.txt", range_)
    # AWS ignores a Range it cannot parse (RFC 9110 allows it): 200, the whole object.
    case = "range: unparsable" if range_ == "bytes=abc" else "range: end before start"
    if expect(stored, case, aws=200) == 200:
        assert (response.status_code, response.content) == (200, DATA)
    else:
        assert_error(response, 416, "InvalidRange")


def test_zero_suffix(stored: Target) -> None:
    response = get(stored, "r/data.txt", "bytes=-0")
    # AWS: 416 InvalidRange (RFC 9110: a zero suffix is unsatisfiable).
    if expect(stored, "range: zero suffix", aws=416) == 416:
        assert_error(response, 416, "InvalidRange")
    else:
        assert (response.status_code, response.content) == (206, DATA)


# -- headers set by object_parameters ------------------------------------------------------

PARAMETERS = {
    "CacheControl": "max-age=60",
    "ContentDisposition": 'attachment; filename="report.txt"',
    "ContentLanguage": "fr",
    "ContentType": "text/x-report",
    "Expires": datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    "Metadata": {"Owner": "alice", "step": "2"},
}
SERVED = {
    "Cache-Control": "max-age=60",
    "Content-Disposition": 'attachment; filename="report.txt"',
    "Content-Language": "fr",
    "Content-Type": "text/x-report",
    "Expires": "Wed, 02 Jan 2030 03:04:05 GMT",
    "x-amz-meta-owner": "alice",  # S3 lower-cases metadata names
    "x-amz-meta-step": "2",
}


def served_headers(target: Target, name: str) -> dict[str, str | None]:
    response = get(target, name)
    assert response.status_code == 200, response.text
    return {header: response.headers.get(header) for header in SERVED}


def test_object_parameters_are_served_as_headers(target: Target) -> None:
    storage = target.storage_with(object_parameters=PARAMETERS)
    storage.save("p/saved.txt", ContentFile(b"saved"))
    with storage.open("p/written.txt", "wb") as f:
        f.write(b"written")
    assert served_headers(target, "p/saved.txt") == SERVED
    assert served_headers(target, "p/written.txt") == SERVED
    # Copies keep them (CopyObject copies the metadata), whichever storage copies.
    target.storage.copy("p/saved.txt", "p/copied.txt")
    name = target.storage.copy_to_available_name("p/saved.txt", "p/saved.txt")
    assert served_headers(target, "p/copied.txt") == SERVED
    assert served_headers(target, name) == SERVED
    # A response-* parameter of url() still wins over a stored header.
    url = target.storage_url("p/saved.txt", parameters={"ResponseCacheControl": "no-store"})
    assert requests.get(url, timeout=30).headers["Cache-Control"] == "no-store"


def test_without_object_parameters_no_such_headers(stored: Target) -> None:
    headers = served_headers(stored, "r/data.txt")
    assert headers["Content-Type"] == "text/plain"
    assert {k: v for k, v in headers.items() if v is not None} == {"Content-Type": "text/plain"}


def test_a_copy_to_an_available_name_takes_the_object_parameters(target: Target) -> None:
    """``copy_to_available_name`` writes as ``save()`` writes: ``object_parameters`` (and
    ``default_acl``) on top of the source's headers, which CopyObject alone would keep."""
    target.storage.save("p/plain.txt", ContentFile(b"plain"))
    storage = target.storage_with(object_parameters=PARAMETERS, default_acl="public-read")
    name = storage.copy_to_available_name("p/plain.txt", "p/moved.txt")
    assert served_headers(target, name) == SERVED
    if target.real and expect(target, "acl: object ACLs", aws=True):  # the fake keeps none
        grants = target.s3.get_object_acl(Bucket=target.bucket, Key=name)["Grants"]
        everyone = "http://acs.amazonaws.com/groups/global/AllUsers"
        assert {"URI": everyone, "Type": "Group"} in [g["Grantee"] for g in grants]
        assert requests.get(target.object_url(name), timeout=30).content == b"plain"
    # Without object_parameters, a copy keeps what the source has (Content-Type included).
    again = target.storage.copy_to_available_name(name, "p/again.txt")
    assert served_headers(target, again) == SERVED


def test_a_direct_upload_moved_by_a_model_save_gets_the_object_parameters(
    target: Target, monkeypatch: pytest.MonkeyPatch, transactional_db: Any
) -> None:
    """The browser's POST sets none of them; the move out of staging must."""
    from tests.testapp.models import Document

    key = "uploads/" + "0" * 48 + "/report.txt"
    assert target.post(target.presigned(key), b"report", filename="report.txt").status_code == 204
    backend = S3Storage if target.real else FakeS3Storage
    params = {"CacheControl": "max-age=86400", "ContentDisposition": "attachment"}
    # The field's own storage, not an override of STORAGES["default"]: Django 4.2 drops the
    # default's OPTIONS when STORAGES is overridden.
    storage = backend(**{**target.options, "object_parameters": params})
    monkeypatch.setattr(Document._meta.get_field("file"), "_storage_arg", storage)
    doc = Document.objects.create(name="r", file=key)
    assert doc.file.name == "report.txt"
    if target.real:
        head = target.s3.head_object(Bucket=target.bucket, Key="report.txt")
        headers = {
            "Cache-Control": head["CacheControl"],
            "Content-Disposition": head["ContentDisposition"],
        }
    else:
        response = requests.head(target.storage_url("report.txt", "HEAD"), timeout=30)
        headers = {h: response.headers[h] for h in ("Cache-Control", "Content-Disposition")}
    assert headers == {"Cache-Control": "max-age=86400", "Content-Disposition": "attachment"}
    assert doc.file.read() == b"report"


# -- copy_to_available_name ----------------------------------------------------------------


def test_copy_to_a_free_name_uses_it(stored: Target) -> None:
    storage = stored.storage
    assert storage.copy_to_available_name("r/data.txt", "c/free.txt") == "c/free.txt"
    assert storage.open("c/free.txt").read() == DATA
    assert storage.open("r/data.txt").read() == DATA  # a copy, not a move


def test_copy_to_a_taken_name_takes_another(stored: Target) -> None:
    storage = stored.storage
    storage.save("c/taken.txt", ContentFile(b"already here"))
    name = storage.copy_to_available_name("r/data.txt", "c/taken.txt")
    assert name != "c/taken.txt"
    assert name.startswith("c/taken_") and name.endswith(".txt")
    assert storage.open(name).read() == DATA
    assert storage.open("c/taken.txt").read() == b"already here"
    # The copy keeps the source's Content-Type, as S3's CopyObject does.
    assert get(stored, name).headers["Content-Type"] == "text/plain"
    assert sorted(storage.listdir("c")[1]) == sorted(["taken.txt", name[2:]])


def test_copy_within_max_length(stored: Target) -> None:
    storage = stored.storage
    target_name = "c/abcdefghij.txt"
    storage.save(target_name, ContentFile(b"x"))
    name = storage.copy_to_available_name("r/data.txt", target_name, max_length=len(target_name))
    assert name != target_name and len(name) <= len(target_name)
    assert storage.open(name).read() == DATA
    with pytest.raises(SuspiciousFileOperation):
        storage.copy_to_available_name("r/data.txt", "c/abcdefghij.txt", max_length=5)


def test_copy_of_a_missing_source_leaves_nothing(stored: Target) -> None:
    storage = stored.storage
    with pytest.raises(FileNotFoundError):
        storage.copy_to_available_name("r/missing.txt", "c/none.txt")
    assert not storage.exists("c/none.txt")
    assert storage.listdir("c") == ([], [])


def test_concurrent_copies_to_one_name_get_distinct_names(
    stored: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = stored.storage
    count = 8
    for i in range(count):
        storage.save(f"src/{i}.txt", ContentFile(f"copy {i}".encode()))
    # The worst case, every time: each thread's first look at the name is held until all
    # threads have looked, so all of them find "dst/same.txt" free before any copies.
    all_looked = threading.Barrier(count, timeout=30)
    looked = threading.local()
    exists = storage.exists

    def exists_after_all_looked(name: str) -> bool:
        found = exists(name)
        if not getattr(looked, "done", False):
            looked.done = True
            all_looked.wait()
        return found

    monkeypatch.setattr(storage, "exists", exists_after_all_looked)

    def copy(i: int) -> str:
        return storage.copy_to_available_name(f"src/{i}.txt", "dst/same.txt")

    with ThreadPoolExecutor(count) as pool:
        names = list(pool.map(copy, range(count)))
    assert len(set(names)) == count, names
    assert "dst/same.txt" in names
    monkeypatch.undo()
    # Nothing overwritten: each name holds the bytes of the copy that got it.
    for i, name in enumerate(names):
        assert storage.open(name).read() == f"copy {i}".encode(), name
    assert sorted(f"dst/{f}" for f in storage.listdir("dst")[1]) == sorted(names)
