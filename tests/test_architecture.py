"""The package's boundaries (pyproject's ``[tool.importlinter]`` contracts) hold, and break
when a production module imports the fake: ``./run-tests`` runs the same contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "buckets", tmp_path / "buckets", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(tmp_path: Path) -> None:
    result = _lint(_copy_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("buckets/storage/keys.py", "import buckets.test.storage", "never imports the fake"),
        ("buckets/signing/sigv4.py", "import django.conf", "Signing is pure"),
        ("buckets/storage/base.py", "import buckets.fields", "layers"),
        ("buckets/transfer/copying.py", "import buckets.migrate", "layers"),
        ("buckets/test/disk.py", "import buckets.test.views", "No import cycles"),
        ("buckets/uploads/rules.py", "import rest_framework", "REST framework is optional"),
        (
            "buckets/checks/storages.py",
            "import rest_framework",
            "Django REST framework is optional",
        ),
    ],
)
def test_breaking_a_contract_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    tree = _copy_package(tmp_path)
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
