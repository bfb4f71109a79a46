"""Multipart uploads, the server's side (issue 14): the part plan, the session binding and
the endpoints (ours and ``@uppy/aws-s3`` 4.x's), hostile cases first.

The plan and binding tests are pure. View tests that stop before the bucket is asked
anything run without a server; the rest run on RGW, with ``requests`` as the browser
sending the parts to the pre-signed URLs, and check with a plain boto3 client what the
bucket holds: a refused request completes nothing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from buckets.signing.limits import MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE, S3_MAX_POST_SIZE
from buckets.uploads.field_tokens import field_label, field_token
from buckets.uploads.json_views import MAX_BODY_BYTES
from buckets.uploads.multipart_plan import plan_parts
from buckets.uploads.multipart_session import (
    InvalidSession,
    field_for_upload_name,
    session_size,
    session_token,
    unwrap_upload_id,
    wrap_upload_id,
)
from buckets.uploads.rules import upload_size_limit
from buckets.uploads.staging_names import new_upload_name
from tests.testapp.models import Avatar, Document

MiB = 1024**2
DOC_FIELD = Document._meta.get_field("file")
IMAGE_FIELD = Avatar._meta.get_field("image")  # max_size 1 MiB, image/*


# -- the plan --------------------------------------------------------------------------


def uppy_chunks(size: int) -> list[int]:
    """The chunk lengths ``@uppy/aws-s3`` 4.3 cuts a file of ``size`` bytes into with its
    default ``getChunkSize`` (read in MultipartUploader's ``#initChunks``; restated here
    as the oracle, in Python)."""
    if size <= MIN_PART_SIZE:
        return [size]
    chunk = max(-(-size // 10_000), MIN_PART_SIZE)
    if size // chunk > MAX_PARTS:
        chunk = size // MAX_PARTS  # never reached with the default: size // chunk <= 10,000
    return [min(size, offset + chunk) - offset for offset in range(0, size, chunk)]


@pytest.mark.parametrize(
    ("size", "part_size", "count"),
    [
        (1, MIN_PART_SIZE, 1),
        (MIN_PART_SIZE, MIN_PART_SIZE, 1),
        (MIN_PART_SIZE + 1, MIN_PART_SIZE, 2),
        (MAX_PARTS * MIN_PART_SIZE, MIN_PART_SIZE, MAX_PARTS),
        (MAX_PARTS * MIN_PART_SIZE + 1, MIN_PART_SIZE + 1, MAX_PARTS),
        (MAX_OBJECT_SIZE, -(-MAX_OBJECT_SIZE // MAX_PARTS), MAX_PARTS),
    ],
)
def test_plan(size: int, part_size: int, count: int) -> None:
    plan = plan_parts(size)
    assert (plan.part_size, plan.part_count) == (part_size, count)
    lengths = [length for _, length in plan.lengths()]
    assert sum(lengths) == size
    assert all(length == part_size for length in lengths[:-1])
    assert 1 <= lengths[-1] <= part_size


@given(st.integers(min_value=1, max_value=MAX_OBJECT_SIZE))
def test_plan_is_uppys_and_s3s(size: int) -> None:
    plan = plan_parts(size)
    assert plan.part_count <= MAX_PARTS
    assert plan.part_size >= MIN_PART_SIZE
    assert plan.part_length(plan.part_count) == size - plan.part_size * (plan.part_count - 1)
    if plan.part_count <= 2_000:  # the oracle lists every chunk
        assert [length for _, length in plan.lengths()] == uppy_chunks(size)


@pytest.mark.parametrize("size", [0, -1, MAX_OBJECT_SIZE + 1, True, 1.5, "10"])
def test_plan_refuses_sizes_s3_refuses(size: Any) -> None:
    with pytest.raises(ValueError):
        plan_parts(size)


@pytest.mark.parametrize("number", [0, -1, 3, True, "1"])
def test_part_outside_the_plan(number: Any) -> None:
    with pytest.raises(ValueError):
        plan_parts(MIN_PART_SIZE + 1).part_length(number)


# -- the binding -----------------------------------------------------------------------


@pytest.fixture
def alice(db: Any) -> User:
    return User.objects.create_user("alice")


@pytest.fixture
def bob(db: Any) -> User:
    return User.objects.create_user("bob")


def session_of(user: Any, *, field: Any = DOC_FIELD, size: int = 12 * MiB) -> dict[str, Any]:
    """What a create answered to ``user``, made without a bucket (upload id invented)."""
    label = None if field is None else field_label(field)
    key = new_upload_name("big.bin", field_label=label, user=user, prefix="uploads/")
    upload_id = "2~made-up.upload_id-" + key[8:20]
    token = session_token(key=key, upload_id=upload_id, size=size, label=label, user=user)
    return {"key": key, "uploadId": upload_id, "token": token, "size": size, "label": label}


def test_token_carries_the_size(alice: User) -> None:
    s = session_of(alice)
    size = session_size(
        s["token"], key=s["key"], upload_id=s["uploadId"], label=s["label"], user=alice
    )
    assert size == 12 * MiB


@pytest.mark.parametrize("change", ["key", "uploadId", "size", "label", "user", "mac"])
def test_token_refused_when_anything_changes(alice: User, bob: User, change: str) -> None:
    s = session_of(alice)
    args: dict[str, Any] = {
        "key": s["key"],
        "upload_id": s["uploadId"],
        "label": s["label"],
        "user": alice,
    }
    token = s["token"]
    if change == "key":
        args["key"] = session_of(alice)["key"]
    elif change == "uploadId":
        args["upload_id"] += "x"
    elif change == "size":
        token = f"{13 * MiB}.{token.split('.')[1]}"
    elif change == "label":
        args["label"] = field_label(IMAGE_FIELD)
    elif change == "user":
        args["user"] = bob
    else:
        token = token[:-1] + ("0" if token[-1] != "0" else "1")
    with pytest.raises(InvalidSession):
        session_size(token, **args)


@pytest.mark.parametrize("token", [None, 5, "", "12.", "0.abc", "1" * 30 + "." + "0" * 32])
def test_garbage_tokens(alice: User, token: Any) -> None:
    s = session_of(alice)
    with pytest.raises(InvalidSession):
        session_size(token, key=s["key"], upload_id=s["uploadId"], label=None, user=alice)


def test_lone_surrogate_in_the_upload_id_is_refused_not_a_500(alice: User) -> None:
    """JSON may carry a lone surrogate (``"\\ud800"``), which no UTF-8 encoding takes: the
    session MAC encodes it as the staging names' MACs do (``surrogatepass``), so the
    upload id simply does not verify. (A MAC over the bare string raised
    UnicodeEncodeError: a 500.)"""
    s = session_of(alice)
    with pytest.raises(InvalidSession):
        session_size(s["token"], key=s["key"], upload_id="\ud800", label=s["label"], user=alice)
    body = json.dumps({**{k: s[k] for k in ("key", "token")}, "uploadId": "\ud800", "parts": [1]})
    assert "\\ud800" in body
    response = post(logged_in(alice), "/s3/multipart/sign/", body)
    assert response.status_code == 403
    assert "detail" in response.json()


def test_token_of_a_rotated_secret_key(alice: User, settings: Any) -> None:
    s = session_of(alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert session_size(
        s["token"], key=s["key"], upload_id=s["uploadId"], label=s["label"], user=alice
    )


@pytest.mark.parametrize("upload_id", ["2~abc", "a.b.c", "with/slash", "x" * 200])
def test_wrapped_upload_id(upload_id: str) -> None:
    token = f"{5 * MiB}.{'a' * 32}"
    assert unwrap_upload_id(wrap_upload_id(token, upload_id)) == (token, upload_id)


@pytest.mark.parametrize("value", [None, 3, "", "2~abc", "5.abc.2~x", f"5.{'a' * 32}."])
def test_wrapped_upload_id_garbage(value: Any) -> None:
    with pytest.raises(InvalidSession):
        unwrap_upload_id(value)


def test_field_found_from_the_key(alice: User) -> None:
    assert field_for_upload_name(session_of(alice, field=IMAGE_FIELD)["key"]) == (
        True,
        IMAGE_FIELD,
    )
    assert field_for_upload_name(session_of(alice, field=None)["key"]) == (True, None)
    key = session_of(alice)["key"]
    assert field_for_upload_name(key[:10] + ("0" if key[10] != "0" else "1") + key[11:]) == (
        False,
        None,
    )
    assert field_for_upload_name("uploads/x/file.txt") == (False, None)


def multipart_size_limit(field: Any) -> int:
    return upload_size_limit(field, default_storage, multipart=True)


def test_size_limit(settings: Any) -> None:
    """MAX_FILE_SIZE unset: S3's limit for each path; set, it caps both paths."""
    assert multipart_size_limit(None) == MAX_OBJECT_SIZE
    assert upload_size_limit(None, default_storage) == S3_MAX_POST_SIZE
    assert multipart_size_limit(IMAGE_FIELD) == MiB
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 3 * MiB}
    assert multipart_size_limit(None) == 3 * MiB
    assert multipart_size_limit(IMAGE_FIELD) == MiB
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": S3_MAX_POST_SIZE}
    assert multipart_size_limit(DOC_FIELD) == S3_MAX_POST_SIZE
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 2 * S3_MAX_POST_SIZE}
    assert multipart_size_limit(DOC_FIELD) == 2 * S3_MAX_POST_SIZE
    assert upload_size_limit(DOC_FIELD, default_storage) == S3_MAX_POST_SIZE


