"""The upload view's policies, enforced by each server: the view (``/s3/signed-url/``)
signs for the site's default storage on the target, ``requests`` posts as a browser does,
and the server decides. Every refusal is asserted on the status and ``<Code>`` and by
listing the bucket: nothing may be stored.

The refusals of hand-edited forms (tampered signature, edited or expired policy, fields the
policy does not cover) are ``test_post.py``'s; these are the view's own limits.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory

from buckets.uploads.staging import check_upload_name, field_token
from buckets.uploads.views import signed_url
from tests.conformance.conftest import Target, assert_error
from tests.testapp.models import Avatar

pytestmark = [pytest.mark.rgw, pytest.mark.django_db(transaction=True)]

URL = "/s3/signed-url/"


@pytest.fixture
def site(target: Target, settings: Any) -> Target:
    """The target as the site's default storage (the fake already is)."""
    if target.real:
        options = target.options
        settings.AWS = {
            "BUCKET": options["bucket_name"],
            "ACCESS_KEY": options["access_key"],
            "SECRET_KEY": options["secret_key"],
            "REGION": options["region_name"],
            "ENDPOINT_URL": options["endpoint_url"],
            "ADDRESSING_STYLE": options["addressing_style"],
        }
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "buckets.storage.S3Storage"},
        }
    assert default_storage.bucket_name == target.bucket  # the view's storage is the target's
    return target


@pytest.fixture
def client(site: Target, django_user_model: Any) -> Client:
    c = Client()
    c.force_login(django_user_model.objects.create_user("alice"))
    return c


def sign(client: Client, **body: Any) -> dict[str, str]:
    """The view's fields for one upload (its URL is the target's upload URL)."""
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    signed: dict[str, Any] = response.json()
    return signed["fields"]


def post(site: Target, fields: dict[str, str], content: bytes, filename: str = "file.txt") -> Any:
    """What a browser does: every field in order, then the file, last, named ``file``."""
    return requests.post(site.url, data=fields, files={"file": (filename, content)}, timeout=30)


def test_the_view_signs_for_the_targets_upload_url(client: Client, site: Target) -> None:
    response = client.post(URL, json.dumps({"key": "f.txt"}), content_type="application/json")
    assert urlsplit(response.json()["url"]).path == urlsplit(site.url).path


def test_upload_with_the_signed_fields_stores_the_object(client: Client, site: Target) -> None:
    fields = sign(client, key="file.txt")
    response = post(site, fields, b"hello, bucket")
    assert response.status_code == 204, response.content
    assert site.keys() == [fields["key"]]
    assert site.get(fields["key"]) == (b"hello, bucket", "text/plain")
    assert requests.get(site.storage_url(fields["key"]), timeout=30).content == b"hello, bucket"


def test_unicode_file_name(client: Client, site: Target) -> None:
    fields = sign(client, key="Relevé d'été №2.pdf")
    assert fields["key"].endswith("/Relevé_dété_2.pdf")
    response = post(site, fields, b"%PDF-1.4", filename="x.pdf")
    assert response.status_code == 204, response.content
    assert site.keys() == [fields["key"]]


def test_file_above_the_fields_limit_is_refused(client: Client, site: Target) -> None:
    pdf = field_token(Avatar._meta.get_field("pdf"))  # max_size=2048
    fields = sign(client, key="doc.pdf", field=pdf)
    assert_error(post(site, fields, b"x" * 2049), 400, "EntityTooLarge")
    assert site.keys() == []
    # The limit is inclusive: the same policy takes exactly 2048 bytes.
    assert post(site, fields, b"x" * 2048).status_code == 204
    assert site.keys() == [fields["key"]]


def test_file_above_max_file_size_is_refused(client: Client, site: Target, settings: Any) -> None:
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 10}
    fields = sign(client, key="file.txt")
    assert_error(post(site, fields, b"x" * 11), 400, "EntityTooLarge")
    assert site.keys() == []


def test_empty_file_is_refused(client: Client, site: Target) -> None:
    fields = sign(client, key="file.txt")
    assert_error(post(site, fields, b""), 400, "EntityTooSmall")
    assert site.keys() == []


@pytest.mark.parametrize(
    "other_key", ["avatars/someone-else.png", "file.txt", "uploads/0123456789abcdef/file.txt"]
)
def test_changed_key_is_refused(client: Client, site: Target, other_key: str) -> None:
    fields = {**sign(client, key="file.txt"), "key": other_key}
    assert_error(post(site, fields, b"data"), 403, "AccessDenied")
    assert site.keys() == []


def test_key_of_another_signing_is_refused(client: Client, site: Target) -> None:
    mine, theirs = sign(client, key="file.txt"), sign(client, key="file.txt")
    fields = {**mine, "key": theirs["key"]}
    assert_error(post(site, fields, b"data"), 403, "AccessDenied")
    assert site.keys() == []


@pytest.mark.parametrize("content_type", ["text/html", "application/pdf", "image"])
def test_content_type_outside_accepted_types_is_refused(
    client: Client, site: Target, content_type: str
) -> None:
    image = field_token(Avatar._meta.get_field("image"))  # accepted_types=["image/*"]
    fields = sign(client, key="me.png", field=image)
    assert fields["Content-Type"] == "image/png"
    assert_error(
        post(site, {**fields, "Content-Type": content_type}, b"<html>"), 403, "AccessDenied"
    )
    without = {k: v for k, v in fields.items() if k != "Content-Type"}
    assert_error(post(site, without, b"<html>"), 403, "AccessDenied")
    assert site.keys() == []


def test_users_uploading_file_txt_at_once_get_their_own_keys(site: Target) -> None:
    """They sign and upload at the same moment: distinct keys, intact objects, each key
    bound to its user."""
    users = [User(pk=i, username=f"user{i}") for i in range(1, 9)]
    barrier = threading.Barrier(len(users), timeout=60)

    def sign_and_upload(user: User) -> tuple[str, bytes]:
        request = RequestFactory().post(
            URL, json.dumps({"key": "file.txt"}), content_type="application/json"
        )
        request.user = user
        barrier.wait()
        response = signed_url(request)
        assert response.status_code == 200, response.content
        fields = json.loads(response.content)["fields"]
        content = f"{user.username}'s file ".encode() * (100 * user.pk)  # distinct lengths
        barrier.wait()
        uploaded = post(site, fields, content)
        assert uploaded.status_code == 204, uploaded.content
        return fields["key"], content

    with ThreadPoolExecutor(len(users)) as pool:
        results = list(pool.map(sign_and_upload, users))

    keys = [key for key, _ in results]
    assert len(set(keys)) == len(users)
    assert all(key.endswith("/file.txt") for key in keys)
    assert site.keys() == sorted(keys)
    for user, (key, content) in zip(users, results, strict=True):
        assert site.get(key)[0] == content
        assert check_upload_name(key, field_label=None, user=user)
    assert not check_upload_name(keys[0], field_label=None, user=users[1])
