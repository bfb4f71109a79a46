"""The fake upload endpoint under generated multipart bodies: signed fields for hostile and
ordinary keys, shuffled, duplicated, dropped, truncated, garbled, parts named in RFC 2231's
form. Never a 500 (exceptions are re-raised), never a file written outside the fake's root
(the whole temporary tree and its parent's listing are compared after each request), and a
stored file holds exactly the bytes sent. Then the object endpoint under generated ``Range``
headers and pre-signed query strings with numbers of any length: S3's answer, never a 500."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from hypothesis import event, given
from hypothesis import strategies as st

from buckets.signing import post_policy as policy
from buckets.signing.limits import S3_MAX_POST_SIZE
from buckets.test.storage import FakeS3Storage
from tests.reliability.strategies import (
    AWS,
    FUZZ,
    disposition,
    dispositions,
    nasty_paths,
    numbers,
    range_headers,
)
from tests.site_settings import fake_site


@pytest.fixture(scope="module")
def box() -> Iterator[Path]:
    """``box/site/media`` is MEDIA_ROOT (the fake's root is ``media/s3``); ``box/outside``
    holds a secret and a symlink inside the root points at it: what an escape would reach."""
    with tempfile.TemporaryDirectory(prefix="fuzz-box-") as top:
        # One level down, so box.parent (checked for escapes) is ours alone, not /tmp,
        # where other processes create files at any time.
        path = Path(top) / "box"
        path.mkdir()
        (path / "outside").mkdir()
        (path / "outside" / "secret.txt").write_bytes(b"secret")
        root = path / "site" / "media" / "s3"
        root.mkdir(parents=True)
        (root / "link").symlink_to(path / "outside", target_is_directory=True)
        yield path


def files_outside(box: Path) -> set[str]:
    """Every file under ``box`` that is not inside the fake's root."""
    root = box / "site" / "media" / "s3"
    found = set()
    for dirpath, _, names in os.walk(box):
        for name in names:
            path = Path(dirpath, name)
            if root not in path.parents:
                found.add(str(path.relative_to(box)))
    return found


upload_keys = nasty_paths | st.sampled_from(["ok.txt", "a/b/c.bin", "uploads/x/é.txt"])
extra_fields = st.lists(
    st.tuples(
        st.sampled_from(["key", "policy", "x-amz-signature", "Content-Type", "acl", "x-amz-meta-a"])
        | st.text(max_size=10),
        st.text(max_size=30),
    ),
    max_size=3,
)


@st.composite
def fake_posts(draw: Any, storage: FakeS3Storage) -> tuple[bytes, str, str, bytes]:
    """``(body, content type, key, file bytes)``: a POST for a hostile or ordinary key,
    signed for that key, then mangled in some of the ways a client (or attacker) might."""
    key = draw(upload_keys)
    s = storage.settings
    try:
        fields, _ = policy.build_post_policy(
            bucket=storage.bucket_name,
            key=key,
            access_key=s.access_key or "",
            secret_key=s.secret_key or "",
            region=storage.region,
            max_size=draw(st.sampled_from([10, 1000, S3_MAX_POST_SIZE])),
        )
    except (policy.PolicyError, ValueError, UnicodeError):
        fields = {"key": key}
    items = list(fields.items())
    if draw(st.booleans()):
        items = draw(st.permutations(items))
    if draw(st.booleans()):
        items += draw(extra_fields)
    if items and draw(st.booleans()):
        del items[draw(st.integers(0, len(items) - 1))]
    content = draw(st.binary(max_size=64))
    filename = draw(st.sampled_from(["f.txt", "../../evil.txt", "/etc/passwd", "é\x00.txt", ""]))
    boundary = draw(st.sampled_from(["fuzzb0undary", "x", "é", "a" * 71]))
    parts = [
        b"--"
        + boundary.encode()
        + b"\r\n"
        + f"Content-Disposition: {disposition(name, draw(dispositions))}\r\n\r\n".encode(
            "utf-8", "replace"
        )
        + value.encode("utf-8", "replace")
        + b"\r\n"
        for name, value in items
    ]
    file_name = draw(
        st.sampled_from([f'filename="{filename}"', f"filename*=bogus''{filename}"] + [""] * 3)
    )
    file_part = (
        f"--{boundary}\r\nContent-Disposition: {disposition('file', draw(dispositions))}; "
        f'filename="{filename}"; {file_name}\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode("utf-8", "replace")
    file_part += content + b"\r\n"
    at = draw(st.integers(0, len(parts)))
    if draw(st.integers(0, 9)):  # usually the file comes last, as browsers send it
        at = len(parts)
    parts.insert(at, file_part)
    body = b"".join(parts) + f"--{boundary}--\r\n".encode("utf-8", "replace")
    mangle = draw(st.sampled_from(["none"] * 6 + ["truncate", "garble", "no-boundary"]))
    if mangle == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif mangle == "garble":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=20)) + body[at:]
    content_type = f"multipart/form-data; boundary={boundary}"
    if mangle == "no-boundary":
        content_type = draw(st.sampled_from(["multipart/form-data", "text/plain", ""]))
    return body, content_type, key, content


