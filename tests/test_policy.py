"""buckets.signing.post_policy: build a POST policy, verify forms as S3 does. No Django settings."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buckets.signing import content_types as types
from buckets.signing import post_policy as policy
from buckets.signing import sigv4 as signing
from buckets.signing.post_policy import PolicyError
from buckets.signing.post_verify import PostError, VerifiedPost, verify_post

NOW = datetime.datetime(2024, 2, 29, 23, 59, 58, tzinfo=datetime.timezone.utc)
ACCESS = "AKIDEXAMPLE"
SECRET = "secret/+key"
REGION = "eu-west-1"
BUCKET = "bucket"
KEY = "staging/abc123/photo.png"


def secret_for(access_key: str) -> str | None:
    return {ACCESS: SECRET}.get(access_key)


def build(**overrides):
    options = dict(
        bucket=BUCKET,
        key=KEY,
        access_key=ACCESS,
        secret_key=SECRET,
        region=REGION,
        max_size=1000,
        now=NOW,
    )
    options.update(overrides)
    return policy.build_post_policy(**options)


def verify(fields, **overrides):
    options = dict(bucket=BUCKET, secret_for=secret_for, file_size=10, now=NOW)
    options.update(overrides)
    return verify_post(fields, **options)


def assert_error(result, code, status, message=None):
    assert isinstance(result, PostError), result
    assert not result.ok
    assert (result.code, result.status) == (code, status), result
    if message is not None:
        assert result.message == message


def resign(fields, document=None, raw_policy=None):
    """Replace the policy and sign it properly, to reach the checks after the signature."""
    fields = dict(fields)
    if raw_policy is None:
        raw_policy = base64.b64encode(json.dumps(document).encode()).decode()
    fields["policy"] = raw_policy
    date_stamp = fields["x-amz-date"][:8]
    fields["x-amz-signature"] = signing.sign_policy(raw_policy, SECRET, date_stamp, REGION)
    return fields


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def test_build_fields_and_document():
    fields, document = build(
        min_size=1,
        token="TOKEN",
        content_type="image/png",
        accept=["image/*", "application/pdf"],
        success_action_status=201,
    )
    assert list(fields) == [
        "key",
        "Content-Type",
        "success_action_status",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-security-token",
        "policy",
        "x-amz-signature",
    ]
    assert fields["key"] == KEY
    assert fields["Content-Type"] == "image/png"
    assert fields["success_action_status"] == "201"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-credential"] == "AKIDEXAMPLE/20240229/eu-west-1/s3/aws4_request"
    assert fields["x-amz-date"] == "20240229T235958Z"
    assert fields["x-amz-security-token"] == "TOKEN"
    assert json.loads(base64.b64decode(fields["policy"])) == document
    assert document == {
        "expiration": "2024-03-01T00:09:58Z",
        "conditions": [
            {"bucket": BUCKET},
            ["eq", "$key", KEY],
            ["content-length-range", 1, 1000],
            ["eq", "$Content-Type", "image/png"],
            {"success_action_status": "201"},
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": "AKIDEXAMPLE/20240229/eu-west-1/s3/aws4_request"},
            {"x-amz-date": "20240229T235958Z"},
            {"x-amz-security-token": "TOKEN"},
        ],
    }
    assert fields["x-amz-signature"] == signing.sign_policy(
        fields["policy"], SECRET, "20240229", REGION
    )


def test_build_minimal_and_defaults():
    fields, document = policy.build_post_policy(
        bucket=BUCKET, key="k", access_key=ACCESS, secret_key=SECRET, region=REGION, now=NOW
    )
    assert set(fields) == {
        "key",
        "Content-Type",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "policy",
        "x-amz-signature",
    }
    assert fields["Content-Type"] == "application/octet-stream"
    assert ["content-length-range", 0, 5 * 1024**3] in document["conditions"]
    assert document["expiration"] == "2024-03-01T00:09:58Z"  # 600 s default


def test_build_naive_now_is_utc_and_expiry_setting():
    naive = NOW.replace(tzinfo=None)
    fields, document = build(now=naive, expires=3600)
    assert fields["x-amz-date"] == "20240229T235958Z"
    assert document["expiration"] == "2024-03-01T00:59:58Z"


def test_build_uses_current_time_by_default():
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fields, document = build(now=None)
    after = datetime.datetime.now(datetime.timezone.utc)
    stamp = datetime.datetime.strptime(fields["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert before <= stamp <= after


def test_content_type_single_wildcard_needs_a_declared_type():
    # starts-with "image/" would let the client send image/svg+xml or image/png;,text/html
    with pytest.raises(PolicyError, match="must be declared"):
        build(accept=["image/*"])
    fields, document = build(accept=["image/*"], content_type="image/webp")
    assert ["eq", "$Content-Type", "image/webp"] in document["conditions"]
    assert_error(verify({**fields, "Content-Type": "image/svg+xml"}), "AccessDenied", 403)


def test_content_type_single_exact_without_declared_type():
    fields, document = build(accept=["application/pdf"])
    assert fields["Content-Type"] == "application/pdf"
    assert ["eq", "$Content-Type", "application/pdf"] in document["conditions"]
    assert verify(fields).ok


def test_content_type_declared_without_accept_is_pinned():
    fields, document = build(content_type="text/plain; charset=utf-8")
    assert fields["Content-Type"] == "text/plain; charset=utf-8"
    assert ["eq", "$Content-Type", "text/plain; charset=utf-8"] in document["conditions"]


def test_content_type_is_pinned_normalized():
    fields, document = build(content_type=" IMAGE/PNG ")
    assert fields["Content-Type"] == "image/png"
    assert ["eq", "$Content-Type", "image/png"] in document["conditions"]


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png;,text/html",
        "image/png; x=y,text/html",
        "image/png, text/html",
        "image/png; name=x",
        "image/png; charset=utf-8; x=y",
        "image/" + "p" * 300,
    ],
)
def test_content_type_with_smuggled_types_is_refused(content_type):
    with pytest.raises(PolicyError, match="Invalid content type"):
        build(content_type=content_type)
    with pytest.raises(PolicyError):
        build(content_type=content_type, accept=["image/*"])


@pytest.mark.parametrize("accept", [None, [], ["*/*"], ["*"], ["image/png", "*"]])
def test_without_a_declared_type_any_pattern_pins_octet_stream(accept):
    """An object stored with no type is sniffed; a server that stores uncovered fields
    (SeaweedFS) would take the client's: a type is always pinned."""
    fields, document = build(accept=accept)
    assert fields["Content-Type"] == "application/octet-stream"
    assert ["eq", "$Content-Type", "application/octet-stream"] in document["conditions"]
    assert verify(fields).ok
    assert_error(verify({**fields, "Content-Type": "text/html"}), "AccessDenied", 403)
    without = {k: v for k, v in fields.items() if k != "Content-Type"}
    assert_error(verify(without), "AccessDenied", 403)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(content_type="text/html", accept=["image/*", "application/pdf"]), "not accepted"),
        (dict(accept=["image/*", "application/pdf"]), "must be declared"),
        (dict(content_type="text/plain\r\nX-Evil: 1"), "Invalid content type"),
        (dict(content_type=""), "Invalid content type"),
        (dict(key=""), "empty"),
        (dict(key="uploads/${filename}"), "filename"),
        (dict(key="k" * 1025), "1024"),
        (dict(min_size=10, max_size=9), "size range"),
        (dict(min_size=-1), "size range"),
        (dict(expires=0), "expires"),
        (dict(success_action_status=302), "success_action_status"),
    ],
)
def test_build_refuses(kwargs, match):
    with pytest.raises(PolicyError, match=match):
        build(**kwargs)


