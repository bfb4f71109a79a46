"""A site whose static files are a generated tree, collected to a fresh RGW bucket by
``buckets``' ``collectstatic`` (the command object itself, so the order of
``INSTALLED_APPS`` in the suite's settings does not matter here)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from buckets.management.commands.collectstatic import Command

#: The generated tree: a stylesheet whose url()s name an image, a font and another
#: stylesheet; scripts; and files no stylesheet names.
TREE = {
    "css/site.css": (
        '@import url("parts/grid.css");\n'
        'body { background: url("../img/logo.png"); }\n'
        '@font-face { font-family: x; src: url(../fonts/x.woff2) format("woff2"); }\n'
    ),
    "css/parts/grid.css": ".grid { background: url('../../img/dot.png'); }\n",
    # a chain at one depth: whatever order a pass takes them in, some name an intermediate
    # hashed copy of the next before it is processed
    "css/chain/a.css": '@import "b.css";\n.a {}\n',
    "css/chain/b.css": '@import "c.css";\n.b {}\n',
    "css/chain/c.css": '@import "d.css";\n.c {}\n',
    "css/chain/d.css": ".d { background: url('../../img/dot.png'); }\n",
    "img/logo.png": b"\x89PNG logo" + bytes(range(256)) * 8,
    "img/dot.png": b"\x89PNG dot" + bytes(100),
    "fonts/x.woff2": b"wOF2" + bytes(range(200)),
    "js/app.js": "console.log('app');\n",
    "js/vendor/lib.js": "var lib = 1;\n" * 50,
    "docs/readme.txt": "plain text\n",
    "docs/with space+plus é.txt": "odd name\n",
}


@pytest.fixture
def static_tree(tmp_path: Path) -> Path:
    root = tmp_path / "static-src"
    for name, content in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    return root


@pytest.fixture
def static_site(settings: Any, rgw: Any, bucket: str, static_tree: Path) -> Callable[..., None]:
    """Configure ``STORAGES["staticfiles"]`` with ``backend`` on the fresh bucket (objects
    readable by anyone, as a static prefix is) and the generated tree as the only source."""

    def configure(backend: str, **options: Any) -> None:
        settings.STATICFILES_DIRS = [str(static_tree)]
        settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": backend,
                "OPTIONS": rgw.storage_options(bucket, default_acl="public-read", **options),
            },
        }

    return configure


def collectstatic(**options: Any) -> str:
    """Run ``buckets``' collectstatic; its standard output."""
    out = io.StringIO()
    call_command(Command(), interactive=False, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()
