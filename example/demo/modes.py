"""Where each way of running the demo keeps its data, and the S3 settings it runs on.

Three modes, chosen by the environment: the fake storage (the default); a bucket of a
local SeaweedFS server started by ``./run-demo --seaweedfs`` (``DEMO_S3=seaweedfs``); any
other bucket named by ``DEMO_S3_BUCKET`` and the other ``DEMO_S3_*`` variables. Each mode
has its own folder under ``example/var/`` (``DEMO_VAR`` moves it) holding its database and
media: rows of one mode name objects only that mode's storage has. Pure: no Django.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parent.parent
ROOT = EXAMPLE.parent
SEAWEEDFS = "seaweedfs"
#: The bucket ``./run-demo --seaweedfs`` makes and uses.
SEAWEEDFS_BUCKET = "demo"


def var_dir() -> Path:
    return Path(os.environ.get("DEMO_VAR") or EXAMPLE / "var")


def seaweedfs_dir() -> Path:
    """The SeaweedFS mode's folder: its server's data, and ``server.json`` while it runs."""
    return var_dir() / SEAWEEDFS


def server_file() -> Path:
    """Written by ``demo_seaweedfs.py`` while its server runs: endpoint and keys."""
    return seaweedfs_dir() / "server.json"


def mode() -> str:
    """``fake``, ``seaweedfs`` or ``s3-<bucket>``: the name of this mode's folder."""
    if os.environ.get("DEMO_S3") == SEAWEEDFS:
        return SEAWEEDFS
    bucket = os.environ.get("DEMO_S3_BUCKET")
    if bucket:
        return "s3-" + re.sub(r"[^A-Za-z0-9._-]", "_", bucket)
    return "fake"


def mode_dir() -> Path:
    return var_dir() / mode()


def aws_setting() -> dict[str, Any] | None:
    """The ``AWS`` setting of an S3 mode; None for the fake."""
    if mode() == SEAWEEDFS:
        try:
            server = json.loads(server_file().read_text())
        except FileNotFoundError:
            raise RuntimeError(
                f"No SeaweedFS server of the demo is running ({server_file()} is missing): "
                "start one with ./run-demo --seaweedfs"
            ) from None
        return {
            "BUCKET": server["bucket"],
            "ENDPOINT_URL": server["endpoint_url"],
            "ACCESS_KEY": server["access_key"],
            "SECRET_KEY": server["secret_key"],
            "REGION": "us-east-1",
            "ADDRESSING_STYLE": "path",
        }
    if not os.environ.get("DEMO_S3_BUCKET"):
        return None
    aws = {
        "BUCKET": os.environ["DEMO_S3_BUCKET"],
        "REGION": os.environ.get("DEMO_S3_REGION", "us-east-1"),
    }
    for key in ("ENDPOINT_URL", "ACCESS_KEY", "SECRET_KEY"):
        if os.environ.get(f"DEMO_S3_{key}"):
            aws[key] = os.environ[f"DEMO_S3_{key}"]
    if "ENDPOINT_URL" in aws:
        aws["ADDRESSING_STYLE"] = "path"
    return aws


def manage_command(*args: str) -> str:
    """A ``manage.py`` command line that works pasted as is from the repository root: with
    this Python (relative to the root when inside it, as ``.venv/bin/python``) and every
    ``DEMO_*`` variable this demo runs with."""
    python = Path(sys.executable)
    if python.is_relative_to(ROOT):
        python = python.relative_to(ROOT)
    env = [f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("DEMO_")]
    words = [str(python), str((EXAMPLE / "manage.py").relative_to(ROOT)), *args]
    return " ".join([*env, *map(shlex.quote, words)])
