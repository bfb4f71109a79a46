"""buckets.signing.sigv4 against botocore, byte for byte, at a frozen clock.

No network: generate_presigned_url/_post only compute. No Django settings.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import subprocess
import sys
import types
from contextlib import ExitStack
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import boto3
import botocore.auth
import botocore.signers
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buckets.signing import sigv4 as signing
from buckets.signing import url_verify

FROZEN = datetime.datetime(2024, 2, 29, 23, 59, 58)  # naive UTC, as botocore uses
ACCESS = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDH/+token=with/odd+chars=="
REGION = "eu-west-1"
PATH_ENDPOINT = "http://127.0.0.1:7480"
VHOST = "https://bucket.s3.eu-west-1.amazonaws.com"

# botocore parameter name -> S3 query-string name
WIRE = {
    "VersionId": "versionId",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentType": "response-content-type",
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
}

EXPLICIT_KEYS = [
    "plain.txt",
    "café/日本.txt",
    "with space.txt",
    "a+b.txt",
    "100%.txt",
    "%20literal",
    "tilde~name",
    "a=b",
    "a&b",
    "what?.txt",
    "hash#tag",
    "semi;colon",
    "!*'()",
    "a/b//c",
    "/leading-slash",
    "trailing/",
    "./x/../y",
    "..",
    '$@:,[]{}|\\^`"<>',
    "emoji 🎉.png",
    "tab\there",
    "new\nline",
    "ünïcödé/ß",
]


def _freeze_botocore(stack: ExitStack) -> None:
    """Freeze every clock botocore's signers read.

    botocore >= 1.35 reads ``botocore.compat.get_current_datetime`` (imported by
    name into auth and signers); older ones call ``datetime.datetime.utcnow()``
    through the ``datetime`` module imported in each.
    """
    frozen = lambda *a, **k: FROZEN  # noqa: E731
    patched = False
    for module in (botocore.auth, botocore.signers):
        if hasattr(module, "get_current_datetime"):
            stack.enter_context(mock.patch.object(module, "get_current_datetime", frozen))
            patched = True
        elif hasattr(module, "datetime"):

            class _Frozen(datetime.datetime):
                @classmethod
                def utcnow(cls):
                    return FROZEN

            shim = types.SimpleNamespace(
                datetime=_Frozen, timedelta=datetime.timedelta, timezone=datetime.timezone
            )
            stack.enter_context(mock.patch.object(module, "datetime", shim))
            patched = True
    assert patched, "could not find botocore's clock"


@pytest.fixture(scope="module")
def frozen():
    with ExitStack() as stack:
        _freeze_botocore(stack)
        yield


def _client(style: str, token: str | None, endpoint: str | None = None, region: str = REGION):
    session = boto3.session.Session(
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name=region,
    )
    config = Config(signature_version="s3v4", s3={"addressing_style": style})
    return session.client("s3", endpoint_url=endpoint, config=config)


@pytest.fixture(scope="module")
def clients(frozen):
    return {
        (style, token): _client(style, token, PATH_ENDPOINT if style == "path" else None)
        for style in ("path", "virtual")
        for token in (None, TOKEN)
    }


def _botocore_url(clients, style, token, key, expires=3600, **params):
    return clients[(style, token)].generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": key, **params}, ExpiresIn=expires
    )


def _our_url(style, token, key, expires=3600, **params):
    scheme_host, path = (PATH_ENDPOINT, "/bucket/" + key) if style == "path" else (VHOST, "/" + key)
    return signing.presign_url(
        scheme_host=scheme_host,
        path=path,
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        expires=expires,
        token=token,
        query={WIRE[name]: value for name, value in params.items()},
        now=FROZEN,
    )


# --------------------------------------------------------------------------
# Byte-for-byte equality with botocore
# --------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
@pytest.mark.parametrize("key", EXPLICIT_KEYS)
def test_url_equals_botocore_explicit_keys(clients, style, token, key):
    expected = _botocore_url(clients, style, token, key)
    assert _our_url(style, token, key) == expected


def test_url_shapes(clients):
    """Guard the comparisons themselves: the URLs are what we think they are."""
    url = _our_url("path", None, "café/a b.txt")
    assert url.startswith("http://127.0.0.1:7480/bucket/caf%C3%A9/a%20b.txt?X-Amz-Algorithm=")
    url = _our_url("virtual", TOKEN, "k", 60, VersionId="v")
    assert url.startswith(VHOST + "/k?versionId=v&X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    assert "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=" in url
    assert "X-Amz-Credential=AKIDEXAMPLE%2F20240229%2Feu-west-1%2Fs3%2Faws4_request" in url
    assert "X-Amz-Date=20240229T235958Z&X-Amz-Expires=60&" in url


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
    style=st.sampled_from(["path", "virtual"]),
    token=st.sampled_from([None, TOKEN]),
)
def test_url_equals_botocore_any_key(clients, key, style, token):
    assert _our_url(style, token, key) == _botocore_url(clients, style, token, key)


@pytest.mark.parametrize("expires", [1, 60, 900, 3600, 86400, 604800])
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_url_equals_botocore_expiries(clients, expires, style):
    assert _our_url(style, None, "x/y.bin", expires) == _botocore_url(
        clients, style, None, "x/y.bin", expires
    )


RESPONSE_PARAMS = [
    {"ResponseContentDisposition": "attachment; filename=\"résumé 'final'.pdf\""},
    {
        "ResponseContentDisposition": "inline; filename*=UTF-8''%E6%97%A5.txt",
        "ResponseContentType": "text/plain; charset=utf-8",
    },
    {"ResponseCacheControl": "max-age=60, public", "ResponseContentLanguage": "fr-CA"},
    {
        "ResponseContentEncoding": "gzip",
        "VersionId": "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    },
    {"VersionId": "null"},
    {"VersionId": ""},
    # Order matters (the URL keeps it): the reverse of the previous ones.
    {"ResponseContentType": "image/png", "ResponseContentDisposition": "inline"},
]


@pytest.mark.parametrize("params", RESPONSE_PARAMS)
@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
def test_url_equals_botocore_response_params(clients, params, style, token):
    key = "dir/naïve file+1.pdf"
    assert _our_url(style, token, key, 300, **params) == _botocore_url(
        clients, style, token, key, 300, **params
    )


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    disposition=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    ctype=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
    token=st.sampled_from([None, TOKEN]),
)
def test_url_equals_botocore_any_response_params(clients, disposition, ctype, token):
    params = {"ResponseContentDisposition": disposition, "ResponseContentType": ctype}
    assert _our_url("path", token, "k", 60, **params) == _botocore_url(
        clients, "path", token, "k", 60, **params
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://localhost:80",
        "https://s3.example.com:443",
        "https://s3.example.com:8443",
        "http://[::1]:9000",
    ],
)
def test_url_equals_botocore_default_ports_and_ipv6(frozen, endpoint):
    """The signed host header drops a default port but the URL keeps it."""
    client = _client("path", None, endpoint)
    expected = client.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "k"}, ExpiresIn=60
    )
    ours = signing.presign_url(
        scheme_host=endpoint,
        path="/bucket/k",
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        expires=60,
        now=FROZEN,
    )
    assert ours == expected


@pytest.mark.parametrize(
    "operation,method",
    [("put_object", "PUT"), ("head_object", "HEAD"), ("delete_object", "DELETE")],
)
def test_url_equals_botocore_other_methods(clients, operation, method):
    expected = clients[("path", None)].generate_presigned_url(
        operation, Params={"Bucket": "bucket", "Key": "a b"}, ExpiresIn=60
    )
    ours = signing.presign_url(
        scheme_host=PATH_ENDPOINT,
        path="/bucket/a b",
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        expires=60,
        method=method.lower(),
        now=FROZEN,
    )
    assert ours == expected


def test_url_us_east_1_global_endpoint(frozen):
    client = _client("virtual", None, region="us-east-1")
    expected = client.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "k"}, ExpiresIn=60
    )
    host = expected.split("/k?", 1)[0]
    assert host in ("https://bucket.s3.amazonaws.com", "https://bucket.s3.us-east-1.amazonaws.com")
    ours = signing.presign_url(
        scheme_host=host,
        path="/k",
        access_key=ACCESS,
        secret_key=SECRET,
        region="us-east-1",
        expires=60,
        now=FROZEN,
    )
    assert ours == expected


# --------------------------------------------------------------------------
# Independent vectors (AWS documentation), helpers
# --------------------------------------------------------------------------


def test_aws_documented_presigned_url_example():
    """The worked example of AWS's "Authenticating Requests: Using Query Parameters"."""
    url = signing.presign_url(
        scheme_host="https://examplebucket.s3.amazonaws.com",
        path="/test.txt",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        expires=86400,
        now=datetime.datetime(2013, 5, 24),
    )
    assert url.endswith(
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


def test_signing_key_matches_aws_example_and_plain_hmac_chain():
    key = signing.signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"
    )
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"

    def h(k: bytes, m: str) -> bytes:
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    expected = h(h(h(h(b"AWS4" + SECRET.encode(), "20240229"), REGION), "s3"), "aws4_request")
    assert signing.signing_key(SECRET, "20240229", REGION) == expected


