"""``collectstatic`` to ``S3StaticStorage`` on RGW: one listing, no HEAD per file, files
skipped by content, parallel uploads, Django's output, a clean stop."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import get_commands

from s3servers import list_keys
from s3servers.counting import count_requests
from tests.staticfiles.conftest import TREE, collectstatic

pytestmark = pytest.mark.rgw

STATIC = "buckets.staticfiles.S3StaticStorage"
FILES = len(TREE)


def test_second_run_uploads_nothing_and_one_change_uploads_one(
    static_site, static_tree, s3, bucket
):
    static_site(STATIC)
    with count_requests() as first:
        out = collectstatic()
    assert f"{FILES} static files copied." in out
    assert first["PUT"] == FILES
    assert sorted(list_keys(s3, bucket)) == sorted(f"static/{name}" for name in TREE)

    with count_requests() as second:
        out = collectstatic()
    assert f"0 static files copied, {FILES} unmodified." in out
    assert dict(second) == {"LIST": 1}  # one listing: no HEAD, no GET, no PUT

    # Same size, older mtime: only the content says it changed. A touched file is unchanged.
    changed = static_tree / "js/app.js"
    changed.write_text(changed.read_text().replace("app", "APP"))
    os.utime(changed, (0, 0))
    os.utime(static_tree / "docs/readme.txt", (time.time() + 3600,) * 2)
    with count_requests() as third:
        out = collectstatic()
    assert f"1 static file copied, {FILES - 1} unmodified." in out
    assert dict(third) == {"LIST": 1, "PUT": 1}
    body = s3.get_object(Bucket=bucket, Key="static/js/app.js")["Body"].read()
    assert body == b"console.log('APP');\n"


def test_objects_are_public_with_types_and_no_long_cache_for_plain_names(static_site, s3, bucket):
    static_site(STATIC)
    collectstatic()
    head = s3.head_object(Bucket=bucket, Key="static/css/site.css")
    assert head["ContentType"] == "text/css"
    assert "CacheControl" not in head
    url = staticfiles_storage.url("css/site.css")
    assert "X-Amz-Signature" not in url and url.endswith(f"/{bucket}/static/css/site.css")


def test_multipart_object_is_compared_by_its_stored_md5(static_site, static_tree, s3, bucket):
    small_parts = TransferConfig(multipart_threshold=5 * 1024**2, multipart_chunksize=5 * 1024**2)
    static_site(STATIC, transfer_config=small_parts)
    (static_tree / "big.bin").write_bytes(os.urandom(6 * 1024**2))
    collectstatic()
    assert "-" in s3.head_object(Bucket=bucket, Key="static/big.bin")["ETag"]
    with count_requests() as again:
        out = collectstatic()
    assert f"0 static files copied, {FILES + 1} unmodified." in out
    assert dict(again) == {"LIST": 1, "HEAD": 1}  # the multipart object's metadata only


def test_dry_run_sends_nothing(static_site, s3, bucket):
    static_site(STATIC)
    with count_requests() as counts:
        out = collectstatic(dry_run=True)
    assert f"{FILES} static files copied." in out
    assert "Pretending to copy" in out
    assert dict(counts) == {"LIST": 1}
    assert list_keys(s3, bucket) == []


def test_ctrl_c_stops_cleanly(static_site, static_tree, s3, bucket, monkeypatch):
    """Interrupted after a few files are queued: what is in the bucket is whole, nothing
    is left half-uploaded, and the command ends with the interrupt."""
    from buckets.management.commands.collectstatic import Command

    static_site(STATIC)
    queued = []
    copy_file = Command.copy_file

    def interrupt_after_three(self: Any, path: str, prefixed: str, source: Any) -> None:
        if len(queued) == 3:
            raise KeyboardInterrupt
        queued.append(prefixed)
        copy_file(self, path, prefixed, source)

    monkeypatch.setattr(Command, "copy_file", interrupt_after_three)
    with pytest.raises(KeyboardInterrupt):
        collectstatic()
    keys = list_keys(s3, bucket)
    assert sorted(keys) == sorted(f"static/{name}" for name in queued)
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == (static_tree / key.removeprefix("static/")).read_bytes()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_buckets_listed_first_runs_this_collectstatic(settings):
    apps = [a for a in settings.INSTALLED_APPS if a != "buckets"]
    settings.INSTALLED_APPS = ["buckets", *apps]
    assert get_commands()["collectstatic"] == "buckets"


def test_other_storages_get_djangos_command(settings, tmp_path: Path, static_tree):
    settings.STATICFILES_DIRS = [str(static_tree)]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = str(tmp_path / "collected")
    out = collectstatic()
    assert f"{FILES} static files copied to" in out
    assert (tmp_path / "collected/css/site.css").read_text() == TREE["css/site.css"]


def test_check_warns_when_djangos_collectstatic_would_run(settings):
    from buckets.checks.staticfiles import W_COMMAND, check_collectstatic_command

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC}}
    apps = [a for a in settings.INSTALLED_APPS if a != "buckets"]
    settings.INSTALLED_APPS = [*apps, "buckets"]  # after staticfiles
    (warning,) = check_collectstatic_command()
    assert warning.id == W_COMMAND and "before" in warning.hint
    settings.INSTALLED_APPS = ["buckets", *apps]
    assert check_collectstatic_command() == []


def test_clear_deletes_what_is_there_and_sends_everything(static_site, s3, bucket):
    static_site(STATIC)
    collectstatic()
    s3.put_object(Bucket=bucket, Key="static/old/stale.css", Body=b"x")
    s3.put_object(Bucket=bucket, Key="media/kept.txt", Body=b"x")
    out = collectstatic(clear=True)
    assert f"{FILES} static files copied." in out
    keys = set(list_keys(s3, bucket))
    assert keys == {f"static/{name}" for name in TREE} | {"media/kept.txt"}
