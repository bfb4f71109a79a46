"""Many users at once against the real RGW: nothing overwritten, nothing lost. (Small
saves of one name at once, on every server: ``conformance/test_concurrency.py``.)

Every thread is held at a ``threading.Barrier`` until all are ready (clients made,
bodies built), so the requests really overlap; then every object is read back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile, File
from django.db import connections, transaction
from django.test import RequestFactory

from buckets.storage import S3Storage
from buckets.uploads.views import signed_url
from s3servers import list_keys
from tests.testapp.models import Document

T = TypeVar("T")


def body_of(i: int) -> bytes:
    """A distinct body per thread, of a distinct length (a swapped object cannot pass)."""
    return f"thread {i:02d} ".encode() * (i + 1)


def stored(s3: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def all_at_once(n: int, prepare: Callable[[int], Any], work: Callable[[int, Any], T]) -> list[T]:
    """``work(i, prepare(i))`` in ``n`` threads, started together once all are prepared."""
    barrier = threading.Barrier(n, timeout=120)

    def run(i: int) -> T:
        try:
            ready = prepare(i)
        except BaseException:
            barrier.abort()  # the others must not wait for a thread that died
            raise
        barrier.wait()
        return work(i, ready)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


MiB = 1024**2


def large_body_of(i: int) -> bytes:
    """1 to 6 MiB, distinct per thread in bytes and length; from 5 MiB on, two parts."""
    return (f"large {i:02d} ".encode() * MiB)[: MiB + i * 700 * 1024 + i]


@pytest.fixture
def files() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def test_eight_threads_save_one_large_name_each_keeping_its_own_object(
    rgw: Any, s3: Any, bucket: str, tmp_path: Path, files: ExitStack
) -> None:
    """Over the multipart threshold no conditional write helps (Ceph RGW ignores
    ``If-None-Match`` on ``CompleteMultipartUpload``): the name must be claimed first.
    ``_save`` is past ``get_available_name``'s HEAD, so every thread asks for ``same.bin``;
    half upload from disk (``upload_file``), half from memory (``upload_fileobj``)."""
    n = 8
    config = TransferConfig(multipart_threshold=MiB, multipart_chunksize=5 * MiB)
    storage = S3Storage(**rgw.storage_options(bucket, transfer_config=config))

    def prepare(i: int) -> File[bytes]:
        storage.client  # noqa: B018 -- this thread's client, made before the start line
        if i % 2:
            return ContentFile(large_body_of(i))
        path = tmp_path / f"{i}.bin"
        path.write_bytes(large_body_of(i))
        return File(files.enter_context(path.open("rb")))

    names = all_at_once(n, prepare, lambda i, content: storage._save("same.bin", content))
    assert len(set(names)) == n, names
    assert "same.bin" in names and all(name.endswith(".bin") for name in names)
    assert sorted(list_keys(s3, bucket)) == sorted(names)  # no placeholder left over
    for i, name in enumerate(names):
        assert stored(s3, bucket, name) == large_body_of(i), name
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_fifty_threads_upload_file_txt_through_the_signed_post_flow(
    s3_default: S3Storage, s3: Any, bucket: str, settings: Any
) -> None:
    """The API flow: ask the view for a policy, POST the file to the bucket with it."""
    n = 50
    settings.BUCKETS_UPLOAD_PERMISSION = None
    factory = RequestFactory()

    def prepare(i: int) -> requests.Session:
        return requests.Session()

    def work(i: int, session: requests.Session) -> str:
        request = factory.post(
            "/s3/signed-url/", json.dumps({"key": "file.txt"}), content_type="application/json"
        )
        request.user = AnonymousUser()
        response = signed_url(request)
        assert response.status_code == 200, response.content
        signed = json.loads(response.content)
        upload = session.post(
            signed["url"],
            data=signed["fields"],
            files={"file": ("file.txt", body_of(i), "text/plain")},
            timeout=60,
        )
        assert upload.status_code == 204, upload.text
        session.close()
        key: str = signed["fields"]["key"]
        return key

    keys = all_at_once(n, prepare, work)
    assert len(set(keys)) == n
    assert all(k.startswith("uploads/") and k.endswith("/file.txt") for k in keys)
    assert sorted(list_keys(s3, bucket)) == sorted(keys)
    for i, key in enumerate(keys):
        assert stored(s3, bucket, key) == body_of(i), key


# -- model rows ----------------------------------------------------------------------------

ROWS = 5
THREADS = 20
ROUNDS = 3


def staged_upload(storage: S3Storage, session: requests.Session, tag: str, body: bytes) -> str:
    """A browser's upload of ``file.txt`` to a staging key; returns the key."""
    signed = storage.presigned_post(f"uploads/{tag}/file.txt")
    posted = session.post(
        signed["url"], data=signed["fields"], files={"file": ("file.txt", body)}, timeout=60
    )
    assert posted.status_code == 204, posted.text
    key: str = signed["fields"]["key"]
    return key


