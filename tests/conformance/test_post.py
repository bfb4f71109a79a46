"""POST uploads: the same requests to RGW and to the fake, the same answers.

Each case builds a form with the storage's ``presigned_post`` (or a hand-signed policy for
conditions it never writes), changes one thing, posts it with ``requests`` and asserts the
status, the error ``<Code>`` and whether the object exists afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from buckets.signing import post_policy as policy
from tests.conformance.conftest import Target, assert_error, error_code, expect, past

pytestmark = pytest.mark.rgw

MD5_HELLO = hashlib.md5(b"hello").hexdigest()


# -- accepted ------------------------------------------------------------------------------


def test_valid_post_answers_204_and_stores_the_bytes(target: Target) -> None:
    response = target.post(target.presigned("docs/hello.txt"))
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert target.get("docs/hello.txt")[0] == b"hello"
    # AWS sends ETag (the quoted MD5) and Location on every successful POST; upload
    # clients (Uppy) wait for ETag.
    etag = expect(target, "post: ETag header", aws=f'"{MD5_HELLO}"')
    assert response.headers.get("ETag") == etag
    location = response.headers.get("Location")
    if expect(target, "post: Location header", aws=True):
        assert location is not None and location.startswith("http")
        assert location.endswith("/docs%2Fhello.txt")
    else:
        assert location is None


def test_status_201_returns_post_response_xml(target: Target) -> None:
    key = "uni/é 漢字 +%.txt"
    response = target.post(target.presigned(key, success_action_status=201))
    assert response.status_code == 201, response.text
    root = ET.fromstring(response.content)
    assert root.tag.rpartition("}")[2] == "PostResponse"
    ns = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
    assert root.findtext(f"{ns}Key") == key  # read <Key>; never parse <Location>
    assert root.findtext(f"{ns}Bucket") == target.bucket
    location = expect(target, "post: Location in PostResponse", aws=True)
    assert (root.findtext(f"{ns}Location") or "").startswith("http") is location
    # AWS quotes the ETag in the XML as in the header.
    quoted = expect(target, "post: ETag in PostResponse", aws="quoted") == "quoted"
    assert root.findtext(f"{ns}ETag") == (f'"{MD5_HELLO}"' if quoted else MD5_HELLO)
    assert target.exists(key)


def test_status_200_has_an_empty_body(target: Target) -> None:
    response = target.post(target.presigned("two-hundred.txt", success_action_status=200))
    assert (response.status_code, response.content) == (200, b"")
    assert target.exists("two-hundred.txt")


def test_unknown_success_action_status_falls_back_to_204(target: Target) -> None:
    fields = target.custom(
        [["eq", "$key", "s299.txt"], {"success_action_status": "299"}],
        {"key": "s299.txt", "success_action_status": "299"},
    )
    assert target.post(fields).status_code == 204
    assert target.exists("s299.txt")


def test_success_action_redirect_answers_303_with_bucket_key_etag(target: Target) -> None:
    redirect = "http://app.example/done"
    fields = target.custom(
        [
            ["eq", "$key", "r/x y.txt"],
            {"success_action_redirect": redirect},
            {"success_action_status": "201"},  # the redirect wins over the status
        ],
        {"key": "r/x y.txt", "success_action_redirect": redirect, "success_action_status": "201"},
    )
    response = target.post(fields)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    assert parse_qs(location.query) == {
        "bucket": [target.bucket],
        "key": ["r/x y.txt"],
        "etag": [f'"{MD5_HELLO}"'],
    }
    assert target.exists("r/x y.txt")


def test_starts_with_conditions(target: Target) -> None:
    fields = target.custom(
        [["starts-with", "$key", "up/"], ["starts-with", "$Content-Type", "image/"]],
        {"key": "up/pic.png", "Content-Type": "image/png"},
    )
    assert target.post(fields, b"\x89PNG").status_code == 204
    assert target.get("up/pic.png") == (b"\x89PNG", "image/png")


def test_starts_with_condition_failing(target: Target) -> None:
    fields = target.custom([["starts-with", "$key", "up/"]], {"key": "down/pic.png"})
    assert_error(target.post(fields), 403, "AccessDenied")
    assert not target.exists("down/pic.png")


def test_filename_variable_is_substituted(target: Target) -> None:
    fields = target.custom([["starts-with", "$key", "fn/"]], {"key": "fn/${filename}"})
    assert target.post(fields, filename="report 1.pdf").status_code == 204
    assert target.exists("fn/report 1.pdf")


def test_x_ignore_fields_need_no_condition(target: Target) -> None:
    fields = {**target.presigned("ign.txt"), "x-ignore-tracking": "42"}
    assert target.post(fields).status_code == 204
    assert target.exists("ign.txt")


def test_field_names_are_case_insensitive(target: Target) -> None:
    fields = target.presigned("case.txt")
    fields["KEY"] = fields.pop("key")
    assert target.post(fields).status_code == 204
    assert target.exists("case.txt")


def test_fields_after_the_file_are_ignored(target: Target) -> None:
    # Not in the policy, so it would be refused before the file; after it, S3 ignores it.
    response = target.post(target.presigned("after.txt"), after={"not-in-policy": "1"})
    assert response.status_code == 204, response.text
    assert target.exists("after.txt")


def test_empty_file_allowed_when_min_is_zero(target: Target) -> None:
    assert target.post(target.presigned("empty.txt"), b"").status_code == 204
    assert target.get("empty.txt")[0] == b""


def test_size_limits_are_inclusive(target: Target) -> None:
    assert target.post(target.presigned("max.txt", max_size=5)).status_code == 204
    assert target.post(target.presigned("min.txt", min_size=5, max_size=9)).status_code == 204
    assert target.exists("max.txt") and target.exists("min.txt")


def test_content_type_field_becomes_the_object_type(target: Target) -> None:
    fields = target.presigned("typed.csv", content_type="text/csv")
    assert target.post(fields, b"a,b").status_code == 204
    assert target.get("typed.csv") == (b"a,b", "text/csv")


def test_without_content_type_field_the_part_type_is_ignored(target: Target) -> None:
    """S3 takes the type from the form field only; the file part's header does not count.
    (A hand-made policy: ``presigned_post`` always pins a Content-Type.)"""
    fields = list(target.custom([["eq", "$key", "untyped.png"]], {"key": "untyped.png"}).items())
    parts = [(k, (None, v)) for k, v in fields] + [("file", ("x.png", b"img", "image/png"))]
    assert requests.post(target.url, files=parts, timeout=30).status_code == 204
    stored_type = expect(target, "post: type of the file part", aws="binary/octet-stream")
    assert target.get("untyped.png") == (b"img", stored_type)


def test_presigned_post_always_pins_a_type(target: Target) -> None:
    """Undeclared, the type is application/octet-stream: never no type, which a browser
    sniffs, and never the file part's (or any other) type."""
    fields = list(target.presigned("typed.png").items())
    assert dict(fields)["Content-Type"] == "application/octet-stream"
    parts = [(k, (None, v)) for k, v in fields] + [("file", ("x.png", b"img", "text/html"))]
    assert requests.post(target.url, files=parts, timeout=30).status_code == 204
    stored_type = expect(target, "post: pinned octet-stream", aws="application/octet-stream")
    assert target.get("typed.png") == (b"img", stored_type)
    html = {**dict(fields), "Content-Type": "text/html"}
    assert_error(target.post(html), 403, "AccessDenied")


