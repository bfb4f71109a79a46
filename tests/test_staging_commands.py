"""buckets_lifecycle (a real bucket's rule, on RGW) and buckets_cleanup (by hand, any storage)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from buckets import uploads
from s3servers import list_keys
from tests.site_settings import apply, fake_site


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def staged_name(filename: str = "old.txt", label: str | None = "testapp.document.file") -> str:
    """A staging name as the signed-URL view makes them (for a field, or for none)."""
    return uploads.new_upload_name(filename, field_label=label, user=None)


#: Under the prefix, the right shape, but no MAC of this site: not a staged upload of ours.
FORGED = f"uploads/{'0' * 48}/old.txt"


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
    staged = s3_default.save(staged_name(), ContentFile(b"o"))
    s3_default.save("keep/me.txt", ContentFile(b"k"))
    s3_default.save("uploads/contract.pdf", ContentFile(b"c"))  # a permanent file, misplaced
    assert "0 staged" in run("buckets_cleanup", "--hours", "1")
    output = run("buckets_cleanup", "--hours", "0")
    assert f"deleted {staged}" in output and "1 staged" in output
    assert "kept uploads/contract.pdf" in output
    assert list_keys(s3, bucket) == ["keep/me.txt", "uploads/contract.pdf"]


def test_lifecycle_refuses_when_other_objects_are_under_the_prefix(s3_default, s3, bucket):
    """The rule would make the bucket delete them: name them, set nothing, unless --force."""
    s3_default.save(staged_name(), ContentFile(b"s"))  # staged uploads are what it is for
    assert "django-buckets-staging" in run("buckets_lifecycle", "--dry-run")
    s3_default.save("uploads/contract.pdf", ContentFile(b"c"))
    s3_default.save("uploads/2024/report.pdf", ContentFile(b"r"))
    for args in ((), ("--dry-run",)):
        with pytest.raises(CommandError) as exc:
            run("buckets_lifecycle", *args)
        message = str(exc.value)
        assert "2 objects" in message and "--force" in message
        assert "uploads/contract.pdf" in message and "uploads/2024/report.pdf" in message
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    run("buckets_lifecycle", "--force")
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["ID"] == "django-buckets-staging"


def test_lifecycle_scan_with_a_location(s3_default, s3, bucket, settings):
    settings.AWS = {**settings.AWS, "LOCATION": "site"}
    s3.put_object(Bucket=bucket, Key="uploads/elsewhere.txt", Body=b"x")  # outside location
    s3.put_object(Bucket=bucket, Key=f"site/{staged_name()}", Body=b"s")
    run("buckets_lifecycle")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["Filter"]["Prefix"] == "site/uploads/"
    s3.put_object(Bucket=bucket, Key="site/uploads/a.txt", Body=b"a")
    with pytest.raises(CommandError, match="'site/uploads/a.txt'|site/uploads/a.txt"):
        run("buckets_lifecycle")


@pytest.fixture
def fake(settings, tmp_path: Path):
    return apply(settings, fake_site(tmp_path))


def age(storage, *names: str) -> None:
    two_days_ago = time.time() - 2 * 86400
    for name in names:
        os.utime(os.path.join(storage.root, name), (two_days_ago, two_days_ago))


def test_cleanup_on_the_fake_by_age(fake):
    old = fake.save(staged_name("old.txt"), ContentFile(b"o"))
    new = fake.save(staged_name("new.txt"), ContentFile(b"n"))
    kept = fake.save("docs/old.txt", ContentFile(b"d"))
    age(fake, old, kept)
    assert f"would delete {old}" in run("buckets_cleanup", "--dry-run")
    assert fake.exists(old)
    output = run("buckets_cleanup")
    assert "1 staged file older" in output
    assert not fake.exists(old) and fake.exists(new) and fake.exists(kept)


def test_cleanup_deletes_only_staged_uploads_of_this_site(fake, settings):
    """Under the prefix, only names this site signed go: never a permanent file saved there
    (an upload_to under the prefix), nor a name that merely looks like an upload."""
    for_a_field = fake.save(staged_name("a.txt"), ContentFile(b"a"))
    for_no_field = fake.save(staged_name("b.txt", label=None), ContentFile(b"b"))
    others = [
        fake.save("uploads/contract.pdf", ContentFile(b"precious")),
        fake.save("uploads/abc/old.txt", ContentFile(b"x")),
        fake.save(FORGED, ContentFile(b"x")),
        fake.save(staged_name("c.txt", label="testapp.gone.field"), ContentFile(b"c")),
        fake.save(f"{staged_name('d.txt').rsplit('/', 1)[0]}/sub/d.txt", ContentFile(b"d")),
    ]
    age(fake, for_a_field, for_no_field, *others)
    output = run("buckets_cleanup")
    assert "2 staged files" in output and "5 other files under uploads/ kept" in output
    for name in others:
        assert f"kept {name}" in output
        assert fake.exists(name)
    assert not fake.exists(for_a_field) and not fake.exists(for_no_field)
    # After a key rotation, names signed with a fallback key are still recognised.
    rotated = fake.save(staged_name("e.txt"), ContentFile(b"e"))
    age(fake, rotated)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key"
    assert f"deleted {rotated}" in run("buckets_cleanup")


@pytest.mark.parametrize(
    ("name", "shaped"),
    [
        (f"uploads/{'a' * 48}/file.txt", True),
        (f"in/coming/{'a' * 48}/file.txt", False),  # another prefix
        (f"uploads/{'A' * 48}/file.txt", False),  # upper-case hex
        (f"uploads/{'a' * 47}/file.txt", False),
        (f"uploads/{'a' * 48}/sub/file.txt", False),
        (f"uploads/{'a' * 48}/", False),
        (f"uploads/{'a' * 48}/two words.txt", False),  # not a cleaned file name
        (f"uploads/x/{'a' * 48}/file.txt", False),
        ("uploads/report.pdf", False),
        (None, False),
    ],
)
def test_is_upload_name_shape(name, shaped):
    assert uploads.is_upload_name(name, prefix="uploads/") is shaped


def test_is_upload_name_with_field_macs():
    name = staged_name("f.txt", label="testapp.avatar.image")
    assert uploads.is_upload_name(name, prefix="uploads/", field_labels=["testapp.avatar.image"])
    assert not uploads.is_upload_name(name, prefix="uploads/", field_labels=[None])
    assert not uploads.is_upload_name(FORGED, prefix="uploads/", field_labels=[None])


@pytest.mark.parametrize("where", ["rgw", "fake"])
def test_cleanup_aborts_this_sites_stale_multipart_uploads(where, request):
    """Unfinished multipart uploads of this site past the age are aborted; one under a name
    this site did not sign is kept; a fresh one is kept."""
    storage = request.getfixturevalue("s3_default" if where == "rgw" else "fake")
    mine = staged_name("big.bin")
    foreign = FORGED
    started = {
        name: storage.create_multipart_upload(name, content_type="application/octet-stream")
        for name in (mine, foreign)
    }
    assert "0 unfinished multipart" in run("buckets_cleanup", "--hours", "1")
    output = run("buckets_cleanup", "--hours", "0", "--dry-run")
    assert f"would abort the multipart upload of {mine}" in output
    assert {u["UploadId"] for u in storage.list_multipart_uploads("uploads/")} == set(
        started.values()
    )
    output = run("buckets_cleanup", "--hours", "0")
    assert f"aborted the multipart upload of {mine}" in output
    assert f"kept multipart upload of {foreign}" in output
    left = storage.list_multipart_uploads("uploads/")
    assert [(u["Key"], u["UploadId"]) for u in left] == [(foreign, started[foreign])]
