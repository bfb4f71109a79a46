"""Hostile input, generated: no 500, no file outside the fake's root, no key outside the
staging prefix, no foreign URL taken for one of ours.

``tests/test_signed_url_view.py`` already fuzzes the view with JSON, form-encoded and raw
bodies; here: multipart and charset-declared forms, under a storage with a ``location`` and
a custom ``upload_prefix``. Then URL parsing by the field, and the key-cleaning functions.
The fake upload endpoint's multipart bodies are in ``reliability/test_fuzz_fake_upload.py``.
No network: the S3 storages here only sign.
"""

from __future__ import annotations

import json
import posixpath
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import django
import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.test import Client, RequestFactory, override_settings
from hypothesis import assume, event, given
from hypothesis import strategies as st
from urllib3.util import parse_url

from buckets.fields import S3FileField
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.storage import S3Storage
from buckets.storage.keys import clean_name, name_to_key
from buckets.uploads.staging import (
    InvalidFilename,
    check_upload_name,
    clean_filename,
    new_upload_name,
)
from buckets.uploads.views import signed_url
from tests.reliability.strategies import (
    AWS,
    FUZZ,
    dispositions,
    has_dotdot,
    multipart_body,
    nasty_paths,
    numbers,
    segments,
)

# -- the signed-URL view: multipart and charset forms, location + upload_prefix -----------

VIEW_AWS = {**AWS, "LOCATION": "tenant/a", "UPLOAD_PREFIX": "in/coming/"}
view_inputs = st.fixed_dictionaries(
    {},
    optional={
        "key": nasty_paths | st.text(max_size=200) | st.sampled_from(["file.txt", "é.png"]),
        "content_type": st.sampled_from(["text/plain", "", "image/png; charset=x"])
        | st.text(max_size=40),
        "size": st.sampled_from(["1", "0", "-1", "1e3", "٣", ""]) | st.text(max_size=8) | numbers,
        "field": st.text(max_size=40),
        "other": st.text(max_size=20),
    },
)


@st.composite
def view_requests(draw: Any) -> tuple[bytes, str, dict[str, str] | None]:
    """``(body, content type, inputs)``; inputs None when the body lies about its charset
    or names a part in RFC 2231's form (which parts reach the view is Django's business)."""
    data = draw(view_inputs)
    mode = draw(st.sampled_from(["multipart", "form-utf8", "form-latin1", "json-utf16"]))
    if mode == "multipart":
        boundary = draw(st.sampled_from(["b0und", "----x", "a" * 70]))
        assume(all(boundary not in v for v in data.values()))
        styles = {name: draw(dispositions) for name in data}
        raw = multipart_body(data, boundary, styles)
        plain = set(styles.values()) <= {"plain"}
        return raw, f"multipart/form-data; boundary={boundary}", data if plain else None
    if mode == "json-utf16":
        return json.dumps(data).encode("utf-16"), "application/json", data
    charset = "utf-8" if mode == "form-utf8" else "latin-1"
    try:
        raw = urlencode(data, encoding=charset).encode("ascii")
    except UnicodeEncodeError:
        raw = urlencode(data).encode("ascii")  # UTF-8, declared latin-1
        return raw, f"application/x-www-form-urlencoded; charset={charset}", None
    return raw, f"application/x-www-form-urlencoded; charset={charset}", data


