"""S3FileField and S3File: the model side, against a real RGW bucket."""

from __future__ import annotations

import pytest
import requests
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from buckets.fields.files import S3File
from buckets.fields.orphans import upload_to_folder
from s3servers import list_keys
from tests.testapp.models import Archivable, Avatar, Document, Folder, Profile

pytestmark = pytest.mark.django_db(transaction=True)


def direct_upload(storage, name: str, body: bytes, content_type: str | None = None) -> str:
    """What a browser does: POST the signed fields plus the file straight to the bucket."""
    signed = storage.presigned_post(name, content_type=content_type)
    files = {"file": (name.rsplit("/", 1)[-1], body, content_type or "application/octet-stream")}
    response = requests.post(signed["url"], data=signed["fields"], files=files, timeout=30)
    assert response.status_code == 204, response.text
    return f"{signed['url']}/{signed['fields']['key']}"


def test_seed_usage_with_object_url(s3_default, s3, bucket):
    url = direct_upload(s3_default, "uploads/abc123/report.txt", b"seed bytes")
    doc = Document.objects.create(name="My File", file=url)
    doc.refresh_from_db()
    assert isinstance(doc.file, S3File)
    assert doc.file.name == "report.txt"  # moved out of staging to upload_to ("") + filename
    assert doc.file.read() == b"seed bytes"
    assert requests.get(doc.file.url, timeout=10).content == b"seed bytes"
    assert doc.file.size == 10
    assert list_keys(s3, bucket) == ["report.txt"]  # the staging copy is gone after commit


def test_upload_to_and_collision(s3_default, s3, bucket):
    s3_default.save("avatars/me.png", ContentFile(b"old"))
    url = direct_upload(s3_default, "uploads/r1/me.png", b"\x89PNG", "image/png")
    avatar = Avatar.objects.create(image=url)
    assert avatar.image.name.startswith("avatars/me_") and avatar.image.name.endswith(".png")
    assert s3.get_object(Bucket=bucket, Key="avatars/me.png")["Body"].read() == b"old"
    assert sorted(list_keys(s3, bucket)) == sorted(["avatars/me.png", avatar.image.name])


def test_bare_key_s3file_and_django_file(s3_default, s3, bucket):
    s3_default.save("plain.txt", ContentFile(b"plain"))
    doc = Document.objects.create(name="a", file="plain.txt")
    assert Document.objects.get(pk=doc.pk).file.read() == b"plain"
    other = Document.objects.create(name="b", file=doc.file)
    assert Document.objects.get(pk=other.pk).file.name == "plain.txt"
    third = Document.objects.create(name="c", file=ContentFile(b"fresh", name="new.txt"))
    assert third.file.name == "new.txt"
    assert s3.get_object(Bucket=bucket, Key="new.txt")["Body"].read() == b"fresh"


def test_empty_values_stay_empty(s3_default):
    for empty in (None, ""):
        avatar = Avatar.objects.create(image=empty)
        avatar.refresh_from_db()
        assert avatar.image is None
        assert Avatar.objects.filter(pk=avatar.pk, image="").exists()
    assert not Avatar.objects.filter(image="None").exists()


def test_deferred_field_loads(s3_default):
    s3_default.save("d.txt", ContentFile(b"d"))
    Document.objects.create(name="x", file="d.txt")
    doc = Document.objects.defer("file").get()
    assert doc.file.name == "d.txt"


