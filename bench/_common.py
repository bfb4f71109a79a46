"""Small shared helpers: Django settings for a storage outside a project, sizes, tables."""

from __future__ import annotations

import re
from collections.abc import Sequence

MiB = 1024**2
GiB = 1024**3

_UNITS = {"": 1, "K": 1024, "M": MiB, "G": GiB, "T": 1024**4}


def setup_django() -> None:
    """Minimal settings: both storages read ``django.conf.settings`` (no ``AWS`` dict here;
    every S3 option is passed to the storage itself)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="bench-only-not-secret",
            USE_TZ=True,
            INSTALLED_APPS=[],
            DATABASES={},
        )
        django.setup()


def parse_size(text: str) -> int:
    """``1G``, ``256M``, ``512MiB``, ``64k``, ``1048576`` -> bytes (binary units)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not m:
        raise ValueError(f"not a size: {text!r} (try 1G, 256M, 64K or a byte count)")
    size = int(float(m.group(1)) * _UNITS[m.group(2)])
    if size <= 0:
        raise ValueError(f"size must be positive: {text!r}")
    return size


def format_size(n: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} B"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [str(cells[0]).ljust(widths[0])]
        out += [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"
