"""``FakeS3Storage``: Django's Storage contract as ``test_storage.py`` checks it on RGW, plus
URLs, copies, atomic writes, the multipart reader and the system check.

No server is needed: the endpoints are exercised with Django's test client here and over
HTTP, against RGW side by side, in ``tests/conformance``.
"""

from __future__ import annotations

import copy
import errno
import io
import os
import pickle
import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.test import Client
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from buckets.signing import post_verify
from buckets.test import checks as fake_checks
from buckets.test import headers as fake_headers
from buckets.test.disk import TMP_DIR, read_meta
from buckets.test.multipart import (
    MalformedMultipart,
    MultipartReader,
    boundary_of,
    header_parameters,
)
from buckets.test.storage import FakeS3Storage
from tests.hostile import HOSTILE_NAMES


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MEDIA_URL = "/media/"
    return tmp_path / "media"


@pytest.fixture
def storage(media: Path) -> FakeS3Storage:
    return FakeS3Storage()


def files_under(top: Path) -> list[str]:
    return sorted(str(Path(d, f).relative_to(top)) for d, _, names in os.walk(top) for f in names)


# -- configuration -------------------------------------------------------------------------


def test_root_is_under_media_root_and_configurable(media: Path, tmp_path: Path) -> None:
    assert FakeS3Storage().root == str(media / "s3")
    assert FakeS3Storage(root="other").root == str(media / "other")
    assert FakeS3Storage(root=str(tmp_path / "abs")).root == str(tmp_path / "abs")


def test_media_root_change_is_followed(storage: FakeS3Storage, settings: Any, tmp_path: Path):
    first = storage.root
    settings.MEDIA_ROOT = str(tmp_path / "elsewhere")
    assert storage.root != first and storage.root.startswith(str(tmp_path / "elsewhere"))


def test_without_aws_dict_bucket_and_keys_come_from_secret_key(media: Any, settings: Any):
    del settings.AWS
    s = FakeS3Storage().settings
    assert s.bucket_name == "fake-bucket" and s.region_name == "us-east-1"
    assert s.access_key and s.access_key.startswith("FAKE") and s.secret_key
    assert FakeS3Storage().settings.secret_key == s.secret_key  # stable
    settings.SECRET_KEY = "another"
    assert FakeS3Storage().settings.secret_key != s.secret_key
    assert s.file_overwrite is False and s.upload_prefix == "uploads/"
    assert s.upload_expire == 600 and s.location == ""


def test_aws_dict_is_used_so_policies_look_as_in_production(media: Any, settings: Any):
    settings.STORAGES = {"default": {"BACKEND": "buckets.test.storage.FakeS3Storage"}}
    settings.AWS = {"BUCKET": "prod", "ACCESS_KEY": "AK", "SECRET_KEY": "SK", "REGION": "eu-west-3"}
    storage = FakeS3Storage(location="media", max_file_size=1000)
    fields = storage.presigned_post("a.txt")["fields"]
    assert fields["key"] == "media/a.txt"
    assert (
        fields["x-amz-credential"].startswith("AK/") and "/eu-west-3/" in fields["x-amz-credential"]
    )
    verified = post_verify.verify_post(
        fields, bucket="prod", secret_for={"AK": "SK"}.get, region="eu-west-3", file_size=1000
    )
    assert isinstance(verified, post_verify.VerifiedPost) and verified.max_size == 1000


def test_the_aws_dict_keys_are_never_read_beside_a_real_storage(media: Any, settings: Any):
    """Regression: with ``S3Storage`` configured the ``AWS`` keys are real credentials; the
    fake (its endpoints' fallback storage, or a fake beside the real storage) never signs,
    verifies or serves with them. Its own options' keys still count."""
    from buckets.test.views import fake_storage

    settings.AWS = {"BUCKET": "prod", "ACCESS_KEY": "REALAK", "SECRET_KEY": "REALSK"}
    settings.STORAGES = {"default": {"BACKEND": "buckets.storage.S3Storage"}}
    for storage in (fake_storage(), FakeS3Storage()):
        s = storage.settings
        assert s.bucket_name == "prod"  # the bucket name is no secret: policies look alike
        assert s.access_key and s.access_key.startswith("FAKE") and s.secret_key != "REALSK"
    settings.STORAGES = {
        "default": {"BACKEND": "buckets.storage.S3Storage"},
        "dev": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
    }
    assert fake_storage().settings.secret_key != "REALSK"
    own = FakeS3Storage(access_key="OWNAK", secret_key="OWNSK").settings
    assert (own.access_key, own.secret_key) == ("OWNAK", "OWNSK")
    settings.STORAGES = {"default": {"BACKEND": "buckets.test.storage.FakeS3Storage"}}
    assert fake_storage().settings.secret_key == "REALSK"  # the fake's own AWS dict


def test_a_policy_signed_for_the_real_bucket_is_refused_by_a_mounted_fake(
    media: Any, settings: Any
) -> None:
    """Regression: a production site (``S3Storage``) mounting the fake's endpoints by
    mistake must not let a policy signed for its real bucket store a file on its disk."""
    from buckets.storage import S3Storage

    settings.AWS = {"BUCKET": "prod", "ACCESS_KEY": "REALAK", "SECRET_KEY": "REALSK"}
    settings.STORAGES = {"default": {"BACKEND": "buckets.storage.S3Storage"}}
    settings.ROOT_URLCONF = "tests.conformance.urls"
    signed = S3Storage().presigned_post("a.txt")  # what /s3/signed-url/ hands out
    response = Client().post(
        "/media/s3/uploads", {**signed["fields"], "file": ContentFile(b"<p>", name="a.txt")}
    )
    assert response.status_code == 403, response.content
    assert files_under(media) == []