HOSTILE = [
    "https://evil.example.com/{bucket}/x.txt",
    "{endpoint}/other-bucket/x.txt",
    "{endpoint}/{bucket}/../other/x.txt",
    "{endpoint}/{bucket}/a/%2e%2e/%2e%2e/x.txt",
    "https://{host}@evil.example.com/{bucket}/x.txt",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "../x.txt",
    "/etc/passwd",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_foreign_values_refused_nothing_touched(s3_default, s3, bucket, rgw, template):
    s3_default.save("keep.txt", ContentFile(b"keep"))
    value = template.format(
        bucket=bucket, endpoint=rgw.endpoint_url, host=rgw.endpoint_url.split("//")[1]
    )
    doc = Document(name="evil", file=value)
    with pytest.raises(ValidationError) as exc:
        doc.full_clean()
    assert "file" in exc.value.message_dict
    with pytest.raises(ValidationError):
        doc.save()
    assert not Document.objects.exists()
    assert list_keys(s3, bucket) == ["keep.txt"]


def test_replaced_object_deleted_after_commit(s3_default, s3, bucket):
    doc = Document.objects.create(name="r", file=ContentFile(b"1", name="one.txt"))
    with transaction.atomic():
        doc.file = ContentFile(b"2", name="two.txt")
        doc.save()
        assert "one.txt" in list_keys(s3, bucket)  # not before commit
    assert list_keys(s3, bucket) == ["two.txt"]
    doc.file = None
    doc.save()
    assert list_keys(s3, bucket) == []


def test_rollback_deletes_nothing(s3_default, s3, bucket):
    s3_default.save("one.txt", ContentFile(b"1"))
    s3_default.save("two.txt", ContentFile(b"2"))
    doc = Document.objects.create(name="r", file="one.txt")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            doc.file = "two.txt"
            doc.save()
            raise RuntimeError("roll back")
    assert sorted(list_keys(s3, bucket)) == ["one.txt", "two.txt"]
    assert Document.objects.get().file.name == "one.txt"


def test_shared_object_not_deleted_while_referenced(s3_default, s3, bucket):
    s3_default.save("shared.txt", ContentFile(b"s"))
    s3_default.save("new.txt", ContentFile(b"n"))
    a = Document.objects.create(name="a", file="shared.txt")
    Document.objects.create(name="b", file="shared.txt")
    a.file = "new.txt"
    a.save()
    assert sorted(list_keys(s3, bucket)) == ["new.txt", "shared.txt"]


def test_assigning_before_first_save_deletes_nothing(s3_default, s3, bucket):
    s3_default.save("x.txt", ContentFile(b"x"))
    s3_default.save("y.txt", ContentFile(b"y"))
    doc = Document(name="n", file="x.txt")
    doc.file = "y.txt"
    doc.save()
    assert sorted(list_keys(s3, bucket)) == ["x.txt", "y.txt"]


def test_listing_urls_costs_no_request(s3_default):
    s3_default.save("l.txt", ContentFile(b"l"))
    Document.objects.bulk_create([Document(name=str(i), file="l.txt") for i in range(100)])
    sent = []
    s3_default.client.meta.events.register("before-send", lambda **kw: sent.append(kw))
    s3_default.url("warm-up.txt")  # resolves the URL template once per storage
    sent.clear()
    urls = [d.file.url for d in Document.objects.all()]
    assert len(urls) == 100 and all("X-Amz-Signature=" in u for u in urls)
    assert sent == []


def test_delete_method(s3_default, s3, bucket):
    s3_default.save("del.txt", ContentFile(b"d"))
    doc = Document.objects.create(name="d", file="del.txt")
    doc.file.delete()
    assert list_keys(s3, bucket) == []
    doc.refresh_from_db()
    assert doc.file is None


def test_deconstruct_is_serialisable():
    from django.db.migrations.writer import MigrationWriter

    field = Avatar._meta.get_field("image")
    name, path, args, kwargs = field.deconstruct()
    assert path == "buckets.fields.S3FileField"
    assert kwargs == {
        "blank": True,
        "upload_to": "avatars/",
        "max_size": 1024 * 1024,
        "accepted_types": ["image/*"],
    }
    MigrationWriter.serialize(field)  # raises if anything can't be written to a migration
    clone = type(field)(*args, **kwargs)
    assert clone.deconstruct()[3] == kwargs


def test_makemigrations_twice_gives_no_new_migration(settings, tmp_path, monkeypatch):
    """deconstruct() round-trips: a second makemigrations finds nothing to do."""
    import io
    import sys

    from django.core.management import call_command

    package = tmp_path / "tmp_testapp_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.MIGRATION_MODULES = {"testapp": "tmp_testapp_migrations"}
    call_command("makemigrations", "testapp", stdout=io.StringIO())
    assert list(package.glob("0001_*.py"))
    assert "S3FileField" in next(package.glob("0001_*.py")).read_text()
    out = io.StringIO()
    call_command("makemigrations", "testapp", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    sys.modules.pop("tmp_testapp_migrations", None)


# -- the staging prefix is for uploads only ---------------------------------------------------


def isolated_field(**kwargs):
    """An ``S3FileField`` on a throw-away model (not in the app registry, no table)."""
    from django.db import models
    from django.test.utils import isolate_apps

    from buckets.fields import S3FileField

    with isolate_apps("tests.testapp"):

        class Throwaway(models.Model):
            file = S3FileField(**kwargs)

            class Meta:
                app_label = "testapp"

    return Throwaway._meta.get_field("file")


def check_ids(field) -> list[str]:
    return [message.id for message in field.check()]


@pytest.mark.parametrize("upload_to", ["uploads/", "uploads", "./uploads/x/", "uploads/%Y/%m/"])
def test_check_refuses_upload_to_under_the_staging_prefix(upload_to):
    field = isolated_field(upload_to=upload_to)
    (error,) = [m for m in field.check() if m.id == "buckets.E103"]
    assert "'uploads/'" in error.msg  # names the prefix


@pytest.mark.parametrize("upload_to", ["", "avatars/", "uploads_done/", "docs/uploads/", "%Y/"])
def test_check_accepts_upload_to_elsewhere(upload_to):
    assert "buckets.E103" not in check_ids(isolated_field(upload_to=upload_to))


def test_check_follows_the_storage_staging_prefix():
    from buckets.storage import S3Storage

    incoming = S3Storage(upload_prefix="incoming")
    assert "buckets.E103" not in check_ids(isolated_field(upload_to="uploads/", storage=incoming))
    assert "buckets.E103" in check_ids(isolated_field(upload_to="incoming/", storage=incoming))


def test_string_upload_to_under_the_prefix_refused_at_save(s3_default, s3, bucket):
    field = isolated_field(upload_to="uploads/")
    row = field.model(file=ContentFile(b"precious", name="contract.pdf"))
    with pytest.raises(ValidationError) as exc:
        row.save()  # refused before any SQL: the throw-away model needs no table
    assert exc.value.code == "under_staging"
    assert list_keys(s3, bucket) == []


def test_callable_upload_to_under_the_prefix_refused_at_save(s3_default, s3, bucket):
    row = Folder(folder="uploads", file=ContentFile(b"precious", name="contract.pdf"))
    with pytest.raises(ValidationError) as exc:
        row.save()
    assert "staging prefix uploads/" in exc.value.messages[0]
    staged = direct_upload(s3_default, "uploads/s1/photo.png", b"img")
    with pytest.raises(ValidationError):
        Folder.objects.create(folder="uploads/sub", file=staged)
    assert list_keys(s3, bucket) == ["uploads/s1/photo.png"]  # nothing written, nothing moved
    assert not Folder.objects.exists()
    ok = Folder.objects.create(folder="albums", file=staged)
    assert ok.file.name == "albums/photo.png"


def test_move_of_a_vanished_staged_upload_is_a_validation_error(s3_default, s3, bucket):
    """Moved already by an earlier save, or expired by the lifecycle rule: no 500."""
    url = direct_upload(s3_default, "uploads/g1/gone.txt", b"g")
    s3_default.delete("uploads/g1/gone.txt")
    with pytest.raises(ValidationError) as exc:
        Document.objects.create(name="g", file=url)
    assert exc.value.code == "gone"
    assert "expired or was already used" in exc.value.messages[0]
    assert list_keys(s3, bucket) == []  # no placeholder left behind
    assert not Document.objects.exists()


# -- what is deleted as an orphan -------------------------------------------------------------


def test_the_default_is_never_deleted_as_an_orphan(s3_default, s3, bucket):
    # Even marked as the field's own, the default stays.
    mark = Profile._meta.get_field("avatar").written_mark
    s3_default.save("defaults/avatar.png", ContentFile(b"default"), metadata=mark)
    profile = Profile.objects.create()
    assert profile.avatar.name == "defaults/avatar.png"
    profile.avatar = ContentFile(b"me", name="me.png")
    profile.save()  # the only row that used the default
    assert sorted(list_keys(s3, bucket)) == ["defaults/avatar.png", "me.png"]
    assert Profile.objects.create().avatar.read() == b"default"
    profile.avatar = None
    profile.save()  # me.png was this field's own: it goes
    assert sorted(list_keys(s3, bucket)) == ["defaults/avatar.png"]


def test_objects_outside_upload_to_are_not_deleted_as_orphans(s3_default, s3, bucket):
    """A key set by code outside the field's folder (a shared asset) is never its to delete."""
    s3_default.save("shared/logo.png", ContentFile(b"logo"))
    avatar = Avatar.objects.create(image="shared/logo.png")
    url = direct_upload(s3_default, "uploads/o1/me.png", b"me", "image/png")
    avatar.image = url
    avatar.save()
    assert sorted(list_keys(s3, bucket)) == ["avatars/me.png", "shared/logo.png"]
    avatar.image = None
    avatar.save()  # avatars/me.png is in the field's folder: deleted
    assert list_keys(s3, bucket) == ["shared/logo.png"]


@pytest.mark.parametrize(
    ("upload_to", "folder"),
    [("", ""), ("avatars/", "avatars/"), ("a/b", "a/b/"), ("./a/", "a/"), ("d/%Y/%m/", "d/")],
)
def test_upload_to_folder(upload_to, folder):
    assert upload_to_folder(upload_to) == folder


# -- max_length --------------------------------------------------------------------------------


def test_check_warns_when_max_length_cannot_hold_a_staging_name():
    from buckets.uploads.staging import MAX_FILENAME_LENGTH, max_upload_name_length

    assert max_upload_name_length("uploads/") == len("uploads/") + 48 + 1 + MAX_FILENAME_LENGTH
    (warning,) = [m for m in isolated_field(max_length=100).check() if m.id == "buckets.W101"]
    assert "100" in warning.msg and "207" in warning.msg
    assert "buckets.W101" not in check_ids(isolated_field(max_length=207))
    assert "buckets.W101" not in check_ids(isolated_field())


def test_staging_name_is_not_length_validated(s3_default, s3, bucket):
    """The staging key is long; what is stored is the final name, cut to max_length on save."""
    field = isolated_field(upload_to="s/", max_length=40)
    url = direct_upload(s3_default, f"uploads/{'f' * 48}/{'n' * 30}.txt", b"x")
    row = field.model(file=url)
    row.full_clean()  # no "at most 40 characters" for the staging key
    row.file = "x" * 41
    with pytest.raises(ValidationError) as exc:
        row.full_clean()  # a final name is still checked
    assert "at most 40 characters" in exc.value.message_dict["file"][0]


# -- null, accepted_types ---------------------------------------------------------------------


def test_null_true_stores_null(s3_default):
    from django.db import connection

    profile = Profile.objects.create(attachment=None)
    cleared = Profile.objects.create(attachment="")
    with connection.cursor() as cursor:
        cursor.execute("SELECT attachment FROM testapp_profile ORDER BY id")
        assert cursor.fetchall() == [(None,), (None,)]
    assert Profile.objects.filter(attachment__isnull=True).count() == 2
    profile.refresh_from_db()
    assert profile.attachment is None and cleared.attachment is None
    # Without null=True, empty is "" (the existing behaviour, as FileField).
    with connection.cursor() as cursor:
        cursor.execute("SELECT avatar FROM testapp_profile WHERE avatar = ''")
        assert cursor.fetchall() == []
    Profile.objects.create(avatar=None)
    assert Profile.objects.filter(avatar="").count() == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("image/png", ["image/png"]),
        ("image/png, application/pdf", ["image/png", "application/pdf"]),
        (("image/*",), ["image/*"]),
        ([" image/* ", ""], ["image/*"]),
        ("", None),
        ([], None),
    ],
)
def test_accepted_types_forms(given, expected):
    from buckets.fields import S3FileField

    field = S3FileField(accepted_types=given)
    assert field.accepted_types == expected
    kwargs = field.deconstruct()[3]
    assert kwargs.get("accepted_types") == expected
    assert S3FileField(**kwargs).accepted_types == expected