@pytest.mark.parametrize(
    "content_type,accept,expected",
    [
        ("image/png", ["image/*"], True),
        ("IMAGE/PNG", ["image/*"], True),
        ("image/png", ["Image/PNG"], True),
        ("application/pdf", ["image/*", "application/pdf"], True),
        ("text/plain; charset=utf-8", ["text/plain"], True),
        ("anything/at-all", ["*"], False),  # stored as application/octet-stream
        ("text/html", ["*/*"], False),
        ("application/x-anything", ["*/*"], True),
        ("imagex/png", ["image/*"], False),
        # script-capable types only when listed exactly, never through a wildcard
        ("image/svg+xml", ["image/*"], False),
        ("image/svg+xml", ["image/svg+xml"], True),
        ("text/html", ["text/*"], False),
        ("application/xhtml+xml", ["application/*"], False),
        ("application/rss+xml", ["application/*"], False),
        ("text/javascript", ["text/*"], False),
        ("text/plain", ["text/*"], True),
        # a second type smuggled in a parameter is no content type at all
        ("image/png;,text/html", ["image/*"], False),
        ("image/png; x=y,text/html", ["image/*", "text/html"], False),
        ("image", ["image/*"], False),
        ("text/html", ["image/*", "application/pdf"], False),
        ("application/pdf", [], True),  # no patterns: any type
        ("application/unknown", ["application/*"], False),
        ("application/unknown", ["application/unknown"], False),
    ],
)
def test_content_type_allowed(content_type, accept, expected):
    assert types.content_type_allowed(content_type, accept) is expected


