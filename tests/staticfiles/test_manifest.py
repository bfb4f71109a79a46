"""``S3ManifestStaticStorage`` on RGW: hashed names served with their CSS ``url()``s
resolving (fetched over HTTP), the manifest in the bucket, nothing read back to be hashed,
and an unchanged re-run that sends no file."""

from __future__ import annotations

import io
import json
import re
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import storages
from django.core.management import call_command

from buckets.management.commands.collectstatic import Command
from s3servers import list_keys
from s3servers.counting import count_requests
from tests.staticfiles.conftest import TREE, collectstatic

pytestmark = pytest.mark.rgw

MANIFEST = "buckets.staticfiles.S3ManifestStaticStorage"
FILES = len(TREE)
ADJUSTABLE = sum(name.endswith((".css", ".js")) for name in TREE)
URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


def test_hashed_css_urls_resolve_over_http(static_site, static_tree, s3, bucket):
    static_site(MANIFEST)
    staticfiles_storage.location  # noqa: B018 -- made before counting
    with count_requests() as counts:
        out = collectstatic()
    assert f"{FILES} static files copied, {FILES} post-processed." in out
    # one listing; no file read back from the bucket to be hashed; each object written
    # once: no intermediate hashed copy sent and deleted
    objects = list_keys(s3, bucket)
    assert len(objects) == 2 * FILES + 1  # originals, hashed copies, the manifest
    assert dict(counts) == {"LIST": 1, "PUT": len(objects)}

    css_url = staticfiles_storage.url("css/site.css")
    assert re.search(r"/static/css/site\.[0-9a-f]{12}\.css$", css_url)
    answer = requests.get(css_url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    found = URL.findall(answer.text)
    assert len(found) == 3
    expected = {"img/logo.png", "fonts/x.woff2"}
    for ref in found:
        target = urljoin(css_url, ref)
        fetched = requests.get(target, timeout=10)
        assert fetched.status_code == 200, target
        if ref.endswith(".css"):  # the imported stylesheet, itself rewritten
            assert re.search(r"dot\.[0-9a-f]{12}\.png", fetched.text)
            (dot,) = URL.findall(fetched.text)
            image = requests.get(urljoin(target, dot), timeout=10)
            assert image.content == (static_tree / "img/dot.png").read_bytes()
            continue
        original = next(name for name in expected if name.split("/")[1].split(".")[0] in ref)
        assert fetched.content == (static_tree / original).read_bytes()

    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key="static/staticfiles.json")["Body"].read()
    )
    assert set(manifest["paths"]) == set(TREE)
    head = s3.head_object(Bucket=bucket, Key="static/staticfiles.json")
    assert "CacheControl" not in head  # the manifest changes under one name


def test_unchanged_rerun_sends_no_file_and_a_change_sends_its_own(
    static_site, static_tree, s3, bucket
):
    static_site(MANIFEST)
    collectstatic()
    before = sorted(list_keys(s3, bucket))
    fresh = new_storage()  # as a new process would
    with count_requests() as counts:
        out = collectstatic_with(fresh)
    # Django counts the stylesheets and scripts it rewrites as post-processed on every run
    assert f"0 static files copied, {FILES} unmodified, {ADJUSTABLE} post-processed." in out
    assert dict(counts) == {"LIST": 1}
    assert sorted(list_keys(s3, bucket)) == before

    (static_tree / "js/app.js").write_text("console.log('changed');\n")
    fresh = new_storage()
    with count_requests() as counts:
        out = collectstatic_with(fresh)
    assert f"1 static file copied, {FILES - 1} unmodified, {ADJUSTABLE} post-processed." in out
    # the original, its new hashed copy, the manifest; the old hashed copy is kept for
    # pages still naming it
    assert dict(counts) == {"LIST": 1, "PUT": 3}
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key="static/staticfiles.json")["Body"].read()
    )
    new_name = manifest["paths"]["js/app.js"]
    body = s3.get_object(Bucket=bucket, Key=f"static/{new_name}")["Body"].read()
    assert body == b"console.log('changed');\n"


def new_storage() -> Any:
    return storages.create_storage(storages.backends["staticfiles"])


def collectstatic_with(storage: Any) -> str:
    command = Command()
    command.storage = storage
    out = io.StringIO()
    call_command(command, interactive=False, stdout=out)
    return out.getvalue()


def test_building_the_storage_sends_nothing_and_url_reads_the_manifest_once(
    static_site, s3, bucket
):
    static_site(MANIFEST)
    collectstatic()
    with count_requests() as counts:
        storage = new_storage()
    assert dict(counts) == {}  # manage.py check and process start-up: no request
    with count_requests() as counts:
        first = storage.url("css/site.css")
        assert storage.url("js/app.js") != first
    assert dict(counts) == {"HEAD": 1, "GET": 1}  # the manifest, once


def test_held_writes_beyond_the_memory_budget_wait_on_disk(
    static_site, static_tree, s3, bucket, monkeypatch
):
    """With no memory for held writes, every rewritten stylesheet waits in a file on disk;
    what reaches the bucket is the same, and the files are gone afterwards."""
    import tempfile

    from buckets.staticfiles import collecting

    monkeypatch.setattr(collecting, "HELD_MEMORY", 0)
    spool_root = static_tree.parent / "spool"
    spool_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_root))
    static_site(MANIFEST)
    collectstatic()
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key="static/staticfiles.json")["Body"].read()
    )
    site_css = s3.get_object(Bucket=bucket, Key=f"static/{manifest['paths']['css/site.css']}")
    text = site_css["Body"].read().decode()
    assert manifest["paths"]["img/logo.png"].split("/")[-1] in text
    assert list(spool_root.iterdir()) == []


def test_ctrl_c_during_post_processing_writes_no_manifest(static_site, s3, bucket, monkeypatch):
    """Stopped while hashing: the originals already sent are whole, no hashed copy and no
    manifest is written (the previous manifest, if any, would still name files all there)."""
    from buckets.staticfiles.storage import S3ManifestStaticStorage

    static_site(MANIFEST)
    calls = []
    hashed_name = S3ManifestStaticStorage.hashed_name

    def interrupted(self: Any, *args: Any, **kwargs: Any) -> str:
        calls.append(args)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return hashed_name(self, *args, **kwargs)

    monkeypatch.setattr(S3ManifestStaticStorage, "hashed_name", interrupted)
    with pytest.raises(KeyboardInterrupt):
        collectstatic()
    assert sorted(list_keys(s3, bucket)) == sorted(f"static/{name}" for name in TREE)