def test_under_staging_message_is_translatable():
    from django.utils.functional import Promise

    assert isinstance(Folder._meta.get_field("file").error_messages["under_staging"], Promise)


# -- on both storages: moves never overwrite, only the field's own objects are orphans --------


@pytest.fixture(params=["rgw", "fake"])
def backend(request):
    """The default storage: on a fresh RGW bucket, then on the fake."""
    if request.param == "rgw":
        return request.getfixturevalue("s3_default")
    return request.getfixturevalue("buckets_fake_storage")


def configure(settings, **aws):
    """The default storage with more ``AWS`` settings (storages reset on the change)."""
    from django.core.files.storage import default_storage

    settings.AWS = {**settings.AWS, **aws}
    return default_storage


def stage(storage, field, body: bytes, filename: str, user=None) -> str:
    """A direct upload for ``field``, as the browser leaves it under the staging prefix."""
    from buckets.uploads import staging as uploads

    prefix = storage.settings.upload_prefix
    name = uploads.new_upload_name(filename, field_label=field.label, user=user, prefix=prefix)
    assert storage.save(name, ContentFile(body)) == name
    return name


def read(storage, name: str) -> bytes:
    with storage.open(name) as f:
        return f.read()


def test_a_move_out_of_staging_never_overwrites_even_with_file_overwrite(backend, settings):
    """file_overwrite=True (django-storages' default) must not let Bob's ``me.png``
    replace Alice's ``avatars/me.png``: a move always takes a free name."""
    storage = configure(settings, FILE_OVERWRITE=True)
    assert storage.file_overwrite
    field = Avatar._meta.get_field("image")
    alice = Avatar.objects.create(image=stage(storage, field, b"alice", "me.png"))
    assert alice.image.name == "avatars/me.png"
    bob = Avatar.objects.create(image=stage(storage, field, b"bob", "me.png"))
    assert bob.image.name.startswith("avatars/me_") and bob.image.name.endswith(".png")
    assert read(storage, "avatars/me.png") == b"alice"
    assert read(storage, bob.image.name) == b"bob"
    # A File saved through the field follows file_overwrite, as Django's FileField does.
    carol = Avatar.objects.create(image=ContentFile(b"carol", name="me.png"))
    assert carol.image.name == "avatars/me.png"
    assert read(storage, "avatars/me.png") == b"carol"