def test_unknown_option_and_bad_aws_key_are_errors(media: Any, settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="bucket_nmae"):
        FakeS3Storage(bucket_nmae="x")
    settings.AWS = {"BUKET": "x"}
    with pytest.raises(ImproperlyConfigured, match="BUKET"):
        FakeS3Storage().check_settings()


def test_pickle_and_deconstruct(storage: FakeS3Storage, media: Path) -> None:
    custom = FakeS3Storage(root="r", location="x")
    path, args, kwargs = custom.deconstruct()  # type: ignore[attr-defined]
    assert (path, args, kwargs) == (
        "buckets.test.storage.FakeS3Storage",
        (),
        {"root": "r", "location": "x"},
    )
    custom.save("p.txt", ContentFile(b"p"))
    for clone in (pickle.loads(pickle.dumps(custom)), copy.deepcopy(custom)):
        assert clone.exists("p.txt") and clone.location == "x" and clone.root == custom.root
        assert clone.deconstruct() == (path, args, kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def fake_urls(settings: Any, media: Path) -> Client:
    """The fake endpoints mounted and the fake as the default storage (what they serve)."""
    settings.ROOT_URLCONF = "tests.conformance.urls"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
    }
    return Client()


@pytest.fixture
def served(fake_urls: Client) -> FakeS3Storage:
    from django.core.files.storage import storages

    storage = storages["default"]  # what default_storage and the endpoints use
    assert isinstance(storage, FakeS3Storage)
    return storage


# -- the Storage contract ------------------------------------------------------------------


def test_save_returns_name_and_round_trips(storage: FakeS3Storage) -> None:
    name = storage.save("docs/hello.txt", ContentFile(b"hello world"))
    assert name == "docs/hello.txt"
    assert Path(storage.root, "docs", "hello.txt").read_bytes() == b"hello world"
    assert storage.exists(name) and storage.size(name) == 11
    with storage.open(name) as f:
        assert f.read() == b"hello world"


def test_second_save_of_same_name_gets_new_name(storage: FakeS3Storage) -> None:
    assert storage.save("a.txt", ContentFile(b"one")) == "a.txt"
    second = storage.save("a.txt", ContentFile(b"two"))
    assert second != "a.txt" and second.startswith("a_") and second.endswith(".txt")
    assert storage.open("a.txt").read() == b"one" and storage.open(second).read() == b"two"


def test_file_overwrite_true_replaces(media: Path) -> None:
    storage = FakeS3Storage(file_overwrite=True)
    storage.save("a.txt", ContentFile(b"one"))
    assert storage.save("a.txt", ContentFile(b"two")) == "a.txt"
    assert storage.listdir("") == ([], ["a.txt"]) and storage.open("a.txt").read() == b"two"


def test_delete_is_idempotent_and_leaves_no_empty_prefix(storage: FakeS3Storage) -> None:
    name = storage.save("deep/er/gone.txt", ContentFile(b"x"))
    storage.save("deep/kept.txt", ContentFile(b"k"))
    storage.delete(name)
    assert not storage.exists(name)
    storage.delete(name)
    assert storage.listdir("deep") == ([], ["kept.txt"])  # like S3: no "er/" left
    assert not Path(storage.root, "deep", "er").exists()
    with pytest.raises(ValueError):
        storage.delete("")


def test_an_empty_bucket_has_no_root_yet_and_deletes_nothing(storage: FakeS3Storage) -> None:
    """The fake's bucket always exists: its root is made by the first write, so a missing
    root is an empty bucket (unlike S3Storage's ``NoSuchBucketError``)."""
    assert not Path(storage.root).exists()
    storage.delete("a.txt")
    assert not storage.exists("a.txt") and storage.listdir("") == ([], [])


def test_keys_the_disk_cannot_hold_are_refused_for_writing(storage: FakeS3Storage) -> None:
    """Reading one says "not found" (tests/conformance); writing one is refused. (``a//b``
    and ``a/./b`` are names of ``a/b``: tests/conformance/test_storage_api.py.)"""
    for name in (f"{TMP_DIR}/x.txt", f"./{TMP_DIR}/x.txt"):
        with pytest.raises(SuspiciousFileOperation):
            storage.save(name, ContentFile(b"x"))
        with pytest.raises(SuspiciousFileOperation):
            storage.open(name, "wb")
        assert not storage.exists(name)
    with pytest.raises(SuspiciousFileOperation):
        storage.save("sub/", ContentFile(b"x"))  # no file name at all (Django's check)
    assert storage.listdir("") == ([], [])


def test_missing_object_errors(storage: FakeS3Storage) -> None:
    storage.save("dir/f.txt", ContentFile(b"."))
    for name in ("nope.txt", "dir"):  # a prefix is no object, as on S3
        assert not storage.exists(name)
        for call in (storage.open, storage.size, storage.get_modified_time):
            with pytest.raises(FileNotFoundError):
                call(name)


def test_content_type_recorded_for_serving(served: FakeS3Storage) -> None:
    storage = served
    storage.save("pic.png", ContentFile(b"\x89PNG"))
    storage.save("data.unknownext", ContentFile(b"?"))
    client = Client()
    assert client.get(storage.url("pic.png"))["Content-Type"] == "image/png"
    assert client.get(storage.url("data.unknownext"))["Content-Type"] == "application/octet-stream"


