"""Hostile inputs shared by the tests of both storages."""

from __future__ import annotations

#: Names every storage refuses before any request or write: climbing, absolute, NUL, and keys
#: over S3's 1,024-byte limit.
HOSTILE_NAMES = [
    "../x.txt",
    "a/../../x.txt",
    "a/../x.txt",
    "/etc/passwd",
    "nul\x00byte.txt",
    "..\\windows.txt",
    "k" * 1025,
    "d/" + "é" * 600,  # 1,202 bytes in UTF-8, under 1,024 characters
]