def test_a_page_name_signed_as_octet_stream_is_served_as_signed(target: Target) -> None:
    """The key's extension does not choose the type: an upload named ``page.html``, signed
    as ``application/octet-stream``, is served as that (never as a page)."""
    fields = target.presigned("docs/page.html")
    assert fields["Content-Type"] == "application/octet-stream"
    page = b"<script>document.title = document.cookie</script>"
    assert target.post(fields, page, filename="page.html").status_code == 204
    served = requests.get(target.storage_url("docs/page.html"), timeout=30)
    assert served.status_code == 200 and served.content == page
    aws = "application/octet-stream"
    expected = expect(target, "post: pinned octet-stream, page.html", aws=aws)
    assert served.headers["Content-Type"] == expected


def test_second_post_to_a_key_replaces_it(target: Target) -> None:
    assert target.post(target.presigned("same.txt"), b"one").status_code == 204
    assert target.post(target.presigned("same.txt"), b"two").status_code == 204
    assert target.get("same.txt")[0] == b"two"
    assert target.keys() == ["same.txt"]


# -- refused -------------------------------------------------------------------------------


def test_above_max_size(target: Target) -> None:
    response = target.post(target.presigned("big.txt", max_size=4))
    assert_error(response, 400, "EntityTooLarge")
    assert target.keys() == []


