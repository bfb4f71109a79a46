"""``manage.py buckets_migrate`` against RGW: a tree of files kept by a ``FileField`` on the
local disk moves into a bucket under the same names, verified, resumable, and every file
that can't be moved is reported while the rest move."""

from __future__ import annotations

import io
import os
import signal
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from buckets.storage import S3Storage
from buckets.transfer import Item, Progress, Transfer, target_for
from buckets.transfer.copying import FAILED
from s3servers import list_keys
from tests.testapp.models import LegacyAttachment

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
#: Parts of 5 MiB (S3's least), so a file of 11 MiB goes up in 3 parts.
SMALL_PARTS = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
#: Names people give files: spaces, accents (composed and not), other scripts, ``+``, ``%``.
ODD_NAMES = [
    "legacy/report 2024 final.pdf",
    "legacy/café/menu été.txt",
    unicodedata.normalize("NFD", "legacy/café/crème brûlée.txt"),
    "legacy/日本語/ファイル.txt",
    "legacy/c++ notes+1.txt",
    "legacy/100% done & dusted (v2).txt",
    "legacy/deep/er/and/deeper/file.bin",
    "top-level.txt",
]
BIG = "legacy/big video.mp4"


def body(name: str, size: int | None = None) -> bytes:
    seed = name.encode()
    size = size if size is not None else 1000 + len(seed) * 37
    return (seed * (size // len(seed) + 1))[:size]


@pytest.fixture
def site(settings: Any, tmp_path: Path, rgw: Any, bucket: str) -> dict[str, Any]:
    """The old site (files under MEDIA_ROOT, the default storage) plus the bucket as the
    ``bucket`` storage."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "bucket": {
            "BACKEND": "buckets.storage.S3Storage",
            "OPTIONS": rgw.storage_options(bucket, location="media", transfer_config=SMALL_PARTS),
        },
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    return {"media": media, "bucket": bucket}


def add_file(media: Path, name: str, data: bytes) -> None:
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    LegacyAttachment.objects.create(file=name)


def add_tree(media: Path) -> dict[str, bytes]:
    tree = {name: body(name) for name in ODD_NAMES}
    tree[BIG] = body(BIG, 11 * MiB + 123)
    for name, data in tree.items():
        add_file(media, name, data)
    return tree


def migrate(*args: str) -> str:
    out = io.StringIO()
    call_command(
        "buckets_migrate", "testapp.LegacyAttachment.file", "--to", "bucket", *args, stdout=out
    )
    return out.getvalue()


def migrate_failing(*args: str) -> tuple[str, CommandError]:
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("buckets_migrate", "testapp", "--to", "bucket", *args, stdout=out)
    return out.getvalue(), raised.value


def held(s3: Any, bucket: str) -> dict[str, bytes]:
    return {
        key.removeprefix("media/"): s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in list_keys(s3, bucket)
    }


def test_moves_a_tree_of_odd_names_then_a_rerun_copies_nothing(site, s3):
    tree = add_tree(site["media"])
    output = migrate("--no-progress")
    assert f"{len(tree)} copied, 0 replaced" in output and "0 failed" in output
    assert held(s3, site["bucket"]) == tree  # every key kept exactly, every byte right
    big = s3.head_object(Bucket=site["bucket"], Key=f"media/{BIG}")
    assert big["ETag"].strip('"').endswith("-3")  # in parts, verified by the composite ETag
    assert big["Metadata"] == {"buckets-field": "testapp.legacyattachment.file"}
    assert s3.list_multipart_uploads(Bucket=site["bucket"]).get("Uploads", []) == []

    again = migrate("--no-progress")
    assert f"0 copied, 0 replaced (0 B), {len(tree)} already there and identical" in again
    checked = migrate("--no-progress", "--checksum")  # by content, composite ETag included
    assert f"0 copied, 0 replaced (0 B), {len(tree)} already there and identical" in checked


def test_dry_run_changes_nothing(site, s3):
    tree = add_tree(site["media"])
    output = migrate("--dry-run")
    assert f"Dry run: {len(tree)} to copy, 0 to replace" in output
    assert list_keys(s3, site["bucket"]) == []
    migrate("--no-progress")
    (site["media"] / ODD_NAMES[0]).write_bytes(b"changed and longer than before" * 100)
    output = migrate("--dry-run")
    assert (
        f"would replace {ODD_NAMES[0]}: " in output and "Dry run: 0 to copy, 1 to replace" in output
    )
    assert held(s3, site["bucket"])[ODD_NAMES[0]] == tree[ODD_NAMES[0]]


def test_a_corrupted_copy_is_detected_reported_and_copied_again(site, s3):
    tree = add_tree(site["media"])
    migrate("--no-progress")
    for name in (ODD_NAMES[1], BIG):  # same size, other bytes: only the content tells
        s3.put_object(Bucket=site["bucket"], Key=f"media/{name}", Body=b"x" * len(tree[name]))
    assert "0 copied, 0 replaced" in migrate("--no-progress")  # size and time agree...
    output = migrate("--no-progress", "--checksum")  # ...the content does not
    assert f"replaced {ODD_NAMES[1]}: content differs" in output
    assert f"replaced {BIG}: content differs" in output
    assert "0 copied, 2 replaced" in output
    assert held(s3, site["bucket"]) == tree


def test_unreadable_and_missing_sources_are_reported_and_the_rest_moves(site, s3):
    tree = {name: body(name) for name in ODD_NAMES[:3]}
    for name, data in tree.items():
        add_file(site["media"], name, data)
    # A file whose every read fails with EIO, as on a failing disk (works as root too).
    (site["media"] / "legacy/bad sector.bin").symlink_to("/proc/self/mem")
    LegacyAttachment.objects.create(file="legacy/bad sector.bin")
    LegacyAttachment.objects.create(file="legacy/gone.txt")  # the row outlived its file
    output, error = migrate_failing("--no-progress")
    assert "FAILED legacy/bad sector.bin: OSError: [Errno 5] Input/output error" in output
    assert "FAILED legacy/gone.txt: missing" in output
    assert "3 copied" in output and "2 failed" in output
    assert "2 file(s) could not be copied" in str(error) and error.returncode == 1
    assert held(s3, site["bucket"]) == tree


class ChangingStorage(FileSystemStorage):
    """A source whose file is rewritten by someone else while it is being copied (the
    first read, here, stands for the moment the other writer runs)."""

    def _open(self, name: str, mode: str = "rb") -> Any:
        opened = super()._open(name, mode)
        path = self.path(name)
        real_read = opened.file.read

        def read(n: int = -1) -> bytes:
            data = real_read(n)
            if data:
                with open(path, "r+b") as f:
                    f.write(b"Z" * len(data))
                stat = os.stat(path)
                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
            return data

        opened.file.read = read
        return opened


def test_a_source_changed_while_copied_is_reported_and_its_copy_removed(site, s3, settings):
    add_file(site["media"], "legacy/busy.log", b"first version " * 1000)
    source = ChangingStorage(location=site["media"])
    report = Transfer(target_for(S3Storage(**settings.STORAGES["bucket"]["OPTIONS"]))).run(
        [Item("legacy/busy.log", source)]
    )
    (outcome,) = report.outcomes
    assert (outcome.action, outcome.why) == (
        FAILED,
        "the source changed while it was copied; the copy was removed",
    )
    assert list_keys(s3, site["bucket"]) == []


@pytest.mark.parametrize(
    "hostile",
    ["../outside.txt", "legacy/../../outside.txt", "/etc/hostname", "legacy//x.txt", "./x.txt"],
)
def test_hostile_names_are_refused_and_nothing_is_written_outside(site, s3, tmp_path, hostile):
    (tmp_path / "outside.txt").write_bytes(b"not the site's")
    add_file(site["media"], "legacy/fine.txt", b"fine")
    LegacyAttachment.objects.create(file=hostile)
    output, error = migrate_failing("--no-progress")
    assert f"FAILED {hostile}: unsafe name refused" in output
    assert "1 copied" in output and "1 failed" in output
    assert list_keys(s3, site["bucket"]) == ["media/legacy/fine.txt"]
    # Into another disk storage too: nothing lands outside its location.
    target = tmp_path / "target"
    report = Transfer(target_for(FileSystemStorage(location=target))).run(
        [Item(hostile, FileSystemStorage(location=site["media"]))]
    )
    assert [o.action for o in report.outcomes] == [FAILED]
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "media",
        "outside.txt",
    ]


def test_ctrl_c_stops_cleanly_and_aborts_the_multipart_upload(site, s3):
    """A real SIGINT, sent once the first part of the big file is stored: the command stops,
    aborts the upload in flight (no parts left), and says so with exit status 130."""
    add_file(site["media"], BIG, body(BIG, 16 * MiB))
    sent = threading.Event()
    stopped = threading.Event()
    real_add, real_stop = Progress.add_bytes, Transfer.stop

    def add_bytes(self: Progress, n: int) -> None:
        real_add(self, n)
        if not sent.is_set():
            sent.set()
            os.kill(os.getpid(), signal.SIGINT)
            # The main thread answers the signal by stopping the transfer; the worker goes
            # on only then, so on a busy machine the rest of the file is not sent first.
            assert stopped.wait(timeout=60), "the SIGINT was not handled"

    def stop(self: Transfer) -> None:
        real_stop(self)
        stopped.set()

    # Python's own handler, as in a terminal: a shell without job control starts a
    # background job (``pytest &`` in a script) with SIGINT ignored, and Python keeps that.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Progress, "add_bytes", add_bytes)
            patch.setattr(Transfer, "stop", stop)
            output, error = migrate_failing("--no-progress")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert error.returncode == 130 and "Interrupted" in str(error)
    assert "1 not done (interrupted)" in output
    assert list_keys(s3, site["bucket"]) == []
    assert s3.list_multipart_uploads(Bucket=site["bucket"]).get("Uploads", []) == []


def test_progress_lines_when_not_a_terminal_and_in_place_on_one():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(out, clock=lambda: now[0])
    progress.start(4, 4 * MiB)
    progress.add_bytes(MiB)
    now[0] = 20.0
    progress.add_bytes(MiB)
    progress.add_file()
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines[0] == "0/4 files, 2.0 MiB/4.0 MiB, 102.4 KiB/s, 0:20 left"
    assert lines[-1].startswith("1/4 files, 2.0 MiB/4.0 MiB")
    tty = io.StringIO()
    progress = Progress(tty, terminal=True, clock=lambda: now[0])
    progress.start(1, MiB)
    now[0] += 1
    progress.add_bytes(MiB)
    progress.finish()
    assert tty.getvalue().startswith("\r") and tty.getvalue().endswith(" left\n")


def test_a_copy_whose_etag_is_not_its_md5_is_reported_and_removed(site, s3, settings):
    """The bucket answers with an ETag that is not the MD5 of the bytes sent. No server here
    does that on purpose (a storage bug, a proxy rewriting answers), so the answer is
    altered on the way back: the PUT itself reaches RGW."""
    add_file(site["media"], "legacy/a.txt", b"the bytes sent")
    target = target_for(S3Storage(**settings.STORAGES["bucket"]["OPTIONS"]))
    real_put = target.client.put_object

    def put_object(**kwargs: Any) -> Any:
        return {**real_put(**kwargs), "ETag": '"00000000000000000000000000000000"'}

    target.client.put_object = put_object
    report = Transfer(target).run([Item("legacy/a.txt", FileSystemStorage(location=site["media"]))])
    (outcome,) = report.outcomes
    assert outcome.action == FAILED
    assert outcome.why.startswith("the copy did not verify (its ETag")
    assert list_keys(s3, site["bucket"]) == []


def test_into_any_other_storage_the_same_rules_hold(tmp_path):
    """A target that is no bucket (here another disk): same names, re-run copies nothing,
    ``checksum`` reads the copies back to compare."""
    source, target_dir = tmp_path / "from", tmp_path / "to"
    for name in ODD_NAMES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(body(name))
    disk = FileSystemStorage(location=source)
    items = [Item(name, disk) for name in ODD_NAMES]
    target = target_for(FileSystemStorage(location=target_dir))
    first = Transfer(target).run(items)
    assert len(first.of("copied")) == len(ODD_NAMES) and not first.failed
    assert all((target_dir / n).read_bytes() == body(n) for n in ODD_NAMES)
    assert len(Transfer(target).run(items).of("skipped")) == len(ODD_NAMES)
    (target_dir / ODD_NAMES[0]).write_bytes(b"x" * len(body(ODD_NAMES[0])))
    checked = Transfer(target, checksum=True).run(items)
    assert [(o.name, o.why) for o in checked.of("replaced")] == [(ODD_NAMES[0], "content differs")]
    assert (target_dir / ODD_NAMES[0]).read_bytes() == body(ODD_NAMES[0])