def test_the_field_marks_the_objects_it_writes(backend, settings):
    storage = configure(settings, OBJECT_PARAMETERS={"Metadata": {"Team": "docs"}})
    doc = Document.objects.create(name="f", file=ContentFile(b"1", name="one.txt"))
    mark = {"buckets-field": "testapp.document.file"}
    assert storage.metadata(doc.file.name) == {**mark, "team": "docs"}
    doc.file = stage(storage, Document._meta.get_field("file"), b"2", "two.txt")
    doc.save()
    assert doc.file.name == "two.txt"
    assert storage.metadata("two.txt") == {**mark, "team": "docs"}
    assert Document._meta.get_field("file").wrote("two.txt")
    assert not Avatar._meta.get_field("image").wrote("two.txt")
    assert not Document._meta.get_field("file").wrote("missing.txt")


@pytest.mark.parametrize("given", ["key", "url"])
def test_objects_the_field_did_not_write_are_never_deleted_as_orphans(backend, given):
    """API code may set any key or URL of the storage (the spec); clearing or replacing it
    later must not delete an object the field never wrote: another user's, or an asset."""
    storage = backend
    victim = Avatar.objects.create(image=ContentFile(b"victim", name="victim.png"))
    storage.save("assets/logo.png", ContentFile(b"logo"))
    for key in (victim.image.name, "assets/logo.png"):
        value = key if given == "key" else storage.url(key)
        if value.startswith("/"):  # the fake's relative URL, on a host the site answers to
            value = "http://testserver" + value
        # upload_to "" (any folder) and a callable upload_to: no folder rule protects it.
        doc = Document.objects.create(name="x", file=value)
        folder = Folder.objects.create(folder="avatars", file=value)
        assert (doc.file.name, folder.file.name) == (key, key)
        doc.file = ""
        doc.save()
        folder.file = ContentFile(b"mine", name="mine.png")
        folder.save()
        assert read(storage, key) in (b"victim", b"logo")
    # What the field wrote itself still goes when replaced or cleared.
    mine = Folder.objects.get(pk=folder.pk).file.name
    folder.file = None
    folder.save()
    assert not storage.exists(mine)


