"""Stored XSS through types a browser sniffs: an HTML body uploaded under any of them, through
the signing view and straight to a real Ceph RGW, never runs as a page at ``storage.url()``.

RGW (like S3) serves objects without ``X-Content-Type-Options: nosniff``, and Chromium renders
the HTML it finds in a body served as ``unknown/unknown``, ``application/unknown``, ``*/*`` or
with no type at all (WHATWG MIME Sniffing, "rules for identifying an unknown MIME type"). RGW
also ignores the ``Content-Disposition`` a POST policy pins, so an attachment pin protects
nothing there. Each upload goes as an attacker would send it: the view's answer, then every
signed field and the file to the bucket.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from django.test import Client
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.rgw, pytest.mark.django_db]

#: The types the MIME Sniffing standard (and Chromium) sniff for HTML, in the cases a client
#: may send them; ``None`` is an upload that declares no type and whose name implies none.
SNIFFED = [
    "unknown/unknown",
    "application/unknown",
    "*/*",
    "Application/Unknown",
    "UNKNOWN/unknown; charset=utf-8",
    None,
]
#: Types a browser runs, declared for a field that accepts any type: stored opaque as well.
RUNS = ["text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript"]
MARKER = "/pwned/"


def html_body(live_url: str, case: str) -> bytes:
    """A page that, if it ever runs, renames itself and calls the live server."""
    return (
        '<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>inert</title></head><body>"
        f"<h1 id='m'>Shown as a page, script did not run: {case}</h1>"
        "<script>document.title = 'PWNED';"
        "document.getElementById('m').textContent = 'SCRIPT RAN';"
        f"new Image().src = {json.dumps(live_url + MARKER + case)};</script>"
        "</body></html>"
    ).encode()


def svg_body(live_url: str, case: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50">'
        "<text y='20'>SCRIPT RAN</text><script>document.title = 'PWNED';"
        f"new Image().src = {json.dumps(live_url + MARKER + case)};</script></svg>"
    ).encode()


def upload_through_the_view(client: Client, content_type: str | None, body: bytes) -> str:
    """Sign with the view, post to RGW as the view says; the stored key."""
    request: dict[str, Any] = {"key": "page", "size": len(body)}
    if content_type is not None:
        request["content_type"] = content_type
    answer = client.post("/s3/signed-url/", json.dumps(request), content_type="application/json")
    assert answer.status_code == 200, answer.content
    signed = answer.json()
    posted = requests.post(
        signed["url"], data=signed["fields"], files={"file": ("page", body)}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.content
    key: str = signed["fields"]["key"]
    return key


def open_in_chromium(page: Page, url: str) -> str:
    """Navigate to ``url``: ``"page"`` if Chromium showed it, ``"download"`` if it saved it."""
    try:
        page.goto(url, wait_until="load")
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            return "download"
        raise
    return "page"


@pytest.mark.parametrize("declared", SNIFFED + RUNS, ids=lambda t: str(t))
def test_an_html_body_never_runs_at_its_url(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    django_user_model: Any,
    declared: str | None,
    screenshot: Any,
) -> None:
    case = (declared or "none").replace("/", "_").replace("*", "star").replace(" ", "")
    case = "".join(c for c in case if c.isalnum() or c in "_-")
    make = svg_body if declared == "image/svg+xml" else html_body
    body = make(live_server.url, case)
    client = Client()
    client.force_login(django_user_model.objects.create_user("mallory"))
    key = upload_through_the_view(client, declared, body)
    assert rgw_target.read(key) == body

    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url) if MARKER in request.url else None)
    url = rgw_target.storage.url(key)
    outcome = open_in_chromium(page, url)
    served = requests.get(url, timeout=30).headers.get("Content-Type")
    if outcome == "page":
        screenshot(page, f"sniffed-{case}")
        assert page.title() != "PWNED", served
    else:  # nothing on screen: say what happened, for the screenshot
        page.set_content(
            f"<p>Declared <b>{declared}</b>, served as <b>{served}</b>: Chromium downloaded "
            "it, nothing was rendered, no script ran.</p>"
        )
        screenshot(page, f"sniffed-{case}")
    assert calls == [], served
    assert served == "application/octet-stream", served
