"""The packaging gate: the wheel and sdist ``python -m build`` makes are complete and install.

Builds both into a temporary directory, checks they carry the widget's template, static
files, the translation catalogs and ``py.typed``, runs ``twine check --strict``, then
installs the wheel (with its dependencies, from the package index or pip's cache) into a
new venv and imports it there, away from this checkout and with no Django settings.
Deselect with ``-m "not package"``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_readme import blocks

pytestmark = pytest.mark.package

ROOT = Path(__file__).resolve().parents[1]
#: The distribution's name: "django-buckets" on PyPI is an unrelated project.
DIST_NAME = "django-buckets-s3"
SHIPPED = [
    "buckets/templates/buckets/widgets/s3file.html",
    "buckets/static/buckets/js/upload.js",
    "buckets/static/buckets/css/upload.css",
    "buckets/py.typed",
    *(
        f"buckets/locale/{language}/LC_MESSAGES/django.{kind}"
        for language in ("de", "fr")
        for kind in ("po", "mo")
    ),
]
IMPORTS = "import buckets.storage, buckets.fields, buckets.test.urls"
#: Run by the venv's python with the SHIPPED paths as arguments.
CHECK_INSTALLED = """
import pathlib, sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "buckets"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    SECRET_KEY="x",
)
django.setup()
import buckets
from django.template.loader import get_template
site = pathlib.Path(buckets.__file__).parent.parent
for f in sys.argv[1:]:
    print(f, (site / f).is_file())
print("template", get_template("buckets/widgets/s3file.html").origin.name)
"""


def run(*args: str | Path, cwd: Path, timeout: float = 120) -> str:
    """Run a command with no settings or paths of this test run; its output, or a failure
    that shows it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT, timeout=300)
    return out


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {directory}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv with the wheel installed; yields its python."""
    where = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", where / "venv", cwd=where)
    python = where / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", only(dist, "*.whl"), cwd=where, timeout=300)
    yield python


def test_the_wheel_carries_the_templates_static_files_and_py_typed(dist: Path) -> None:
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "buckets = buckets.pytest_plugin" in wheel.read(entry_points).decode()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    missing = [f for f in SHIPPED if f not in names]
    assert not missing, f"missing from the wheel: {missing}"
    headers = metadata.decode().split("\n\n", 1)[0].splitlines()
    assert f"Name: {DIST_NAME}" in headers
    urls = [h for h in headers if h.startswith("Project-URL: ")]
    assert {u.split(": ", 1)[1].split(",")[0] for u in urls} >= {"Homepage", "Source", "Issues"}
    assert not [n for n in names if n.startswith(("tests/", "example/", "bench/", "s3servers/"))]


def test_the_sdist_carries_them_too(dist: Path) -> None:
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    missing = [f for f in [*SHIPPED, "README.rst", "LICENSE", "pyproject.toml"] if f not in names]
    assert not missing, f"missing from the sdist: {missing}"


def test_twine_check_passes(dist: Path) -> None:
    out = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()), cwd=dist)
    assert out.count("PASSED") == 2, out


def test_the_installed_wheel_imports_without_django_settings(installed: Path) -> None:
    out = run(
        installed, "-c", f"{IMPORTS}; import buckets; print(buckets.__file__)", cwd=installed.parent
    )
    assert Path(out.strip()).is_relative_to(installed.parents[1]), out  # not this checkout


def test_the_installed_wheel_has_its_static_files_and_widget_template(
    installed: Path,
) -> None:
    out = run(installed, "-c", CHECK_INSTALLED, *SHIPPED, cwd=installed.parent)
    site = installed.parents[1]
    for f in SHIPPED:
        assert f"{f} True" in out, out
    template = out.split("template ", 1)[1].strip()
    assert Path(template).is_relative_to(site), template


def checkout_copy(where: Path) -> Path:
    """The files git tracks in this checkout (as they are now), copied to ``where``: a fresh
    clone, without this checkout's venv, build directories or caches."""
    listed = run("git", "ls-files", "-z", cwd=ROOT).split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)
    return where


def test_the_readme_install_line_installs_this_code(tmp_path: Path) -> None:
    """README's "Installation" block, run as written from a fresh copy of the checkout into
    a new venv, installs this distribution (not PyPI's unrelated django-buckets)."""
    (block,) = blocks("install")
    checkout = checkout_copy(tmp_path / "django-buckets")
    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    for words in (shlex.split(line) for line in lines if line):
        assert words[:2] == ["pip", "install"], words
        run(bin_dir / "python", "-m", "pip", "install", "-q", *words[2:], cwd=checkout, timeout=300)
    out = run(
        bin_dir / "python",
        "-c",
        "import importlib.metadata as m, buckets.storage; import buckets;"
        f" print(m.version({DIST_NAME!r})); print(buckets.__file__)",
        cwd=tmp_path,
    )
    version, location = out.split()
    declared = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert declared and version == declared[1]
    assert Path(location).is_relative_to(tmp_path / "venv"), location  # installed, not linked
    names = run(bin_dir / "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path)
    assert f"{DIST_NAME}==" in names and "django-buckets==" not in names, names
