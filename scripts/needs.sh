# shellcheck shell=bash
# Sourced by ./run-tests, ./run-demo and ./run-bench: installs what each needs when it is
# missing, so they work on a bare Debian or Ubuntu machine. Debian packages come from
# apt-get (with sudo when not root), Python packages go into the checkout's .venv.
# tests/test_scripts.py runs these functions with a PATH that lacks the tools.

# The interpreter .venv is made with, and apt-get (both overridable, the tests replace apt-get).
PYTHON=${PYTHON:-python3}
APT_GET=${APT_GET:-apt-get}

# Debian packages whose command is missing, one per line. Arguments: command:package pairs.
missing_packages() {
  local pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || echo "${pair#*:}"
  done
}

# The Debian packages $PYTHON needs to make a venv: python3 itself when missing, and
# python3-venv when its venv module cannot bootstrap pip (Debian splits ensurepip out).
python_packages() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo python3
    echo python3-venv
  elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo python3-venv
  fi
}

# Install Debian packages (arguments), skipping the call when there are none.
apt_install() {
  [ $# -gt 0 ] || return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "Missing Debian packages: $*. Install them as root (apt-get install $*)," \
        "or install sudo, then run this again." >&2
      return 1
    fi
    sudo=(sudo)
  fi
  echo "== Installing Debian packages: $*"
  "${sudo[@]}" "$APT_GET" update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" "$APT_GET" install -y -q --no-install-recommends "$@"
}

# Everything from Debian: Python with venv, plus each command:package pair given.
# shellcheck disable=SC2120 # called without arguments: Python and venv only
need_debian() {
  local packages
  mapfile -t packages < <(python_packages; missing_packages "$@")
  apt_install "${packages[@]}"
}

# .venv (made with $PYTHON when missing) with the given pip arguments installed, e.g. '-e .[bench]'.
need_venv() {
  if [ ! -x .venv/bin/python ]; then
    echo "== Creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
    .venv/bin/pip install -q -U pip
  fi
  echo "== Installing Python packages into .venv"
  .venv/bin/pip install -q "$@"
}

# What Ceph RGW needs (the test suite's and the benchmarks' S3 server): its daemons, and
# curl to wait for it (s3servers/ceph-rgw.sh).
# shellcheck disable=SC2034 # used by the scripts that source this file
RGW_PACKAGES=(ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw curl:curl)