def test_below_min_size(target: Target) -> None:
    response = target.post(target.presigned("small.txt", min_size=6, max_size=100))
    assert_error(response, 400, "EntityTooSmall")
    assert target.keys() == []


def test_key_not_matching_its_condition(target: Target) -> None:
    fields = target.presigned("mine.txt")
    fields["key"] = "theirs.txt"
    assert_error(target.post(fields), 403, "AccessDenied")
    assert target.keys() == []


def test_wrong_content_type(target: Target) -> None:
    fields = target.presigned("doc.pdf", content_type="application/pdf")
    fields["Content-Type"] = "text/html"
    assert_error(target.post(fields), 403, "AccessDenied")
    assert target.keys() == []


def test_expired_policy(target: Target) -> None:
    fields, _ = policy.build_post_policy(
        bucket=target.bucket,
        key="late.txt",
        access_key=target.access_key,
        secret_key=target.secret_key,
        region=target.region,
        expires=60,
        now=past(minutes=20),
    )
    assert_error(target.post(fields), 403, "AccessDenied")
    assert target.keys() == []


def test_tampered_signature(target: Target) -> None:
    fields = target.presigned("t.txt")
    sig = fields["x-amz-signature"]
    fields["x-amz-signature"] = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    code = expect(target, "post: bad signature", aws="SignatureDoesNotMatch")
    assert_error(target.post(fields), 403, code)
    assert target.keys() == []


def test_edited_policy(target: Target) -> None:
    fields = target.presigned("e.txt", max_size=3)
    document = json.loads(base64.b64decode(fields["policy"]))
    document["conditions"] = [
        ["content-length-range", 0, 100]
        if isinstance(c, list) and c[0] == "content-length-range"
        else c
        for c in document["conditions"]
    ]
    fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    code = expect(target, "post: bad signature", aws="SignatureDoesNotMatch")
    assert_error(target.post(fields), 403, code)
    assert target.keys() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-amz-meta-owner", "mallory"),
        ("acl", "public-read"),
        ("Cache-Control", "max-age=999999"),
        ("success_action_redirect", "https://example.com/"),
    ],
)
def test_field_not_in_policy(target: Target, name: str, value: str) -> None:
    """A field the policy does not cover is refused, whatever it is: otherwise anyone
    holding a form could make the object public, cache it for ever or, with
    ``success_action_redirect``, send the browser to any site."""
    fields = {**target.presigned("x.txt"), name: value}
    response = target.post(fields)
    status = expect(target, f"post: uncovered field {name}", aws=403)
    if status == 403:
        assert_error(response, 403, "AccessDenied")
        assert target.keys() == []
    else:  # accepted: the object is stored, and a redirect goes where the field says
        assert response.status_code == status, response.text
        assert target.keys() == ["x.txt"]
        if status == 303:
            assert response.headers["Location"].startswith(value)


def test_wrong_secret(target: Target) -> None:
    fields = target.custom([["eq", "$key", "w.txt"]], {"key": "w.txt"}, secret_key="not-it")
    code = expect(target, "post: bad signature", aws="SignatureDoesNotMatch")
    assert_error(target.post(fields), 403, code)
    assert target.keys() == []


def test_unknown_access_key(target: Target) -> None:
    fields, _ = policy.build_post_policy(
        bucket=target.bucket,
        key="u.txt",
        access_key="NOSUCHKEY",
        secret_key="whatever",
        region=target.region,
    )
    code = expect(target, "post: unknown access key", aws="InvalidAccessKeyId")
    assert_error(target.post(fields), 403, code)
    assert target.keys() == []


def test_missing_policy(target: Target) -> None:
    fields = target.presigned("np.txt")
    del fields["policy"]
    assert_error(
        target.post(fields), 403, expect(target, "post: missing policy", aws="AccessDenied")
    )
    assert target.keys() == []


def test_policy_for_another_bucket(target: Target) -> None:
    fields, _ = policy.build_post_policy(
        bucket="some-other-bucket",
        key="ob.txt",
        access_key=target.access_key,
        secret_key=target.secret_key,
        region=target.region,
    )
    assert_error(target.post(fields), 403, "AccessDenied")
    assert target.keys() == []


