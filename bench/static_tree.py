"""The static files the collectstatic benchmark collects: Django admin's own, plus a
generated site of realistic sizes (stylesheets whose ``url()``s name generated images and
fonts, scripts, images), the same bytes on every run (seeded)."""

from __future__ import annotations

import random
from pathlib import Path

import django

#: Django admin's static files (``admin/...``).
ADMIN_STATIC = Path(django.__file__).resolve().parent / "contrib" / "admin" / "static"

_WORDS = "var let const function return if else for while new this null true false".split()


def admin_file_count() -> int:
    return sum(1 for p in ADMIN_STATIC.rglob("*") if p.is_file())


def _size(rng: random.Random, median: int, low: int, high: int) -> int:
    return max(low, min(high, int(rng.lognormvariate(0, 0.9) * median)))


def _js(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(10)) + ";\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def generate(root: Path, files: int, seed: int = 16) -> int:
    """Write ``files`` files under ``root`` (images 60 %, scripts 20 %, stylesheets 15 %,
    fonts 5 %); their total size in bytes."""
    rng = random.Random(seed)
    counts = {"img": files * 60 // 100, "js": files * 20 // 100, "fonts": files * 5 // 100}
    counts["css"] = files - sum(counts.values())
    images, fonts, total = [], [], 0

    def write(name: str, data: bytes) -> None:
        nonlocal total
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)

    for i in range(counts["img"]):
        name = f"site/img/{i // 100:02d}/picture-{i:04d}.png"
        write(name, b"\x89PNG\r\n\x1a\n" + rng.randbytes(_size(rng, 12_000, 200, 400_000)))
        images.append(name)
    for i in range(counts["fonts"]):
        name = f"site/fonts/face-{i:03d}.woff2"
        write(name, b"wOF2" + rng.randbytes(_size(rng, 40_000, 10_000, 120_000)))
        fonts.append(name)
    for i in range(counts["js"]):
        write(f"site/js/{i // 50:02d}/module-{i:04d}.js", _js(rng, _size(rng, 8_000, 300, 300_000)))
    for i in range(counts["css"]):
        rules = []
        for j in range(_size(rng, 40, 5, 400)):
            target = rng.choice(images if j % 8 else fonts or images)
            rules.append(f".c{i}-{j} {{ background: url('../../{target[5:]}') no-repeat; }}\n")
        write(f"site/css/{i // 50:02d}/sheet-{i:04d}.css", "".join(rules).encode())
    return total
