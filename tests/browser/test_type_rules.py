"""The widget's type check is the server's: one rule
(``buckets.signing.content_types.signed_content_type``), its data rendered into the widget
(``type_rules``), applied by ``upload.js`` in Chromium.

The matrix test runs the script's function and the Python function over the same (type,
accepted types) cases and compares their answers; the widget tests check that a person gets
the script's refusal before anything is signed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import buckets
from buckets.signing import content_types
from tests.browser.test_widget import a_file, count_requests, hidden_value, widget

pytestmark = pytest.mark.browser

UPLOAD_JS = Path(buckets.__file__).resolve().parent / "static" / "buckets" / "js" / "upload.js"

TYPES = [
    # sniffed, runnable, wildcards, odd top levels, script-capable
    "unknown/unknown",
    "application/unknown",
    "*/*",
    "Application/Unknown",
    "image/*",
    "*/png",
    "text/javascript",
    "TEXT/JavaScript; charset=UTF-8",
    "application/x-javascript",
    "text/jscript",
    "text/javascript1.5",
    "application/wasm",
    "multipart/x-mixed-replace",
    "message/rfc822",
    "example/x",
    "chemical/x-pdb",
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/rss+xml",
    "text/xml",
    "text/xsl",
    # ordinary types
    "image/png",
    "IMAGE/PNG",
    "image/webp",
    "application/pdf",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/plain; charset=utf-8",
    "Text/Plain ; Charset=UTF-8",
    "text/plain;charset=a:b",
    "font/woff2",
    "model/gltf+json",
    "video/mp4",
    "audio/ogg",
    # malformed or hostile
    "",
    "/",
    "image/",
    "/png",
    "image",
    "image/png;,text/html",
    "image/png; x=y,text/html",
    "image/png; charset=",
    "text/html\r\nX-Evil: 1",
    " text/plain ",
    "\ttext/plain\r\n",
    "\x1ctext/plain",
    "text/plain\u00a0",
    "\ufefftext/plain",
    "text/plain\u212a",
    "text/pla\u0131n",
    "te\u017ft/plain",
    "image/p\u00f1g",
    "image/png\U0001f600",
    "a" * 127 + "/" + "b" * 127,
    "a" * 128 + "/" + "b" * 126,
    "a" * 128 + "/" + "b" * 127,
    "application/" + "x" * 200 + "; charset=" + "u" * 40,
    "text/plain; charset=" + "u" * 41,
    "image/png$",
    "image/pn%67",
    "image/png'",
    "application/x~y",
    "application/-x",
    "application/.x",
]

ACCEPTS: list[list[str] | None] = [
    None,
    [],
    ["*"],
    ["*/*"],
    ["image/*"],
    ["IMAGE/*"],
    [" image/* "],
    ["image/png"],
    ["application/*"],
    ["text/plain", "image/*"],
    ["image/svg+xml"],
    ["text/html", "application/pdf"],
    [".pdf"],
    ["application/unknown"],
    ["text/javascript"],
    ["*/png"],
    ["image/png", "*"],
    ["text/*"],
    ["font/*", "model/*"],
]


def random_types(count: int) -> list[str]:
    """Strings built from the characters the rule cares about, the same on every run."""
    rng = random.Random(12)
    pool = list("aAzZ09/;=-+.*!#$%&'^_`|~ \t\r\n\x00\x7f\u00a0\u212a\u017f\u0131é") + [
        "text/",
        "image/",
        "charset=",
        "utf-8",
        "html",
        "unknown",
        "javascript",
        "svg+xml",
    ]
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_the_scripts_type_rule_is_the_servers(page: Page) -> None:
    page.set_content("<!DOCTYPE html><title>rules</title>")
    page.add_script_tag(content=UPLOAD_JS.read_text())
    cases = []
    for accept in ACCEPTS:
        for content_type in TYPES + random_types(150):
            cases.append(
                {
                    "type": content_type,
                    "rules": content_types.type_rules(accept),
                    "expected": content_types.signed_content_type(content_type, accept),
                    "accept": accept,
                }
            )
    answers = page.evaluate(
        "(cases) => cases.map((c) => window.djangoBuckets.uploader.signedType(c.type, c.rules))",
        cases,
    )
    mismatches = [
        (c["type"], c["accept"], c["expected"], got)
        for c, got in zip(cases, answers, strict=True)
        if got != c["expected"]
    ]
    assert mismatches == []
    # the matrix covers every kind of answer
    outcomes = {c["expected"] for c in cases}
    assert {None, "application/octet-stream", "image/png", "image/svg+xml"} <= outcomes


def _avatar_page(page: Page, live_server: Any, login: Any, user: Any) -> None:
    login(page.context, user)
    page.goto(f"{live_server.url}/avatars/new/")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("drawing.svg", "image/svg+xml"),  # image/* means pictures, not documents with script
        ("page", "application/unknown"),
        ("star", "image/*"),
    ],
)
def test_the_widget_refuses_what_the_server_would_before_signing(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    name: str,
    mime: str,
    screenshot: Any,
) -> None:
    signing = count_requests(page, "/s3/signed-url/")
    _avatar_page(page, live_server, login, admin_user)
    w = widget(page, "image")
    rules = w.get_attribute("data-type-rules")
    assert rules is not None and '"accept": ["image/*"]' in rules
    page.set_input_files("#id_image_file", files=[a_file(name, b"<svg></svg>", mime)])
    expect(w.locator(".s3file-error")).to_contain_text(
        f"“{name}” is not an accepted type of file ({mime}). Accepted: images."
    )
    screenshot(w, f"widget-refuses-{name.replace('.', '-')}")
    assert signing == []
    assert hidden_value(w) == ""
    assert rgw_target.keys() == []


def test_a_dotted_pattern_is_refused_by_the_widget_as_by_the_server(
    page: Page, live_server: Any, rgw_target: Any, admin_user: Any, login: Any
) -> None:
    """The server knows MIME types only: ``.pdf`` in ``accepted_types`` matches no type, and
    the widget no longer lets a file through on its name."""
    signing = count_requests(page, "/s3/signed-url/")
    _avatar_page(page, live_server, login, admin_user)
    w = widget(page, "pdf")
    w.evaluate(
        """(root) => {
            const rules = JSON.parse(root.getAttribute("data-type-rules"));
            rules.accept = [".pdf"];
            root.setAttribute("data-type-rules", JSON.stringify(rules));
        }"""
    )
    page.set_input_files("#id_pdf_file", files=[a_file("a.pdf", b"%PDF-1.4", "application/pdf")])
    expect(w.locator(".s3file-error")).to_contain_text("is not an accepted type of file")
    assert signing == []
    assert content_types.signed_content_type("application/pdf", [".pdf"]) is None


def test_a_safe_type_still_uploads(
    page: Page, live_server: Any, rgw_target: Any, admin_user: Any, login: Any
) -> None:
    _avatar_page(page, live_server, login, admin_user)
    w = widget(page, "image")
    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    page.set_input_files("#id_image_file", files=[a_file("dot.png", png, "image/png")])
    expect(w).to_have_attribute("data-state", "filled")
    assert hidden_value(w).endswith("/dot.png")