@FUZZ
@given(data=st.data())
def test_fake_upload_endpoint_never_500s_nor_writes_outside_its_root(
    box: Path, data: st.DataObject
) -> None:
    media = box / "site" / "media"
    with override_settings(**fake_site(media, "buckets.test.urls", AWS=AWS)):
        storage = FakeS3Storage()
        before_outside, before_parent = files_outside(box), set(os.listdir(box.parent))
        body, content_type, key, content = data.draw(fake_posts(storage))
        # raise_request_exception: an exception in the view fails here, not only a 500.
        response = Client(raise_request_exception=True).generic(
            "POST", "/media/s3/uploads", body, content_type=content_type
        )
        event(f"status {response.status_code}")
        assert response.status_code in (200, 201, 204, 303, 400, 403, 411, 412), response.content
        if response.status_code >= 400:
            assert b"<Error><Code>" in response.content
        else:
            path = Path(storage.key_path(key))
            assert path.read_bytes() == content
            assert (media / "s3") in path.resolve().parents
        assert files_outside(box) == before_outside
        assert set(os.listdir(box.parent)) == before_parent
        assert (box / "outside" / "secret.txt").read_bytes() == b"secret"


#: What a pre-signed GET's query may carry: the storage's own parameters, some replaced by
#: numbers of any length or dropped.
QUERY_NUMBERS = ("X-Amz-Expires", "X-Amz-Date", "response-expires", "partNumber", "versionId")


@pytest.mark.django_db  # closing a response sends request_finished, which closes connections
@FUZZ
@given(data=st.data())
def test_fake_object_endpoint_answers_any_range_or_query_without_a_500(
    box: Path, data: st.DataObject
) -> None:
    media = box / "site" / "media"
    with override_settings(**fake_site(media, "buckets.test.urls", AWS=AWS)):
        storage = FakeS3Storage()
        if not storage.exists("r/data.txt"):
            storage.save("r/data.txt", ContentFile(b"0123456789abcdefghij"))
        path, _, query = storage.url("r/data.txt").partition("?")
        pairs = [item.split("=", 1) for item in query.split("&")]
        mangle = data.draw(st.sampled_from(["none", "none", "numbers", "drop"]))
        if mangle == "numbers":  # mostly a broken signature, but checked before it is
            for name in data.draw(st.lists(st.sampled_from(QUERY_NUMBERS), max_size=3)):
                pairs = [p for p in pairs if p[0] != name] + [[name, data.draw(numbers)]]
        elif mangle == "drop":
            del pairs[data.draw(st.integers(0, len(pairs) - 1))]
        headers = {}
        if data.draw(st.booleans()):
            headers["HTTP_RANGE"] = data.draw(range_headers)
        method = data.draw(st.sampled_from(["GET", "HEAD"]))
        response = Client(raise_request_exception=True).generic(
            method, f"{path}?{'&'.join('='.join(p) for p in pairs)}", **headers
        )
        event(f"status {response.status_code}")
        assert response.status_code in (200, 206, 400, 403, 416), response.status_code
        if response.status_code >= 400 and method == "GET":
            assert b"<Error><Code>" in response.content
        response.close()
