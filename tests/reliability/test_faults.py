"""Faults between Django and the bucket, through ``FaultProxy`` in front of the real RGW.

What a user needs from a storage when the network or the server misbehaves: a save either
completes with every byte right or raises ``OSError`` and leaves no truncated object (at
most the empty placeholder a large save claims its name with, when even its delete cannot
reach the server); a dead server is reported as a clear ``OSError`` within the configured
timeouts, not a hang; what needs no network (signing) keeps working; a model row is never
changed by a save that failed; and once the server is back the very same storage works,
with no restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.base import ContentFile, File
from django.test import Client

from buckets.fields.files import S3File
from buckets.storage import S3Storage
from buckets.storage.s3io import NoSuchBucketError
from s3servers import list_keys
from tests.reliability.conftest import FAST, time_bound
from tests.reliability.proxy import FaultProxy
from tests.testapp.models import Document

MiB = 1024**2
BIG = 50 * MiB
BOUND = time_bound(**FAST)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    yield path
    path.unlink()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def stored(s3: Any, bucket: str, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def save_big(storage: S3Storage, path: Path, source: str) -> str:
    """Save the big file from disk (``upload_file``) or from memory (``upload_fileobj``)."""
    if source == "disk":
        with path.open("rb") as fh:
            return storage.save("big.bin", File(fh))
    return storage.save("big.bin", ContentFile(path.read_bytes()))


def save_file(storage: S3Storage, name: str, path: Path) -> str:
    """``_save`` of a file on disk: past ``get_available_name``'s HEAD, to the upload itself."""
    with path.open("rb") as fh:
        return storage._save(name, File(fh))


def timed_oserror(call: Callable[[], Any], bound: float = BOUND) -> OSError:
    """Run ``call``: it must raise ``OSError`` (not hang, not another type) within ``bound``."""
    started = time.monotonic()
    with pytest.raises(OSError) as info:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < bound, f"{call} took {elapsed:.1f} s (bound {bound:.1f} s)"
    return info.value


# -- a connection cut in the middle of a 50 MiB save ------------------------------------


@pytest.mark.parametrize(
    ("source", "reset"), [("disk", False), ("memory", True)], ids=["disk-fin", "memory-rst"]
)
def test_cut_mid_save_is_retried_to_success(
    rgw: Any, bucket: str, s3: Any, proxy: FaultProxy, big_file: Path, source: str, reset: bool
) -> None:
    storage = S3Storage(
        **rgw.storage_options(
            bucket, endpoint_url=proxy.url, connect_timeout=2, read_timeout=20, max_attempts=3
        )
    )
    proxy.cut_after(20 * MiB, reset=reset, once=True)
    name = save_big(storage, big_file, source)
    assert proxy.stats.cuts == 1  # the fault did happen, mid-file
    assert list_keys(s3, bucket) == [name]
    assert md5(stored(s3, bucket, name)) == md5(big_file.read_bytes())
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("source", ["disk", "memory"])
def test_cut_mid_save_with_the_server_gone_raises_and_leaves_no_object(
    proxied: S3Storage, bucket: str, s3: Any, proxy: FaultProxy, big_file: Path, source: str
) -> None:
    proxy.cut_after(20 * MiB, once=False)  # the cut, then every connection refused
    # Parts go up in parallel and each one, then the clean-up abort, has its own retries.
    error = timed_oserror(lambda: save_big(proxied, big_file, source), bound=3 * BOUND)
    assert "big.bin" in str(error) and proxy.stats.cuts >= 1
    proxy.forward()
    # No truncated object. At most the empty placeholder that claimed the name before the
    # upload (a large save claims its name first, so concurrent saves can't overwrite it);
    # its delete could not reach the server either, and no row refers to it.
    for key in list_keys(s3, bucket):
        assert key == "big.bin" and s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 0
    # The abort could not reach the server either: any upload left is incomplete, and is
    # what S3's lifecycle rule for incomplete multipart uploads removes.
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        assert upload["Key"] == "big.bin"
    # Back up: the same storage object saves the file, every byte right.
    name = save_big(proxied, big_file, source)
    assert md5(stored(s3, bucket, name)) == md5(big_file.read_bytes())


# -- the server unreachable, then back ---------------------------------------------------

BREAKS: dict[str, tuple[Callable[[FaultProxy], None], Callable[[FaultProxy], None]]] = {
    "refused": (FaultProxy.stop_listening, FaultProxy.start),  # stopped: nothing listens
    "reset": (FaultProxy.down, FaultProxy.forward),  # crashed: connections reset
    "hang": (FaultProxy.hang, FaultProxy.forward),  # stuck: accepts, never answers
    "503": (FaultProxy.error, FaultProxy.forward),  # overloaded: SlowDown to everything
}