@FUZZ
@given(request=view_requests(), user=st.sampled_from([None, "alice"]))
def test_signed_url_view_bodies_keep_keys_under_the_staging_prefix(
    request: tuple[bytes, str, dict[str, str] | None], user: str | None
) -> None:
    raw, content_type, data = request
    with override_settings(AWS=VIEW_AWS, BUCKETS_UPLOAD_PERMISSION=None):
        http = RequestFactory().post("/s3/signed-url/", raw, content_type=content_type)
        http.user = AnonymousUser() if user is None else User(pk=3, username=user)
        response = signed_url(http)
    assert response.status_code in (200, 400), response.content
    body = json.loads(response.content)
    event(f"status {response.status_code}")
    if response.status_code != 200:
        assert set(body) <= {"key", "field", "content_type", "size", "detail"}, body
        return
    key = body["fields"]["key"]
    head = "tenant/a/in/coming/"
    assert key.startswith(head) and posixpath.normpath(key).startswith(head)
    segment, filename = key[len(head) :].split("/")
    assert re.fullmatch(r"[0-9a-f]{48}", segment)
    assert "/" not in filename and not has_dotdot(key)
    if data is not None:
        assert filename == clean_filename(data["key"])
    assert check_upload_name(
        key[len("tenant/a/") :], field_label=None, user=http.user, prefix="in/coming/"
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(
            b"key=r%E9sum%E9.txt",
            "application/x-www-form-urlencoded; charset=latin-1",
            marks=pytest.mark.skipif(
                django.VERSION < (5, 1), reason="Django < 5.1 decodes the declared charset"
            ),
        ),
        (
            multipart_body({"key": "a.txt"}, "b").replace(
                b"--b--",
                b"".join(
                    b'--b\r\nContent-Disposition: form-data; name="f%d"; filename="x"\r\n\r\n'
                    b"x\r\n" % i
                    for i in range(101)
                )
                + b"--b--",
            ),
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["latin-1-form", "101-files"],
)
def test_signed_url_view_unreadable_forms_are_json_400(body: bytes, content_type: str) -> None:
    """Regression: Django refuses a form declared in another charset than UTF-8 (5.1+) and
    more than ``DATA_UPLOAD_MAX_NUMBER_FILES`` files with ``BadRequest`` and
    ``TooManyFilesSent``, which the view let through: an HTML 400 (or, with the exception
    re-raised, a 500) instead of the JSON error the API promises."""
    with override_settings(BUCKETS_UPLOAD_PERMISSION=None):
        response = Client(raise_request_exception=True).post(
            "/s3/signed-url/", body, content_type=content_type
        )
    assert response.status_code == 400
    assert response.json() == {"detail": ["The request body could not be read."]}


# -- the field's URL parsing -----------------------------------------------------------

STORAGES = {
    "endpoint": S3Storage(
        bucket_name="fuzz-bucket",
        access_key="AK",
        secret_key="SK",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9000",
        addressing_style="path",
    ),
    "aws+location": S3Storage(
        bucket_name="fuzz-bucket",
        access_key="AK",
        secret_key="SK",
        region_name="eu-west-1",
        location="tenant",
    ),
    "custom-domain": S3Storage(
        bucket_name="fuzz-bucket",
        access_key="AK",
        secret_key="SK",
        region_name="us-east-1",
        custom_domain="cdn.example.com/files",
        querystring_auth=False,
    ),
}
OWN_HOSTS = [
    "127.0.0.1:9000",
    "fuzz-bucket.127.0.0.1:9000",
    "s3.amazonaws.com",
    "fuzz-bucket.s3.amazonaws.com",
    "s3.eu-west-1.amazonaws.com",
    "fuzz-bucket.s3.eu-west-1.amazonaws.com",
    "cdn.example.com",
]
OTHER_HOSTS = [
    "evil.com",
    "127.0.0.1",
    "127.0.0.1:9001",
    "localhost:9000",
    "fuzz-bucket.s3.amazonaws.com.evil.com",
    "evil.com\\@s3.amazonaws.com",
    "s3.amazonaws.com@evil.com",
    "evil.com#@s3.amazonaws.com",
    "other-bucket.s3.amazonaws.com",
    "cdn.example.com.evil.com",
    "[::1]:9000",
    "CDN.EXAMPLE.COM",
    "s3.amazonaws.com:443",
    "s3.amazonaws.com:abc",
]
url_paths = st.builds(
    lambda parts: "/" + "/".join(parts),
    st.lists(
        st.sampled_from(["fuzz-bucket", "other-bucket", "tenant", "files", "uploads"])
        | segments.map(lambda s: quote(s, safe="%/\\") if s else s)
        | segments,
        max_size=6,
    ),
)
urls = st.builds(
    lambda scheme, userinfo, host, path, tail: f"{scheme}{userinfo}{host}{path}{tail}",
    st.sampled_from(["https://", "http://", "HTTPS://", "//", "ftp://", "javascript://", ""]),
    st.sampled_from(["", "", "", "user:pw@", "fuzz-bucket@"]),
    st.sampled_from(OWN_HOSTS + OTHER_HOSTS),
    url_paths,
    st.sampled_from(["", "?X-Amz-Signature=abc", "#frag", "?a=/../b", "\t", "\r\n"]),
) | st.text(max_size=120)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


@FUZZ
@given(which=st.sampled_from(sorted(STORAGES)), url=urls)
def test_field_takes_only_its_own_urls_and_never_an_escaping_name(which: str, url: str) -> None:
    storage = STORAGES[which]
    field = S3FileField(storage=storage)
    try:
        name = field.name_for_value(url)
    except ValidationError:
        event("refused")
        return
    if url == "":
        assert name == ""  # an empty value stays empty
        return
    event("accepted")
    assert name and not name.startswith("/") and "\x00" not in name
    assert not has_dotdot(name) and not has_dotdot(clean_name(name)) and name_to_key(name)
    if "://" in url or url.startswith("//"):  # a URL, not a bare key: it must be ours
        own = {host for host, _ in storage._url_forms}
        assert origin_of(url) in own, (url, name)
        assert (parse_url(url).host or "").lower() == urlsplit(url).hostname  # no parser split
    if storage.location:
        assert storage._key(name).startswith(storage.location + "/")


safe_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(lambda n: not has_dotdot(n) and not n.startswith(("/", "\\")) and n.strip("/"))


#: Names with ``.`` and empty segments among ordinary ones.
dotted_names = st.lists(
    st.sampled_from([".", "", "a", "b.txt", "é", "a.", ".a", "..."]), min_size=1, max_size=6
).map("/".join)


def remove_dot_segments(path: str) -> str:
    """What a browser requests for a URL's path (RFC 3986 5.2.4, for paths with no ``..``:
    every ``.`` segment goes)."""
    parts = path.split("/")
    kept = [p for p in parts[:-1] if p != "."] + ([""] if parts[-1] == "." else parts[-1:])
    return "/".join(kept)


@FUZZ
@given(which=st.sampled_from(sorted(STORAGES)), name=safe_names | dotted_names)
def test_every_url_a_storage_makes_maps_back_to_its_name(which: str, name: str) -> None:
    """And it is the URL a browser requests: no dot segment to remove, no empty segment
    for a server to merge (the request would name another key than the one signed)."""
    storage = STORAGES[which]
    try:
        url = storage.url(name)
    except SuspiciousFileOperation:
        return
    assert S3FileField(storage=storage).name_for_value(url) == clean_name(name)
    path = urlsplit(url).path
    assert remove_dot_segments(path) == path and "//" not in path, url


# -- key cleaning ----------------------------------------------------------------------


@FUZZ
@given(filename=nasty_paths | st.text(), prefix=st.sampled_from(["uploads/", "in/coming/", "u/"]))
def test_staging_names_stay_under_the_prefix(filename: str, prefix: str) -> None:
    try:
        name = new_upload_name(
            filename, field_label="testapp.document.file", user=None, prefix=prefix
        )
    except InvalidFilename:
        event("refused")
        return
    assert name.startswith(prefix) and posixpath.normpath(name).startswith(prefix)
    segment, clean = name[len(prefix) :].split("/")
    assert len(segment) == 48 and clean == clean_filename(filename)
    assert "/" not in clean and "\\" not in clean and clean not in (".", "..")
    assert unicodedata.is_normalized("NFC", clean)
    assert check_upload_name(name, field_label="testapp.document.file", user=None, prefix=prefix)
    assert not check_upload_name(name, field_label="testapp.avatar.image", user=None)
    key = name_to_key(name, "tenant")
    assert key == f"tenant/{name}" and not has_dotdot(key)


@FUZZ
@given(name=nasty_paths | st.text(), location=st.sampled_from(["", "tenant", "a/b"]))
def test_name_to_key_never_escapes_the_location(name: str, location: str) -> None:
    try:
        key = name_to_key(name, location)
    except SuspiciousFileOperation:
        event("refused")
        return
    assert not has_dotdot(key) and not key.startswith("/") and "\x00" not in key
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES
    if location:
        assert key.startswith(location + "/")
        normal = posixpath.normpath("/" + key)  # "tenant/." is the location itself at worst
        assert normal == f"/{location}" or normal.startswith(f"/{location}/")
