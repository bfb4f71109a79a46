"""The issue's acceptance, against a real Ceph RGW with ``requests`` as the browser.

The view signs; RGW (which enforces POST policies as AWS does) decides. Every rejection is
asserted on RGW's status and ``<Code>`` and by listing the bucket: nothing may be stored.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory

from buckets.signing import post_policy as policy
from buckets.uploads import check_upload_name, field_token, new_upload_name
from buckets.uploads.views import signed_url
from tests.rgw import RGW, list_keys
from tests.testapp.models import Avatar

pytestmark = [pytest.mark.rgw, pytest.mark.django_db]

URL = "/s3/signed-url/"


@pytest.fixture
def rgw_default_storage(s3_default: Any, bucket: str) -> Any:
    """``default_storage`` on a fresh RGW bucket (conftest's ``s3_default``).

    Changing ``STORAGES`` through the ``settings`` fixture sends ``setting_changed``, on
    which Django empties its storage cache and resets ``default_storage`` (the lazy object),
    so its next use builds a new ``S3Storage``; changing ``AWS`` resets live ``S3Storage``
    instances. Both are restored, and reset again, after the test.
    """
    assert default_storage.bucket_name == bucket  # the view's storage is this bucket's
    return s3_default


@pytest.fixture
def client(rgw_default_storage: Any, django_user_model: Any) -> Client:
    c = Client()
    c.force_login(django_user_model.objects.create_user("alice"))
    return c


def sign(client: Client, **body: Any) -> dict[str, Any]:
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    signed: dict[str, Any] = response.json()
    return signed


def post(url: str, fields: dict[str, str], content: bytes, filename: str = "file.txt") -> Any:
    """What a browser does: every field in order, then the file, last, named ``file``."""
    return requests.post(url, data=fields, files={"file": (filename, content)}, timeout=30)


def s3_code(response: Any) -> str | None:
    return ET.fromstring(response.content).findtext("Code")


def assert_refused(response: Any, status: int, *codes: str) -> None:
    assert response.status_code == status, (response.status_code, response.content)
    assert s3_code(response) in codes, response.content


def test_upload_with_the_signed_fields_stores_the_object(client: Client, s3: Any, bucket: str):
    signed = sign(client, key="file.txt")
    key = signed["fields"]["key"]
    response = post(signed["url"], signed["fields"], b"hello, bucket")
    assert response.status_code == 204, response.content
    assert list_keys(s3, bucket) == [key]
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert obj["Body"].read() == b"hello, bucket"
    assert obj["ContentType"] == "text/plain"
    # The object's URL is url + "/" + key; the storage's own URL serves it too.
    assert signed["url"].endswith(f"/{bucket}")
    assert requests.get(default_storage.url(key), timeout=30).content == b"hello, bucket"


def test_unicode_file_name(client: Client, s3: Any, bucket: str) -> None:
    signed = sign(client, key="Relevé d'été №2.pdf")
    assert signed["fields"]["key"].endswith("/Relevé_dété_2.pdf")
    response = post(signed["url"], signed["fields"], b"%PDF-1.4", filename="x.pdf")
    assert response.status_code == 204, response.content
    assert list_keys(s3, bucket) == [signed["fields"]["key"]]


def test_file_above_the_fields_limit_is_refused(client: Client, s3: Any, bucket: str) -> None:
    pdf = field_token(Avatar._meta.get_field("pdf"))  # max_size=2048
    signed = sign(client, key="doc.pdf", field=pdf)
    response = post(signed["url"], signed["fields"], b"x" * 2049)
    assert_refused(response, 400, "EntityTooLarge")
    assert list_keys(s3, bucket) == []
    # The limit is inclusive: the same policy takes exactly 2048 bytes.
    assert post(signed["url"], signed["fields"], b"x" * 2048).status_code == 204
    assert list_keys(s3, bucket) == [signed["fields"]["key"]]


def test_file_above_max_file_size_is_refused(
    client: Client, s3: Any, bucket: str, settings: Any
) -> None:
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 10}
    signed = sign(client, key="file.txt")
    assert_refused(post(signed["url"], signed["fields"], b"x" * 11), 400, "EntityTooLarge")
    assert list_keys(s3, bucket) == []


def test_empty_file_is_refused(client: Client, s3: Any, bucket: str) -> None:
    signed = sign(client, key="file.txt")
    assert_refused(post(signed["url"], signed["fields"], b""), 400, "EntityTooSmall")
    assert list_keys(s3, bucket) == []


@pytest.mark.parametrize(
    "other_key", ["avatars/someone-else.png", "file.txt", "uploads/0123456789abcdef/file.txt"]
)
def test_changed_key_is_refused(client: Client, s3: Any, bucket: str, other_key: str) -> None:
    signed = sign(client, key="file.txt")
    fields = {**signed["fields"], "key": other_key}
    assert_refused(post(signed["url"], fields, b"data"), 403, "AccessDenied")
    assert list_keys(s3, bucket) == []


def test_key_of_another_signing_is_refused(client: Client, s3: Any, bucket: str) -> None:
    mine, theirs = sign(client, key="file.txt"), sign(client, key="file.txt")
    fields = {**mine["fields"], "key": theirs["fields"]["key"]}
    assert_refused(post(mine["url"], fields, b"data"), 403, "AccessDenied")
    assert list_keys(s3, bucket) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-amz-meta-owner", "mallory"),
        ("acl", "public-read"),
        ("Cache-Control", "max-age=999999"),
        ("success_action_redirect", "https://example.com/"),
    ],
)
def test_added_field_is_refused(
    client: Client, s3: Any, bucket: str, name: str, value: str
) -> None:
    signed = sign(client, key="file.txt")
    fields = {**signed["fields"], name: value}
    assert_refused(post(signed["url"], fields, b"data"), 403, "AccessDenied")
    assert list_keys(s3, bucket) == []


@pytest.mark.parametrize("content_type", ["text/html", "application/pdf", "image"])
def test_content_type_outside_accepted_types_is_refused(
    client: Client, s3: Any, bucket: str, content_type: str
) -> None:
    image = field_token(Avatar._meta.get_field("image"))  # accepted_types=["image/*"]
    signed = sign(client, key="me.png", field=image)
    assert signed["fields"]["Content-Type"] == "image/png"
    fields = {**signed["fields"], "Content-Type": content_type}
    assert_refused(post(signed["url"], fields, b"<html>"), 403, "AccessDenied")
    without = {k: v for k, v in signed["fields"].items() if k != "Content-Type"}
    assert_refused(post(signed["url"], without, b"<html>"), 403, "AccessDenied")
    assert list_keys(s3, bucket) == []


def test_edited_policy_is_refused(client: Client, s3: Any, bucket: str) -> None:
    pdf = field_token(Avatar._meta.get_field("pdf"))
    signed = sign(client, key="doc.pdf", field=pdf)
    document = json.loads(base64.b64decode(signed["fields"]["policy"]))
    for cond in document["conditions"]:
        if isinstance(cond, list) and cond[0] == "content-length-range":
            cond[2] = 10**9  # lift the 2 KiB limit
    edited = base64.b64encode(json.dumps(document).encode()).decode()
    fields = {**signed["fields"], "policy": edited}
    response = post(signed["url"], fields, b"x" * 4096)
    assert_refused(response, 403, "AccessDenied", "SignatureDoesNotMatch")
    assert list_keys(s3, bucket) == []


def test_tampered_signature_is_refused(client: Client, s3: Any, bucket: str) -> None:
    signed = sign(client, key="file.txt")
    signature = signed["fields"]["x-amz-signature"]
    tampered = ("0" if signature[0] != "0" else "1") + signature[1:]
    fields = {**signed["fields"], "x-amz-signature": tampered}
    assert_refused(
        post(signed["url"], fields, b"data"), 403, "AccessDenied", "SignatureDoesNotMatch"
    )
    assert list_keys(s3, bucket) == []


def test_expired_policy_is_refused(rgw: RGW, bucket: str, s3: Any) -> None:
    """Signed two hours ago for one minute; the same signing done now is accepted."""
    url = f"{rgw.endpoint_url}/{bucket}"

    def fields_at(now: datetime.datetime) -> dict[str, str]:
        fields, _ = policy.build_post_policy(
            bucket=bucket,
            key=new_upload_name("file.txt", field_label=None, user=None),
            access_key=rgw.access_key,
            secret_key=rgw.secret_key,
            region=rgw.region,
            min_size=1,
            expires=60,
            now=now,
        )
        return fields

    now = datetime.datetime.now(datetime.timezone.utc)
    expired = fields_at(now - datetime.timedelta(hours=2))
    assert_refused(post(url, expired, b"data"), 403, "AccessDenied")
    assert list_keys(s3, bucket) == []
    fresh = fields_at(now)
    assert post(url, fresh, b"data").status_code == 204
    assert list_keys(s3, bucket) == [fresh["key"]]


def test_two_users_uploading_file_txt_at_once(
    rgw_default_storage: Any, s3: Any, bucket: str
) -> None:
    """Both sign and upload at the same moment: two keys, two intact objects."""
    users = [User(pk=1, username="alice"), User(pk=2, username="bob")]
    barrier = threading.Barrier(len(users))

    def sign_and_upload(user: User) -> tuple[str, bytes]:
        request = RequestFactory().post(
            URL, json.dumps({"key": "file.txt"}), content_type="application/json"
        )
        request.user = user
        barrier.wait(timeout=30)
        response = signed_url(request)
        assert response.status_code == 200, response.content
        signed = json.loads(response.content)
        content = f"{user.username}'s file".encode() * 1000
        barrier.wait(timeout=30)
        uploaded = post(signed["url"], signed["fields"], content)
        assert uploaded.status_code == 204, uploaded.content
        return signed["fields"]["key"], content

    with ThreadPoolExecutor(len(users)) as pool:
        results = list(pool.map(sign_and_upload, users))

    (key_a, content_a), (key_b, content_b) = results
    assert key_a != key_b
    assert key_a.endswith("/file.txt") and key_b.endswith("/file.txt")
    assert sorted(list_keys(s3, bucket)) == sorted([key_a, key_b])
    assert s3.get_object(Bucket=bucket, Key=key_a)["Body"].read() == content_a
    assert s3.get_object(Bucket=bucket, Key=key_b)["Body"].read() == content_b
    assert check_upload_name(key_a, field_label=None, user=users[0])
    assert not check_upload_name(key_a, field_label=None, user=users[1])
    assert check_upload_name(key_b, field_label=None, user=users[1])
