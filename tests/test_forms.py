"""The form side: only values from a signed upload for this field (and user) are accepted."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from buckets import uploads
from buckets.fields.forms import S3FileFormField
from buckets.signing import content_types
from s3servers import list_keys
from tests.testapp.forms import AvatarForm, DocumentForm
from tests.testapp.models import Avatar, Document

pytestmark = pytest.mark.django_db(transaction=True)


def staged(storage, field, user, filename="photo.png", body=b"img"):
    label = None if field is None else field.label
    name = uploads.new_upload_name(
        filename, field_label=label, user=user, prefix=storage.settings.upload_prefix
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


@pytest.mark.parametrize(
    ("form_class", "name", "accept"),
    [
        (DocumentForm, "file", None),
        (AvatarForm, "image", ["image/*"]),
        (AvatarForm, "pdf", ["application/pdf"]),
    ],
)
def test_the_widget_carries_the_servers_type_rule(form_class, name, accept):
    """The script checks a chosen file with the very data the signing view decides with."""
    field = form_class._meta.model._meta.get_field(name)
    raw = re.search(r'data-type-rules="([^"]*)"', str(form_class()[name]))
    assert raw is not None
    rules = json.loads(unescape(raw.group(1)))
    assert rules == content_types.type_rules(field.accepted_types)
    assert rules["accept"] == accept


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
    assert "not uploaded for this field" in form.errors["image"][0]
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
    avatar = Avatar.objects.create(image=ContentFile(b"old", name="old.png"))  # the field's own
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
    avatar = Avatar.objects.create(image=ContentFile(b"old", name="old.png"))
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


# -- disabled fields ----------------------------------------------------------------------------


class DisabledDocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["name", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].disabled = True


@pytest.mark.parametrize("posted", [None, "", "other.txt", "https://evil.example.com/x"])
def test_disabled_field_keeps_its_value(s3_default, s3, bucket, posted):
    s3_default.save("keep/me.txt", ContentFile(b"keep"))
    s3_default.save("other.txt", ContentFile(b"other"))
    doc = Document.objects.create(name="a", file="keep/me.txt")
    data = {"name": "b"} if posted is None else {"name": "b", "file": posted}
    form = DisabledDocumentForm(data, instance=doc)
    assert form.is_valid(), form.errors
    assert not form["file"].field.has_changed(doc.file, posted)
    assert form.changed_data == ["name"]
    assert 'value="keep/me.txt"' in str(form["file"])  # rendered from the initial value
    form.save()
    doc.refresh_from_db()
    assert doc.file.name == "keep/me.txt" and doc.name == "b"
    assert sorted(list_keys(s3, bucket)) == ["keep/me.txt", "other.txt"]


def test_disabled_required_field_with_a_value_is_valid(s3_default):
    s3_default.save("keep/me.txt", ContentFile(b"keep"))
    doc = Document.objects.create(name="a", file="keep/me.txt")
    assert DisabledDocumentForm({"name": "b"}, instance=doc).is_valid()
    empty = DisabledDocumentForm({"name": "b"})
    assert not empty.is_valid()
    assert "required" in empty.errors["file"][0]


# -- a staged upload that is gone ---------------------------------------------------------------


def test_submitting_the_same_upload_twice_is_a_form_error(s3_default, s3, bucket, alice):
    """Double click, back button: the first save moved the staged object."""
    field = Avatar._meta.get_field("image")
    name = staged(s3_default, field, alice)
    first = AvatarForm({"image": name, "pdf": ""}, user=alice)
    assert first.is_valid(), first.errors
    first.save()
    again = AvatarForm({"image": name, "pdf": ""}, user=alice)
    assert not again.is_valid()
    assert again.errors["image"] == [
        "The upload has expired or was already used. Please upload the file again."
    ]
    assert list_keys(s3, bucket) == ["avatars/photo.png"]
    assert Avatar.objects.count() == 1


def test_expired_staged_upload_is_a_form_error(s3_default, alice):
    """The bucket's lifecycle rule removed the staged object before the form was saved."""
    name = staged(s3_default, Avatar._meta.get_field("image"), alice)
    s3_default.delete(name)
    form = AvatarForm({"image": name, "pdf": ""}, user=alice)
    assert not form.is_valid()
    assert "expired or was already used" in form.errors["image"][0]


# -- max_length -----------------------------------------------------------------------------------


@pytest.fixture
def short_model(transactional_db):
    """A model whose field is shorter than a staging name (so not in tests.testapp: it
    would warn, buckets.W101, at every manage.py check), with a table of its own."""
    from django.db import connection, models
    from django.test.utils import isolate_apps

    from buckets.fields import S3FileField

    with isolate_apps("tests.testapp"):

        class ShortName(models.Model):
            file = S3FileField(upload_to="s/", max_length=40, blank=True)

            class Meta:
                app_label = "testapp"

    with connection.schema_editor() as editor:
        editor.create_model(ShortName)
    yield ShortName
    with connection.schema_editor() as editor:
        editor.delete_model(ShortName)


def test_short_max_length_accepts_a_staging_name_and_cuts_the_final_name(
    s3_default, s3, bucket, alice, short_model
):
    field = short_model._meta.get_field("file")
    name = staged(s3_default, field, alice, "a-rather-long-file-name-for-this-field.txt")
    assert len(name) > 40
    ShortForm = forms.modelform_factory(short_model, fields=["file"])
    form = ShortForm({"file": name})
    assert form.is_valid(), form.errors
    row = form.save()
    assert len(row.file.name) <= 40 and row.file.name.startswith("s/a-rather")
    assert list_keys(s3, bucket) == [row.file.name]