# --------------------------------------------------------------------------
# Verify: accepted forms
# --------------------------------------------------------------------------


def test_round_trip():
    fields, _ = build(token="TOKEN", content_type="image/png", success_action_status="201")
    result = verify(fields)
    assert isinstance(result, VerifiedPost) and result.ok
    assert result.key == KEY
    assert result.access_key == ACCESS
    assert (result.min_size, result.max_size) == (0, 1000)
    assert result.success_action_status == "201"
    assert result.fields["content-type"] == "image/png"


def test_round_trip_with_region_and_until_expiry():
    fields, _ = build(expires=60)
    assert verify(fields, region=REGION, now=NOW + datetime.timedelta(seconds=60)).ok
    assert verify(fields, now=(NOW + datetime.timedelta(seconds=60)).replace(tzinfo=None)).ok


def test_field_names_are_case_insensitive():
    fields, _ = build(content_type="image/png")
    shouted = {name.upper() if name != "policy" else name: v for name, v in fields.items()}
    assert "KEY" in shouted and "CONTENT-TYPE" in shouted
    assert verify(shouted).ok


def test_exempt_fields():
    fields, _ = build()
    assert verify({**fields, "file": "ignored", "x-ignore-anything": "1", "X-Ignore-Other": "2"}).ok


def test_size_boundaries_inclusive():
    fields, _ = build(min_size=5, max_size=1000)
    assert verify(fields, file_size=5).ok
    assert verify(fields, file_size=1000).ok
    too_big = verify(fields, file_size=1001)
    assert_error(too_big, "EntityTooLarge", 400)
    assert too_big.extra == {"ProposedSize": "1001", "MaxSizeAllowed": "1000"}
    too_small = verify(fields, file_size=4)
    assert_error(too_small, "EntityTooSmall", 400)
    assert too_small.extra == {"ProposedSize": "4", "MinSizeAllowed": "5"}


def test_two_phase_size_check():
    fields, _ = build(max_size=100)
    result = verify(fields, file_size=None)
    assert result.ok
    assert result.check_size(100) is None
    assert_error(result.check_size(101), "EntityTooLarge", 400)


def test_condition_forms():
    fields, document = build()
    fields["x-amz-meta-a"] = "exact"
    fields["x-amz-meta-b"] = "prefix-and-more"
    fields["x-amz-meta-c"] = "whatever"
    fields["cache-control"] = "max-age=1"
    document["conditions"] += [
        {"x-amz-meta-a": "exact"},
        ["starts-with", "$x-amz-meta-b", "prefix-"],
        ["starts-with", "$x-amz-meta-c", ""],
        ["starts-with", "$x-amz-meta-absent", ""],  # matches an absent field too
        ["eq", "$Cache-Control", "max-age=1"],
        ["starts-with", "$bucket", "buck"],
        ["content-length-range", "0", "50"],  # also tightens the range
    ]
    signed = resign(fields, document)
    result = verify(signed)
    assert result.ok and result.max_size == 50
    assert_error(verify(signed, file_size=51), "EntityTooLarge", 400)
    for name, value in [
        ("x-amz-meta-a", "Exact"),
        ("x-amz-meta-b", "prefix"),
        ("cache-control", "max-age=2"),
    ]:
        assert_error(verify({**signed, name: value}), "AccessDenied", 403)


def test_filename_substitution():
    fields, document = build()
    fields["key"] = "uploads/${filename}"
    document["conditions"][1] = ["starts-with", "$key", "uploads/"]
    signed = resign(fields, document)
    result = verify(signed, filename="a b.txt")
    assert result.ok and result.key == "uploads/a b.txt"


# --------------------------------------------------------------------------
# Verify: every rejection, with S3's code and status
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"]
)
def test_missing_required_field(name):
    fields, _ = build()
    del fields[name]
    result = verify(fields)
    assert_error(result, "InvalidArgument", 400)
    assert f"'{name}'" in result.message


def test_empty_key():
    fields, document = build()
    fields["key"] = ""
    document["conditions"][1] = ["starts-with", "$key", ""]
    assert_error(verify(resign(fields, document)), "InvalidArgument", 400)


def test_missing_policy_is_access_denied():
    fields, _ = build()
    del fields["policy"]
    assert_error(verify(fields), "AccessDenied", 403, "Access Denied")
    assert_error(verify({**fields, "policy": ""}), "AccessDenied", 403)


def test_unsupported_algorithm():
    fields, _ = build()
    assert_error(verify({**fields, "x-amz-algorithm": "AWS4-HMAC-SHA1"}), "InvalidArgument", 400)


@pytest.mark.parametrize(
    "credential",
    [
        "AKIDEXAMPLE",
        "AKIDEXAMPLE/20240229/eu-west-1/s3",
        "AKIDEXAMPLE/20240229/eu-west-1/sqs/aws4_request",
    ],
)
def test_malformed_credential(credential):
    fields, _ = build()
    assert_error(verify({**fields, "x-amz-credential": credential}), "InvalidArgument", 400)


def test_wrong_region():
    fields, _ = build()
    assert_error(verify(fields, region="us-east-1"), "AuthorizationHeaderMalformed", 400)


def test_unknown_access_key():
    fields, _ = build(access_key="AKIDUNKNOWN")
    assert_error(verify(fields), "InvalidAccessKeyId", 403)


def test_tampered_signature():
    fields, _ = build()
    sig = fields["x-amz-signature"]
    fields["x-amz-signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert_error(verify(fields), "SignatureDoesNotMatch", 403)


def test_edited_policy():
    fields, document = build(max_size=10)
    document["conditions"][2] = ["content-length-range", 0, 10**9]
    fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    assert_error(verify(fields), "SignatureDoesNotMatch", 403)


def test_wrong_secret():
    fields, _ = build(secret_key="not-the-secret")
    assert_error(verify(fields), "SignatureDoesNotMatch", 403)


def test_expired():
    fields, _ = build(expires=60)
    result = verify(fields, now=NOW + datetime.timedelta(seconds=61))
    assert_error(result, "AccessDenied", 403, "Invalid according to Policy: Policy expired.")


def test_key_condition_violated():
    fields, _ = build()
    result = verify({**fields, "key": "staging/abc123/other.png"})
    assert_error(result, "AccessDenied", 403)
    assert result.message.startswith("Invalid according to Policy: Policy Condition failed:")
    assert '"$key"' in result.message


def test_wrong_bucket():
    fields, _ = build()
    assert_error(verify(fields, bucket="other-bucket"), "AccessDenied", 403)


@pytest.mark.parametrize("value", ["text/html", "Image/png", "image/png ", None])
def test_wrong_content_type(value):
    fields, _ = build(content_type="image/png")
    if value is None:
        del fields["Content-Type"]
    else:
        fields["Content-Type"] = value
    assert_error(verify(fields), "AccessDenied", 403)


@pytest.mark.parametrize(
    "name", ["x-amz-meta-foo", "acl", "success_action_redirect", "AWSAccessKeyId", "x-ignore"]
)
def test_field_not_in_policy(name):
    fields, _ = build()
    result = verify({**fields, name: "1"})
    assert_error(
        result,
        "AccessDenied",
        403,
        f"Invalid according to Policy: Extra input fields: {name.lower()}",
    )


def test_duplicate_field_names():
    fields, _ = build()
    assert_error(verify({**fields, "KEY": KEY}), "InvalidArgument", 400)


@pytest.mark.parametrize(
    "raw",
    [
        "not base64!",
        "YWJj=",  # bad padding
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"\xff\xfe").decode(),
        base64.b64encode(b"[1, 2]").decode(),
    ],
)
def test_malformed_policy(raw):
    fields, _ = build()
    assert_error(verify(resign(fields, raw_policy=raw)), "InvalidPolicyDocument", 400)


