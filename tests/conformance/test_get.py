"""Who may read an object: pre-signed URLs on a private bucket, anonymous reads on a public one.

The same requests to RGW and to the fake. With ``querystring_auth`` on (the default) the
bucket is private: ``storage.url()`` signs, a valid signature reads (and may override
response headers with ``response-*``), anything else is refused. With it off the objects
are public (on RGW, ``default_acl="public-read"``): anyone reads, but ``response-*``
overrides are for signed requests only, so a link cannot turn an upload into a page.
"""

from __future__ import annotations

import datetime
import json
import re
import socket
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile

from buckets.signing import sigv4 as signing
from tests.conformance.conftest import Target, assert_error, expect

pytestmark = pytest.mark.rgw

DATA = b"<p>an uploaded file</p>"


@pytest.fixture
def stored(target: Target) -> Target:
    assert target.storage.save("g/page.txt", ContentFile(DATA)) == "g/page.txt"
    return target


def signed(
    target: Target,
    name: str,
    *,
    now: datetime.datetime | None = None,
    expires: int = 60,
    secret_key: str | None = None,
    access_key: str | None = None,
    region: str | None = None,
    query: dict[str, str] | None = None,
) -> str:
    """A URL of ``name`` signed by hand with ``buckets.signing.sigv4`` (as ``url()`` does), with
    one thing changed: the clock, the lifetime, the key pair or the region."""
    parts = urlsplit(target.storage_url(name))
    return signing.presign_url(
        scheme_host=f"{parts.scheme}://{parts.netloc}",
        path=unquote(parts.path),
        access_key=access_key or target.access_key,
        secret_key=secret_key or target.secret_key,
        region=region or target.region,
        expires=expires,
        now=now,
        query=query,
    )


def unsigned(target: Target, name: str) -> str:
    return target.storage_url(name).split("?")[0]


