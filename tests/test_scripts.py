"""``./run-tests``, ``./run-demo`` and ``./run-bench`` on a bare Debian: each installs what it
needs when missing, through the functions of ``scripts/needs.sh``.

The functions run here with a PATH that lacks the tools and an ``apt-get`` that only records
what it was asked to install; the scripts themselves run the same way up to that call.
shellcheck (Debian's ``shellcheck``) checks them all when it is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["run-tests", "run-demo", "run-bench", "scripts/needs.sh", ".ci/run"]
BASH = shutil.which("bash") or "/bin/bash"
RGW = ["ceph-mon", "ceph-osd", "radosgw", "curl"]

#: An apt-get that records each install and fails it (so a script stops right there).
RECORDING_APT_GET = """#!/bin/sh
[ "$1" = update ] && exit 0
echo "$@" >> "$APT_LOG"
exit 1
"""


def bare_path(tmp_path: Path, *present: str) -> Path:
    """A bin folder holding only the basic tools the scripts run (and ``present``, as
    stand-ins): a machine where nothing else is installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["bash", "id", "dirname", "cat", "sh"]:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    for tool in present:
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')  # when the tests run as a user
    (bin_dir / "sudo").chmod(0o755)
    return bin_dir


def run_bash(
    code: str, bin_dir: Path, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    apt_get = tmp_path / "apt-get"
    apt_get.write_text(RECORDING_APT_GET)
    apt_get.chmod(0o755)
    environ = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "APT_GET": str(apt_get),
        "APT_LOG": str(tmp_path / "apt.log"),
        **env,
    }
    return subprocess.run(
        [BASH, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def installed(tmp_path: Path) -> list[str]:
    """The packages the recording apt-get was asked to install."""
    log = tmp_path / "apt.log"
    if not log.exists():
        return []
    (line,) = log.read_text().splitlines()
    words = line.split()
    assert words[:4] == ["install", "-y", "-q", "--no-install-recommends"], words
    return words[4:]


def test_missing_packages_names_the_package_of_each_missing_command(tmp_path: Path) -> None:
    bin_dir = bare_path(tmp_path, "curl")
    out = run_bash(
        "source scripts/needs.sh; missing_packages ceph-mon:ceph-mon curl:curl npm:npm",
        bin_dir,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ceph-mon", "npm"]


@pytest.mark.parametrize(
    ("python", "expected"),
    [
        ("python3", ["python3", "python3-venv"]),  # not on PATH at all
        ("no-ensurepip", ["python3-venv"]),  # Debian's python3 without python3-venv
        (sys.executable, []),
    ],
)
def test_python_packages(tmp_path: Path, python: str, expected: list[str]) -> None:
    bin_dir = bare_path(tmp_path)
    if python == "no-ensurepip":
        fake = bin_dir / "python3"
        fake.write_text('#!/bin/sh\n[ "$1" = -c ] && exit 1\nexit 0\n')
        fake.chmod(0o755)
        python = "python3"
    out = run_bash("source scripts/needs.sh; python_packages", bin_dir, tmp_path, PYTHON=python)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == expected


def test_need_debian_installs_only_what_is_missing(tmp_path: Path) -> None:
    bin_dir = bare_path(tmp_path, "radosgw")
    out = run_bash(
        "source scripts/needs.sh; need_debian ceph-mon:ceph-mon radosgw:radosgw",
        bin_dir,
        tmp_path,
        PYTHON=sys.executable,
    )
    assert out.returncode != 0  # the recording apt-get fails the install
    assert installed(tmp_path) == ["ceph-mon"]


def test_need_debian_calls_no_apt_get_when_nothing_is_missing(tmp_path: Path) -> None:
    bin_dir = bare_path(tmp_path, "curl")
    out = run_bash(
        "source scripts/needs.sh; need_debian curl:curl && echo done",
        bin_dir,
        tmp_path,
        PYTHON=sys.executable,
    )
    assert out.stdout.split() == ["done"], out.stderr
    assert installed(tmp_path) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("./run-demo", []),
        ("./run-demo --seaweedfs", []),
        ("./run-tests", [*RGW, "chromium", "npm", "git", "shellcheck"]),
        ("./run-bench", RGW),
    ],
)
def test_each_script_installs_what_it_needs_on_a_bare_machine(
    tmp_path: Path, script: str, expected: list[str]
) -> None:
    """On a machine with no Python and none of the tools, each script's first step asks
    apt-get for Python with venv and its own tools (the test stops it there)."""
    out = run_bash(script, bare_path(tmp_path), tmp_path)
    assert out.returncode != 0
    assert "== Installing Debian packages" in out.stdout, (out.stdout, out.stderr)
    assert installed(tmp_path) == ["python3", "python3-venv", *expected]


def test_run_demo_refuses_an_unknown_option(tmp_path: Path) -> None:
    out = run_bash("./run-demo --minio", bare_path(tmp_path), tmp_path)
    assert out.returncode == 2
    assert "usage: ./run-demo [--seaweedfs]" in out.stderr
    assert installed(tmp_path) == []


def test_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is required in CI (./run-tests installs it)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    proc = subprocess.run(
        [shellcheck, "-x", *SCRIPTS], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout
