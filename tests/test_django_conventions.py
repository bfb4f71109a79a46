"""Django's conventions, held to the code: README's table of system checks lists exactly
the ids the package defines, the widget template is overridden as README says, and every
``salted_hmac`` names its algorithm (Django 6 warns on the default).

(Kept apart from ``test_readme.py``, which runs every code block as a kind; the override
block is a ``settings`` block there, and is applied here to a real render.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.forms.renderers import get_default_renderer

from tests.test_readme import README, blocks
from tests.testapp.models import Avatar

ROOT = Path(__file__).resolve().parent.parent
CHECK_ID = re.compile(r"\bbuckets(?:\.test)?\.[CEIW]\d{3}\b")


def ids_in_code() -> set[str]:
    """Every check id written as a string in the package."""
    found: set[str] = set()
    for path in (ROOT / "buckets").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(CHECK_ID.findall(node.value))
    return found


def ids_in_table() -> list[str]:
    """The ids in the first column of README's "System checks" table."""
    section = README.split("\nSystem checks\n-------------\n", 1)[1]
    table = re.search(r"^(=+  .*)\n(?:.*\n)+?^\1\n(?P<rows>(?:.*\n)+?)^\1$", section, re.M)
    assert table, "README's System checks section has no table"
    return re.findall(r"^``([^`]+)``", table["rows"], re.M)


def test_the_check_table_lists_every_id_the_code_defines() -> None:
    listed = ids_in_table()
    assert len(listed) == len(set(listed)), "an id is listed twice"
    assert set(listed) == ids_in_code()
    assert {"buckets.E101", "buckets.E102"} <= set(listed)


def test_every_check_id_the_readme_mentions_exists() -> None:
    assert set(CHECK_ID.findall(README)) <= ids_in_code()


def override_block() -> str:
    (block,) = [b for b in blocks("settings") if "FORM_RENDERER" in b]
    return block


class AvatarForm(forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["image"]


@pytest.mark.django_db
def test_the_widget_template_is_overridden_as_readme_says(
    settings: Any, tmp_path: Path, s3_default: Any
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(override_block(), "README.rst", "exec"), namespace)
    assert "django.forms" in namespace["INSTALLED_APPS"]  # Django's own widget templates
    (engine,) = namespace["TEMPLATES"]
    assert engine["DIRS"] == ["templates"]
    override = tmp_path / "buckets" / "widgets" / "s3file.html"
    override.parent.mkdir(parents=True)
    override.write_text('<div class="my-uploader" data-hint="{{ widget.hint }}"></div>')
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path]}]
    # Without FORM_RENDERER, Django's default renderer never looks into the project's folders.
    assert "my-uploader" not in str(AvatarForm()["image"])
    settings.FORM_RENDERER = namespace["FORM_RENDERER"]
    # Django 4.2 keeps the renderer it made first (5.0+ drops it when the setting changes).
    get_default_renderer.cache_clear()
    try:
        html = str(AvatarForm()["image"])
    finally:
        get_default_renderer.cache_clear()
    assert 'class="my-uploader"' in html
    assert 'data-hint="Accepted: images, up to 1.0 MiB"' in html


def test_every_salted_hmac_names_its_algorithm() -> None:
    calls = []
    for path in (ROOT / "buckets").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "salted_hmac":
                calls.append(node)
                assert "algorithm" in {k.arg for k in node.keywords}, f"{path}:{node.lineno}"
    assert calls  # the scan found them