def test_location_and_listdir(media: Path) -> None:
    storage = FakeS3Storage(location="/media/")
    assert storage.save("x/y.txt", ContentFile(b"z")) == "x/y.txt"
    assert files_under(Path(storage.root)) == ["media/x/y.txt"]
    assert storage.listdir("") == (["x"], []) and storage.listdir("x") == ([], ["y.txt"])
    with pytest.raises(SuspiciousFileOperation):
        storage.save("../tenant-b/x.txt", ContentFile(b"evil"))


def test_listdir_returns_dirs_and_files_sorted(storage: FakeS3Storage) -> None:
    for name in ["top.txt", "d1/b.txt", "d1/a.txt", "d2/sub/c.txt", "Z.txt", "é.txt"]:
        storage.save(name, ContentFile(b"."))
    assert storage.listdir("") == (["d1", "d2"], ["Z.txt", "top.txt", "é.txt"])
    assert storage.listdir("d1") == storage.listdir("d1/") == ([], ["a.txt", "b.txt"])
    assert storage.listdir("d2") == (["sub"], [])
    assert storage.listdir("empty") == ([], [])
    assert TMP_DIR not in storage.listdir("")[0]


def test_modified_time_is_aware_and_recent(storage: FakeS3Storage) -> None:
    modified = storage.get_modified_time(storage.save("t.txt", ContentFile(b".")))
    assert modified.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - modified) < timedelta(minutes=5)


def test_modified_time_naive_without_use_tz(storage: FakeS3Storage, settings: Any) -> None:
    settings.USE_TZ = False
    assert storage.get_modified_time(storage.save("t.txt", ContentFile(b"."))).tzinfo is None


def test_path_not_supported_as_on_s3(storage: FakeS3Storage) -> None:
    with pytest.raises(NotImplementedError):
        storage.path("a.txt")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_write_nothing(storage: FakeS3Storage, media: Path, name: str) -> None:
    with pytest.raises((SuspiciousFileOperation, ValueError)):
        storage.save(name, ContentFile(b"evil"))
    calls = (storage.exists, storage.url, storage.delete, storage.open, storage.size)
    for call in (*calls, storage.presigned_post, lambda n: storage.copy("a", n)):
        with pytest.raises((SuspiciousFileOperation, ValueError)):
            call(name)
    assert files_under(media.parent) == []


def test_a_key_and_its_prefix_cannot_both_be_files(storage: FakeS3Storage) -> None:
    storage.save("a/b.txt", ContentFile(b"1"))
    with pytest.raises(IsADirectoryError):
        storage.save("a", ContentFile(b"2"))
    storage.save("f", ContentFile(b"3"))
    with pytest.raises(NotADirectoryError):
        storage.save("f/g.txt", ContentFile(b"4"))
    assert files_under(Path(storage.root)) == ["a/b.txt", "f"]