def raw_get(url: str) -> bytes:
    """Everything the server sends for a GET, read off the socket: RGW 16 answers some
    requests with two status lines, which an HTTP client cannot show."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=30) as sock:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


# -- a private bucket (querystring_auth on) -------------------------------------------------


def test_signed_get_and_head_read_the_object(stored: Target) -> None:
    response = requests.get(stored.storage_url("g/page.txt"), timeout=30)
    assert (response.status_code, response.content) == (200, DATA)
    head = requests.head(stored.storage_url("g/page.txt", "HEAD"), timeout=30)
    assert head.status_code == 200


def test_unsigned_get_is_access_denied(stored: Target) -> None:
    assert_error(requests.get(unsigned(stored, "g/page.txt"), timeout=30), 403, "AccessDenied")
    # Even for a key that does not exist: an anonymous client learns nothing.
    assert_error(requests.get(unsigned(stored, "g/none.txt"), timeout=30), 403, "AccessDenied")
    assert requests.head(unsigned(stored, "g/page.txt"), timeout=30).status_code == 403


def test_signed_get_of_a_missing_key_is_no_such_key(stored: Target) -> None:
    assert_error(requests.get(stored.storage_url("g/none.txt"), timeout=30), 404, "NoSuchKey")


def test_tampered_signature(stored: Target) -> None:
    url = stored.storage_url("g/page.txt")
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert_error(requests.get(tampered, timeout=30), 403, "SignatureDoesNotMatch")


def test_override_added_to_a_signed_url_breaks_the_signature(stored: Target) -> None:
    url = stored.storage_url("g/page.txt") + "&response-content-type=text/html"
    assert_error(requests.get(url, timeout=30), 403, "SignatureDoesNotMatch")


def test_signature_for_get_does_not_allow_head(stored: Target) -> None:
    assert requests.head(stored.storage_url("g/page.txt"), timeout=30).status_code == 403


def test_wrong_secret_and_unknown_key(stored: Target) -> None:
    wrong = signed(stored, "g/page.txt", secret_key="not-the-secret")
    assert_error(requests.get(wrong, timeout=30), 403, "SignatureDoesNotMatch")
    unknown = signed(stored, "g/page.txt", access_key="NOSUCHKEY")
    assert_error(requests.get(unknown, timeout=30), 403, "InvalidAccessKeyId")


def test_expired_url(stored: Target) -> None:
    an_hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    url = signed(stored, "g/page.txt", now=an_hour_ago, expires=60)
    assert_error(requests.get(url, timeout=30), 403, "AccessDenied")  # "Request has expired"
    fresh = signed(stored, "g/page.txt", now=an_hour_ago, expires=7200)
    assert requests.get(fresh, timeout=30).status_code == 200


def test_url_valid_for_more_than_a_week(stored: Target) -> None:
    response = requests.get(signed(stored, "g/page.txt", expires=604801), timeout=30)
    # AWS: 400 AuthorizationQueryParametersError ("X-Amz-Expires must be less than a week").
    aws = (400, "AuthorizationQueryParametersError")
    assert_error(response, *expect(stored, "get: expiry over a week", aws=aws))


@pytest.mark.parametrize("expires", ["9" * 5000, "604801" + "0" * 20])
def test_expires_of_thousands_of_digits(stored: Target, expires: str) -> None:
    """More digits than Python converts (4,300): a lifetime above a week all the same."""
    url = re.sub(r"X-Amz-Expires=[0-9]+", f"X-Amz-Expires={expires}", signed(stored, "g/page.txt"))
    response = requests.get(url, timeout=30)
    # As test_url_valid_for_more_than_a_week.
    aws = (400, "AuthorizationQueryParametersError")
    assert_error(response, *expect(stored, "get: expiry of thousands of digits", aws=aws))


def test_incomplete_query_authentication(stored: Target) -> None:
    url = stored.storage_url("g/page.txt").split("&X-Amz-Signature=")[0]
    # AWS: 400 AuthorizationQueryParametersError (every X-Amz-* parameter is required).
    aws = (400, "AuthorizationQueryParametersError")
    expected = expect(stored, "get: incomplete query authentication", aws=aws)
    assert_error(requests.get(url, timeout=30), *expected)


def test_credential_for_another_region(stored: Target) -> None:
    response = requests.get(signed(stored, "g/page.txt", region="eu-west-3"), timeout=30)
    # AWS refuses a credential scoped to another region (400
    # AuthorizationQueryParametersError, naming the right one).
    if expect(stored, "get: credential for another region", aws=400) == 200:
        assert response.status_code == 200
    else:
        assert_error(response, 400, "AuthorizationQueryParametersError")


def test_signed_overrides_are_honoured(stored: Target) -> None:
    parameters = {
        "ResponseContentType": "text/html",
        "ResponseContentDisposition": 'attachment; filename="page.html"',
        "ResponseCacheControl": "no-store",
    }
    url = stored.storage_url("g/page.txt", parameters=parameters)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/html"
    assert response.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response.headers["Cache-Control"] == "no-store"


# -- a public bucket (querystring_auth off) -------------------------------------------------


@pytest.fixture
def public(target: Target, settings: Any) -> Target:
    """The target with public objects and unsigned URLs."""
    if target.real:
        storage = target.storage_with(querystring_auth=False, default_acl="public-read")
        if not expect(target, "acl: object ACLs", aws=True):  # a bucket policy instead
            target.s3.put_bucket_policy(Bucket=target.bucket, Policy=public_read(target.bucket))
    else:  # the fake serves BUCKETS_FAKE_STORAGE: make that a public one
        # A new alias: Django 4.2 keeps serving a cached "default" after STORAGES changes.
        settings.STORAGES = {
            **settings.STORAGES,
            "public": {
                "BACKEND": "buckets.test.storage.FakeS3Storage",
                "OPTIONS": {"querystring_auth": False},
            },
        }
        settings.BUCKETS_FAKE_STORAGE = "public"
        storage = target.storage_with(querystring_auth=False)
    assert storage.save("p/page.txt", ContentFile(DATA)) == "p/page.txt"
    target.storage = storage
    return target


def public_read(bucket: str) -> str:
    """A bucket policy letting anyone read the bucket's objects."""
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_public_object_reads_unsigned(public: Target) -> None:
    url = public.storage_url("p/page.txt")
    assert "X-Amz-Signature" not in url
    response = requests.get(url, timeout=30)
    assert (response.status_code, response.content) == (200, DATA)


def test_public_object_refuses_unsigned_overrides(public: Target) -> None:
    url = public.storage_url("p/page.txt") + "?response-content-type=text/html"
    received = raw_get(url)
    # AWS: 400 InvalidRequest ("Request specific response headers cannot be used for
    # anonymous GET requests"). A server may refuse after a "200 OK" status line (a
    # malformed response that HTTP clients read as a 200 with a garbled body), or serve.
    statuses = re.findall(rb"^HTTP/1\.[01] (\d{3})", received, re.MULTILINE)
    assert statuses == expect(public, "get: unsigned response-* override", aws=[b"400"])
    if statuses[-1] == b"400":
        assert b"<Code>InvalidRequest</Code>" in received
        assert DATA not in received
    else:  # served, with the override: the upload becomes an HTML page
        assert DATA in received and b"Content-Type: text/html" in received


def test_public_object_signed_overrides_are_honoured(public: Target) -> None:
    url = signed(public, "p/page.txt", query={"response-content-type": "text/html"})
    response = requests.get(url, timeout=30)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/html")
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")  # signed, so checked
    assert_error(requests.get(tampered, timeout=30), 403, "SignatureDoesNotMatch")