@pytest.mark.parametrize(
    "document",
    [
        {"conditions": []},
        {"expiration": "tomorrow", "conditions": []},
        {"expiration": "2024-02-30T00:00:00Z", "conditions": []},
        {"expiration": 1700000000, "conditions": []},
        {"expiration": "2030-01-01T00:00:00Z"},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": {"key": "k"}},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["matches", "$key", "k"]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "k"]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$key"]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$key", 1]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": 1}]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": "k", "acl": "x"}]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 5, 1]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 1]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0, True]]},
        {"expiration": "2030-01-01T00:00:00Z", "conditions": ["eq"]},
    ],
)
def test_invalid_policy_document(document):
    fields, _ = build()
    assert_error(verify(resign(fields, document)), "InvalidPolicyDocument", 400)


def test_expiration_formats_accepted():
    fields, document = build()
    for expiration in [
        "2024-03-01T00:00:00Z",
        "2024-03-01T00:00:00.000Z",
        "2024-03-01T00:00:00.123456789Z",
    ]:
        document["expiration"] = expiration
        assert verify(resign(fields, document)).ok, expiration


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda k: "${filename}" not in k
)


@settings(max_examples=150, deadline=None)
@given(
    key=keys,
    low=st.integers(0, 10**6),
    span=st.integers(0, 10**6),
    token=st.none() | st.text(max_size=20),
)
def test_round_trip_property(key, low, span, token):
    high = low + span
    fields, _ = build(key=key, min_size=low, max_size=high, token=token)
    result = verify(fields, file_size=high)
    assert result.ok and result.key == key
    assert verify(fields, file_size=low).ok
    assert_error(verify(fields, file_size=high + 1), "EntityTooLarge", 400)
    if low:
        assert_error(verify(fields, file_size=low - 1), "EntityTooSmall", 400)


@settings(max_examples=100, deadline=None)
@given(other=keys)
def test_any_other_key_is_refused(other):
    fields, _ = build()
    result = verify({**fields, "key": other})
    if other == KEY:
        assert result.ok
    else:
        assert_error(result, "AccessDenied", 403)


# -- script-capable uploads are served as attachments --------------------------------------


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/xml"])
def test_script_capable_type_is_pinned_to_an_attachment(content_type):
    """Listed exactly, a type a browser runs script in is signed as itself, as a download."""
    fields, document = build(content_type=content_type, accept=[content_type])
    assert fields["Content-Type"] == content_type
    assert fields["Content-Disposition"] == "attachment"
    assert ["eq", "$Content-Disposition", "attachment"] in document["conditions"]
    assert verify(fields).ok
    assert_error(verify({**fields, "Content-Disposition": "inline"}), "AccessDenied", 403)
    without = {k: v for k, v in fields.items() if k != "Content-Disposition"}
    assert_error(verify(without), "AccessDenied", 403)


@pytest.mark.parametrize("content_type", [None, "image/png", "text/plain", "application/pdf"])
def test_other_types_get_no_content_disposition(content_type):
    fields, document = build(content_type=content_type)
    assert "Content-Disposition" not in fields
    assert "Content-Disposition" not in json.dumps(document)


# -- types a browser sniffs or runs are never signed as themselves -------------------------