def test_symlink_out_of_the_root_is_refused(storage: FakeS3Storage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"s")
    Path(storage.root).mkdir(parents=True)
    Path(storage.root, "link").symlink_to(outside, target_is_directory=True)
    for call in (storage.exists, storage.open, storage.size, storage.delete):
        with pytest.raises(SuspiciousFileOperation):
            call("link/secret.txt")
    with pytest.raises(SuspiciousFileOperation):
        storage.save("link/new.txt", ContentFile(b"evil"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert storage.listdir("") == ([], [])


def test_open_for_writing_is_atomic(storage: FakeS3Storage) -> None:
    with storage.open("written.bin", "wb") as f:
        f.write(b"x" * 1000)
        assert not storage.exists("written.bin")  # nothing visible until closed
        f.write(b"tail")
    assert storage.open("written.bin").read() == b"x" * 1000 + b"tail"
    assert read_meta(os.path.join(storage.root, "written.bin"))[0] in (
        None,
        "application/octet-stream",
    )


def test_write_aborted_on_exception_leaves_nothing(storage: FakeS3Storage) -> None:
    storage.save("half.bin", ContentFile(b"old"))
    with pytest.raises(RuntimeError):
        with storage.open("half.bin", "wb") as f:
            f.write(b"new but unfinished")
            raise RuntimeError("boom")
    assert storage.open("half.bin").read() == b"old"
    assert files_under(Path(storage.root)) == ["half.bin"]


def test_failed_save_leaves_nothing(storage: FakeS3Storage) -> None:
    class Exploding(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError("disk gone")
            return super().read(4)

    with pytest.raises(OSError, match="disk gone"):
        storage.save("x.bin", File(Exploding(b"0123456789"), name="x.bin"))
    assert files_under(Path(storage.root)) == []


def test_save_streams_large_files(storage: FakeS3Storage, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x01" * (3 * 1024**2 + 3))
    with path.open("rb") as fh:
        name = storage.save("big.bin", File(fh))
    assert storage.size(name) == 3 * 1024**2 + 3


def test_copy_replaces_destination_and_keeps_type(served: FakeS3Storage) -> None:
    storage = served
    storage.save("src/pic.png", ContentFile(b"png"))
    storage.save("dst/pic.png", ContentFile(b"old"))
    storage.copy("src/pic.png", "dst/pic.png")
    assert storage.open("dst/pic.png").read() == b"png"
    assert storage.open("src/pic.png").read() == b"png"
    assert Client().get(storage.url("dst/pic.png"))["Content-Type"] == "image/png"
    with pytest.raises(FileNotFoundError):
        storage.copy("nope.png", "x.png")
    with pytest.raises(FileNotFoundError):
        storage.copy("src", "x.png")
    assert not storage.exists("x.png")


# -- URLs ----------------------------------------------------------------------------------


def test_url_follows_media_url(storage: FakeS3Storage, settings: Any) -> None:
    assert storage.url("a b/ü+%.txt").split("?")[0] == "/media/s3/uploads/a%20b/%C3%BC%2B%25.txt"
    assert storage.upload_url() == "/media/s3/uploads"
    settings.MEDIA_URL = "https://cdn.example/m/"
    assert storage.url("x.txt").split("?")[0] == "https://cdn.example/m/s3/uploads/x.txt"
    assert storage.upload_url() == "https://cdn.example/m/s3/uploads"


def test_url_parameters(served: FakeS3Storage) -> None:
    storage = served
    storage.save("r.txt", ContentFile(b"r"))
    url = storage.url(
        "r.txt", parameters={"ResponseContentDisposition": 'attachment; filename="r.txt"'}
    )
    response = Client().get(url)
    assert response["Content-Disposition"] == 'attachment; filename="r.txt"'
    with pytest.raises(ValueError, match="VersionIdd"):
        storage.url("r.txt", parameters={"VersionIdd": "1"})


@pytest.mark.parametrize("name", ["a.txt", "dir/a b+ü%.txt", "uploads/x/y/z.pdf"])
def test_name_from_url_round_trips(storage: FakeS3Storage, name: str, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["testserver", ".example.com"]
    url = storage.url(name)
    assert storage.name_from_url(url) == name
    assert storage.name_from_url("http://testserver" + url) == name
    assert storage.name_from_url("https://app.example.com" + url + "?x=1") == name
    settings.MEDIA_URL = "https://cdn.example.net/media/"
    assert storage.name_from_url(storage.url(name)) == name


def test_name_from_url_with_location(media: Path) -> None:
    storage = FakeS3Storage(location="tenant")
    assert storage.url("a.txt").split("?")[0] == "/media/s3/uploads/tenant/a.txt"
    assert storage.name_from_url("/media/s3/uploads/tenant/a.txt") == "a.txt"
    assert storage.name_from_url("/media/s3/uploads/other/a.txt") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/media/s3/uploads/a.txt",  # a host this site is not
        "http://testserver@evil.example/media/s3/uploads/a.txt",
        "ftp://testserver/media/s3/uploads/a.txt",
        "/static/a.txt",
        "/media/s3/uploads/",
        "/media/s3/uploads/../../etc/passwd",
        "/media/s3/uploads/%2e%2e/x.txt",
        "/media/s3/uploads/a/%2E%2E/%2e%2e/x",
        "/media/s3/uploads/%00",
        "/media/s3/uploads/%ff",
        "media/s3/uploads/a.txt",
        "",
    ],
)
def test_name_from_url_refuses_foreign_or_escaping(
    storage: FakeS3Storage, settings: Any, url: str
) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    assert storage.name_from_url(url) is None


def test_a_wildcard_allowed_host_makes_no_other_host_ours(
    storage: FakeS3Storage, settings: Any
) -> None:
    """Regression: ``ALLOWED_HOSTS = ["*"]`` says which Host headers the site answers, not
    that every host's URL is the site's: only listed hosts, and the relative form, are."""
    settings.ALLOWED_HOSTS = ["*"]
    url = storage.url("a.txt")
    assert storage.name_from_url(url) == "a.txt"
    for host in ("evil.example", "testserver", "localhost"):
        assert storage.name_from_url(f"https://{host}{url}") is None
    settings.ALLOWED_HOSTS = ["*", "testserver", ".example.com"]
    assert storage.name_from_url("https://testserver" + url) == "a.txt"
    assert storage.name_from_url("https://app.example.com" + url) == "a.txt"
    assert storage.name_from_url("https://evil.example" + url) is None


def test_absolute_media_url_accepts_only_its_host(storage: FakeS3Storage, settings: Any):
    settings.MEDIA_URL = "https://cdn.example.net/media/"
    assert storage.name_from_url("https://cdn.example.net/media/s3/uploads/a.txt") == "a.txt"
    assert storage.name_from_url("https://testserver/media/s3/uploads/a.txt") is None
    assert storage.name_from_url("/media/s3/uploads/a.txt") == "a.txt"


# -- the GET endpoint through the test client ----------------------------------------------


def test_get_head_and_errors(fake_urls: Client, served: FakeS3Storage) -> None:
    served.save("g/f.txt", ContentFile(b"abc"))
    response = fake_urls.get(served.url("g/f.txt"))
    assert response.status_code == 200 and response.getvalue() == b"abc"
    assert response["Content-Length"] == "3" and response["ETag"].startswith('"')
    head = fake_urls.head(served.url("g/f.txt", http_method="HEAD"))
    assert head.status_code == 200 and head.content == b"" and head["Content-Length"] == "3"
    missing = fake_urls.get(served.url("g"))
    assert missing.status_code == 404 and b"<Code>NoSuchKey</Code>" in missing.content
    assert fake_urls.delete("/media/s3/uploads/g/f.txt").status_code == 405
    assert fake_urls.get("/media/s3/uploads").status_code == 405


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 20, None),
        ("bytes=0-9", 20, (0, 9)),
        ("bytes=-5", 20, (15, 19)),
        ("bytes=19-", 20, (19, 19)),
        ("bytes=3-99", 20, (3, 19)),
        ("bytes=0-1,4-5", 20, None),  # several ranges: ignored, as AWS does
        ("items=0-3", 20, None),  # another unit: ignored
        ("bytes=9-5", 20, None),  # last before first: invalid, ignored
        ("bytes=-", 20, None),
        ("bytes=-5", 0, None),  # a suffix of an empty object: the (empty) whole
        ("bytes=20-", 20, "416"),
        ("bytes=0-0", 0, "416"),
        ("bytes=-0", 20, "416"),
        # Positions longer than Python converts (4,300 digits), and leading zeros: as RGW.
        ("bytes=0-" + "9" * 5000, 20, (0, 19)),
        ("bytes=-" + "9" * 5000, 20, (0, 19)),
        ("bytes=" + "9" * 5000 + "-", 20, "416"),
        ("bytes=" + "9" * 5000 + "-" + "9" * 5001, 20, "416"),
        ("bytes=" + "0" * 5000 + "5-" + "0" * 5000 + "6", 20, (5, 6)),
        ("bytes=9223372036854775808-", 20, "416"),  # past a 64-bit position
        ("bytes=٣-٤", 20, None),  # digits, but not ASCII ones: malformed, ignored
    ],
)
def test_byte_range(header: str | None, size: int, expected: Any) -> None:
    if expected == "416":
        with pytest.raises(fake_headers.RangeNotSatisfiable):
            fake_headers.byte_range(header, size)
    else:
        assert fake_headers.byte_range(header, size) == expected


