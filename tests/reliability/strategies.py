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


#: Decimal numbers as clients write them, and as attackers do: thousands of digits (past
#: Python's int-string limit of 4,300), leading zeros, other scripts' digits, signs.
numbers = (
    st.integers(0, 10**20).map(str)
    | st.integers(4200, 6000).map(lambda n: "9" * n)
    | st.integers(1, 6000).map(lambda n: "0" * n + "7")
    | st.sampled_from(["", "-1", "+5", "1e3", "0x10", "٣", "²", " 5", "5 ", "9223372036854775808"])
)
#: ``Range`` headers built from those numbers: mostly one byte range, else several, other
#: units, garbage.
_ranges = st.builds(
    lambda unit, first, last, more: f"{unit}={first}-{last}{more}",
    st.sampled_from(["bytes"] * 4 + ["BYTES ", "items", ""]),
    numbers | st.just(""),
    numbers | st.just(""),
    st.sampled_from([""] * 5 + [",0-1", ",-", "x"]),
)
range_headers = st.one_of(_ranges, _ranges, _ranges, st.text(max_size=40))


def disposition(name: str, style: str) -> str:
    """A part's ``Content-Disposition`` naming ``name``: plainly, or in RFC 2231's form
    (which RFC 7578 forbids in form-data) with a known or an unknown charset."""
    encoded = "".join(f"%{b:02X}" for b in name.encode("utf-8", "surrogatepass"))
    return {
        "plain": f'form-data; name="{name}"',
        "rfc2231": f"form-data; name*=utf-8''{encoded}",
        "rfc2231-bogus": f"form-data; name*=bogus''{encoded}",
        "rfc2231-both": f"form-data; name*=latin-1'en'{encoded}; name=\"{name}\"",
        "continued": f"form-data; name*0*=bogus''{encoded}; name*1=x",
    }[style]


dispositions = st.sampled_from(
    ["plain"] * 6 + ["rfc2231", "rfc2231-bogus", "rfc2231-both", "continued"]
)


def has_dotdot(name: str) -> bool:
    return ".." in name.replace("\\", "/").split("/")


def multipart_body(
    fields: dict[str, str], boundary: str, styles: dict[str, str] | None = None
) -> bytes:
    """A multipart form of ``fields``, each part's name written in ``styles[name]``
    (see :func:`disposition`; plainly by default)."""
    out = b""
    for name, value in fields.items():
        out += f"--{boundary}\r\n".encode()
        header = disposition(name, (styles or {}).get(name, "plain"))
        out += f"Content-Disposition: {header}\r\n\r\n".encode("utf-8", "surrogatepass")
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()
