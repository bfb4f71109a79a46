"""The Storage API where the two storages share code or rules (``buckets.storage.base``):
the same calls to ``S3Storage`` on RGW and to the fake, the same results.

Text content, names cut to ``max_length`` (with ``file_overwrite``, and when a save or copy
loses the race for its name), pickling, keys the fake's disk cannot hold, ``url(None)``.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from tests.conformance.conftest import Target, expect

pytestmark = pytest.mark.rgw

MIB = 1024**2
#: A large save takes the other path on S3: a claimed name, then a multipart upload.
SMALL_THRESHOLD = TransferConfig(multipart_threshold=1024, multipart_chunksize=5 * MIB)


def read(storage: Any, name: str) -> bytes:
    with storage.open(name) as f:
        data: bytes = f.read()
    return data


# -- text content --------------------------------------------------------------------------


def test_text_content_is_saved_as_utf8(target: Target) -> None:
    storage = target.storage
    assert storage.save("t/a.txt", ContentFile("héllo wörld")) == "t/a.txt"
    assert read(storage, "t/a.txt") == "héllo wörld".encode()
    assert target.get("t/a.txt") == ("héllo wörld".encode(), "text/plain")
    with storage.open("t/w.txt", "w") as f:
        assert f.write("written é") == 9
        f.write(b" and bytes")
    assert read(storage, "t/w.txt") == "written é and bytes".encode()


def test_a_text_mode_file_is_saved_as_utf8_streamed(target: Target, tmp_path: Path) -> None:
    # Larger than the multipart threshold on S3: read and encoded as it is uploaded.
    storage = target.storage_with(transfer_config=SMALL_THRESHOLD)
    text = "ligne numéro %06d ✓\n"
    path = tmp_path / "big.txt"
    path.write_text("".join(text % i for i in range(300_000)), encoding="utf-8")
    with path.open(encoding="utf-8") as fh:
        fh.read(10)  # save() reads from the beginning, wherever the file is
        name = storage.save("t/big.txt", File(fh))
    assert name == "t/big.txt"
    assert read(storage, name) == path.read_bytes()
    assert storage.size(name) == path.stat().st_size


# -- max_length ----------------------------------------------------------------------------


def test_file_overwrite_cuts_the_name_to_max_length(target: Target, tmp_path: Path) -> None:
    storage = target.storage_with(file_overwrite=True)
    assert storage.get_available_name("c/abcdefghij.tar.gz", max_length=12) == "c/abc.tar.gz"
    assert storage.get_available_name("c/abc.txt", max_length=9) == "c/abc.txt"
    if django.VERSION >= (5, 1):  # the same as Django's storage that overwrites
        from django.core.files.storage import FileSystemStorage

        django_storage = FileSystemStorage(location=tmp_path, allow_overwrite=True)
        for name, max_length in [("c/abcdefghij.tar.gz", 12), ("abcdefghij.txt", 8)]:
            ours = storage.get_available_name(name, max_length=max_length)
            assert ours == django_storage.get_available_name(name, max_length=max_length)
    assert storage.save("c/abcdefghij.txt", ContentFile(b"1"), max_length=10) == "c/abcd.txt"
    assert storage.save("c/abcdefghij.txt", ContentFile(b"2"), max_length=10) == "c/abcd.txt"
    assert read(storage, "c/abcd.txt") == b"2"
    with pytest.raises(SuspiciousFileOperation, match="max_length"):
        storage.get_available_name("c/abcdefghij.txt", max_length=6)


def lose_the_first_look(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ``exists()`` says the name is free, as when another process takes it just
    after: the write itself then finds it taken and must pick another name."""
    looks: list[str] = []
    exists = storage.exists

    def exists_but_late(name: str) -> bool:
        looks.append(name)
        return False if len(looks) == 1 else exists(name)

    monkeypatch.setattr(storage, "exists", exists_but_late)