# -- views: refused before the bucket is asked anything ---------------------------------


def test_url_names() -> None:
    assert reverse("s3_multipart_create") == "/s3/multipart/"
    assert reverse("s3_multipart_sign") == "/s3/multipart/sign/"
    assert reverse("s3_multipart_parts") == "/s3/multipart/parts/"
    assert reverse("s3_multipart_complete") == "/s3/multipart/complete/"
    assert reverse("s3_multipart_abort") == "/s3/multipart/abort/"
    assert reverse("s3_multipart_uppy_create") == "/s3/multipart"
    assert reverse("s3_multipart_uppy_part", args=["a.b", 3]) == "/s3/multipart/a.b/3"
    assert reverse("s3_multipart_uppy_upload", args=["a.b"]) == "/s3/multipart/a.b"
    assert reverse("s3_multipart_uppy_complete", args=["a"]) == "/s3/multipart/a/complete"
    assert reverse("s3_multipart_uppy_params") == "/s3/params"


def logged_in(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def every_route(s: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """``(method, url, body)`` of every route, naming the session ``s``."""
    wrapped = quote(wrap_upload_id(s["token"], s["uploadId"]), safe="")
    key = quote(s["key"], safe="")
    ours = {k: s[k] for k in ("key", "uploadId", "token")}
    return [
        ("post", "/s3/multipart/", {"key": "a.bin", "size": 10, "field": field_token(DOC_FIELD)}),
        ("post", "/s3/multipart/sign/", {**ours, "parts": [1]}),
        ("get", "/s3/multipart/parts/?" + urlencode(ours), None),
        ("post", "/s3/multipart/complete/", ours),
        ("post", "/s3/multipart/abort/", ours),
        ("post", "/s3/multipart", {"filename": "a.bin", "type": "", "metadata": {"size": 10}}),
        ("get", f"/s3/multipart/{wrapped}/1?key={key}", None),
        ("get", f"/s3/multipart/{wrapped}?key={key}", None),
        ("post", f"/s3/multipart/{wrapped}/complete?key={key}", {"parts": []}),
        ("delete", f"/s3/multipart/{wrapped}?key={key}", None),
        ("get", "/s3/params?filename=a.txt&type=text/plain", None),
    ]


def call(client: Client, method: str, url: str, body: Any) -> Any:
    if method == "post":
        return post(client, url, body)
    return getattr(client, method)(url)


@pytest.mark.django_db
@pytest.mark.parametrize("route", range(11))
@pytest.mark.parametrize("body", ["valid", "garbage", "huge"])
def test_anonymous_is_refused_whatever_the_body(alice: User, route: int, body: str) -> None:
    method, url, valid = every_route(session_of(AnonymousUser()))[route]
    client = Client()
    if body == "garbage" and method == "post":
        valid = "{not json"
    if body == "huge" and method == "post":
        valid = json.dumps({"key": "a" * (MAX_BODY_BYTES + 10)})
    response = call(client, method, url, valid)
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == ["You do not have permission to upload files."]


@pytest.mark.django_db
@pytest.mark.parametrize("route", range(11))
def test_wrong_method(alice: User, route: int) -> None:
    method, url, body = every_route(session_of(alice))[route]
    response = logged_in(alice).put(url, "{}", content_type="application/json")
    assert response.status_code == 405
    assert method.upper() in response["Allow"]


@pytest.mark.django_db
def test_create_without_size_is_refused(alice: User) -> None:
    client = logged_in(alice)
    response = post(client, "/s3/multipart/", {"key": "big.bin", "field": field_token(DOC_FIELD)})
    assert response.status_code == 400
    assert "size" in response.json()
    response = post(client, "/s3/multipart", {"filename": "big.bin", "type": "", "metadata": {}})
    assert response.status_code == 400
    body = response.json()
    assert body["metadata.size"] == [
        "Declare the file's size in bytes: a multipart upload is planned from it."
    ]
    assert "multipart upload is planned" in body["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "size"),
    [(IMAGE_FIELD, MiB + 1), (None, MAX_OBJECT_SIZE + 1), (DOC_FIELD, 10**20)],
)
def test_declared_size_over_the_limit(alice: User, field: Any, size: int) -> None:
    body: dict[str, Any] = {"key": "big.png", "size": size}
    if field is not None:
        body["field"] = field_token(field)
    response = post(logged_in(alice), "/s3/multipart/", body)
    assert response.status_code == 400
    assert "size" in response.json()


@pytest.mark.django_db
def test_size_over_max_file_size(alice: User, settings: Any) -> None:
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 6 * MiB}
    body = {"key": "big.bin", "size": 6 * MiB + 1, "field": field_token(DOC_FIELD)}
    response = post(logged_in(alice), "/s3/multipart/", body)
    assert response.status_code == 400
    assert "limit is 6,291,456 bytes" in response.json()["size"][0]  # both "6.0 MiB"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"key": "", "size": 10}, "key"),
        ({"key": "a.bin", "size": "ten"}, "size"),
        ({"key": "a.bin", "size": 0}, "size"),
        ({"key": "a.bin", "size": 10, "field": "forged"}, "field"),
        ({"key": "a.exe", "size": 10, "field": field_token(IMAGE_FIELD)}, "content_type"),
        ({"key": ["a"], "size": 10}, "key"),
    ],
)
def test_create_input_errors(alice: User, body: dict[str, Any], error: str) -> None:
    response = post(logged_in(alice), "/s3/multipart/", body)
    assert response.status_code == 400, response.content
    assert error in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status"),
    [("{not json", 400), ("[1, 2]", 400), ("x" * (MAX_BODY_BYTES + 1), 413)],
)
def test_malformed_and_huge_bodies(alice: User, body: str, status: int) -> None:
    client = logged_in(alice)
    for url in ("/s3/multipart/", "/s3/multipart/sign/", "/s3/multipart/complete/"):
        response = post(client, url, body)
        assert response.status_code == status, (url, response.content)
        assert list(response.json()) == ["detail"]


