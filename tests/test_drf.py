"""Django REST framework: a plain ``ModelSerializer`` on a model with an ``S3FileField``
(``tests/testapp/api.py``) checks a client's value as the form field does.

Through the viewset, on RGW and on the fake: a foreign URL, ``javascript:``, ``../``,
another user's staged upload and a missing key are each a 400 in DRF's error shape and
create nothing; the owner's upload (signed through ``/s3/signed-url/`` with the same token,
uploaded to the bucket) is a 201 and the object is moved under ``upload_to``. Token and
session authentication both work, CSRF included; anonymous clients are refused. And the app
works without DRF installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from buckets import uploads
from buckets.drf import S3FileSerializerField
from tests.site_settings import apply, fake_site, s3_site
from tests.testapp.api import AvatarSerializer
from tests.testapp.models import Avatar, Document

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.7 the owner's report"
FIELD = Avatar._meta.get_field("pdf")

pytestmark = pytest.mark.django_db(transaction=True)  # after-commit clean-up runs for real


@pytest.fixture(params=["rgw", "fake"])
def site(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Any:
    """The test site with the DRF API; the default storage on RGW or on the fake."""
    if request.param == "rgw":
        values = s3_site(request.getfixturevalue("rgw"), request.getfixturevalue("bucket"))
    else:
        values = fake_site(tmp_path)
    storage = apply(settings, values)
    settings.ROOT_URLCONF = "tests.drf_urls"
    settings.BUCKETS_UPLOAD_PERMISSION = "buckets.drf.drf_user"  # as the API authenticates
    return storage


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password="alice-password")


@pytest.fixture
def bob() -> User:
    return User.objects.create_user("bob", password="bob-password")


def put_in_bucket(storage: Any, signed: dict[str, Any], filename: str, body: bytes) -> None:
    """POST the file to the bucket as a browser or API client does: to RGW itself, or to
    the fake's endpoint on this test site."""
    fields = signed["fields"]
    if storage.__class__.__name__ == "FakeS3Storage":
        upload = SimpleUploadedFile(filename, body, content_type=fields["Content-Type"])
        response: Any = Client().post(urlsplit(signed["url"]).path, {**fields, "file": upload})
    else:
        response = requests.post(
            signed["url"], data=fields, files={"file": (filename, body)}, timeout=30
        )
    assert response.status_code == 204, response.content