def test_max_length_error_renders(s3_default, short_model):
    """ModelForm swaps in the form field's max_length message: it must take the model
    validator's params (FileField's %(max)d one raised KeyError while rendering)."""
    ShortForm = forms.modelform_factory(short_model, fields=["file"])
    legacy = short_model(file="s/" + "x" * 50)  # a row from before max_length was lowered
    form = ShortForm({"file": legacy.file.name}, instance=legacy)
    assert not form.is_valid()
    assert form.errors["file"] == ["Ensure this file name has at most 40 characters (it has 52)."]
    assert "at most 40 characters" in str(form.errors)


# -- the same check for API code: S3FileField.validate_upload -----------------------------------


def test_an_upload_signed_for_a_token_client_is_bound_to_its_user(s3_default, settings, alice, bob):
    """Regression (issue 12): the upload was bound to ``request.user``, anonymous for a
    client that authenticates by a header, so ``validate_upload(user=...)`` refused it.
    The user the permission check authenticated is the one it is bound to."""
    import requests
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import ValidationError
    from django.test import Client

    from tests.testapp.permissions import api_token

    settings.BUCKETS_UPLOAD_PERMISSION = "tests.testapp.permissions.token_user"
    field = Document._meta.get_field("file")
    api = Client()  # no session: request.user is anonymous
    body = {"key": "report.txt", "field": uploads.field_token(field)}
    refused = api.post("/s3/signed-url/", body, content_type="application/json")
    assert refused.status_code == 403
    response = api.post(
        "/s3/signed-url/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {api_token(alice)}",
    )
    assert response.status_code == 200, response.content
    signed = response.json()
    sent = requests.post(
        signed["url"], data=signed["fields"], files={"file": ("report.txt", b"hello")}
    )
    assert sent.status_code == 204, sent.text
    key = signed["fields"]["key"]
    assert field.validate_upload(key, user=alice) == key
    for other in (bob, AnonymousUser()):
        with pytest.raises(ValidationError) as caught:
            field.validate_upload(key, user=other)
        assert caught.value.code == "not_uploaded"
    document = Document.objects.create(name="report", file=field.validate_upload(key, user=alice))
    assert document.file.read() == b"hello"


@pytest.mark.parametrize(
    "value",
    ["\ud800.png", "avatars/\udfff", "a" * 8193, "http://testserver/media/s3/" + "%41" * 8000],
    ids=["lone-surrogate", "lone-surrogate-in-folder", "long-name", "long-url"],
)
def test_validate_upload_refuses_unparseable_values_with_a_validation_error(
    buckets_fake_storage, alice, value
):
    """Regression (issue 12): a lone surrogate (JSON allows one) raised UnicodeEncodeError,
    a 500 in an API view; a value of any length was parsed. Both are a ValidationError."""
    from django.core.exceptions import ValidationError

    image = Avatar._meta.get_field("image")
    for user in (alice, None):
        with pytest.raises(ValidationError):
            image.validate_upload(value, user=user)
    with pytest.raises(ValidationError):
        AvatarForm(user=alice).fields["image"].clean(value, "")


def test_a_permission_check_returning_true_binds_to_request_user(s3_default, settings, alice):
    """Hooks answering a bool work as before: the upload is bound to ``request.user``."""
    from django.test import Client

    settings.BUCKETS_UPLOAD_PERMISSION = lambda request, field: True
    client = Client()
    client.force_login(alice)
    response = client.post("/s3/signed-url/", {"key": "a.txt"}, content_type="application/json")
    key = response.json()["fields"]["key"]
    assert uploads.check_upload_name(key, field_label=None, user=alice)


def test_validate_upload_checks_a_value_as_the_form_does(buckets_fake_storage, alice, bob):
    """The README's API flow: a client posts a key or URL; the view checks it before
    giving it to the model, so nobody can point a row at an object they did not upload."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import ValidationError

    storage = buckets_fake_storage
    image = Avatar._meta.get_field("image")
    name = staged(storage, image, alice)
    assert image.validate_upload(name, user=alice) == name
    assert image.validate_upload("http://testserver" + storage.url(name), user=alice) == name
    assert image.validate_upload(name) == name  # no user given: the field binding only
    assert image.validate_upload("", user=alice) == ""
    victim = Avatar.objects.create(image=ContentFile(b"victim", name="victim.png"))
    refused = {
        "another user's upload": (name, bob),
        "an anonymous user": (name, AnonymousUser()),
        "another field's upload": (staged(storage, Avatar._meta.get_field("pdf"), alice), alice),
        "an upload for no field": (staged(storage, None, alice), alice),
        "someone's object": (victim.image.name, alice),
        "someone's object, by URL": ("http://testserver" + victim.image.url, alice),
        "a foreign URL": ("https://evil.example.com/avatars/victim.png", alice),
    }
    for case, (value, user) in refused.items():
        with pytest.raises(ValidationError) as caught:
            image.validate_upload(value, user=user)
        assert caught.value.code in ("not_uploaded", "foreign"), case
    # The instance's saved value, unchanged, is fine; on a new instance it is not.
    assert (
        image.validate_upload(victim.image.name, user=bob, instance=victim) == "avatars/victim.png"
    )
    with pytest.raises(ValidationError):
        image.validate_upload(
            victim.image.name, user=bob, instance=Avatar(image="avatars/victim.png")
        )
    # A staged upload that is gone (moved already, or expired) says so.
    storage.delete(name)
    with pytest.raises(ValidationError) as caught:
        image.validate_upload(name, user=alice)
    assert caught.value.code == "gone"
    assert "expired or was already used" in caught.value.messages[0]