@settings(max_examples=300, deadline=None)
@given(key=st.binary(max_size=200), message=st.binary(max_size=300))
def test_hmac_sha256_is_the_hmac_module(key, message):
    """Signatures use ``HmacSha256`` (RFC 2104 from hashlib, key pads hashed once): the same
    bytes as ``hmac.new`` for any key (shorter, as long as and longer than SHA-256's 64-byte
    block) and message, on whichever Python runs the suite."""
    keyed = signing.HmacSha256(key)
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    assert keyed.hexdigest(message) == expected
    assert keyed.hexdigest(message) == expected  # signing leaves the keyed state unchanged
    assert keyed.hexdigest(b"") == hmac.new(key, b"", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 128, 1000])
def test_hmac_sha256_at_the_block_edges(length):
    key = bytes(range(256)) * 4
    keyed = signing.HmacSha256(key[:length])
    for message in (b"", b"x", b"AWS4-HMAC-SHA256\n" * 9, bytes(range(256)) * 3):
        assert keyed.hexdigest(message) == hmac.new(key[:length], message, "sha256").hexdigest()


def test_signing_key_is_cached():
    signing.signing_key.cache_clear()
    signing.signing_key(SECRET, "20240101", REGION)
    signing.signing_key(SECRET, "20240101", REGION)
    assert signing.signing_key.cache_info().hits == 1