@pytest.mark.parametrize("mode", list(BREAKS))
def test_unreachable_server_is_a_clear_oserror_in_time_then_recovers(
    proxied: S3Storage, bucket: str, s3: Any, proxy: FaultProxy, tmp_path: Path, mode: str
) -> None:
    name = proxied.save("here.txt", ContentFile(b"before"))
    with proxied.open(name) as f:  # pooled keep-alive connections now exist: they go stale
        assert f.read() == b"before"
    big = tmp_path / "nine.bin"
    big.write_bytes(b"9" * (9 * MiB))  # over the multipart threshold: boto3's upload_file
    breaks, repairs = BREAKS[mode]
    breaks(proxy)

    calls: dict[str, Callable[[], Any]] = {
        "exists": lambda: proxied.exists(name),
        "size": lambda: proxied.size(name),
        "open": lambda: proxied.open(name),
        "save": lambda: proxied.save("new.txt", ContentFile(b"new")),
        "put": lambda: proxied._save("put.txt", ContentFile(b"put")),  # past the HEAD: the PUT
        "save-big": lambda: save_file(proxied, "nine.bin", big),  # boto3's upload_file
        "delete": lambda: proxied.delete(name),
        "listdir": lambda: proxied.listdir(""),
    }
    if mode == "hang":  # every call waits out its timeouts: the main three are enough
        calls = {k: v for k, v in calls.items() if k in ("exists", "open", "save-big")}
    for what, call in calls.items():
        error = timed_oserror(call)
        assert type(error) is OSError, (what, repr(error))  # not "missing", not "denied"
        assert "S3" in str(error), (what, str(error))

    repairs(proxy)
    # No restart, same storage object, same thread's client: everything works again.
    assert proxied.exists(name) and proxied.size(name) == 6
    with proxied.open(name) as f:
        assert f.read() == b"before"
    assert stored(s3, bucket, proxied.save("new.txt", ContentFile(b"new"))) == b"new"
    with big.open("rb") as fh:
        assert proxied.save("nine.bin", File(fh)) == "nine.bin"
    assert s3.head_object(Bucket=bucket, Key="nine.bin")["ContentLength"] == 9 * MiB
    assert sorted(list_keys(s3, bucket)) == ["here.txt", "new.txt", "nine.bin"]


def test_save_of_a_file_on_disk_to_a_missing_bucket_is_an_oserror(rgw: Any, tmp_path: Path) -> None:
    """Regression: boto3's ``upload_file`` wraps a ``ClientError`` in its own
    ``S3UploadFailedError`` (not a ``BotoCoreError``), which escaped ``save()`` untranslated."""
    storage = S3Storage(**rgw.storage_options("no-such-bucket-buckets-test", max_attempts=0))
    path = tmp_path / "nine.bin"
    path.write_bytes(b"9" * (9 * MiB))
    with path.open("rb") as fh, pytest.raises(NoSuchBucketError, match="bucket .*nine.bin"):
        storage.save("nine.bin", File(fh))


def test_slow_server_within_the_read_timeout_is_fine(
    proxied: S3Storage, bucket: str, s3: Any, proxy: FaultProxy
) -> None:
    proxy.delay(0.3)  # each answer chunk held 0.3 s: slow, but under read_timeout (1 s)
    name = proxied.save("slow.txt", ContentFile(b"slow"))
    with proxied.open(name) as f:
        assert f.read() == b"slow"


def test_read_cut_mid_stream_raises_never_returns_short_data(
    proxied: S3Storage, bucket: str, s3: Any, proxy: FaultProxy
) -> None:
    body = os.urandom(32 * MiB)
    s3.put_object(Bucket=bucket, Key="long.bin", Body=body)
    f = proxied.open("long.bin")
    assert f.read(MiB) == body[:MiB]
    proxy.down()
    with pytest.raises(OSError, match="long.bin"):
        f.read()  # never a silent short read
    f.close()
    proxy.forward()
    with proxied.open("long.bin") as again:
        assert md5(again.read()) == md5(body)


# -- what needs no network, and the model ----------------------------------------------


def test_signed_url_view_answers_with_the_server_gone(
    proxied_default: S3Storage, proxy: FaultProxy, settings: Any
) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = None
    proxy.stop_listening()
    response = Client().post(
        "/s3/signed-url/", json.dumps({"key": "file.txt"}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["url"] == f"{proxy.url}/{proxied_default.bucket_name}"
    assert answer["fields"]["key"].endswith("/file.txt")
    assert proxied_default.url("a.txt").startswith(proxy.url)  # object URLs too
    assert proxy.stats.connections == 0  # not a single connection was tried


@pytest.mark.django_db(transaction=True)
def test_model_save_needing_a_move_fails_clearly_and_leaves_the_row(
    proxied_default: S3Storage, bucket: str, s3: Any, proxy: FaultProxy
) -> None:
    doc = Document.objects.create(name="report", file=ContentFile(b"old bytes", name="old.txt"))
    old = doc.file.name
    signed = proxied_default.presigned_post("uploads/0123456789abcdef/new.txt")
    staged = signed["fields"]["key"]
    response = requests.post(
        signed["url"], data=signed["fields"], files={"file": ("new.txt", b"new bytes")}, timeout=10
    )
    assert response.status_code == 204, response.text

    proxy.stop_listening()
    doc.name = "renamed"
    doc.file = f"{signed['url']}/{staged}"  # the object's URL, as an API client sends it
    error = timed_oserror(doc.save)
    assert "S3" in str(error)
    row = Document.objects.get(pk=doc.pk)
    assert (row.name, row.file.name) == ("report", old)
    proxy.start()
    assert sorted(list_keys(s3, bucket)) == sorted([old, staged])  # nothing moved or deleted
    assert stored(s3, bucket, old) == b"old bytes"

    doc.save()  # the server is back: the same instance, the same process
    row = Document.objects.get(pk=doc.pk)
    assert isinstance(row.file, S3File) and row.name == "renamed"
    assert row.file.name == "new.txt" and row.file.read() == b"new bytes"
    assert list_keys(s3, bucket) == ["new.txt"]  # staging copy and replaced file deleted