def test_empty_key(target: Target) -> None:
    fields = target.custom([["starts-with", "$key", ""]], {"key": ""})
    assert_error(target.post(fields), 400, expect(target, "post: empty key", aws="InvalidArgument"))
    assert target.keys() == []


def test_key_after_the_file(target: Target) -> None:
    """S3 reads the form up to the file: a key sent after it is missing."""
    response = target.post(target.presigned("late-key.txt"), file_first=True)
    status = expect(target, "post: key after the file", aws=400)
    assert response.status_code == status, response.text
    if status == 400:
        assert error_code(response) == "InvalidArgument"
    assert target.keys() == ([] if status == 400 else ["late-key.txt"])


def test_no_file_part(target: Target) -> None:
    response = target.post(target.presigned("nofile.txt"), with_file=False)
    # AWS: 400 InvalidArgument "POST requires exactly one file upload per request."
    status = expect(target, "post: no file part", aws=400)
    assert response.status_code == status, response.text
    if status == 400:
        assert error_code(response) == "InvalidArgument"
    assert target.exists("nofile.txt") is (status == 204)


def test_not_multipart(target: Target) -> None:
    response = requests.post(target.url, data=target.presigned("form.txt"), timeout=30)
    # AWS: 412 PreconditionFailed ("Bucket POST must be of the enclosure-type
    # multipart/form-data").
    expected = expect(target, "post: not multipart", aws=(412, "PreconditionFailed"))
    assert_error(response, *expected)
    assert target.keys() == []


def test_malformed_multipart(target: Target) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nk.txt\r\n--xy'
    response = requests.post(
        target.url,
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=30,
    )
    code = expect(target, "post: malformed multipart", aws="MalformedPOSTRequest")
    assert_error(response, 400, code)
    assert target.keys() == []


def raw_post(
    target: Target,
    fields: dict[str, str],
    dispositions: dict[str, str],
    *,
    file_disposition: str = 'form-data; name="file"; filename="f.txt"',
    content_type: str = "multipart/form-data; boundary=B0und",
) -> requests.Response:
    """A POST written by hand, for part headers no HTTP library writes: each field's
    ``Content-Disposition`` is ``dispositions[name]`` if given, else the usual one."""
    body = b""
    for name, value in fields.items():
        disposition = dispositions.get(name, f'form-data; name="{name}"')
        body += f"--B0und\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n".encode()
    body += f"--B0und\r\nContent-Disposition: {file_disposition}\r\n\r\nhello\r\n".encode()
    body += b"--B0und--\r\n"
    return requests.post(target.url, data=body, headers={"Content-Type": content_type}, timeout=30)


@pytest.mark.parametrize("charset", ["utf-8", "bogus"])
def test_rfc_2231_key_part_is_not_the_key(target: Target, charset: str) -> None:
    """RFC 7578 forbids RFC 2231's ``name*=charset''...`` in form-data, and S3 servers do
    not decode it: ``name*`` is not ``name``, so the form has no key."""
    fields = target.presigned("rfc2231.txt")
    response = raw_post(target, fields, {"key": f"form-data; name*={charset}''%6Bey"})
    # AWS documents no answer for a part without a name; the fake's is MalformedPOSTRequest.
    aws = (400, "MalformedPOSTRequest")
    expected = expect(target, f"post: RFC 2231 key part, {charset}", aws=aws)
    if expected == 204:  # decoded: the part is the key
        assert response.status_code == 204, response.text
        assert target.keys() == ["rfc2231.txt"]
        return
    assert_error(response, *expected)
    assert target.keys() == []


def test_rfc_2231_extra_part_is_refused(target: Target) -> None:
    fields = {**target.presigned("rfc2231.txt"), "x-ignore-a": "1"}
    response = raw_post(target, fields, {"x-ignore-a": "form-data; name*=bogus''x-ignore-a"})
    aws = (400, "MalformedPOSTRequest")
    expected = expect(target, "post: RFC 2231 extra part", aws=aws)
    if expected == 204:
        assert response.status_code == 204, response.text
        assert target.keys() == ["rfc2231.txt"]
        return
    assert_error(response, *expected)
    assert target.keys() == []


