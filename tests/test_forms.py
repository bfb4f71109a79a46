"""The form side: only values from a signed upload for this field (and user) are accepted."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from buckets import uploads
from buckets.forms import S3FileFormField, S3FileFormMixin
from tests.rgw import list_keys
from tests.testapp.models import Avatar, Document

pytestmark = pytest.mark.django_db(transaction=True)


class DocumentForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Document
        fields = ["name", "file"]


class AvatarForm(S3FileFormMixin, forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["image", "pdf"]


def staged(storage, field, user, filename="photo.png", body=b"img"):
    name = uploads.new_upload_name(
        filename, field_label=field.label, user=user, prefix=storage.settings.upload_prefix
    )
    storage.save(name, ContentFile(body))
    return name


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="pw")


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password="pw")


def test_formfield_and_widget_rendering():
    form = DocumentForm()
    field = form.fields["file"]
    assert isinstance(field, S3FileFormField)
    html = str(form["file"])
    assert 'type="hidden" name="file"' in html
    file_input = html[html.index('type="file"') - 200 : html.index('type="file"') + 200]
    assert "name=" not in file_input.split("<input")[-1].split(">")[0]
    assert "buckets/js/upload.js" in str(form.media)


def test_signed_upload_for_this_field_is_accepted_and_moved(s3_default, s3, bucket, alice):
    field = Avatar._meta.get_field("image")
    name = staged(s3_default, field, alice)
    form = AvatarForm({"image": name, "pdf": ""}, user=alice)
    assert form.is_valid(), form.errors
    avatar = form.save()
    assert avatar.image.name == "avatars/photo.png"
    assert list_keys(s3, bucket) == ["avatars/photo.png"]


def test_upload_of_another_user_is_refused(s3_default, s3, bucket, alice, bob):
    field = Avatar._meta.get_field("image")
    name = staged(s3_default, field, alice)
    form = AvatarForm({"image": name, "pdf": ""}, user=bob)
    assert not form.is_valid()
    assert "not uploaded through this form" in form.errors["image"][0]
    assert list_keys(s3, bucket) == [name]  # nothing moved or deleted


def test_upload_for_another_field_is_refused(s3_default, s3, bucket, alice):
    pdf_field = Avatar._meta.get_field("pdf")
    name = staged(s3_default, pdf_field, alice)
    form = AvatarForm({"image": name, "pdf": ""}, user=alice)
    assert not form.is_valid()
    assert "image" in form.errors
    assert list_keys(s3, bucket) == [name]


@pytest.mark.parametrize("value", ["other.txt", "uploads/0123456789abcdef0123456789abcdef/x.txt"])
def test_arbitrary_keys_refused(s3_default, s3, bucket, alice, value):
    s3_default.save("other.txt", ContentFile(b"someone else's"))
    form = DocumentForm({"name": "n", "file": value}, user=alice)
    assert not form.is_valid()
    assert "file" in form.errors
    assert Document.objects.count() == 0


def test_foreign_url_refused_with_readable_message(s3_default, alice):
    form = DocumentForm({"name": "n", "file": "https://evil.example.com/x"}, user=alice)
    assert not form.is_valid()
    assert form.errors["file"] == ["This is not the address of a file in this site's storage."]


def test_unchanged_value_and_clear(s3_default, s3, bucket, alice):
    s3_default.save("avatars/old.png", ContentFile(b"old"))
    avatar = Avatar.objects.create(image="avatars/old.png")
    form = AvatarForm({"image": "avatars/old.png", "pdf": ""}, instance=avatar, user=alice)
    assert form.is_valid(), form.errors
    assert not form.has_changed()
    form.save()
    assert list_keys(s3, bucket) == ["avatars/old.png"]
    cleared = AvatarForm({"image": "", "pdf": ""}, instance=avatar, user=alice)
    assert cleared.is_valid()
    cleared.save()
    avatar.refresh_from_db()
    assert avatar.image is None
    assert list_keys(s3, bucket) == []  # the cleared object goes after commit


def test_replace_through_form(s3_default, s3, bucket, alice):
    s3_default.save("avatars/old.png", ContentFile(b"old"))
    avatar = Avatar.objects.create(image="avatars/old.png")
    name = staged(s3_default, Avatar._meta.get_field("image"), alice, "new.png")
    form = AvatarForm({"image": name, "pdf": ""}, instance=avatar, user=alice)
    assert form.is_valid(), form.errors
    form.save()
    assert list_keys(s3, bucket) == ["avatars/new.png"]


def test_rendered_values_are_escaped(s3_default):
    avatar = Avatar(image='avatars/"><img src=x onerror=alert(1)>.png')
    html = str(AvatarForm(instance=avatar)["image"])
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
