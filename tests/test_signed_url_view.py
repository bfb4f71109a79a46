"""``POST /s3/signed-url/`` (``buckets.uploads.views``): inputs, errors, permission, CSRF.

Signing needs no server (the storage signs locally), so these run without one; what each
server does with the policy is proved in ``conformance/test_signed_upload.py``.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.middleware.csrf import REASON_CSRF_TOKEN_MISSING, REASON_NO_CSRF_COOKIE
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from buckets.signing.limits import S3_MAX_POST_SIZE
from buckets.uploads import check_upload_name, field_token
from tests.testapp.models import Avatar

URL = "/s3/signed-url/"
GiB = 1024**3
INPUT_NAMES = {"key", "field", "content_type", "size", "detail"}


def token(field_name: str) -> str:
    return field_token(Avatar._meta.get_field(field_name))


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return document


def condition(document: dict[str, Any], name: str) -> Any:
    """The condition on ``name`` (``content-length-range`` or a ``$field``) in a policy."""
    for cond in document["conditions"]:
        if isinstance(cond, list) and cond[0] == name:
            return cond
        if isinstance(cond, list) and str(cond[1]).lower() == f"${name}".lower():
            return cond
        if isinstance(cond, dict) and name in cond:
            return cond
    return None


@pytest.fixture
def user(db: Any) -> User:
    return User.objects.create_user("alice")


@pytest.fixture
def client(user: User) -> Client:
    """A logged-in client (CSRF checks off, as Django's test client does by default)."""
    c = Client()
    c.force_login(user)
    return c


def post_json(client: Client, body: Any) -> Any:
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_url_name() -> None:
    assert reverse("s3_signed_url") == URL


# -- 200 -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_body_signs_an_upload(client: Client, user: User) -> None:
    before = datetime.datetime.now(datetime.timezone.utc)
    response = post_json(client, {"key": "file.txt"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"url", "fields"}
    assert body["url"] == "https://tests-default-bucket.s3.amazonaws.com"
    fields = body["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"].startswith("tests-ak/")
    for name in ("x-amz-date", "x-amz-signature", "policy"):
        assert fields[name]
    key = fields["key"]
    assert key.startswith("uploads/") and key.endswith("/file.txt")
    assert check_upload_name(key, field_label=None, user=user)
    assert fields["Content-Type"] == "text/plain"  # implied by the name
    document = policy_of(fields)
    assert condition(document, "key") == ["eq", "$key", key]
    assert condition(document, "content-length-range") == ["content-length-range", 1, 5 * GiB]
    assert condition(document, "Content-Type") == ["eq", "$Content-Type", "text/plain"]
    expires = datetime.datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    expires = expires.replace(tzinfo=datetime.timezone.utc)
    assert 590 <= (expires - before).total_seconds() <= 602


@pytest.mark.django_db
def test_form_encoded_body(client: Client) -> None:
    response = client.post(
        URL,
        urlencode({"key": "photo.png", "field": token("image"), "size": "100"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    fields = response.json()["fields"]
    assert fields["key"].endswith("/photo.png")
    assert fields["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_multipart_body(client: Client) -> None:
    response = client.post(URL, {"key": "notes.md", "content_type": "text/markdown"})
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["Content-Type"] == "text/markdown"


@pytest.mark.django_db
def test_json_without_a_json_content_type(client: Client) -> None:
    # fetch() with a string body sends text/plain.
    response = client.post(URL, '{"key": "a.bin"}', content_type="text/plain;charset=UTF-8")
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["key"].endswith("/a.bin")


@pytest.mark.django_db
def test_the_client_never_chooses_the_folder(client: Client) -> None:
    for key in ("../../etc/passwd", "avatars/other-user.png", "/abs/x.txt", "C:\\x\\y.txt"):
        fields = post_json(client, {"key": key})
        name = fields.json()["fields"]["key"]
        assert name.count("/") == 2 and name.startswith("uploads/"), name


@pytest.mark.django_db
def test_same_name_twice_gets_two_keys(client: Client) -> None:
    keys = {post_json(client, {"key": "file.txt"}).json()["fields"]["key"] for _ in range(5)}
    assert len(keys) == 5


@pytest.mark.django_db
def test_field_token_applies_the_fields_limits(client: Client, user: User) -> None:
    response = post_json(client, {"key": "doc.pdf", "field": token("pdf"), "size": 2048})
    assert response.status_code == 200, response.content
    fields = response.json()["fields"]
    document = policy_of(fields)
    assert condition(document, "content-length-range") == ["content-length-range", 1, 2048]
    assert condition(document, "Content-Type") == ["eq", "$Content-Type", "application/pdf"]
    assert fields["Content-Type"] == "application/pdf"
    assert check_upload_name(fields["key"], field_label="testapp.avatar.pdf", user=user)
    assert not check_upload_name(fields["key"], field_label=None, user=user)


@pytest.mark.django_db
def test_single_exact_type_is_pinned_without_a_declaration(client: Client) -> None:
    response = post_json(client, {"key": "scan", "field": token("pdf")})
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_declared_type_matching_a_wildcard(client: Client) -> None:
    body = {"key": "photo", "field": token("image"), "content_type": "image/webp"}
    response = post_json(client, body)
    assert response.status_code == 200, response.content
    document = policy_of(response.json()["fields"])
    assert condition(document, "Content-Type") == ["eq", "$Content-Type", "image/webp"]
    assert condition(document, "content-length-range")[2] == 1024 * 1024


@pytest.mark.django_db
def test_declared_types_are_pinned_normalized(client: Client) -> None:
    body = {"key": "notes.txt", "content_type": "Text/Plain ; Charset=UTF-8"}
    response = post_json(client, body)
    assert response.status_code == 200, response.content
    pinned = "text/plain; charset=utf-8"
    assert response.json()["fields"]["Content-Type"] == pinned
    document = policy_of(response.json()["fields"])
    assert condition(document, "Content-Type") == ["eq", "$Content-Type", pinned]


@pytest.mark.django_db
def test_max_file_size_applies_without_a_field(client: Client, settings: Any) -> None:
    settings.AWS = {**settings.AWS, "MAX_FILE_SIZE": 1000}
    response = post_json(client, {"key": "a.txt", "size": 1000})
    assert response.status_code == 200, response.content
    document = policy_of(response.json()["fields"])
    assert condition(document, "content-length-range") == ["content-length-range", 1, 1000]
    # The field's larger max_size does not lift the global cap.
    response = post_json(client, {"key": "a.png", "field": token("image")})
    document = policy_of(response.json()["fields"])
    assert condition(document, "content-length-range") == ["content-length-range", 1, 1000]
    response = post_json(client, {"key": "a.png", "field": token("image"), "size": 1001})
    assert response.status_code == 400
    assert "the limit is 1,000 bytes" in response.json()["size"][0]


@pytest.mark.django_db
def test_upload_expire_setting(client: Client, settings: Any) -> None:
    settings.AWS = {**settings.AWS, "UPLOAD_EXPIRE": 60}
    before = datetime.datetime.now(datetime.timezone.utc)
    document = policy_of(post_json(client, {"key": "a.txt"}).json()["fields"])
    expires = datetime.datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    expires = expires.replace(tzinfo=datetime.timezone.utc)
    assert 50 <= (expires - before).total_seconds() <= 62


# -- 400 -------------------------------------------------------------------------------


NOT_A_SIZE = {"size": ["Enter the file size as a whole number of bytes."]}
BAD_BODIES = [
    ({}, {"key": ["This field is required."]}),
    ({"key": ""}, {"key": ["This field is required."]}),
    ({"key": "   "}, {"key": ["This field is required."]}),
    ({"key": None}, {"key": ["This field is required."]}),
    ({"key": 12}, {"key": ["Enter a file name."]}),
    ({"key": ["a.txt"]}, {"key": ["Enter a file name."]}),
    ({"key": "../"}, {"key": ["The file name has no usable characters."]}),
    ({"key": "🙂🙂"}, {"key": ["The file name has no usable characters."]}),
    ({"key": "a.txt", "field": "forged"}, {"field": ["Invalid field token."]}),
    ({"key": "a.txt", "field": 7}, {"field": ["Invalid field token."]}),
    ({"key": "a.txt", "size": -1}, NOT_A_SIZE),
    ({"key": "a.txt", "size": 1.5}, NOT_A_SIZE),
    ({"key": "a.txt", "size": True}, NOT_A_SIZE),
    (
        {"key": "a.txt", "size": "1e3"},
        {"size": ["Enter the file size as a whole number of bytes."]},
    ),
    ({"key": "a.txt", "size": 0}, {"size": ["The submitted file is empty."]}),
    (
        {"key": "a.txt", "size": S3_MAX_POST_SIZE + 1},
        {
            "size": [
                "The file is too large (5,368,709,121 bytes); the limit is 5,368,709,120 bytes."
            ]
        },
    ),
    (
        {"key": "a.txt", "content_type": "nonsense"},
        {"content_type": ["Enter a valid content type, such as image/png."]},
    ),
    (
        {"key": "a.txt", "content_type": "text/html\r\nX-Evil: 1"},
        {"content_type": ["Enter a valid content type, such as image/png."]},
    ),
    (
        {"key": "a.txt", "content_type": ["text/plain"]},
        {"content_type": ["Enter a valid content type, such as image/png."]},
    ),
    # Browsers read "a/b, c/d" as a list and use the last type: a parameter carrying a
    # comma would smuggle text/html past a check of the part before the ";".
    *(
        (
            {"key": "a.png", "content_type": hostile},
            {"content_type": ["Enter a valid content type, such as image/png."]},
        )
        for hostile in (
            "image/png;,text/html",
            "image/png; x=y,text/html",
            'image/png; charset="a,text/html"',
            "image/png, text/html",
            "image/png; name=x",
        )
    ),
    (
        {"size": "big", "key": ""},
        {
            "key": ["This field is required."],
            "size": ["Enter the file size as a whole number of bytes."],
        },
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "errors"), BAD_BODIES)
def test_bad_inputs_are_400_naming_the_input(client: Client, body: Any, errors: Any) -> None:
    response = post_json(client, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == errors


@pytest.mark.django_db
def test_bad_inputs_in_a_form_body(client: Client) -> None:
    response = client.post(URL, {"key": "", "size": "-3", "field": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"key", "size", "field"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The request body is not valid JSON."),
        (b"{", "The request body is not valid JSON."),
        (b"\xff\xfe\x00garbage", "The request body is not valid JSON."),
        (b"[" * 30_000, "The request body is not valid JSON."),  # under MAX_BODY_BYTES
        (b'{"size": ' + b"9" * 5000 + b"}", "The request body is not valid JSON."),
        (b"[]", "The request body must be a JSON object."),
        (b'"key"', "The request body must be a JSON object."),
        (b"null", "The request body must be a JSON object."),
        (b"3", "The request body must be a JSON object."),
    ],
)
def test_malformed_json_is_400(client: Client, raw: bytes, message: str) -> None:
    response = client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": [message]}


@pytest.mark.django_db
def test_malformed_multipart_is_400(client: Client) -> None:
    response = client.post(URL, b"--x\r\nbroken", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json() == {"detail": ["The request body could not be read."]}


@pytest.mark.django_db
def test_expired_token_is_400(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    old = token("image")
    later = time.time() + 2 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = post_json(client, {"key": "a.png", "field": old})
    assert response.status_code == 400
    assert response.json() == {"field": ["The upload form has expired. Reload the page."]}


@pytest.mark.django_db
def test_token_for_an_unknown_field_is_400(client: Client) -> None:
    from buckets.uploads import field_tokens

    bad = signing.TimestampSigner(salt=field_tokens._TOKEN_SALT).sign("testapp.avatar.gone")
    response = post_json(client, {"key": "a.png", "field": bad})
    assert response.status_code == 400
    assert response.json() == {"field": ["The upload form names an unknown field."]}


@pytest.mark.django_db
def test_bad_token_is_reported_with_the_other_errors(client: Client) -> None:
    response = post_json(client, {"field": "forged", "size": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"field", "key", "size"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"key": "a.png", "field": "pdf", "content_type": "image/png"},
            "Files of type image/png are not accepted here. Accepted: PDF (application/pdf).",
        ),
        (
            {"key": "a.pdf", "field": "image", "content_type": "application/pdf"},
            "Files of type application/pdf are not accepted here. Accepted: images (image/*).",
        ),
        (  # nothing declared: the name's type is checked
            {"key": "a.pdf", "field": "image"},
            "Files of type application/pdf are not accepted here. Accepted: images (image/*).",
        ),
        (  # nothing declared, nothing implied, a wildcard: the client must declare it
            {"key": "photo", "field": "image"},
            "Declare the file's content type. Accepted: images (image/*).",
        ),
        (  # SVG runs script when opened: image/* means pictures, not SVG
            {"key": "a.svg", "field": "image", "content_type": "image/svg+xml"},
            "Files of type image/svg+xml are not accepted here. Accepted: images (image/*).",
        ),
        (  # the same, implied by the name
            {"key": "a.svg", "field": "image"},
            "Files of type image/svg+xml are not accepted here. Accepted: images (image/*).",
        ),
    ],
)
def test_type_not_accepted_is_400(client: Client, body: dict[str, str], message: str) -> None:
    body = dict(body, field=token(body["field"]))
    response = post_json(client, body)
    assert response.status_code == 400
    assert response.json() == {"content_type": [message]}


#: Types a browser sniffs for HTML, runs as code, or that are no single type: never signed.
NEVER_SIGNED = [
    "unknown/unknown",
    "application/unknown",
    "*/*",
    "Application/Unknown",
    "image/*",
    "text/javascript",
    "application/x-javascript",
    "text/jscript",
    "application/wasm",
    "multipart/x-mixed-replace",
]


@pytest.mark.django_db
@pytest.mark.parametrize("declared", [*NEVER_SIGNED, "text/html", "image/svg+xml"])
def test_a_field_accepting_any_type_signs_sniffed_and_runnable_types_as_octet_stream(
    client: Client, declared: str
) -> None:
    response = post_json(client, {"key": "page", "content_type": declared})
    assert response.status_code == 200, response.content
    fields = response.json()["fields"]
    assert fields["Content-Type"] == "application/octet-stream"
    assert "Content-Disposition" not in fields
    octet = ["eq", "$Content-Type", "application/octet-stream"]
    assert condition(policy_of(fields), "Content-Type") == octet


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["page", "page.html", "page.js", "page.mjs", "a.svg", "x.wasm"])
def test_an_undeclared_type_is_pinned_as_octet_stream_unless_the_name_implies_a_safe_one(
    client: Client, key: str
) -> None:
    """No declared type: the name's type when it is safe, else application/octet-stream,
    never no type at all (an object stored with no type is sniffed)."""
    response = post_json(client, {"key": key})
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["Content-Type"] == "application/octet-stream"


@pytest.mark.django_db
@pytest.mark.parametrize("declared", NEVER_SIGNED)
def test_a_field_listing_types_refuses_sniffed_and_runnable_types(
    client: Client, declared: str
) -> None:
    body = {"key": "photo", "field": token("image"), "content_type": declared}
    response = post_json(client, body)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "content_type": [
            f"Files of type {declared.lower()} are not accepted here. Accepted: images (image/*)."
        ]
    }


@pytest.mark.django_db
def test_declared_size_above_the_fields_limit_is_400(client: Client) -> None:
    response = post_json(client, {"key": "a.pdf", "field": token("pdf"), "size": 2049})
    assert response.status_code == 400
    assert response.json() == {
        "size": ["The file is too large (2,049 bytes); the limit is 2,048 bytes."]
    }
    response = client.post(URL, {"key": "a.pdf", "field": token("pdf"), "size": "2049"})
    assert response.status_code == 400 and "size" in response.json()


# -- 403, permission setting -------------------------------------------------------------


def test_anonymous_is_403_by_default() -> None:
    response = Client().post(URL, {"key": "a.txt"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": ["You do not have permission to upload files."]}


def test_anonymous_is_403_before_the_inputs_are_checked() -> None:
    assert Client().post(URL, {}).status_code == 403


#: 80 KB of combining marks (UTF-8), in the order that makes NFC slowest.
MARKS_80KB = "\u0315" * 20_480 + "\u0316" * 20_480


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (json.dumps({"field": "garbage", "key": "a.txt"}).encode(), "application/json"),
        (json.dumps({"field": 7, "key": "../"}).encode(), "application/json"),
        (json.dumps({"field": "x" * 5000}).encode(), "application/json"),
        (json.dumps({"field": "garbage", "key": MARKS_80KB}, ensure_ascii=False).encode(), ""),
        (b"{", "application/json"),
        (b"[" * 30_000, "application/json"),
        (b'{"key": "' + b"a" * 2_500_000 + b'"}', "application/json"),
        (
            urlencode({"field": "garbage", "key": "a.txt"}).encode(),
            "application/x-www-form-urlencoded",
        ),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ],
    ids=[
        "garbage-token",
        "non-string-token",
        "long-token",
        "80KB-of-marks",
        "bad-json",
        "deep-json",
        "2.5MB",
        "form-garbage-token",
        "bad-multipart",
    ],
)
def test_anonymous_is_403_whatever_the_body_holds(raw: bytes, content_type: str) -> None:
    """Regression (issue 12): an invalid field token put an entry in the errors, the
    permission check was skipped, and an anonymous request went on to the file name, type
    and size checks (and a malformed body was a 400): who may upload is decided first."""
    response = Client().post(URL, raw, content_type=content_type or "application/json")
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": ["You do not have permission to upload files."]}


def allow_and_record(request: HttpRequest, field: Any) -> bool:
    SEEN.append(field)
    return True


def test_an_invalid_token_is_checked_as_an_upload_to_no_field(settings: Any) -> None:
    """The check runs for an invalid token too (as an upload naming no field); a check
    that allows that still gets the 400 naming the token."""
    settings.BUCKETS_UPLOAD_PERMISSION = f"{__name__}.allow_and_record"
    SEEN.clear()
    response = post_json(Client(), {"key": "a.txt", "field": "forged"})
    assert response.status_code == 400
    assert response.json() == {"field": ["Invalid field token."]}
    assert SEEN == [None]


def test_an_expired_token_is_checked_for_the_field_it_names(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An expired token is authentic: the check is asked about its field, so an anonymous
    avatar upload allowed by the project's check learns that the form has expired."""
    settings.BUCKETS_UPLOAD_PERMISSION = f"{__name__}.only_the_image_field"
    old = {"image": token("image"), "pdf": token("pdf")}
    later = time.time() + 2 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    SEEN.clear()
    response = post_json(Client(), {"key": "a.png", "field": old["image"]})
    assert response.status_code == 400
    assert response.json() == {"field": ["The upload form has expired. Reload the page."]}
    assert post_json(Client(), {"key": "a.pdf", "field": old["pdf"]}).status_code == 403
    assert [f.name for f in SEEN] == ["image", "pdf"]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["json", "form", "multipart"])
def test_a_body_over_the_limit_is_413_unread(client: Client, mode: str) -> None:
    """Regression (issue 12): the view read and parsed any body Django accepts (2.5 MB)."""
    from buckets.uploads.views import MAX_BODY_BYTES

    key = "a" * (MAX_BODY_BYTES + 1)
    if mode == "json":
        response = post_json(client, {"key": key})
    elif mode == "form":
        response = client.post(
            URL, urlencode({"key": key}), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(URL, {"key": key})
    assert response.status_code == 413
    assert response.json() == {"detail": ["The request body is too large."]}


@pytest.mark.django_db
def test_a_body_over_the_limit_skips_the_csrf_check(user: User) -> None:
    """A body too large to read signs nothing: answered 413 before CSRF parses a form."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    response = c.post(URL, {"key": "a" * 40_000})
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_file_name_over_the_input_limit_is_400(client: Client) -> None:
    """Regression (issue 12): the whole name was NFC-normalised, however long."""
    from buckets.uploads import MAX_INPUT_LENGTH

    longest = "a" * (MAX_INPUT_LENGTH - 4) + ".txt"
    response = post_json(client, {"key": longest})
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["key"].endswith(".txt")
    response = post_json(client, {"key": "a" + longest})
    assert response.status_code == 400
    assert response.json() == {
        "key": [f"The file name is too long (at most {MAX_INPUT_LENGTH} characters)."]
    }


@pytest.mark.django_db
def test_the_longest_inputs_fit_in_the_body_limit(client: Client) -> None:
    """Every input at its longest, each character escaped, is still read and signed."""
    from buckets.uploads import MAX_INPUT_LENGTH

    key = "\U00020000" * (MAX_INPUT_LENGTH - 4) + ".png"  # a CJK letter: 12 bytes escaped
    body = {"key": key, "field": token("image"), "content_type": "image/png", "size": "1"}
    raw = json.dumps(body, ensure_ascii=True)
    assert len(raw) > 12 * (MAX_INPUT_LENGTH - 4)
    response = client.post(URL, raw, content_type="application/json")
    assert response.status_code == 200, response.content


def test_setting_none_opens_uploads_to_anyone(settings: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = None
    response = Client().post(URL, {"key": "a.txt"})
    assert response.status_code == 200, response.content
    key = response.json()["fields"]["key"]
    assert check_upload_name(key, field_label=None, user=AnonymousUser())


def test_setting_is_read_per_request(settings: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = "buckets.uploads.permissions.allow_any"
    assert Client().post(URL, {"key": "a.txt"}).status_code == 200
    settings.BUCKETS_UPLOAD_PERMISSION = "buckets.uploads.permissions.authenticated"
    assert Client().post(URL, {"key": "a.txt"}).status_code == 403
    del settings.BUCKETS_UPLOAD_PERMISSION
    assert Client().post(URL, {"key": "a.txt"}).status_code == 403


SEEN: list[Any] = []


def only_the_image_field(request: HttpRequest, field: Any) -> bool:
    """A project's permission: anonymous users may upload avatars only."""
    SEEN.append(field)
    return field is not None and field.name == "image"


def test_custom_permission_gets_the_field(settings: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = f"{__name__}.only_the_image_field"
    SEEN.clear()
    anonymous = Client()
    assert anonymous.post(URL, {"key": "a.png", "field": token("image")}).status_code == 200
    assert anonymous.post(URL, {"key": "a.pdf", "field": token("pdf")}).status_code == 403
    assert anonymous.post(URL, {"key": "a.png"}).status_code == 403
    assert [f and f.name for f in SEEN] == ["image", "pdf", None]


def test_permission_may_be_a_callable(settings: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = lambda request, field: request.POST.get("key") == "ok"
    assert Client().post(URL, {"key": "ok"}).status_code == 200
    assert Client().post(URL, {"key": "no"}).status_code == 403


@pytest.mark.parametrize(
    "value", ["no.such.module.check", "buckets.uploads.permissions.SETTING", 42]
)
def test_misconfigured_permission_is_improperly_configured(settings: Any, value: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = value
    with pytest.raises(ImproperlyConfigured, match="BUCKETS_UPLOAD_PERMISSION"):
        Client().post(URL, {"key": "a.txt"})


@pytest.mark.django_db
def test_authenticated_user_denied_by_a_custom_check_is_403(client: Client, settings: Any) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = lambda request, field: request.user.is_staff
    response = post_json(client, {"key": "a.txt"})
    assert response.status_code == 403
    assert response.json() == {"detail": ["You do not have permission to upload files."]}


# -- 405, CSRF -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_other_methods_are_405(client: Client, method: str) -> None:
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    if method != "head":
        assert response.json() == {"detail": ["Method not allowed: use POST."]}


@pytest.mark.django_db
def test_csrf_is_enforced_for_cookie_sessions(user: User) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    response = post_json(c, {"key": "a.txt"})
    assert response.status_code == 403
    assert b"CSRF" in response.content

    secret = "abcdefghijklmnopqrstuvwxyzABCDEF"  # a 32-character CSRF secret
    c.cookies["csrftoken"] = secret
    response = c.post(
        URL, json.dumps({"key": "a.txt"}), content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert response.status_code == 200, response.content
    response = c.post(
        URL,
        json.dumps({"key": "a.txt"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN="X" * 32,
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_csrf_check_follows_a_change_of_trusted_origins(user: User, settings: Any) -> None:
    """The CSRF check reads ``CSRF_TRUSTED_ORIGINS`` as it is now, not as it was when an
    earlier request was checked."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    secret = "abcdefghijklmnopqrstuvwxyzABCDEF"
    c.cookies["csrftoken"] = secret

    def post() -> int:
        return c.post(
            URL,
            json.dumps({"key": "a.txt"}),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=secret,
            HTTP_ORIGIN="http://admin.example.com",
        ).status_code

    settings.CSRF_TRUSTED_ORIGINS = []
    assert post() == 403
    settings.CSRF_TRUSTED_ORIGINS = ["http://admin.example.com"]
    assert post() == 200
    settings.CSRF_TRUSTED_ORIGINS = []
    assert post() == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cookie, header, reason",
    [
        (None, None, re.escape(REASON_NO_CSRF_COOKIE)),
        ("abcdefghijklmnopqrstuvwxyzABCDEF", None, re.escape(REASON_CSRF_TOKEN_MISSING)),
        ("abcdefghijklmnopqrstuvwxyzABCDEF", "X" * 32, r"CSRF token .*incorrect\."),
    ],
)
def test_a_csrf_failure_is_a_json_403_with_the_reason(
    user: User, caplog: Any, cookie: str | None, header: str | None, reason: str
) -> None:
    """The script reads JSON: a CSRF rejection keeps the view's error format and headers."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    if cookie:
        c.cookies["csrftoken"] = cookie
    extra = {"HTTP_X_CSRFTOKEN": header} if header else {}
    with caplog.at_level("WARNING", logger="django.security.csrf"):
        response = c.post(
            URL, json.dumps({"key": "a.txt"}), content_type="application/json", **extra
        )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    [message] = response.json()["detail"]
    assert list(response.json()) == ["detail"]
    assert re.fullmatch(
        f"CSRF verification failed: {reason} Reload the page and try again\\.", message
    )
    # Still logged as Django logs a CSRF failure.
    [record] = caplog.records
    assert re.fullmatch(f"Forbidden \\({reason}\\): {URL}", record.getMessage())


@pytest.mark.django_db
def test_a_request_without_cookies_needs_no_csrf_token(settings: Any) -> None:
    """An API client with no cookies carries no ambient credentials to forge."""
    settings.BUCKETS_UPLOAD_PERMISSION = None
    c = Client(enforce_csrf_checks=True)
    response = post_json(c, {"key": "a.txt"})
    assert response.status_code == 200, response.content
    c.cookies["sessionid"] = "anything"
    assert post_json(c, {"key": "a.txt"}).status_code == 403


# -- fuzz: no body gives a 500 ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
tokens = st.sampled_from(["image", "pdf"]).map(token)
inputs = st.fixed_dictionaries(
    {},
    optional={
        "key": st.text(max_size=300) | json_values | st.sampled_from(["a.png", "a.pdf", "x"]),
        "field": tokens | st.text(max_size=80) | json_values,
        "content_type": st.sampled_from(["image/png", "application/pdf", "text/plain", ""])
        | st.text(max_size=60)
        | json_values,
        "size": st.integers(min_value=-10, max_value=6 * GiB) | st.text(max_size=25) | json_values,
    },
)
raw_content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
    ]
)


@st.composite
def requests_(draw: Any) -> tuple[bytes, str]:
    mode = draw(st.sampled_from(["json", "form", "raw"]))
    if mode == "json":
        body = draw(inputs | json_values)
        return json.dumps(body).encode(), "application/json"
    if mode == "form":
        pairs = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["key", "field", "content_type", "size", "other"]),
                    st.text(max_size=80) | tokens,
                ),
                max_size=6,
            )
        )
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    return draw(st.binary(max_size=300)), draw(raw_content_types)


def check_shape(response: Any) -> None:
    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    event(f"status {response.status_code}")
    if response.status_code == 200:
        assert set(body) == {"url", "fields"}
        assert body["fields"]["key"].startswith("uploads/")
        assert body["fields"]["key"].count("/") == 2
    else:
        assert body and set(body) <= INPUT_NAMES, body
        for messages in body.values():
            assert messages and all(isinstance(m, str) and m for m in messages)


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests_())
def test_fuzz_bodies_never_500(request: tuple[bytes, str]) -> None:
    from django.test import override_settings

    raw, content_type = request
    with override_settings(BUCKETS_UPLOAD_PERMISSION=None):
        # raise_request_exception: any exception in the view fails the test, not just a 500.
        response = Client(raise_request_exception=True).post(URL, raw, content_type=content_type)
    check_shape(response)


@hsettings(max_examples=200, deadline=None)
@given(body=inputs)
def test_fuzz_inputs_for_a_logged_in_user(body: dict[str, Any]) -> None:
    """The same through ``RequestFactory`` with a user set: every branch after the permission."""
    from django.test import RequestFactory

    from buckets.uploads.views import signed_url

    request = RequestFactory().post(URL, json.dumps(body), content_type="application/json")
    request.user = User(pk=7, username="fuzz")
    response = signed_url(request)
    check_shape(response)
    if response.status_code == 200:
        key = json.loads(response.content)["fields"]["key"]
        labels = [None, "testapp.avatar.image", "testapp.avatar.pdf"]
        assert any(check_upload_name(key, field_label=x, user=request.user) for x in labels)
