"""Django's Storage contract, checked against a real Ceph RGW bucket."""

from __future__ import annotations

import copy
import io
import pickle
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from buckets.storage import S3Storage
from buckets.storage.s3io import NoSuchBucketError
from s3servers import list_keys
from tests.hostile import HOSTILE_NAMES


def test_save_returns_name_and_round_trips(storage, s3, bucket):
    name = storage.save("docs/hello.txt", ContentFile(b"hello world"))
    assert name == "docs/hello.txt"
    assert s3.get_object(Bucket=bucket, Key="docs/hello.txt")["Body"].read() == b"hello world"
    assert storage.exists(name)
    assert storage.size(name) == 11
    with storage.open(name) as f:
        assert f.read() == b"hello world"


def test_second_save_of_same_name_gets_new_name(storage, s3, bucket):
    first = storage.save("a.txt", ContentFile(b"one"))
    second = storage.save("a.txt", ContentFile(b"two"))
    assert first == "a.txt"
    assert second != first and second.startswith("a_") and second.endswith(".txt")
    assert s3.get_object(Bucket=bucket, Key=first)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key=second)["Body"].read() == b"two"


def test_file_overwrite_true_replaces(rgw, bucket, s3):
    storage = S3Storage(**rgw.storage_options(bucket, file_overwrite=True))
    storage.save("a.txt", ContentFile(b"one"))
    assert storage.save("a.txt", ContentFile(b"two")) == "a.txt"
    assert list_keys(s3, bucket) == ["a.txt"]
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"two"


def test_delete_is_idempotent(storage):
    name = storage.save("gone.txt", ContentFile(b"x"))
    storage.delete(name)
    assert not storage.exists(name)
    storage.delete(name)  # deleting twice is fine
    with pytest.raises(ValueError):
        storage.delete("")


