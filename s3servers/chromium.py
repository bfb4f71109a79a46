"""The headless Chromium that the browser tests and ``bench/`` drive: Debian's binary and
the flags both launch it with (no sandbox as root, no background traffic off 127.0.0.1)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
