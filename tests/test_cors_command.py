"""``manage.py buckets_cors`` against a real RGW: its preflight answers prove the rule works."""

from __future__ import annotations

import http.client
import io
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from buckets.management.commands.buckets_cors import RULE_ID

ORIGIN = "https://shop.example.com"


def preflight(
    endpoint: str, bucket: str, origin: str, headers: str = "", method: str = "POST"
) -> tuple[int, Any]:
    """An OPTIONS preflight for a browser request to the bucket, as Chromium sends it."""
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    try:
        conn.request("OPTIONS", f"/{bucket}", headers=request_headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        conn.close()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("buckets_cors", *args, stdout=out)
    return out.getvalue()


def test_rule_answers_preflights_from_its_origin_only(s3_default: Any, rgw: Any, s3: Any) -> None:
    bucket = s3_default.bucket_name
    status, headers = preflight(rgw.endpoint_url, bucket, ORIGIN)
    assert "Access-Control-Allow-Origin" not in headers  # no rule yet: the browser is refused

    output = run("--origin", ORIGIN, "--origin", "http://localhost:8000/")
    assert bucket in output
    printed = json.loads(output[output.index("{") :])
    rule = printed["CORSRules"][0]
    assert rule["AllowedOrigins"] == [ORIGIN, "http://localhost:8000"]
    stored = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"]
    assert sorted(stored) == ["http://localhost:8000", ORIGIN]

    status, headers = preflight(rgw.endpoint_url, bucket, ORIGIN, "content-type,x-custom")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()
    assert "x-custom" in headers["Access-Control-Allow-Headers"].lower()
    assert "etag" in headers["Access-Control-Expose-Headers"].lower()
    assert int(headers["Access-Control-Max-Age"]) == 3600

    status, headers = preflight(rgw.endpoint_url, bucket, "http://localhost:8000")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8000"

    # A multipart upload PUTs each part and reads its ETag.
    status, headers = preflight(rgw.endpoint_url, bucket, ORIGIN, "content-type", "PUT")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    assert "etag" in headers["Access-Control-Expose-Headers"].lower()

    status, headers = preflight(rgw.endpoint_url, bucket, "https://evil.example.net")
    assert status != 200 or "Access-Control-Allow-Origin" not in headers
    assert headers.get("Access-Control-Allow-Origin") not in ("*", "https://evil.example.net")


def test_keeps_other_rules_and_replaces_its_own(s3_default: Any, s3: Any) -> None:
    bucket = s3_default.bucket_name
    other = {
        "ID": "cdn-fonts",
        "AllowedOrigins": ["https://cdn.example.com"],
        "AllowedMethods": ["GET"],
        "MaxAgeSeconds": 60,
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [other]})
    run("--origin", "https://a.example.com")
    run("--origin", "https://b.example.com", "--max-age", "120")
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [r.get("ID") for r in rules] == ["cdn-fonts", RULE_ID]
    ours = rules[1]
    assert ours["AllowedOrigins"] == ["https://b.example.com"]
    assert sorted(ours["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    assert ours["MaxAgeSeconds"] == 120


def test_dry_run_changes_nothing(s3_default: Any, s3: Any) -> None:
    output = run("--origin", ORIGIN, "--dry-run")
    assert "Would set" in output and ORIGIN in output
    with pytest.raises(s3.exceptions.ClientError) as info:
        s3.get_bucket_cors(Bucket=s3_default.bucket_name)
    assert info.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_origins_default_to_csrf_trusted_origins(s3_default: Any, s3: Any, settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.com"]
    run()
    rule = s3.get_bucket_cors(Bucket=s3_default.bucket_name)["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["https://admin.example.com"]


@pytest.mark.parametrize(
    "origin",
    ["example.com", "https://example.com/shop", "ftp://example.com", "https://u@example.com"],
)
def test_refuses_what_is_not_an_origin(origin: str, settings: Any) -> None:
    with pytest.raises(CommandError, match="not an origin"):
        run("--origin", origin)


def test_needs_an_origin(settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = []
    with pytest.raises(CommandError, match="--origin"):
        run()


def test_refuses_a_storage_without_a_bucket(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "local": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with pytest.raises(CommandError, match="not a bucket"):
        run("--origin", ORIGIN, "--storage", "local")