def test_rows_the_default_manager_hides_still_keep_their_object(backend):
    """Regression: references were counted through the default manager, so a row it hides
    (soft deleted, archived, another tenant's) did not count, and replacing the file of
    the one visible row deleted the object the archived row still points at."""
    storage = backend
    live = Archivable.objects.create(file=ContentFile(b"shared", name="shared.txt"))
    Archivable.objects.create(file=live.file.name, archived=True)
    assert Archivable.objects.count() == 1 and Archivable.every.count() == 2
    live.file = ContentFile(b"new", name="new.txt")
    live.save()
    assert read(storage, "shared.txt") == b"shared"
    # What only the visible row held still goes when it is cleared, as before.
    live.file = None
    live.save()
    assert not storage.exists("new.txt")
    assert read(storage, "shared.txt") == b"shared"


def test_a_dotted_key_is_stored_as_the_clean_name(backend):
    """``a/./b`` names the object ``a/b`` (tests/conformance/test_storage_api.py): the
    column holds that name, so references to one object are counted under one name."""
    storage = backend
    assert storage.save("dots/a.txt", ContentFile(b"dots")) == "dots/a.txt"
    doc = Document.objects.create(name="d", file="dots/./a.txt")
    assert doc.file.name == "dots/a.txt"
    assert Document.objects.get(pk=doc.pk).file.name == "dots/a.txt"
    assert Document.objects.filter(file="dots/a.txt").count() == 1
    assert read(storage, doc.file.name) == b"dots"


