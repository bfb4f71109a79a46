"""README's "Static files" settings block is what runs: its app order makes ``buckets``'
collectstatic the one Django finds, and its storage collects to RGW under its location."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import get_commands

from s3servers import list_keys
from tests.staticfiles.conftest import TREE, collectstatic
from tests.test_readme import blocks


def static_block() -> dict[str, Any]:
    (code,) = [b for b in blocks("settings") if "buckets.staticfiles" in b]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.rst", "exec"), namespace)
    return namespace


def test_readme_app_order_runs_our_collectstatic(settings):
    settings.INSTALLED_APPS = static_block()["INSTALLED_APPS"]
    assert get_commands()["collectstatic"] == "buckets"


@pytest.mark.rgw
def test_readme_static_storage_collects(settings, static_site, rgw, bucket, s3):
    staticfiles = static_block()["STORAGES"]["staticfiles"]
    static_site(staticfiles["BACKEND"])
    configured = settings.STORAGES["staticfiles"]
    options = {k: v for k, v in configured["OPTIONS"].items() if k != "location"}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {**configured, "OPTIONS": {**options, **staticfiles["OPTIONS"]}},
    }
    collectstatic()
    keys = list_keys(s3, bucket)
    assert "static/staticfiles.json" in keys
    assert {f"static/{name}" for name in TREE} <= set(keys)