def sign_and_upload(client: APIClient, storage: Any, filename: str = "report.pdf") -> str:
    """The client's upload for ``Avatar.pdf``: its field token from the API, a policy from
    ``/s3/signed-url/`` (authenticated as the API is), the file to the bucket."""
    tokens = client.get("/api/avatars/upload_fields/").json()
    answer = client.post(
        "/s3/signed-url/",
        {"key": filename, "content_type": "application/pdf", "field": tokens["pdf"]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    signed = answer.json()
    put_in_bucket(storage, signed, filename, PDF)
    return str(signed["fields"]["key"])


def fetch(url: str) -> bytes:
    """The bytes at an object URL the API gave (the fake's are on this test site)."""
    if urlsplit(url).netloc == "testserver":
        parts = urlsplit(url)
        response: Any = Client().get(parts.path + ("?" + parts.query if parts.query else ""))
        return b"".join(response.streaming_content) if response.streaming else response.content
    return requests.get(url, timeout=30).content


# -- the mapping ---------------------------------------------------------------------------


def test_model_serializer_maps_the_field_and_nothing_else() -> None:
    fields = AvatarSerializer().fields
    assert isinstance(fields["pdf"], S3FileSerializerField)
    assert fields["pdf"].model_field is FIELD
    assert not fields["pdf"].required  # blank=True

    class Named(serializers.ModelSerializer):  # type: ignore[type-arg]
        class Meta:
            model = Document
            fields = ["name", "file"]

    named = Named().fields
    assert type(named["name"]) is serializers.CharField
    assert isinstance(named["file"], S3FileSerializerField) and named["file"].required


# -- the acceptance, through the viewset -----------------------------------------------------


def test_owners_upload_is_created_and_moved_under_upload_to(site: Any, alice: User) -> None:
    client = token_client(alice)
    staged = sign_and_upload(client, site)
    response = client.post("/api/avatars/", {"pdf": staged}, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()["pdf"]
    assert answer["key"].startswith("pdfs/") and answer["key"].endswith("report.pdf")
    assert Avatar.objects.get().pdf.name == answer["key"]
    assert site.exists(answer["key"]) and not site.exists(staged)  # moved, staging cleaned
    assert fetch(answer["url"]) == PDF

    # Read back: the same key and a working URL (signed on a private bucket).
    again = client.get(f"/api/avatars/{response.json()['id']}/").json()["pdf"]
    assert again["key"] == answer["key"] and fetch(again["url"]) == PDF


def staged_for(storage: Any, user: Any, filename: str = "x.pdf", upload: bool = True) -> str:
    """A staging name signed for ``Avatar.pdf`` and ``user``, stored (or not)."""
    prefix = storage.settings.upload_prefix
    name = uploads.new_upload_name(filename, field_label=FIELD.label, user=user, prefix=prefix)
    if upload:
        assert storage.save(name, ContentFile(PDF)) == name
    return name


HOSTILE: dict[str, Any] = {
    "foreign-url": lambda storage, users: "https://evil.example.com/pdfs/report.pdf",
    "javascript": lambda storage, users: "javascript:alert(document.cookie)",
    "climbing": lambda storage, users: "../../etc/passwd",
    "climbing-under-staging": lambda storage, users: "uploads/../pdfs/other.pdf",
    "another-users-upload": lambda storage, users: staged_for(storage, users["bob"]),
    "missing-key": lambda storage, users: "pdfs/never-uploaded.pdf",
    "signed-but-missing": lambda storage, users: staged_for(storage, users["alice"], upload=False),
    "not-a-string": lambda storage, users: 12,
    "a-list": lambda storage, users: ["pdfs/a.pdf"],
    "nul": lambda storage, users: "pdfs/nul\x00.pdf",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_values_are_400_and_create_nothing(
    site: Any, alice: User, bob: User, case: str
) -> None:
    value = HOSTILE[case](site, {"alice": alice, "bob": bob})
    client = token_client(alice)
    response = client.post("/api/avatars/", {"pdf": value}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == ["pdf"] and all(isinstance(m, str) and m for m in errors["pdf"])
    assert not Avatar.objects.exists()


def test_update_keeps_the_value_sent_back_and_refuses_another(
    site: Any, alice: User, bob: User
) -> None:
    client = token_client(alice)
    created = client.post("/api/avatars/", {"pdf": sign_and_upload(client, site)}, format="json")
    url = f"/api/avatars/{created.json()['id']}/"
    current = created.json()["pdf"]
    for unchanged in (current, current["key"]):  # the answer itself, or its key
        response = client.put(url, {"pdf": unchanged}, format="json")
        assert response.status_code == 200 and response.json()["pdf"]["key"] == current["key"]
    bobs = staged_for(site, bob)
    assert client.patch(url, {"pdf": bobs}, format="json").status_code == 400
    assert Avatar.objects.get().pdf.name == current["key"]
    cleared = client.patch(url, {"pdf": ""}, format="json")  # blank=True: may be cleared
    assert cleared.status_code == 200 and cleared.json()["pdf"] is None


# -- who: token, session (CSRF), anonymous ---------------------------------------------------


def test_another_users_token_cannot_use_an_upload(site: Any, alice: User, bob: User) -> None:
    staged = sign_and_upload(token_client(alice), site)
    response = token_client(bob).post("/api/avatars/", {"pdf": staged}, format="json")
    assert response.status_code == 400 and not Avatar.objects.exists()


def test_session_clients_need_the_csrf_token(site: Any, alice: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="alice-password")
    token = client.get("/api/avatars/upload_fields/").json()["pdf"]
    body = {"key": "report.pdf", "content_type": "application/pdf", "field": token}

    refused = client.post("/s3/signed-url/", body, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"][0]
    denied = client.post("/api/avatars/", {"pdf": ""}, format="json")
    assert denied.status_code == 403 and "CSRF" in denied.json()["detail"]

    secret = "k" * 32  # a CSRF cookie and the same token in the header, as a page sends them
    client.cookies["csrftoken"] = secret
    signed = client.post("/s3/signed-url/", body, format="json", HTTP_X_CSRFTOKEN=secret)
    assert signed.status_code == 200, signed.content
    put_in_bucket(site, signed.json(), "report.pdf", PDF)
    staged = signed.json()["fields"]["key"]
    created = client.post("/api/avatars/", {"pdf": staged}, format="json", HTTP_X_CSRFTOKEN=secret)
    assert created.status_code == 201, created.content
    assert created.json()["pdf"]["key"].startswith("pdfs/")


def test_anonymous_clients_are_refused(site: Any, alice: User) -> None:
    client = APIClient()
    field = uploads.field_token(FIELD)
    body = {"key": "report.pdf", "content_type": "application/pdf", "field": field}
    assert client.post("/s3/signed-url/", body, format="json").status_code == 403
    assert client.get("/api/avatars/upload_fields/").status_code == 401
    staged = staged_for(site, alice)
    assert client.post("/api/avatars/", {"pdf": staged}, format="json").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.post("/s3/signed-url/", body, format="json").status_code == 403
    assert not Avatar.objects.exists()


def test_anonymous_uploads_are_anonymous_only(site: Any, alice: User) -> None:
    """A serializer whose request is anonymous (an API open to anyone) takes an upload
    signed for nobody, never one signed for a user."""
    request = RequestFactory().post("/")
    request.user = AnonymousUser()
    context = {"request": request}
    nobodys = staged_for(site, AnonymousUser(), "anonymous.pdf")
    assert AvatarSerializer(data={"pdf": nobodys}, context=context).is_valid()
    alices = AvatarSerializer(data={"pdf": staged_for(site, alice)}, context=context)
    assert not alices.is_valid() and list(alices.errors) == ["pdf"]


# -- without DRF -----------------------------------------------------------------------------

WITHOUT_DRF = textwrap.dedent(
    """
    import sys
    sys.modules["rest_framework"] = None  # as if not installed: importing it fails
    import django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "buckets"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        AWS={"BUCKET": "b", "ACCESS_KEY": "ak", "SECRET_KEY": "sk"},
        STORAGES={"default": {"BACKEND": "buckets.storage.S3Storage"}},
        ROOT_URLCONF="buckets.urls",
        SECRET_KEY="x",
    )
    django.setup()
    from django.core.management import call_command
    import buckets.fields, buckets.forms, buckets.urls, buckets.views
    call_command("check")
    try:
        import buckets.drf
    except ImportError as exc:
        assert "pip install djangorestframework" in str(exc), exc
    else:
        raise AssertionError("buckets.drf imported without DRF")
    print("works without DRF")
    """
)


def test_the_app_works_without_drf() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DRF],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "works without DRF" in result.stdout