def test_amz_date():
    assert signing.amz_date(datetime.datetime(2024, 1, 2, 3, 4, 5, 999999)) == "20240102T030405Z"
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2024, 1, 2, 5, 4, 5, tzinfo=plus_two)
    assert signing.amz_date(aware) == "20240102T030405Z"
    fmt = "%Y%m%dT%H%M%SZ"
    before = datetime.datetime.now(datetime.timezone.utc).strftime(fmt)
    current = signing.amz_date()
    again = signing.amz_date()  # served from the per-second cache, or the next second
    after = datetime.datetime.now(datetime.timezone.utc).strftime(fmt)
    assert before <= current <= again <= after


def test_aware_and_naive_now_sign_the_same():
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    a = _our_url("path", None, "k")
    b = signing.presign_url(
        scheme_host=PATH_ENDPOINT,
        path="/bucket/k",
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        now=FROZEN.replace(tzinfo=datetime.timezone.utc).astimezone(tz),
    )
    assert a == b


def test_credential_helpers():
    assert signing.credential_scope("20240229", REGION) == "20240229/eu-west-1/s3/aws4_request"
    cred = signing.credential(ACCESS, "20240229", REGION)
    assert cred == "AKIDEXAMPLE/20240229/eu-west-1/s3/aws4_request"
    assert signing.parse_credential(cred) == (ACCESS, "20240229", REGION, "s3")
    for bad in [
        "",
        "AK/20240229/eu-west-1/s3",
        "AK/20240229/eu-west-1/s3/aws4",
        "AK/2024022/eu-west-1/s3/aws4_request",
        "/20240229/eu-west-1/s3/aws4_request",
        "AK/2024022x/eu-west-1/s3/aws4_request",
        "AK/20240229//s3/aws4_request",
    ]:
        assert signing.parse_credential(bad) is None, bad