@pytest.mark.django_db  # closing a response sends request_finished, which closes connections
def test_ranged_get_streams_and_closes_the_file(fake_urls: Client, served: FakeS3Storage) -> None:
    served.save("g/big.bin", ContentFile(bytes(range(256)) * 4096))  # 1 MiB: several chunks
    response = fake_urls.get(served.url("g/big.bin"), HTTP_RANGE="bytes=1000-600999")
    assert response.status_code == 206 and response.streaming
    assert response.getvalue() == (bytes(range(256)) * 4096)[1000:601000]
    assert response["Content-Range"] == f"bytes 1000-600999/{256 * 4096}"
    # A response closed unread (a client that hung up) closes its file too.
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc/self/fd to count open files")
    before = len(list(fd_dir.iterdir()))
    unread = [fake_urls.get(served.url("g/big.bin"), HTTP_RANGE="bytes=0-9") for _ in range(5)]
    assert len(list(fd_dir.iterdir())) >= before + 5  # each holds its file open...
    for r in unread:
        r.close()
    assert len(list(fd_dir.iterdir())) == before  # ...until closed


def test_object_parameters_as_served_headers(fake_urls: Client, served: FakeS3Storage) -> None:
    params = {
        "Expires": "2030-01-02T03:04:05Z",  # boto3 also takes a date string
        "ContentEncoding": "identity",
        "ACL": "public-read",  # no header on a GET: ignored
        "Metadata": {"A-B": "c"},
    }
    FakeS3Storage(object_parameters=params).save("h/p.txt", ContentFile(b"p"))
    response = fake_urls.get(served.url("h/p.txt"))
    assert response["Expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert response["Content-Encoding"] == "identity"
    assert response["x-amz-meta-a-b"] == "c"
    assert response["Content-Type"] == "text/plain"
    assert "x-amz-acl" not in response


@pytest.mark.django_db  # closing a response sends request_finished, which closes connections
def test_objects_are_served_sandboxed(fake_urls: Client, served: FakeS3Storage) -> None:
    """The fake serves objects from the site's own origin, where S3 serves them from its
    own: an uploaded page must not run script as the site (stored XSS on a dev site)."""
    # a field that lists text/html exactly (a field accepting any type stores it opaque)
    post = served.presigned_post("x.html", content_type="text/html", accept=["text/html"])
    page = b"<script>document.title = document.cookie</script>"
    payload = {**post["fields"], "file": ContentFile(page, name="x.html")}
    assert fake_urls.post(post["url"], payload).status_code == 204
    served.save("pic.png", ContentFile(b"\x89PNG"))
    page_response = fake_urls.get(served.url("x.html"))
    assert page_response["Content-Type"] == "text/html"  # as S3 sends it, but sandboxed
    assert page_response.getvalue() == page
    responses = [
        page_response,
        fake_urls.head(served.url("x.html", http_method="HEAD")),
        fake_urls.get(served.url("x.html"), HTTP_RANGE="bytes=0-7"),
        fake_urls.get(served.url("pic.png", parameters={"ResponseContentType": "text/html"})),
        fake_urls.get(served.url("pic.png")),
    ]
    for response in responses:
        assert response.status_code in (200, 206)
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_upload_endpoint_is_csrf_exempt(served: FakeS3Storage) -> None:
    client = Client(enforce_csrf_checks=True)
    post = served.presigned_post("csrf.txt")
    payload = {**post["fields"], "file": ContentFile(b"c", name="c.txt")}
    assert client.post(post["url"], payload).status_code == 204
    assert served.open("csrf.txt").read() == b"c"


# -- the multipart reader ------------------------------------------------------------------


def body(*parts: tuple[str, bytes], boundary: bytes = b"BOUND") -> bytes:
    out = b"preamble to ignore\r\n"
    for name, value in parts:
        out += b"--" + boundary + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    return out + b"--" + boundary + b"--\r\nepilogue"


@pytest.mark.parametrize("read_size", [1, 2, 7, 64, 10_000])
def test_multipart_reader_parts_and_values_across_read_sizes(read_size: int) -> None:
    """A delimiter split anywhere between two reads is still found; data near-misses
    (``\\r\\n--BOUN``) are kept."""
    tricky = b"a\r\n--BOUN\r\n--BOUNDAR\rx--BOUNDARY\n--BOUNDARY\r\n-" * 3
    stream = io.BytesIO(
        body(("key", "k€y".encode()), ("file", tricky), ("after", b"x"), boundary=b"BOUNDARY")
    )
    reader = MultipartReader(lambda n: stream.read(min(n, read_size)), b"BOUNDARY")
    first = reader.next_part()
    assert first is not None and first.name == "key"
    assert reader.read_value(100) == "k€y".encode()
    second = reader.next_part()
    assert second is not None and second.name == "file"
    assert b"".join(reader.chunks()) == tricky
    third = reader.next_part()
    assert third is not None and reader.read_value(1) == b"x"
    assert reader.next_part() is None and reader.next_part() is None


@hsettings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.binary(max_size=300), min_size=1, max_size=5),
    sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
)
def test_multipart_reader_round_trips_any_bytes(values: list[bytes], sizes: list[int]) -> None:
    """Whatever the bytes (bar the boundary itself, which a client chooses to avoid) and
    however the body is cut into reads, every part comes back intact."""
    boundary = b"----b0undary-7f3a"
    assume(all(boundary not in v for v in values))
    raw = body(*((f"f{i}", v) for i, v in enumerate(values)), boundary=boundary)
    stream = io.BytesIO(raw)
    cuts = iter(sizes * (len(raw) // len(sizes) + 2))
    reader = MultipartReader(lambda n: stream.read(min(n, next(cuts))), boundary)
    got = []
    while (part := reader.next_part()) is not None:
        got.append((part.name, b"".join(reader.chunks())))
    assert got == [(f"f{i}", v) for i, v in enumerate(values)]


def test_multipart_reader_skips_unread_parts_and_limits_values() -> None:
    stream = io.BytesIO(body(("a", b"0123456789"), ("b", b"z"), boundary=b"B"))
    reader = MultipartReader(stream.read, b"B")
    assert reader.next_part() is not None
    assert reader.read_value(5) is None  # over the limit: None, but consumed
    part = reader.next_part()
    assert part is not None and part.name == "b"


@pytest.mark.parametrize(
    "raw",
    [
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end',
        b"--B\r\nX-No-Disposition: 1\r\n\r\nv\r\n--B--",
        b'--Bgarbage\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--B--',
        b"--B\r\n" + b"H" * 20_000,
        b"",
    ],
)
def test_multipart_reader_malformed(raw: bytes) -> None:
    reader = MultipartReader(io.BytesIO(raw).read, b"B")
    with pytest.raises(MalformedMultipart):
        while reader.next_part() is not None:
            b"".join(reader.chunks())


def test_multipart_headers_over_the_limit_are_malformed_even_read_at_once() -> None:
    """Regression (issue 12): a part's headers found whole in one read were parsed at any
    length, and Django's parameter parser is quadratic in ``;`` (seconds for 200 KB)."""
    from buckets.test.multipart import MAX_HEADER_BYTES

    raw = b'--B\r\nContent-Disposition: form-data; name="a"' + b";" * MAX_HEADER_BYTES
    reader = MultipartReader(io.BytesIO(raw + b"\r\n\r\nv\r\n--B--").read, b"B")
    with pytest.raises(MalformedMultipart, match="headers are too long"):
        reader.next_part()


def test_boundary_of() -> None:
    assert boundary_of("multipart/form-data; boundary=abc") == b"abc"
    assert boundary_of('Multipart/Form-Data; boundary="a b"') == b"a b"
    assert boundary_of("application/x-www-form-urlencoded") is None
    assert boundary_of("multipart/form-data") is None
    assert boundary_of("multipart/form-data; boundary=" + "x" * 71) is None
    # RFC 2231's form is another parameter (RGW: "Missing multipart boundary"), never a
    # decoding error.
    assert boundary_of("multipart/form-data; boundary*=utf-8''abc") is None
    assert boundary_of("multipart/form-data; boundary*=bogus''abc") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('form-data; name="key"', ("form-data", {"name": "key"})),
        (
            "Form-Data;NAME=key ; Filename = f.txt",
            ("form-data", {"name": "key", "filename": "f.txt"}),
        ),
        ('form-data; name="a;b\\"c\\\\d"', ("form-data", {"name": 'a;b"c\\d'})),
        ('form-data; filename="C:\\dir\\f.txt"', ("form-data", {"filename": "C:\\dir\\f.txt"})),
        ('form-data; name="open', ("form-data", {"name": "open"})),
        ('form-data; "junk"; flag; =x; name="k"tail; e=', ("form-data", {"name": "k", "e": ""})),
        ('form-data; name="a"; name="b"', ("form-data", {"name": "b"})),
        # RFC 2231 (which RFC 7578 forbids in form-data): a parameter of its own, undecoded.
        ("form-data; name*=bogus''%6Bey", ("form-data", {"name*": "bogus''%6Bey"})),
        ("form-data; name*=utf-8''key", ("form-data", {"name*": "utf-8''key"})),
        ("", ("", {})),
    ],
)
def test_header_parameters(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert header_parameters(value) == expected


@pytest.mark.parametrize(
    "disposition",
    [
        "form-data; name*=bogus''%6Bey",
        "form-data; name*=utf-8''%6Bey",
        "form-data; name*=utf-8'en'%ff%fe",
        "form-data; name*0*=bogus''k; name*1=ey",
    ],
)
def test_rfc_2231_part_names_are_no_names(served: FakeS3Storage, disposition: str) -> None:
    """Regression: Django's header parser decodes RFC 2231 parameters and raises on an
    unknown charset, a 500 from the fake. S3 servers do not decode them (RFC 7578 forbids
    them in form-data): the part has no name, and the form is malformed."""
    fields = served.presigned_post("rfc2231.txt")["fields"]
    raw = b""
    for name, value in fields.items():
        header = disposition if name == "key" else f'form-data; name="{name}"'
        raw += f"--B\r\nContent-Disposition: {header}\r\n\r\n{value}\r\n".encode()
    raw += b'--B\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nx\r\n--B--\r\n'
    client = Client(raise_request_exception=True)
    response = client.post("/media/s3/uploads", raw, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 400
    assert b"<Code>MalformedPOSTRequest</Code>" in response.content
    assert not served.exists("rfc2231.txt")


# -- the system check ----------------------------------------------------------------------


def ids(messages: list[checks.CheckMessage]) -> set[str]:
    return {m.id for m in messages if m.id}


def test_check_warns_when_mounted_or_configured_without_debug(fake_urls: Client, settings: Any):
    settings.DEBUG = False
    found = ids(checks.run_checks(tags=[checks.Tags.security]))  # registered, and it runs
    assert {fake_checks.W_MOUNTED, fake_checks.W_STORAGE} <= found


def test_check_silent_with_debug(fake_urls: Client, settings: Any) -> None:
    settings.DEBUG = True
    assert fake_checks.check_fake_s3_not_in_production() == []


def test_check_silent_when_not_used(settings: Any) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.urls"
    assert settings.STORAGES["default"]["BACKEND"] == "buckets.storage.S3Storage"
    assert fake_checks.check_fake_s3_not_in_production() == []


def test_check_mounted_only(settings: Any, media: Path) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.conformance.urls"
    assert ids(fake_checks.check_fake_s3_not_in_production()) == {fake_checks.W_MOUNTED}


def _urlconf(*patterns: Any) -> types.ModuleType:
    module = types.ModuleType("fake_mounted_urls")
    module.urlpatterns = list(patterns)  # type: ignore[attr-defined]
    return module


def test_check_finds_the_fake_mounted_under_any_prefix(settings: Any, media: Path) -> None:
    """Regression: the fake's views are found wherever the URLconf routes to them, not
    only at ``MEDIA_URL`` + ``s3/uploads/``."""
    from django.urls import include, path

    from buckets.test import views

    settings.DEBUG = False
    mounts = {
        "dev/": _urlconf(path("dev/", include("buckets.test.urls"))),
        "raw/": _urlconf(path("raw/", views.upload), path("raw/<path:key>", views.serve)),
    }
    for prefix, urlconf in mounts.items():
        settings.ROOT_URLCONF = urlconf
        (message,) = fake_checks.check_fake_s3_not_in_production()
        assert message.id == fake_checks.W_MOUNTED and prefix in message.msg
    settings.ROOT_URLCONF = _urlconf(path("site/", include("buckets.urls")))
    assert fake_checks.check_fake_s3_not_in_production() == []


def test_check_finds_a_fields_own_fake_storage(settings: Any, media: Path) -> None:
    """Regression: W002 covers a model field's own ``FakeS3Storage`` (given as an instance,
    a subclass or a callable), not only ``STORAGES``."""
    from django.db import models
    from django.test.utils import isolate_apps

    from buckets.fields import S3FileField

    class SubFake(FakeS3Storage):
        pass

    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.urls"
    with isolate_apps("tests.testapp") as registry:

        class Uploads(models.Model):
            direct = S3FileField(storage=FakeS3Storage(root="a"))
            called = S3FileField(storage=lambda: SubFake(root="b"))
            plain = models.FileField(storage=FakeS3Storage(root="c"))
            real = S3FileField()
            local = models.FileField()

            class Meta:
                app_label = "testapp"

        config = registry.get_app_config("testapp")
        messages = fake_checks.check_fake_s3_not_in_production(app_configs=[config])
    assert {m.id for m in messages} == {fake_checks.W_STORAGE}
    assert sorted(m.msg.split()[2] for m in messages) == [
        "testapp.Uploads.called",
        "testapp.Uploads.direct",
        "testapp.Uploads.plain",
    ]


def test_checks_of_a_production_site_import_nothing_of_the_fake() -> None:
    """Regression: with only ``S3Storage`` configured, setting Django up and running every
    check (the fake-in-production one included) loads no ``buckets.test`` module."""
    code = (
        "import sys, django\n"
        "from django.conf import settings\n"
        "from tests import settings as base\n"
        "conf = {k: getattr(base, k) for k in dir(base) if k.isupper()}\n"
        "conf.update(DEBUG=False)\n"
        "settings.configure(**conf)\n"
        "django.setup()\n"
        "from django.core import checks\n"
        "ids = sorted(m.id for m in checks.run_checks(include_deployment_checks=True))\n"
        "loaded = sorted(m for m in sys.modules if m == 'buckets.test' "
        "or m.startswith('buckets.test.'))\n"
        "print('ids', ids)\n"
        "print('loaded', loaded)\n"
        "print('registered', [f.__module__ for f in checks.registry.registry.registered_checks "
        "if f.__name__ == 'check_fake_s3_not_in_production'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "loaded []" in lines, result.stdout
    assert "registered ['buckets.checks.fake']" in lines, result.stdout  # and it ran
    assert "buckets.test.W" not in result.stdout


def test_endpoints_serve_the_configured_fake_storage(fake_urls: Client, settings: Any) -> None:
    from buckets.test.views import fake_storage

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "buckets.storage.S3Storage"},
        "uploads": {"BACKEND": "buckets.test.storage.FakeS3Storage", "OPTIONS": {"root": "up"}},
    }
    assert fake_storage().root.endswith(os.sep + "up")
    settings.BUCKETS_FAKE_STORAGE = "default"
    with pytest.raises(ImproperlyConfigured, match="BUCKETS_FAKE_STORAGE"):
        fake_storage()


def test_manage_py_check_in_a_fresh_process_reports_the_fake(tmp_path: Path) -> None:
    """``manage.py check`` loads neither the storages nor the fake's modules before the
    checks run, so only the app config can register the check in time."""
    code = (
        "import sys, django\n"
        "from django.conf import settings\n"
        "from tests import settings as base\n"
        "conf = {k: getattr(base, k) for k in dir(base) if k.isupper()}\n"
        "conf.update(DEBUG=False, MEDIA_ROOT=sys.argv[1], STORAGES={**base.STORAGES, "
        "'default': {'BACKEND': 'buckets.test.storage.FakeS3Storage'}})\n"
        "settings.configure(**conf)\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert fake_checks.W_STORAGE in result.stdout + result.stderr


# -- reading objects: signatures, overrides, stored POST headers ---------------------------
# (kept together: the fake's GET checks pre-signed URLs as S3 does for a private bucket)


def _tampered(url: str) -> str:
    return url[:-1] + ("0" if url[-1] != "0" else "1")


def test_private_fake_reads_only_through_signed_urls(
    fake_urls: Client, served: FakeS3Storage
) -> None:
    served.save("s/a.txt", ContentFile(b"abc"))
    url = served.url("s/a.txt")
    assert "X-Amz-Signature=" in url  # querystring_auth is on by default
    assert fake_urls.get(url).getvalue() == b"abc"
    for refused in (url.split("?")[0], _tampered(url), url + "&response-content-type=x/y"):
        response = fake_urls.get(refused)
        assert response.status_code == 403 and b"<Code>" in response.content
        assert b"abc" not in response.content
    assert fake_urls.get(url, HTTP_HOST="elsewhere.example").status_code == 200  # host-free


def test_public_fake_refuses_unsigned_overrides(fake_urls: Client, settings: Any) -> None:
    # A new alias: Django 4.2 keeps serving a cached "default" after STORAGES changes.
    settings.STORAGES = {
        **settings.STORAGES,
        "public": {
            "BACKEND": "buckets.test.storage.FakeS3Storage",
            "OPTIONS": {"querystring_auth": False},
        },
    }
    settings.BUCKETS_FAKE_STORAGE = "public"
    public = FakeS3Storage(querystring_auth=False)
    public.save("p/pic.png", ContentFile(b"<script>alert(1)</script>"))
    url = public.url("p/pic.png")
    assert url == "/media/s3/uploads/p/pic.png"
    assert fake_urls.get(url).status_code == 200
    for param in ("response-content-type=text/html", "response-content-disposition=inline"):
        response = fake_urls.get(f"{url}?{param}")
        assert response.status_code == 400 and b"<Code>InvalidRequest</Code>" in response.content
        assert fake_urls.head(f"{url}?{param}").status_code == 400


@pytest.mark.django_db  # closing a response sends request_finished, which closes connections
def test_ranged_head_has_the_range_length(fake_urls: Client, served: FakeS3Storage) -> None:
    """The view's answer, before any server touches it (Django 4.2's development server
    drops Content-Length from every HEAD response: see the conformance suite)."""
    served.save("r/d.txt", ContentFile(b"0123456789"))
    head = fake_urls.head(served.url("r/d.txt", http_method="HEAD"), HTTP_RANGE="bytes=4-7")
    assert head.status_code == 206 and head.content == b""
    assert head["Content-Length"] == "4" and head["Content-Range"] == "bytes 4-7/10"


def test_posted_content_disposition_is_stored_and_served(
    fake_urls: Client, served: FakeS3Storage
) -> None:
    post = served.presigned_post("d/x.html", content_type="text/html", accept=["text/html"])
    assert post["fields"]["Content-Disposition"] == "attachment"
    page = b"<script>document.title = document.cookie</script>"
    payload = {**post["fields"], "file": ContentFile(page, name="x.html")}
    assert fake_urls.post(post["url"], payload).status_code == 204
    response = fake_urls.get(served.url("d/x.html"))
    assert response["Content-Disposition"] == "attachment"
    assert response["Content-Type"] == "text/html"
    # A later PutObject-style save of the key carries no disposition: nothing stale.
    served.delete("d/x.html")
    served.save("d/x.html", ContentFile(b"plain"))
    assert "Content-Disposition" not in fake_urls.get(served.url("d/x.html"))


# -- multipart: assembling the object ------------------------------------------------------


@pytest.mark.parametrize("kernel_copy", ["copy_file_range", "refused", "absent"])
def test_completing_assembles_the_parts_in_order(
    storage: FakeS3Storage, monkeypatch: pytest.MonkeyPatch, kernel_copy: str
) -> None:
    """Parts are concatenated inside the kernel (``os.copy_file_range``) or, where the file
    system refuses it or the OS has none (stubbed: no file system here refuses), in Python;
    either way the object is the parts' bytes in order, with the multipart ETag."""
    from buckets.storage.multipart import multipart_etag

    if kernel_copy == "refused":

        def refuse(*_args: object) -> int:
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    elif kernel_copy == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    upload_id = storage.create_multipart_upload("film.bin", content_type="video/mp4")
    first, last = os.urandom(5 * 1024 * 1024), b"the end"
    etags = [
        storage.multipart_store.put_part("film.bin", upload_id, n, [data[:100], data[100:]])
        for n, data in ((1, first), (2, last))
    ]
    etag = storage.complete_multipart_upload("film.bin", upload_id, [(1, etags[0]), (2, etags[1])])

    with storage.open("film.bin") as fh:
        assert fh.read() == first + last
    assert etag == multipart_etag(e.strip('"') for e in etags)
    assert read_meta(os.path.join(storage.root, "film.bin")) == ("video/mp4", etag)
    assert storage.list_multipart_uploads() == []
    assert files_under(Path(storage.root)) == ["film.bin"]
