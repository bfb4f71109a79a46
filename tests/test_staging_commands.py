"""buckets_lifecycle (a real bucket's rule, on RGW) and buckets_cleanup (by hand, any storage)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from tests.rgw import list_keys


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_lifecycle_rule_set_and_other_rules_kept(s3_default, s3, bucket):
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "theirs",
                    "Filter": {"Prefix": "logs/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": 30},
                }
            ]
        },
    )
    output = run("buckets_lifecycle", "--days", "2")
    assert "django-buckets-staging" in output
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert set(rules) == {"theirs", "django-buckets-staging"}
    ours = rules["django-buckets-staging"]
    assert ours["Expiration"]["Days"] == 2
    assert ours["Filter"]["Prefix"] == "uploads/"
    run("buckets_lifecycle", "--days", "3")  # replaces its own rule only
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert sorted(r["ID"] for r in rules) == ["django-buckets-staging", "theirs"]


def test_lifecycle_dry_run_changes_nothing(s3_default, s3, bucket):
    run("buckets_lifecycle", "--dry-run")
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    with pytest.raises(CommandError):
        run("buckets_lifecycle", "--days", "0")


def test_cleanup_on_rgw_deletes_only_staged_files(s3_default, s3, bucket):
    s3_default.save("uploads/abc/old.txt", ContentFile(b"o"))
    s3_default.save("keep/me.txt", ContentFile(b"k"))
    assert "0 staged" in run("buckets_cleanup", "--hours", "1")
    assert "1 staged" in run("buckets_cleanup", "--hours", "0")
    assert list_keys(s3, bucket) == ["keep/me.txt"]


@pytest.fixture
def fake(settings, tmp_path: Path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
    }
    from django.core.files.storage import default_storage

    return default_storage


def test_cleanup_on_the_fake_by_age(fake):
    old = fake.save("uploads/n1/old.txt", ContentFile(b"o"))
    new = fake.save("uploads/n2/new.txt", ContentFile(b"n"))
    kept = fake.save("docs/old.txt", ContentFile(b"d"))
    two_days_ago = time.time() - 2 * 86400
    for name in (old, kept):
        path = os.path.join(fake.root, name)
        os.utime(path, (two_days_ago, two_days_ago))
    assert "would delete uploads/n1/old.txt" in run("buckets_cleanup", "--dry-run")
    assert fake.exists(old)
    output = run("buckets_cleanup")
    assert "1 staged file(s)" in output
    assert not fake.exists(old) and fake.exists(new) and fake.exists(kept)