@pytest.mark.parametrize("size", [10, 2 * 1024], ids=["small", "multipart"])
def test_a_save_losing_the_race_keeps_within_max_length(
    target: Target, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    storage = target.storage_with(transfer_config=SMALL_THRESHOLD)
    taken = "r/abcdefghij.txt"
    storage.save(taken, ContentFile(b"first"))
    lose_the_first_look(storage, monkeypatch)
    name = storage.save(taken, ContentFile(b"x" * size), max_length=len(taken))
    assert name != taken and len(name) <= len(taken), name
    assert name.startswith("r/ab") and name.endswith(".txt")
    monkeypatch.undo()
    assert read(storage, taken) == b"first"
    assert read(storage, name) == b"x" * size


def test_a_copy_losing_the_race_keeps_within_max_length(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = target.storage
    taken = "r/abcdefghij.txt"
    storage.save("r/src.txt", ContentFile(b"source"))
    storage.save(taken, ContentFile(b"first"))
    lose_the_first_look(storage, monkeypatch)
    name = storage.copy_to_available_name("r/src.txt", taken, max_length=len(taken))
    assert name != taken and len(name) <= len(taken), name
    monkeypatch.undo()
    assert read(storage, taken) == b"first"
    assert read(storage, name) == b"source"


# -- pickling ------------------------------------------------------------------------------


def test_pickle_and_deepcopy_keep_the_constructor_arguments(target: Target) -> None:
    storage = target.storage_with(location="x")
    storage.save("p.txt", ContentFile(b"p"))
    path, args, kwargs = storage.deconstruct()  # type: ignore[union-attr]
    assert kwargs["location"] == "x"
    for clone in (pickle.loads(pickle.dumps(storage)), copy.deepcopy(storage)):
        assert clone.deconstruct() == (path, args, kwargs)
        assert clone.location == "x" and clone.exists("p.txt")
        assert copy.deepcopy(pickle.loads(pickle.dumps(clone))).deconstruct()[2] == kwargs


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sub/", "sub", "sub//"])
def test_a_key_no_object_has_is_missing(target: Target, name: str) -> None:
    """S3 could hold ``sub/`` (a folder marker), the fake's disk cannot: where there is no
    such object, both storages say so alike."""
    storage = target.storage
    storage.save("sub/a.txt", ContentFile(b"a"))
    found = expect(target, f"storage: key {name!r}", aws="missing")
    if found == "folder":  # an empty object the server makes up for the folder
        assert storage.exists(name) is True and storage.size(name) == 0
    else:
        assert storage.exists(name) is False
        with pytest.raises(FileNotFoundError):
            storage.size(name)
        with pytest.raises(FileNotFoundError):
            storage.open(name)
    storage.delete(name)  # deleting what is not there is fine
    assert storage.exists("sub/a.txt")


DOTTED = ["n/./a.txt", "n//a.txt", "./n/a.txt", "n/.//./a.txt"]


@pytest.mark.parametrize("name", DOTTED)
def test_dot_and_empty_segments_name_the_clean_key(target: Target, name: str) -> None:
    """Regression: ``a/./b`` and ``a//b`` were stored as given on S3 (refused on the fake),
    and the ``url()`` of ``a/./b`` answered 403: clients remove dot segments from a URL's
    path, so the request named another key than the one signed (``a//b`` fails the same
    way behind a proxy that merges slashes, as nginx does by default). Both storages now
    take them for ``a/b``, as django-storages does, everywhere."""
    storage = target.storage
    assert storage.save(name, ContentFile(b"dots")) == "n/a.txt"
    assert target.keys() == ["n/a.txt"]
    for alias in [name, "n/a.txt", *DOTTED]:
        assert storage.exists(alias)
        assert storage.size(alias) == 4
        assert read(storage, alias) == b"dots"
    assert storage.listdir("n//") == storage.listdir("./n/.") == ([], ["a.txt"])
    assert storage.listdir(".") == storage.listdir("") == (["n"], [])
    # url() of the dotted name is the clean key's URL, and it fetches the object.
    url = target.storage_url(name)
    assert urlsplit(url).path == urlsplit(target.storage_url("n/a.txt")).path
    assert "/n/a.txt" in url and "/./" not in url and "//n" not in url
    response = requests.get(url, timeout=30)
    assert (response.status_code, response.content) == (200, b"dots")
    public = target.storage_with(querystring_auth=False)  # the unsigned URL's fast path
    assert public.url(name) == public.url("n/a.txt")
    free = storage.get_available_name(name)  # taken, under its clean name: another one
    assert free.startswith("n/a_") and free.endswith(".txt")
    storage.delete(name)
    assert not storage.exists("n/a.txt") and target.keys() == []


@pytest.mark.parametrize("name", ["n/../a.txt", "../a.txt", "/n/a.txt", ".", "./", "n/./.."])
def test_names_that_climb_or_are_empty_are_refused(target: Target, name: str) -> None:
    storage = target.storage
    with pytest.raises(SuspiciousFileOperation):
        storage.save(name, ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        storage.url(name)
    assert target.keys() == []


def test_url_of_none_is_a_type_error(target: Target) -> None:
    for storage in (target.storage, target.storage_with(querystring_auth=False)):
        with pytest.raises(TypeError, match="must be a str, not NoneType"):
            storage.url(None)  # type: ignore[arg-type]


# -- metadata, and copies that never overwrite -----------------------------------------------


def stored_metadata(target: Target, name: str) -> dict[str, str]:
    """The object's metadata as the server has it (a real server's HEAD; the fake's
    headers)."""
    if target.real:
        metadata: dict[str, str] = target.s3.head_object(Bucket=target.bucket, Key=name)["Metadata"]
        return metadata
    response = requests.head(target.storage_url(name, "HEAD"), timeout=30)
    assert response.status_code == 200, response.text
    prefix = "x-amz-meta-"
    return {
        k.lower()[len(prefix) :]: v
        for k, v in response.headers.items()
        if k.lower().startswith(prefix)
    }


def test_metadata_is_written_and_read_back(target: Target) -> None:
    plain = target.storage
    storage = target.storage_with(object_parameters={"Metadata": {"Team": "docs"}})
    mark = {"buckets-field": "app.model.field"}
    name = storage.save("m/a.txt", ContentFile(b"a"), metadata=mark)
    assert storage.metadata(name) == {"team": "docs", **mark}
    assert stored_metadata(target, name) == {"team": "docs", **mark}
    with storage.open("m/w.txt", "wb") as f:
        f.write(b"w")
    assert storage.metadata("m/w.txt") == {"team": "docs"}
    assert plain.metadata(plain.save("m/p.txt", ContentFile(b"p"))) == {}
    # A copy is not what the field wrote: its mark goes, unless the copier gives one.
    copied = plain.copy_to_available_name(name, "m/c.txt")
    assert plain.metadata(copied) == {"team": "docs"}
    other = {"buckets-field": "app.model.other"}
    marked = plain.copy_to_available_name(name, "m/d.txt", metadata=other)
    assert plain.metadata(marked) == {"team": "docs", **other}
    assert stored_metadata(target, marked) == {"team": "docs", **other}
    with pytest.raises(FileNotFoundError):
        plain.metadata("m/missing.txt")


def test_copy_to_available_name_never_overwrites_unless_asked(target: Target) -> None:
    """Whatever ``file_overwrite`` says: it is for ``save()``; a copy to an available name
    (a move out of staging) must not replace another object."""
    storage = target.storage_with(file_overwrite=True)
    storage.save("o/src.txt", ContentFile(b"new"))
    storage.save("o/taken.txt", ContentFile(b"old"))
    name = storage.copy_to_available_name("o/src.txt", "o/taken.txt")
    assert name != "o/taken.txt" and name.startswith("o/taken_"), name
    assert (read(storage, "o/taken.txt"), read(storage, name)) == (b"old", b"new")
    assert storage.copy_to_available_name("o/src.txt", "o/taken.txt", overwrite=True) == (
        "o/taken.txt"
    )
    assert read(storage, "o/taken.txt") == b"new"
    plain = target.storage  # file_overwrite=False: overwrite=True still overwrites
    plain.save("o/src2.txt", ContentFile(b"newer"))
    assert plain.copy_to_available_name("o/src2.txt", "o/taken.txt", overwrite=True) == (
        "o/taken.txt"
    )
    assert read(plain, "o/taken.txt") == b"newer"