@pytest.mark.django_db
def test_csrf_is_checked_for_cookie_requests(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    s = session_of(alice)
    ours = {k: s[k] for k in ("key", "uploadId", "token")}
    wrapped = quote(wrap_upload_id(s["token"], s["uploadId"]), safe="")
    for url, body in [
        ("/s3/multipart/", {"key": "a.bin", "size": 10}),
        ("/s3/multipart/complete/", ours),
        ("/s3/multipart/abort/", ours),
        (f"/s3/multipart/{wrapped}/complete?key={quote(s['key'])}", {"parts": []}),
    ]:
        response = post(client, url, body)
        assert response.status_code == 403, url
        assert "CSRF" in response.json()["detail"][0]
    response = client.delete(f"/s3/multipart/{wrapped}?key={quote(s['key'])}")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


@pytest.mark.django_db
def test_uppy_complete_with_a_huge_form_body_is_refused(alice: User) -> None:
    s = session_of(alice)
    wrapped = quote(wrap_upload_id(s["token"], s["uploadId"]), safe="")
    response = logged_in(alice).post(
        f"/s3/multipart/{wrapped}/complete?key={quote(s['key'])}",
        "parts=" + "x" * MAX_BODY_BYTES,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


def hostile_sessions(alice: User, bob: User) -> dict[str, dict[str, Any]]:
    """Sessions alice may not use: bob's, and her own with one thing changed."""
    own = session_of(alice)
    other = session_of(bob)
    return {
        "bob's upload": other,
        "her key, bob's id and token": {
            **own,
            "uploadId": other["uploadId"],
            "token": other["token"],
        },
        "her key and id, bob's token": {**own, "token": other["token"]},
        "bob's key, her id and token": {**own, "key": other["key"]},
        "tampered key": {**own, "key": own["key"].replace("big.bin", "big2.bin")},
        "tampered id": {**own, "uploadId": own["uploadId"] + "0"},
        "larger size": {**own, "token": f"{13 * MiB}.{own['token'].split('.')[1]}"},
        "no token": {**own, "token": "x"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        "bob's upload",
        "her key, bob's id and token",
        "her key and id, bob's token",
        "bob's key, her id and token",
        "tampered key",
        "tampered id",
        "larger size",
        "no token",
    ],
)
@pytest.mark.parametrize("route", [1, 2, 3, 4, 6, 7, 8, 9])
def test_someone_elses_or_a_tampered_upload_is_refused(
    alice: User, bob: User, case: str, route: int
) -> None:
    s = hostile_sessions(alice, bob)[case]
    method, url, body = every_route(s)[route]
    response = call(logged_in(alice), method, url, body)
    assert response.status_code == 403, response.content
    assert response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("parts", [[0], [4], [1, 4], ["x"], [True], 10**30, list(range(1, 200))])
def test_part_numbers_outside_the_plan(alice: User, parts: Any) -> None:
    s = session_of(alice)  # 12 MiB: 3 parts
    body = {**{k: s[k] for k in ("key", "uploadId", "token")}, "parts": parts}
    response = post(logged_in(alice), "/s3/multipart/sign/", body)
    assert response.status_code == 400
    assert "parts" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("number", [0, 4, 99999999999999999999])
def test_uppy_part_number_outside_the_plan(alice: User, number: int) -> None:
    s = session_of(alice)
    wrapped = quote(wrap_upload_id(s["token"], s["uploadId"]), safe="")
    response = logged_in(alice).get(f"/s3/multipart/{wrapped}/{number}?key={quote(s['key'])}")
    assert response.status_code == 400
    assert "1 to 3" in response.json()["message"]


@pytest.mark.django_db
def test_limit_lowered_after_create_refuses_signing(alice: User, settings: Any) -> None:
    s = session_of(alice)
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 6 * MiB}
    body = {**{k: s[k] for k in ("key", "uploadId", "token")}, "parts": [1]}
    response = post(logged_in(alice), "/s3/multipart/sign/", body)
    assert response.status_code == 400
    assert "size" in response.json()


# -- on RGW ----------------------------------------------------------------------------


@pytest.fixture
def on_rgw(s3_default: Any, bucket: str) -> Any:
    """``default_storage`` (every test model's) on a fresh RGW bucket."""
    assert default_storage.bucket_name == bucket
    return s3_default


def uploads_in(s3: Any, bucket: str) -> list[str]:
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def keys_in(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def content(size: int) -> bytes:
    block = bytes(range(256)) * 4096  # 1 MiB with no repeating part boundary
    return (block * (size // len(block) + 1))[:size]


def put_part(url: str, data: bytes) -> requests.Response:
    return requests.put(url, data=data, timeout=60)


SIZE = 2 * MIN_PART_SIZE + 7  # three parts: 5 MiB, 5 MiB, 7 bytes


def start(client: Client, size: int = SIZE, name: str = "big.bin") -> dict[str, Any]:
    body = {"key": name, "size": size, "field": field_token(DOC_FIELD)}
    response = post(client, "/s3/multipart/", body)
    assert response.status_code == 200, response.content
    started: dict[str, Any] = response.json()
    return started


def ours(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("key", "uploadId", "token")}


def upload_parts(client: Client, s: dict[str, Any], data: bytes, numbers: list[int]) -> None:
    response = post(client, "/s3/multipart/sign/", {**ours(s), "parts": numbers})
    assert response.status_code == 200, response.content
    signed = response.json()
    for n in numbers:
        start_at = (n - 1) * s["partSize"]
        part = data[start_at : start_at + signed["sizes"][str(n)]]
        assert put_part(signed["urls"][str(n)], part).status_code == 200


@pytest.mark.rgw
@pytest.mark.django_db
def test_max_file_size_unset_is_s3s_limit_for_each_path(
    on_rgw: Any, s3: Any, bucket: str, alice: User
) -> None:
    """No ``MAX_FILE_SIZE``: a file over 5 GiB is refused by the signed POST (S3's POST
    limit) and planned as a multipart upload (S3's object limit)."""
    assert default_storage.settings.max_file_size is None
    client = logged_in(alice)
    size = S3_MAX_POST_SIZE + 1
    body = {"key": "film.mov", "size": size}
    refused = post(client, "/s3/signed-url/", body)
    assert refused.status_code == 400
    assert "the limit is 5,368,709,120 bytes" in refused.json()["size"][0]
    started = post(client, "/s3/multipart/", body)
    assert started.status_code == 200, started.content
    assert started.json()["partCount"] == plan_parts(size).part_count
    assert uploads_in(s3, bucket) == [started.json()["key"]]
    assert post(client, "/s3/multipart/abort/", ours(started.json())).status_code == 204


@pytest.mark.rgw
@pytest.mark.django_db
def test_upload_in_parts_end_to_end(on_rgw: Any, s3: Any, bucket: str, alice: User) -> None:
    client = logged_in(alice)
    data = content(SIZE)
    s = start(client)
    assert (s["partSize"], s["partCount"]) == (MIN_PART_SIZE, 3)
    response = post(client, "/s3/multipart/sign/", {**ours(s), "parts": [1, 2, 3]})
    assert response.json()["sizes"] == {"1": MIN_PART_SIZE, "2": MIN_PART_SIZE, "3": 7}
    upload_parts(client, s, data, [1, 2, 3])
    listed = client.get("/s3/multipart/parts/?" + urlencode(ours(s)))
    assert [(p["PartNumber"], p["Size"]) for p in listed.json()["parts"]] == [
        (1, MIN_PART_SIZE),
        (2, MIN_PART_SIZE),
        (3, 7),
    ]
    response = post(client, "/s3/multipart/complete/", ours(s))
    assert response.status_code == 200, response.content
    assert response.json()["key"] == s["key"]
    stored = s3.get_object(Bucket=bucket, Key=s["key"])
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "application/octet-stream"  # POST's type rule for .bin
    assert DOC_FIELD.validate_upload(s["key"], user=alice) == s["key"]
    assert uploads_in(s3, bucket) == []


@pytest.mark.rgw
@pytest.mark.django_db
def test_uppy_routes_end_to_end(on_rgw: Any, s3: Any, bucket: str, alice: User) -> None:
    client = logged_in(alice)
    data = content(MIN_PART_SIZE + 1)
    metadata = {"name": "clip.bin", "type": "", "size": str(len(data))}
    metadata["field"] = field_token(DOC_FIELD)
    response = post(
        client, "/s3/multipart", {"filename": "clip.bin", "type": "", "metadata": metadata}
    )
    assert response.status_code == 200, response.content
    created = response.json()
    key, upload_id = created["key"], quote(created["uploadId"], safe="")
    q = "?key=" + quote(key, safe="")
    for n, part in ((1, data[:MIN_PART_SIZE]), (2, data[MIN_PART_SIZE:])):
        signed = client.get(f"/s3/multipart/{upload_id}/{n}{q}").json()
        assert signed["method"] == "PUT" and signed["expires"] > 0
        assert put_part(signed["url"], part).status_code == 200
    listed = client.get(f"/s3/multipart/{upload_id}{q}").json()
    assert [p["PartNumber"] for p in listed] == [1, 2]
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    # Uppy sends every part's ETag: for a large file, far more than 32 KiB. Not read.
    parts += [{"PartNumber": n, "ETag": '"' + "0" * 32 + '"'} for n in range(3, 1000)]
    assert len(json.dumps({"parts": parts})) > MAX_BODY_BYTES
    response = post(client, f"/s3/multipart/{upload_id}/complete{q}", {"parts": parts})
    assert response.status_code == 200, response.content
    assert response.json()["key"] == key and response.json()["location"]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert DOC_FIELD.validate_upload(key, user=alice) == key


@pytest.mark.rgw
@pytest.mark.django_db
def test_uppy_abort(on_rgw: Any, s3: Any, bucket: str, alice: User) -> None:
    client = logged_in(alice)
    metadata = {"size": "100", "field": field_token(DOC_FIELD)}
    created = post(
        client, "/s3/multipart", {"filename": "a.bin", "type": "", "metadata": metadata}
    ).json()
    path = f"/s3/multipart/{quote(created['uploadId'], safe='')}?key={quote(created['key'])}"
    assert uploads_in(s3, bucket) == [created["key"]]
    response = client.delete(path)
    assert (response.status_code, response.json()) == (200, {})
    assert uploads_in(s3, bucket) == []
    assert client.get(path).status_code == 404


@pytest.mark.rgw
@pytest.mark.django_db
def test_wrong_length_part_is_refused_by_the_bucket(
    on_rgw: Any, s3: Any, bucket: str, alice: User
) -> None:
    client = logged_in(alice)
    s = start(client)
    signed = post(client, "/s3/multipart/sign/", {**ours(s), "parts": [3]}).json()
    for wrong in (b"x" * 6, b"x" * 8, b"x" * MIN_PART_SIZE):
        assert put_part(signed["urls"]["3"], wrong).status_code == 403
    assert client.get("/s3/multipart/parts/?" + urlencode(ours(s))).json()["parts"] == []


@pytest.mark.rgw
@pytest.mark.django_db
def test_completing_with_a_missing_part_aborts(
    on_rgw: Any, s3: Any, bucket: str, alice: User
) -> None:
    client = logged_in(alice)
    s = start(client)
    upload_parts(client, s, content(SIZE), [1, 3])
    response = post(client, "/s3/multipart/complete/", ours(s))
    assert response.status_code == 400
    assert response.json()["detail"][0].startswith("Part 2 of 3 was not uploaded.")
    assert keys_in(s3, bucket) == []
    assert uploads_in(s3, bucket) == []
    assert post(client, "/s3/multipart/complete/", ours(s)).status_code == 404


@pytest.mark.rgw
@pytest.mark.django_db
def test_completing_with_a_part_of_another_length_aborts(
    on_rgw: Any, s3: Any, bucket: str, alice: User
) -> None:
    """A part no signed URL allowed (written here with the bucket's own credentials, as
    no client can): the total differs from the declared size, so nothing is completed."""
    client = logged_in(alice)
    s = start(client)
    upload_parts(client, s, content(SIZE), [1, 2])
    s3.upload_part(
        Bucket=bucket, Key=s["key"], UploadId=s["uploadId"], PartNumber=3, Body=b"8 bytes!"
    )
    response = post(client, "/s3/multipart/complete/", ours(s))
    assert response.status_code == 400
    assert "differ from the declared size of 10,485,767 bytes" in response.json()["detail"][0]
    assert keys_in(s3, bucket) == []
    assert uploads_in(s3, bucket) == []


@pytest.mark.rgw
@pytest.mark.django_db
def test_another_user_cannot_touch_an_upload(
    on_rgw: Any, s3: Any, bucket: str, alice: User, bob: User
) -> None:
    client = logged_in(alice)
    data = content(SIZE)
    s = start(client)
    upload_parts(client, s, data, [1, 2, 3])
    mallory = logged_in(bob)
    own = start(mallory, name="mine.bin")
    wrapped = quote(wrap_upload_id(s["token"], s["uploadId"]), safe="")
    attempts = [
        ("post", "/s3/multipart/sign/", {**ours(s), "parts": [1]}),
        ("get", "/s3/multipart/parts/?" + urlencode(ours(s)), None),
        ("post", "/s3/multipart/complete/", ours(s)),
        ("post", "/s3/multipart/abort/", ours(s)),
        ("post", "/s3/multipart/complete/", {**ours(own), "uploadId": s["uploadId"]}),
        ("post", "/s3/multipart/abort/", {**ours(own), "uploadId": s["uploadId"]}),
        ("get", f"/s3/multipart/{wrapped}?key={quote(s['key'])}", None),
        ("post", f"/s3/multipart/{wrapped}/complete?key={quote(s['key'])}", {"parts": []}),
        ("delete", f"/s3/multipart/{wrapped}?key={quote(s['key'])}", None),
    ]
    for method, url, body in attempts:
        assert call(mallory, method, url, body).status_code == 403, url
    assert sorted(uploads_in(s3, bucket)) == sorted([s["key"], own["key"]])
    assert keys_in(s3, bucket) == []
    assert post(client, "/s3/multipart/complete/", ours(s)).status_code == 200
    assert s3.get_object(Bucket=bucket, Key=s["key"])["Body"].read() == data


@pytest.mark.rgw
@pytest.mark.django_db
def test_refused_create_starts_nothing(on_rgw: Any, s3: Any, bucket: str, alice: User) -> None:
    client = logged_in(alice)
    image = {"key": "a.png", "size": MiB + 1, "field": field_token(IMAGE_FIELD)}
    assert post(client, "/s3/multipart/", image).status_code == 400
    assert post(client, "/s3/multipart/", {"key": "a.bin"}).status_code == 400
    assert uploads_in(s3, bucket) == []


@pytest.mark.rgw
@pytest.mark.django_db
def test_uppy_params_signs_a_post(on_rgw: Any, s3: Any, bucket: str, alice: User) -> None:
    client = logged_in(alice)
    query = urlencode(
        {
            "filename": "a.txt",
            "type": "text/plain",
            "metadata[size]": "5",
            "metadata[field]": field_token(DOC_FIELD),
        }
    )
    response = client.get("/s3/params?" + query)
    assert response.status_code == 200, response.content
    signed = response.json()
    assert signed["method"] == "POST"
    files = {"file": ("a.txt", b"hello", "text/plain")}
    stored = requests.post(signed["url"], data=signed["fields"], files=files, timeout=30)
    assert stored.status_code == 204, stored.text
    assert DOC_FIELD.validate_upload(signed["fields"]["key"], user=alice)
    too_big = client.get(
        "/s3/params?" + query.replace("metadata%5Bsize%5D=5", "metadata%5Bsize%5D=6000000000")
    )
    assert too_big.status_code == 400
    assert "metadata.size" in too_big.json() and too_big.json()["message"]


# -- on the fake -----------------------------------------------------------------------


@pytest.fixture
def on_fake(settings: Any, tmp_path: Any) -> Any:
    """The fake as the default storage, its endpoints mounted (parts PUT through Django)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MEDIA_URL = "/media/"
    settings.ROOT_URLCONF = "tests.conformance.urls"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "buckets.test.storage.FakeS3Storage"},
    }
    return default_storage


def put_through(client: Client, url: str, data: bytes) -> Any:
    """PUT to a URL the fake signed, through the test client (no server listens)."""
    assert url.startswith("http://testserver/")
    return client.put(url[len("http://testserver") :], data, content_type="")


@pytest.mark.django_db
def test_uppy_routes_end_to_end_on_the_fake(on_fake: Any, alice: User) -> None:
    client = logged_in(alice)
    data = content(MIN_PART_SIZE + 3)
    metadata = {"size": len(data), "field": field_token(DOC_FIELD)}
    created = post(
        client, "/s3/multipart", {"filename": "c.bin", "type": "", "metadata": metadata}
    ).json()
    key, upload_id = created["key"], quote(created["uploadId"], safe="")
    q = "?key=" + quote(key, safe="")
    for n, part in ((1, data[:MIN_PART_SIZE]), (2, data[MIN_PART_SIZE:])):
        signed = client.get(f"/s3/multipart/{upload_id}/{n}{q}").json()
        assert put_through(client, signed["url"], part[:-1]).status_code == 403  # length pinned
        assert put_through(client, signed["url"], part).status_code == 200
    assert [p["Size"] for p in client.get(f"/s3/multipart/{upload_id}{q}").json()] == [
        MIN_PART_SIZE,
        3,
    ]
    response = post(client, f"/s3/multipart/{upload_id}/complete{q}", {"parts": []})
    assert response.status_code == 200, response.content
    with default_storage.open(key) as stored:
        assert stored.read() == data
    assert DOC_FIELD.validate_upload(key, user=alice) == key


@pytest.mark.django_db
def test_missing_part_aborts_on_the_fake(on_fake: Any, alice: User) -> None:
    client = logged_in(alice)
    s = start(client)
    signed = post(client, "/s3/multipart/sign/", {**ours(s), "parts": [3]}).json()
    assert put_through(client, signed["urls"]["3"], content(SIZE)[-7:]).status_code == 200
    response = post(client, "/s3/multipart/complete/", ours(s))
    assert response.status_code == 400
    assert not default_storage.exists(s["key"])
    assert post(client, "/s3/multipart/complete/", ours(s)).status_code == 404