def test_rfc_2231_filename_is_not_the_filename(target: Target) -> None:
    fields = target.custom([["starts-with", "$key", "fn/"]], {"key": "fn/${filename}"})
    disposition = 'form-data; name="file"; filename*=bogus\'\'x.txt; filename="plain.txt"'
    response = raw_post(target, fields, {}, file_disposition=disposition)
    assert response.status_code == 204, response.text
    assert target.keys() == ["fn/plain.txt"]


def test_rfc_2231_boundary_is_no_boundary(target: Target) -> None:
    content_type = "multipart/form-data; boundary*=utf-8''B0und"
    response = raw_post(target, target.presigned("rfc2231.txt"), {}, content_type=content_type)
    # As without a boundary (test_not_multipart). An unknown charset there (bogus'')
    # cannot be tried on the fake: Django's WSGIRequest raises parsing the Content-Type,
    # before any view runs.
    expected = expect(target, "post: RFC 2231 boundary", aws=(412, "PreconditionFailed"))
    if expected == 204:  # decoded: the boundary is found
        assert response.status_code == 204, response.text
        assert target.keys() == ["rfc2231.txt"]
        return
    assert_error(response, *expected)
    assert target.keys() == []


def test_form_before_the_file_above_20_kib(target: Target) -> None:
    fields = {**target.presigned("pad.txt"), "x-ignore-pad": "p" * 30_000}
    response = target.post(fields)
    # AWS caps the fields before the file at 20 KiB (400 MaxPostPreDataLengthExceeded).
    status = expect(target, "post: fields above 20 KiB", aws=400)
    assert response.status_code == status, response.text
    if status == 400:
        assert error_code(response) == "MaxPostPreDataLengthExceeded"
    assert target.exists("pad.txt") is (status == 204)


# -- stored headers --------------------------------------------------------------------------


def test_script_capable_upload_is_served_as_an_attachment(target: Target) -> None:
    """For a field listing HTML (or SVG, XML) exactly, ``presigned_post`` pins
    ``Content-Disposition: attachment``: S3 stores the field and serves it, so opening the
    object's URL downloads it. (Any other field stores such a type as
    ``application/octet-stream``: see ``test_sniffed_types.py``.)"""
    fields = target.presigned("docs/page.html", content_type="text/html", accept=["text/html"])
    assert fields["Content-Disposition"] == "attachment"
    page = b"<script>document.title = document.cookie</script>"
    response = target.post(fields, page, filename="page.html")
    assert response.status_code == 204, response.text
    served = requests.get(target.storage_url("docs/page.html"), timeout=30)
    assert served.status_code == 200 and served.content == page
    assert served.headers["Content-Type"] == "text/html"
    # AWS stores the form's Content-Disposition (and Cache-Control, Content-Encoding,
    # Expires) with the object, as PutObject's headers. Where a server drops it, the signed
    # URL's response-content-disposition is what makes a download.
    stored = expect(target, "post: header fields stored", aws=True)
    assert served.headers.get("Content-Disposition") == ("attachment" if stored else None)
    # The pinned value cannot be changed, nor left out.
    inline = target.post({**fields, "Content-Disposition": "inline"}, page)
    assert_error(inline, 403, "AccessDenied")
    fields.pop("Content-Disposition")
    assert_error(target.post(fields, page), 403, "AccessDenied")


def test_posted_header_fields_are_stored_and_served(target: Target) -> None:
    fields = {
        "key": "docs/meta.txt",
        "Content-Disposition": 'attachment; filename="m.txt"',
        "Cache-Control": "max-age=60",
        "x-amz-meta-origin": "form",
    }
    conditions = [["eq", f"${name}", value] for name, value in fields.items()]
    response = target.post(target.custom(conditions, fields))
    assert response.status_code == 204, response.text
    served = requests.get(target.storage_url("docs/meta.txt"), timeout=30)
    assert served.status_code == 200
    assert served.headers["x-amz-meta-origin"] == "form"
    # AWS serves the posted Content-Disposition and Cache-Control.
    stored = expect(target, "post: header fields stored", aws=True)
    expected = ('attachment; filename="m.txt"', "max-age=60") if stored else (None, None)
    got = (served.headers.get("Content-Disposition"), served.headers.get("Cache-Control"))
    assert got == expected