def test_missing_object_errors(storage):
    assert not storage.exists("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.open("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("nope.txt")


def test_content_type_guessed_from_name(storage, s3, bucket):
    storage.save("pic.png", ContentFile(b"\x89PNG"))
    storage.save("data.unknownext", ContentFile(b"?"))
    assert s3.head_object(Bucket=bucket, Key="pic.png")["ContentType"] == "image/png"
    head = s3.head_object(Bucket=bucket, Key="data.unknownext")
    assert head["ContentType"] == "application/octet-stream"


def test_object_parameters_and_location(rgw, bucket, s3):
    storage = S3Storage(
        **rgw.storage_options(
            bucket, location="media/", object_parameters={"CacheControl": "max-age=60"}
        )
    )
    name = storage.save("x/y.txt", ContentFile(b"z"))
    assert name == "x/y.txt"
    assert list_keys(s3, bucket) == ["media/x/y.txt"]
    assert s3.head_object(Bucket=bucket, Key="media/x/y.txt")["CacheControl"] == "max-age=60"
    assert storage.listdir("") == (["x"], [])
    assert storage.listdir("x") == ([], ["y.txt"])


def test_listdir_returns_dirs_and_files(storage):
    for name in ["top.txt", "d1/a.txt", "d1/b.txt", "d2/sub/c.txt"]:
        storage.save(name, ContentFile(b"."))
    assert storage.listdir("") == (["d1", "d2"], ["top.txt"])
    assert storage.listdir("d1") == ([], ["a.txt", "b.txt"])
    assert storage.listdir("d1/") == ([], ["a.txt", "b.txt"])
    assert storage.listdir("d2") == (["sub"], [])
    assert storage.listdir("empty") == ([], [])


def test_listdir_past_one_page(storage, s3, bucket):
    keys = [f"many/{i:05d}.txt" for i in range(1105)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    dirs, files = storage.listdir("many")
    assert dirs == []
    assert files == [k.split("/")[1] for k in keys]


def test_modified_time_is_aware_and_recent(storage):
    name = storage.save("t.txt", ContentFile(b"."))
    modified = storage.get_modified_time(name)
    assert modified.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - modified) < timedelta(minutes=5)


def test_modified_time_naive_without_use_tz(storage, settings):
    settings.USE_TZ = False
    name = storage.save("t.txt", ContentFile(b"."))
    assert storage.get_modified_time(name).tzinfo is None


def test_path_not_supported(storage):
    with pytest.raises(NotImplementedError):
        storage.path("a.txt")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_write_nothing(storage, s3, bucket, name):
    with pytest.raises((SuspiciousFileOperation, ValueError)):
        storage.save(name, ContentFile(b"evil"))
    for call in (storage.exists, storage.url, storage.delete, storage.open, storage.size):
        with pytest.raises((SuspiciousFileOperation, ValueError)):
            call(name)
    assert list_keys(s3, bucket) == []


def test_dotdot_cannot_escape_location(rgw, bucket, s3):
    storage = S3Storage(**rgw.storage_options(bucket, location="tenant-a"))
    with pytest.raises(SuspiciousFileOperation):
        storage.save("../tenant-b/x.txt", ContentFile(b"evil"))
    assert list_keys(s3, bucket) == []


def test_open_reads_in_bounded_memory_and_seeks(storage, s3, bucket):
    size = 24 * 1024**2
    block = bytes(range(256)) * 4096  # 1 MiB, position-dependent bytes
    s3.put_object(Bucket=bucket, Key="big.bin", Body=block * (size // len(block)))
    with storage.open("big.bin") as f:
        assert f.size == size
        tracemalloc.start()
        total = 0
        while chunk := f.read(1024**2):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert total == size
        assert peak < 4 * 1024**2, f"peak {peak} bytes while reading {size}"
        f.seek(1024**2 + 10)
        assert f.read(3) == block[10:13]
        f.seek(-2, io.SEEK_END)
        assert f.read() == block[-2:]
        f.seek(0)
        assert f.read(4) == block[:4]


def test_open_for_writing_streams_multipart(storage, s3, bucket):
    part = 5 * 1024**2
    with storage.open("written.bin", "wb") as f:
        for i in range(3):
            f.write(bytes([i]) * part)
        f.write(b"tail")
    body = s3.get_object(Bucket=bucket, Key="written.bin")["Body"].read()
    assert len(body) == 3 * part + 4 and body.endswith(b"tail") and body[part] == 1


def written_peak(storage, size):
    """Peak Python memory while ``size`` bytes are written in 64 KiB pieces (read back)."""
    storage.client  # noqa: B018 -- made beforehand: its service model is megabytes
    piece = bytes(range(256)) * 256
    tracemalloc.start()
    with storage.open("spooled.bin", "wb") as f:
        for _ in range(size // len(piece)):
            f.write(piece)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with storage.open("spooled.bin") as f:
        assert f.size == size and f.read(len(piece)) == piece
    return peak


def test_max_memory_size_spools_a_written_part_to_disk(rgw, bucket):
    """A part is 8 MiB (S3's minimum is 5): above ``max_memory_size`` it waits on disk."""
    size = 12 * 1024**2  # a full part and a last, smaller one
    spooled = S3Storage(**rgw.storage_options(bucket, max_memory_size=256 * 1024))
    assert written_peak(spooled, size) < 4 * 1024**2
    in_memory = S3Storage(**rgw.storage_options(bucket, max_memory_size=0))  # no limit
    assert written_peak(in_memory, size) > 8 * 1024**2


def test_missing_bucket_is_an_error_even_for_delete(rgw, bucket):
    """Deleting a missing object is fine; deleting from a missing bucket is a configuration
    error, which must not pass for a missing object."""
    storage = S3Storage(**rgw.storage_options(bucket + "-missing"))
    with pytest.raises(NoSuchBucketError, match="bucket .* does not exist") as caught:
        storage.delete("a.txt")
    assert isinstance(caught.value, OSError)
    assert not isinstance(caught.value, FileNotFoundError)
    # Everywhere else too: a missing bucket never passes for a missing object.
    calls = [
        lambda: storage.listdir(""),
        lambda: storage.save("a.txt", ContentFile(b"a")),
        lambda: storage.open("a.txt", "wb").close(),
        lambda: storage.copy("a.txt", "b.txt"),
        lambda: storage.copy_to_available_name("a.txt", "b.txt"),  # its HEAD: a bare 404
    ]
    for call in calls:
        with pytest.raises(NoSuchBucketError, match="bucket .* does not exist"):
            call()
    # A HEAD has no body to tell a missing bucket from a missing key: not found.
    assert storage.exists("a.txt") is False


def test_write_aborted_on_exception_leaves_nothing(storage, s3, bucket):
    with pytest.raises(RuntimeError):
        with storage.open("half.bin", "wb") as f:
            f.write(b"x" * 9 * 1024**2)  # at least one part already sent
            raise RuntimeError("boom")
    assert list_keys(s3, bucket) == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_save_large_file_multipart(storage, s3, bucket, tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x01" * (20 * 1024**2 + 3))
    with path.open("rb") as fh:
        name = storage.save("big.bin", File(fh))
    assert s3.head_object(Bucket=bucket, Key=name)["ContentLength"] == 20 * 1024**2 + 3


class DiesMidRead(io.BytesIO):
    """A file whose reads fail from ``fail_at`` on (a disk or a network share dying while
    the file is uploaded); ``on_fail`` runs just before."""

    def __init__(self, data, fail_at, on_fail):
        super().__init__(data)
        self.fail_at, self.on_fail = fail_at, on_fail

    def read(self, size=-1):
        if self.tell() >= self.fail_at:
            self.on_fail()
            raise OSError("the disk died")
        return super().read(size)


def test_large_save_failing_midway_raises_and_removes_its_claim(rgw, bucket, s3):
    """A large save claims its name with an empty object before the multipart upload; an
    upload that fails must remove that claim, so no empty object is left under the name."""
    mib = 1024**2
    config = TransferConfig(multipart_threshold=mib, multipart_chunksize=5 * mib)
    storage = S3Storage(**rgw.storage_options(bucket, transfer_config=config))
    storage.save("kept.bin", ContentFile(b"k" * 2 * mib))
    seen_at_failure = []
    body = DiesMidRead(
        b"x" * 12 * mib, 5 * mib, lambda: seen_at_failure.append(list_keys(s3, bucket))
    )
    with pytest.raises(OSError, match="the disk died"):
        storage.save("big.bin", File(body, name="big.bin"))
    assert seen_at_failure == [["big.bin", "kept.bin"]]  # the name was claimed first...
    assert list_keys(s3, bucket) == ["kept.bin"]  # ...and released on failure
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert storage.save("big.bin", ContentFile(b"y" * 2 * mib)) == "big.bin"  # free again


def test_one_client_per_thread(storage):
    first = storage.client
    assert storage.client is first
    other = []
    t = threading.Thread(target=lambda: other.append(storage.client))
    t.start()
    t.join()
    assert other[0] is not first


def test_pickle_and_deepcopy_keep_deconstruct_without_a_server():
    storage = S3Storage(bucket_name="b", location="x", querystring_expire=60)
    expected = (
        "buckets.storage.S3Storage",
        (),
        {"bucket_name": "b", "location": "x", "querystring_expire": 60},
    )
    assert storage.deconstruct() == expected
    assert pickle.loads(pickle.dumps(storage)).deconstruct() == expected
    assert copy.deepcopy(storage).deconstruct() == expected


def test_pickle_and_deconstruct(rgw, bucket):
    storage = S3Storage(**rgw.storage_options(bucket, location="x"))
    path, args, kwargs = storage.deconstruct()
    assert path == "buckets.storage.S3Storage" and args == ()
    assert kwargs["bucket_name"] == bucket and kwargs["location"] == "x"
    storage.save("p.txt", ContentFile(b"p"))
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.exists("p.txt") and clone.location == "x"


def test_signed_url_served_and_tampered_refused(storage):
    name = storage.save("dir/hello world+%~.txt", ContentFile(b"signed bytes"))
    url = storage.url(name)
    assert "X-Amz-Signature=" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"signed bytes"
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert requests.get(tampered, timeout=10).status_code == 403
    other_key = url.replace("hello", "hellx")
    assert requests.get(other_key, timeout=10).status_code == 403


def test_url_response_parameters_and_expiry(storage):
    name = storage.save("report.txt", ContentFile(b"r"))
    url = storage.url(
        name,
        parameters={"ResponseContentDisposition": 'attachment; filename="r.txt"'},
        expire=120,
    )
    assert "X-Amz-Expires=120" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="r.txt"'


def test_public_url_and_custom_domain(rgw, bucket):
    public = S3Storage(
        **rgw.storage_options(bucket, querystring_auth=False, default_acl="public-read")
    )
    name = public.save("pub lic.txt", ContentFile(b"open"))
    url = public.url(name)
    assert url == f"{rgw.endpoint_url}/{bucket}/pub%20lic.txt"
    assert requests.get(url, timeout=10).content == b"open"
    assert public.url("d/plain-name.txt") == f"{rgw.endpoint_url}/{bucket}/d/plain-name.txt"
    for hostile in HOSTILE_NAMES:
        with pytest.raises((SuspiciousFileOperation, ValueError)):
            public.url(hostile)
    cdn = S3Storage(**rgw.storage_options(bucket, custom_domain="cdn.example.com/"))
    assert cdn.url("a b/ü.txt") == "https://cdn.example.com/a%20b/%C3%BC.txt"


@pytest.mark.parametrize("location", ["", "media/x"])
def test_url_fast_path_gives_what_the_general_path_gives(rgw, bucket, location):
    from buckets.signing.sigv4 import quote_path
    from buckets.storage.keys import name_to_key

    storage = S3Storage(**rgw.storage_options(bucket, location=location))
    maker = storage._url_maker
    names = ["a.txt", "d/e-f_g~h.txt", "a..b.txt", "x" * 1000, "a//b", "ü.txt", "a b", "a\\b"]
    names += ["a/./b", "./a", "a/.", "a./b", "file.", "d/", "d//", "ü/./b", "x" * 1000 + "/./a"]
    public = S3Storage(**rgw.storage_options(bucket, location=location, querystring_auth=False))
    base = public._url_maker.public_base
    for name in names + ["é" * 500]:
        key = name_to_key(name, location)
        assert maker.key(name) == (key, quote_path(key))
        assert public.url(name) == f"{base}{quote_path(key)}"  # url()'s inlined fast path
    for bad in ["../x", "/x", "a/../b", "x" * 1030, "é" * 520, "a\x00b", "..\\x", "./"]:
        with pytest.raises(SuspiciousFileOperation):
            maker.key(bad)
        with pytest.raises(SuspiciousFileOperation):
            public.url(bad)