def test_a_moved_upload_gets_the_object_parameters(backend, settings):
    """A direct upload carries none of the headers ``object_parameters`` set: the move
    writes them (and the Content-Type the upload was made with stays)."""
    field = Document._meta.get_field("file")
    staged = stage(backend, field, b"report", "report.txt")
    params = {"CacheControl": "max-age=86400", "ContentDisposition": "attachment"}
    storage = configure(settings, OBJECT_PARAMETERS=params)
    doc = Document.objects.create(name="p", file=staged)
    if hasattr(storage, "client"):
        head = storage.client.head_object(Bucket=storage.bucket_name, Key=doc.file.name)
        got = (head["CacheControl"], head["ContentDisposition"], head["ContentType"])
    else:
        from buckets.test.disk import read_headers, read_meta

        path = storage.key_path(doc.file.name)
        headers = read_headers(path)
        got = (headers["Cache-Control"], headers["Content-Disposition"], read_meta(path)[0])
    assert got == ("max-age=86400", "attachment", "text/plain")


def test_a_move_into_a_missing_bucket_is_an_error_not_an_expired_upload(s3_default, settings):
    from buckets.storage.s3io import NoSuchBucketError

    configure(settings, BUCKET="no-such-bucket-buckets-test")
    with pytest.raises(NoSuchBucketError):
        Document.objects.create(name="m", file=f"uploads/{'a' * 48}/m.txt")
    assert not Document.objects.exists()