#: WHATWG MIME Sniffing: a body served with one of these is sniffed for HTML (case ignored).
SNIFFED = [
    "unknown/unknown",
    "application/unknown",
    "*/*",
    "Unknown/Unknown",
    "APPLICATION/unknown",
]
#: WHATWG MIME Sniffing's JavaScript MIME type essences, and WebAssembly.
JAVASCRIPT = [
    "application/ecmascript",
    "application/javascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
    "Text/JavaScript; charset=utf-8",
    "application/wasm",
]
#: Wildcards and types outside the top levels of files.
ODD = ["image/*", "*/png", "text/*", "multipart/x-mixed-replace", "message/rfc822", "x/y"]
#: Types a browser runs script in: signed as themselves only when a field lists them exactly.
SCRIPT_CAPABLE = ["text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "text/xsl"]
NEVER_ITSELF = SNIFFED + JAVASCRIPT + ODD + SCRIPT_CAPABLE


@pytest.mark.parametrize("content_type", NEVER_ITSELF)
@pytest.mark.parametrize("accept", [None, ["*/*"], ["*"]])
def test_a_field_accepting_any_type_stores_them_as_octet_stream(content_type, accept):
    fields, document = build(content_type=content_type, accept=accept)
    assert fields["Content-Type"] == "application/octet-stream"
    assert ["eq", "$Content-Type", "application/octet-stream"] in document["conditions"]
    assert "Content-Disposition" not in fields
    assert verify(fields).ok
    assert_error(verify({**fields, "Content-Type": content_type}), "AccessDenied", 403)


@pytest.mark.parametrize("content_type", [t for t in SNIFFED + JAVASCRIPT + ODD if t != "*/*"])
def test_a_field_listing_types_never_signs_them(content_type):
    """Not through a wildcard of their family, not even listed exactly (``*/*`` listed means
    any type: the test above)."""
    essence = content_type.split(";")[0].lower()
    family = essence.split("/")[0] + "/*"
    if family == "*/*":
        family = "image/*"
    for accept in ([family], [essence], [family, essence, "image/png"]):
        assert types.signed_content_type(content_type, accept) is None, accept
        with pytest.raises(PolicyError):
            build(content_type=content_type, accept=accept)


@pytest.mark.parametrize("accept", [["application/unknown"], ["text/javascript"], ["*/png"]])
def test_a_single_accepted_type_that_cannot_be_signed_needs_a_declaration(accept):
    with pytest.raises(PolicyError, match="never signed"):
        build(accept=accept)


@pytest.mark.parametrize(
    "content_type,accept,signed",
    [
        ("image/png", None, "image/png"),
        ("Text/Plain ; Charset=UTF-8", None, "text/plain; charset=utf-8"),
        ("application/vnd.ms-excel", None, "application/vnd.ms-excel"),
        ("font/woff2", ["font/*"], "font/woff2"),
        ("model/gltf-binary", ["model/*"], "model/gltf-binary"),
        ("application/octet-stream", ["application/*"], "application/octet-stream"),
        ("image/svg+xml", ["image/svg+xml"], "image/svg+xml"),
        ("image/svg+xml", ["image/*"], None),
        ("application/unknown", ["application/*"], None),
        ("image/png", ["image/jpeg"], None),
        (None, None, "application/octet-stream"),
        (None, ["application/pdf"], "application/pdf"),
        (None, ["image/*"], None),
        (None, ["image/png", "image/jpeg"], None),
        ("image/png;,text/html", None, None),
        ("", None, None),
        ("text/plain\u212a", None, None),  # a Kelvin sign is no "k"
        ("text/pla\u0131n", None, None),  # nor a dotless i an "i"
        ("image/png", [" IMAGE/* "], "image/png"),
    ],
)
def test_signed_content_type(content_type, accept, signed):
    assert types.signed_content_type(content_type, accept) == signed


def test_the_javascript_family_is_the_whatwg_list():
    assert set(types.RUNNABLE_TYPES) == {t.split(";")[0].lower() for t in JAVASCRIPT}
    assert set(types.SNIFFED_TYPES) == {t.lower() for t in SNIFFED}


content_types = st.one_of(
    st.sampled_from(NEVER_ITSELF + ["image/png", "text/plain", "application/pdf", ""]),
    st.from_regex(r"\A[ -~]{0,20}/[ -~]{0,20}(;[ -~]{0,20})?\Z"),
    st.text(max_size=40),
)
patterns = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            st.sampled_from(["*", "*/*", "image/*", "application/*", "text/*", "unknown/*"]),
            st.sampled_from(NEVER_ITSELF + ["image/png", "application/pdf"]),
            st.text(max_size=12),
        ),
        max_size=4,
    ),
)


@given(content_type=content_types, accept=patterns)
@settings(max_examples=500, deadline=None)
def test_what_gets_signed_is_always_a_safe_type(content_type, accept):
    """Whatever the client declares and the field lists: the signed type is well formed,
    of a file kind, neither sniffed nor code nor a wildcard; signing it again changes
    nothing (the view and the policy both apply the rule)."""
    signed = types.signed_content_type(content_type, accept)
    if signed is None:
        return
    essence = signed.split(";")[0]
    assert types.normalize_content_type(signed) == signed
    assert "*" not in signed
    assert essence not in types.SNIFFED_TYPES and essence not in types.RUNNABLE_TYPES
    assert essence.split("/")[0] in types.SIGNABLE_TOP_LEVEL_TYPES
    if types.is_script_capable(essence):
        assert essence in (types.accept_patterns(accept) or ())  # listed exactly
    assert types.signed_content_type(signed, accept) == signed
    fields, _ = build(content_type=content_type, accept=accept)
    assert fields["Content-Type"] == signed