@settings(max_examples=300)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_quote_path_is_quote_with_slash_and_tilde_safe(path):
    assert signing.quote_path(path) == quote(path, safe="/~")


# --------------------------------------------------------------------------
# POST policy signatures
# --------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
def test_policy_signature_equals_botocore(clients, token):
    post = clients[("path", token)].generate_presigned_post(
        "bucket",
        "uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[["content-length-range", 1, 1000], {"success_action_status": "201"}],
        ExpiresIn=600,
    )
    fields = post["fields"]
    date_stamp = fields["x-amz-date"][:8]
    assert fields["x-amz-date"] == "20240229T235958Z"
    assert fields["x-amz-credential"] == signing.credential(ACCESS, date_stamp, REGION)
    ours = signing.sign_policy(fields["policy"], SECRET, date_stamp, REGION)
    assert ours == fields["x-amz-signature"]
    assert signing.verify_policy_signature(
        fields["policy"], fields["x-amz-signature"], SECRET, date_stamp, REGION
    )
    document = json.loads(base64.b64decode(fields["policy"]))
    assert document["expiration"] == "2024-03-01T00:09:58Z"


def test_verify_policy_signature_rejects():
    policy = base64.b64encode(b'{"expiration":"2030-01-01T00:00:00Z","conditions":[]}').decode()
    sig = signing.sign_policy(policy, SECRET, "20240229", REGION)
    assert len(sig) == 64 and sig == sig.lower()
    assert signing.verify_policy_signature(policy, sig, SECRET, "20240229", REGION)
    assert not signing.verify_policy_signature(policy, sig.upper(), SECRET, "20240229", REGION)
    assert not signing.verify_policy_signature(policy, sig[:-1], SECRET, "20240229", REGION)
    assert not signing.verify_policy_signature(policy + "=", sig, SECRET, "20240229", REGION)
    assert not signing.verify_policy_signature(policy, sig, SECRET + "x", "20240229", REGION)
    assert not signing.verify_policy_signature(policy, sig, SECRET, "20240301", REGION)
    assert not signing.verify_policy_signature(policy, sig, SECRET, "20240229", "us-east-1")
    assert not signing.verify_policy_signature(policy, "é" * 64, SECRET, "20240229", REGION)