def test_twenty_rows_created_from_file_txt_uploads_at_once_get_their_own_objects(
    s3_default: S3Storage, s3: Any, bucket: str, threaded_db: str
) -> None:
    """Regression: each save moved its upload with ``get_available_name`` then a copy, so
    two moves of ``file.txt`` at once both found ``file.txt`` free and the second copy
    overwrote the first: two rows on one object, one file lost."""

    def prepare(t: int) -> str:
        with requests.Session() as session:
            return staged_upload(s3_default, session, f"{t:016x}", body_of(t))

    def work(t: int, staged: str) -> tuple[int, str]:
        try:
            doc = Document.objects.using(threaded_db).create(name=f"doc {t}", file=staged)
            return t, doc.file.name
        finally:
            connections.close_all()

    saved = dict(all_at_once(THREADS, prepare, work))
    assert len(set(saved.values())) == THREADS
    for t, key in saved.items():
        assert stored(s3, bucket, key) == body_of(t), key
    assert sorted(list_keys(s3, bucket)) == sorted(saved.values())  # staging copies gone


def test_twenty_threads_replacing_each_others_files_lose_nothing(
    s3_default: S3Storage, s3: Any, bucket: str, threaded_db: str
) -> None:
    """20 threads, 5 rows, 3 rounds each, every round a read-modify-write of one row in a
    transaction (as concurrent code must, or it loses updates): a file saved by the
    storage beforehand (marked as the field's), a browser upload moved out of staging, a
    file uploaded by the field on save, or another row's object shared. Afterwards every
    row's object exists with the bytes its writer gave it, and every other object was
    deleted after commit."""
    db = threaded_db
    docs = Document.objects.using(db)
    pks = [
        docs.create(name=f"row {r}", file=ContentFile(f"seed {r}".encode(), name=f"seed{r}.txt")).pk
        for r in range(ROWS)
    ]
    expected: dict[str, bytes] = {f"seed{r}.txt": f"seed {r}".encode() for r in range(ROWS)}
    lock = threading.Lock()
    mark = Document._meta.get_field("file").written_mark  # type: ignore[attr-defined]

    def prepare(t: int) -> requests.Session:
        s3_default.client  # noqa: B018 -- made before the start line
        return requests.Session()

    def one_round(t: int, r: int, session: requests.Session) -> None:
        pk, other = pks[(t + r) % ROWS], pks[(t + r + 1) % ROWS]
        body = f"thread {t} round {r}".encode()
        kind = (t + r) % 4
        value: Any = None
        if kind == 0:  # saved through the storage on the field's behalf, assigned by name
            value = s3_default.save("file.txt", ContentFile(body), metadata=mark)
        elif kind == 1:  # a browser upload, moved under upload_to on save
            value = staged_upload(s3_default, session, f"{t:08x}{r:08x}", body)
        elif kind == 2:  # a new file, uploaded by the field on save
            value = ContentFile(body, name="file.txt")
        with transaction.atomic(using=db):
            doc = docs.get(pk=pk)
            doc.file = docs.get(pk=other).file.name if kind == 3 else value
            doc.save(using=db)
        if kind != 3:
            with lock:
                expected[doc.file.name] = body

    def work(t: int, session: requests.Session) -> None:
        try:
            for r in range(ROUNDS):
                one_round(t, r, session)
        finally:
            session.close()
            connections.close_all()

    all_at_once(THREADS, prepare, work)

    rows = {doc.pk: doc.file.name for doc in docs.all()}
    assert len(rows) == ROWS
    for pk, key in rows.items():
        assert stored(s3, bucket, key) == expected[key], (pk, key)
    assert sorted(list_keys(s3, bucket)) == sorted(set(rows.values()))  # no leak either


