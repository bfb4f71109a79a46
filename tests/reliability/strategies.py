"""Hypothesis settings and strategies shared by the fuzz tests (``tests/test_fuzz.py`` and
``test_fuzz_fake_upload.py``): path segments that have broken path handling somewhere."""

from __future__ import annotations

from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st

FUZZ = hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
AWS = {"BUCKET": "fuzz-bucket", "ACCESS_KEY": "AKFUZZ", "SECRET_KEY": "fuzz-secret"}

#: Path segments that have broken path handling somewhere, some time.
NASTY_SEGMENTS = [
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E%2e",
    "%252e%252e",
    "..%2f",
    "%2f",
    "%5c..",
    "..\\..",
    "\\",
    "~",
    "a\x00b",
    "é",
    "e\u0301",
    "\u202e",
    "con",
    "link",
    ".buckets-tmp",
    "x" * 300,
    "a b",
    "a+b",
    "?",
    "#",
]
segments = st.sampled_from(NASTY_SEGMENTS) | st.text(max_size=12)
nasty_paths = st.builds(
    lambda lead, parts, sep: lead + sep.join(parts),
    st.sampled_from(["", "/", "//", "\\", "./"]),
    st.lists(segments, min_size=1, max_size=6),
    st.sampled_from(["/", "\\", "//"]),
)


def has_dotdot(name: str) -> bool:
    return ".." in name.replace("\\", "/").split("/")


def multipart_body(fields: dict[str, str], boundary: str) -> bytes:
    out = b""
    for name, value in fields.items():
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()