def test_modules_are_pure():
    """Importing every module of ``buckets.signing`` pulls in neither botocore nor Django."""
    code = (
        "import importlib, pkgutil, sys, buckets.signing as p; "
        "names = [m.name for m in pkgutil.iter_modules(p.__path__)]; "
        "[importlib.import_module(f'buckets.signing.{name}') for name in names]; "
        "assert len(names) >= 8, names; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', 'django')]; "
        "sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True)
    assert result.returncode == 0, result.stderr


# -- verifying pre-signed URLs (the fake's side) --------------------------------------------

V_NOW = datetime.datetime(2024, 2, 29, 23, 59, 58, tzinfo=datetime.timezone.utc)


def _presigned(query=None, **overrides):
    options = dict(
        scheme_host="http://127.0.0.1:8000",
        path="/media/s3/uploads/a b/ü+%.txt",
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        expires=300,
        now=V_NOW,
        query=query,
    )
    options.update(overrides)
    return signing.presign_url(**options)


def _check(url, *, method="GET", host="127.0.0.1:8000", now=V_NOW, region=REGION):
    from urllib.parse import unquote, urlsplit

    from buckets.test.headers import query_pairs

    parts = urlsplit(url)
    return url_verify.verify_presigned(
        method=method,
        path=unquote(parts.path),
        query=query_pairs(parts.query),
        hosts=[host],
        secret_for={ACCESS: SECRET}.get,
        region=region,
        now=now,
    )


def _code(result):
    assert isinstance(result, url_verify.PostError), result
    return result.status, result.code


@pytest.mark.parametrize("query", [None, {"response-content-type": "text/html; charset=utf-8"}])
def test_verify_presigned_accepts_what_presign_url_signs(query):
    assert _check(_presigned(query)) is True
    assert _check(_presigned(query, method="HEAD"), method="HEAD") is True


def test_verify_presigned_accepts_botocore_urls():
    client = boto3.client(
        "s3",
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name=REGION,
        endpoint_url=PATH_ENDPOINT,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    with mock.patch("botocore.auth.datetime") as clock:
        clock.datetime.utcnow.return_value = FROZEN
        clock.datetime.now.return_value = FROZEN
        url = client.generate_presigned_url(
            "get_object",
            Params={"Bucket": "b", "Key": "k/é.txt", "ResponseContentDisposition": "attachment"},
        )
    assert _check(url, host="127.0.0.1:7480", now=FROZEN) is True


def test_verify_presigned_without_authentication_is_anonymous():
    assert _check("http://127.0.0.1:8000/media/s3/uploads/x.txt") is False
    assert _check("http://127.0.0.1:8000/x.txt?response-content-type=text/html") is False


def test_verify_presigned_refusals():
    url = _presigned()
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert _code(_check(tampered)) == (403, "SignatureDoesNotMatch")
    assert _code(_check(url + "&response-content-type=text/html")) == (
        403,
        "SignatureDoesNotMatch",
    )
    assert _code(_check(url, method="HEAD")) == (403, "SignatureDoesNotMatch")
    assert _code(_check(url, host="evil.example")) == (403, "SignatureDoesNotMatch")
    assert _code(_check(url.replace("/a%20b/", "/a%20c/"))) == (403, "SignatureDoesNotMatch")
    later = V_NOW + datetime.timedelta(seconds=301)
    assert _code(_check(url, now=later)) == (403, "AccessDenied")  # expired
    assert _check(url, now=V_NOW + datetime.timedelta(seconds=300)) is True  # inclusive
    earlier = V_NOW - datetime.timedelta(minutes=16)
    assert _code(_check(url, now=earlier)) == (403, "AccessDenied")  # not valid yet
    assert _code(_check(url, region="us-east-1")) == (400, "AuthorizationQueryParametersError")
    unknown = _presigned(access_key="SOMEONE")
    assert _code(_check(unknown)) == (403, "InvalidAccessKeyId")
    week = _presigned(expires=604801)
    assert _code(_check(week)) == (400, "AuthorizationQueryParametersError")
    partial = url.split("&X-Amz-Signature=")[0]
    assert _code(_check(partial)) == (400, "AuthorizationQueryParametersError")
    for name, bad in [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
        ("X-Amz-Date", "2024-02-29"),
        ("X-Amz-Expires", "soon"),
        ("X-Amz-Credential", "nonsense"),
    ]:
        edited = re.sub(rf"{name}=[^&]*", f"{name}={bad}", url)
        assert _code(_check(edited)) == (400, "AuthorizationQueryParametersError"), name


def test_verify_presigned_reads_expires_within_a_week_whatever_its_length():
    """Regression: ``int()`` of an ``X-Amz-Expires`` of thousands of digits raised
    ``ValueError`` (Python's int-string limit): a 500 from the fake instead of S3's 400."""
    url = _presigned()
    for huge in ("9" * 5000, "1" + "0" * 4299, "604801" + "0" * 20):
        edited = re.sub(r"X-Amz-Expires=[^&]*", f"X-Amz-Expires={huge}", url)
        assert _code(_check(edited)) == (400, "AuthorizationQueryParametersError")
    # Leading zeros are the same number, however many: a URL signed that way is valid.
    from urllib.parse import urlsplit

    parts = urlsplit(url.split("&X-Amz-Signature=")[0])
    padded = parts.query.replace("X-Amz-Expires=300", "X-Amz-Expires=" + "0" * 5000 + "300")
    pairs = [tuple(item.split("=", 1)) for item in padded.split("&")]
    signature = signing.query_signature(
        method="GET",
        encoded_path=parts.path,
        encoded_query=pairs,
        headers=[("host", parts.netloc)],
        stamp=dict(pairs)["X-Amz-Date"],
        secret_key=SECRET,
        region=REGION,
    )
    signed = f"{parts.scheme}://{parts.netloc}{parts.path}?{padded}&X-Amz-Signature={signature}"
    assert _check(signed) is True


def test_verify_presigned_of_a_relative_url_signed_for_no_host():
    """The fake's own URLs are relative when MEDIA_URL is: signed for an empty host."""
    url = _presigned(scheme_host="")
    assert url.startswith("/media/")
    assert _code(_check(url)) == (403, "SignatureDoesNotMatch")
    assert _check(url, host="") is True


@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
@pytest.mark.parametrize("path", ["/bucket/plain.jpg", "/bucket/a b/ü+%.txt"])
def test_query_less_url_signs_as_the_general_path(token, path):
    """A URL without operation parameters is signed from parts prepared once a second; its
    signature is the one :func:`query_signature` computes from the whole canonical request."""
    url = signing.presign_url(
        scheme_host="http://127.0.0.1:7480",
        path=path,
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        token=token,
        now=FROZEN,
    )
    pairs = [tuple(pair.split("=", 1)) for pair in url.split("?", 1)[1].split("&")]
    expected = signing.query_signature(
        method="GET",
        encoded_path=signing.quote_path(path),
        encoded_query=[pair for pair in pairs if pair[0] != "X-Amz-Signature"],
        headers=[("host", "127.0.0.1:7480")],
        stamp=signing.amz_date(FROZEN),
        secret_key=SECRET,
        region=REGION,
    )
    assert dict(pairs)["X-Amz-Signature"] == expected


@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session-token"])
@pytest.mark.parametrize("key", ["plain.bin", "café/a b+c.bin"])
def test_upload_part_url_equals_botocore(clients, style, token, key):
    """An ``UploadPart`` URL pinning its Content-Length (``signed_headers``) is botocore's
    ``generate_presigned_url("upload_part", ...)`` with ``ContentLength``, byte for byte:
    ``X-Amz-SignedHeaders=content-length;host``, the length in the signature."""
    expected = clients[(style, token)].generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": "bucket",
            "Key": key,
            "UploadId": "2~Up+load/id=",
            "PartNumber": 7,
            "ContentLength": 5242880,
        },
        ExpiresIn=900,
        HttpMethod="PUT",
    )
    assert "X-Amz-SignedHeaders=content-length%3Bhost" in expected
    scheme_host, path = (PATH_ENDPOINT, "/bucket/" + key) if style == "path" else (VHOST, "/" + key)
    ours = signing.presign_url(
        scheme_host=scheme_host,
        path=path,
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        expires=900,
        token=token,
        query={"uploadId": "2~Up+load/id=", "partNumber": "7"},
        method="PUT",
        signed_headers={"Content-Length": "5242880"},
        now=FROZEN,
    )
    assert ours == expected


def test_signed_headers_change_the_signature():
    """Another pinned length is another signature; no pinned header is the plain URL."""
    args = dict(
        scheme_host=PATH_ENDPOINT,
        path="/bucket/k",
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        query={"uploadId": "u", "partNumber": "1"},
        method="PUT",
        now=FROZEN,
    )
    five = signing.presign_url(**args, signed_headers={"content-length": "5"})
    six = signing.presign_url(**args, signed_headers={"content-length": "6"})
    assert five.split("X-Amz-Signature=")[1] != six.split("X-Amz-Signature=")[1]
    assert signing.presign_url(**args, signed_headers={}) == signing.presign_url(**args)