def test_replaced_object_kept_while_a_row_in_the_same_database_references_it(
    s3_default: S3Storage, s3: Any, bucket: str, threaded_db: str
) -> None:
    """Regression: the orphan check after commit asked the *default* database whether any
    row still referenced the replaced object, whatever database the row was saved to."""
    docs = Document.objects.using(threaded_db)
    first = docs.create(name="a", file=ContentFile(b"shared", name="shared.txt"))
    docs.create(name="b", file=first.file.name)  # a second row on the same object
    first.file = ContentFile(b"new", name="new.txt")
    first.save(using=threaded_db)
    assert stored(s3, bucket, "shared.txt") == b"shared"  # row "b" still points at it
    assert sorted(list_keys(s3, bucket)) == ["new.txt", "shared.txt"]


@pytest.mark.django_db(transaction=True)
def test_an_object_two_rows_drop_together_is_deleted_once(
    s3_default: S3Storage, s3: Any, bucket: str
) -> None:
    """Regression: each save looked for other references only after its commit, so two
    saves dropping the last two references to an object together both deleted it; a new
    upload that took the freed name between the two deletes (its conditional PUT found the
    name free) lost its object to the second one. The interleaving is forced here: the
    moment a delete finds the name already free, "another process" saves ``file.txt``."""
    a = Document.objects.create(name="a", file=ContentFile(b"shared", name="file.txt"))
    b = Document.objects.create(name="b", file="file.txt")
    deletes: list[str] = []
    newcomers: list[str] = []
    real_delete = s3_default.delete

    def delete(name: str) -> None:
        deletes.append(name)
        if name == "file.txt" and not s3_default.exists(name):
            newcomers.append(s3_default.save("file.txt", ContentFile(b"someone else's")))
        real_delete(name)

    s3_default.delete = delete  # type: ignore[method-assign]
    try:
        with transaction.atomic():
            a.file = ContentFile(b"new a", name="a.txt")
            a.save()
            b.file = ContentFile(b"new b", name="b.txt")
            b.save()
    finally:
        del s3_default.delete
    for name in newcomers:
        Document.objects.create(name="newcomer", file=name)  # its row, committed after
    assert deletes.count("file.txt") == 1
    for doc in Document.objects.all():
        assert doc.file.name in list_keys(s3, bucket), doc.file.name
    assert sorted(list_keys(s3, bucket)) == ["a.txt", "b.txt"]


def test_copy_to_available_name_never_overwrites_and_leaves_nothing_on_failure(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    storage.save("src.txt", ContentFile(b"source"))
    storage.save("dst.txt", ContentFile(b"taken"))
    name = storage.copy_to_available_name("src.txt", "dst.txt")
    assert name != "dst.txt" and name.startswith("dst_") and name.endswith(".txt")
    assert stored(s3, bucket, "dst.txt") == b"taken" and stored(s3, bucket, name) == b"source"
    with pytest.raises(FileNotFoundError):
        storage.copy_to_available_name("missing.txt", "new.txt")
    assert sorted(list_keys(s3, bucket)) == sorted(["src.txt", "dst.txt", name])  # no placeholder
