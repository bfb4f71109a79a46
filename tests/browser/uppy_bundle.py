"""Uppy's browser bundle (npm's ``uppy`` package), fetched by the tests themselves.

The Uppy tests need Uppy's own code, unchanged, as a site would load it: the ``uppy``
package's ``dist/uppy.min.mjs`` (core, Dashboard and AwsS3 in one ES module) and
``dist/uppy.min.css``. It is not kept in this repository. The first run fetches the pinned
tarball with ``npm pack`` (npm checks it against the registry's integrity), this module
checks it again against the pinned SHA-512, and keeps the two files under ``.cache/``
(git-ignored), so later runs need neither npm nor the network.

Two 4.x releases are tested: 4.18.3, the newest 4.x, bundling ``@uppy/aws-s3`` 4.3.2,
``@uppy/core`` 4.5.3 and ``@uppy/companion-client`` 4.5.2 (the sources the Uppy routes were
read from), and 4.0.5, the oldest 4.x on the registry, bundling ``@uppy/aws-s3`` 4.0.1 and
``@uppy/core`` 4.0.1 (the test page shows and checks them: ``BUNDLED_AWS_S3``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

#: The ``uppy`` releases tested, each with its tarball's SHA-512 (base64), as
#: ``npm view uppy@<version> dist.integrity`` answers it.
UPPY_BUNDLES = {
    "4.18.3": "sha512-PV7yVn062TP/3FJEl6toqiQZlVMDXWzQzBZLfVzfqeZ8G7iU5KwBYPTgO1UBjRBAf"
    "S3NeCOfeGzhZK6KWACcDQ==",
    "4.0.5": "sha512-BNWUTRU54l5wwzWnBi3qcjYScH/AY2wPHIXB6Ep4CaTldBZ2f8OM0PpH7VRrxnFnheo8TO7"
    "XIId3Ml7R3tIGNA==",
}
#: The ``@uppy/aws-s3`` each bundle holds (its ``AwsS3.VERSION``).
BUNDLED_AWS_S3 = {"4.18.3": "4.3.2", "4.0.5": "4.0.1"}
#: The newest one, the test page's default.
UPPY_VERSION = "4.18.3"
#: The bundle's files the test page loads, and their content types.
UPPY_FILES = {"uppy.min.mjs": "text/javascript", "uppy.min.css": "text/css"}
CACHE = Path(__file__).resolve().parents[2] / ".cache"


class UppyUnavailable(RuntimeError):
    """npm is missing or could not fetch the tarball (no registry), or it does not match."""


def uppy_dist(version: str = UPPY_VERSION) -> Path:
    """The folder holding ``UPPY_FILES`` of ``uppy@version`` (one of ``UPPY_BUNDLES``),
    fetched once and then reused.

    Several test sessions may run at once: each unpacks into its own temporary folder and
    renames it into place; the first rename wins and the others use its folder.
    """
    dist = CACHE / f"uppy-{version}"
    if all((dist / name).is_file() for name in UPPY_FILES):
        return dist
    npm = shutil.which("npm")
    if npm is None:
        raise UppyUnavailable("npm is not installed (apt-get install npm)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        try:
            subprocess.run(
                [npm, "pack", f"uppy@{version}", "--pack-destination", work, "--silent"],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", "") or ""
            raise UppyUnavailable(f"npm pack uppy@{version} failed: {output.strip()}") from exc
        tarball = Path(work) / f"uppy-{version}.tgz"
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if f"sha512-{digest}" != UPPY_BUNDLES[version]:
            raise UppyUnavailable(f"uppy-{version}.tgz does not match its pinned SHA-512")
        unpacked = Path(work) / "dist"
        unpacked.mkdir()
        with tarfile.open(tarball) as archive:
            for name in UPPY_FILES:
                member = archive.extractfile(f"package/dist/{name}")
                if member is None:
                    raise UppyUnavailable(f"uppy-{version}.tgz has no dist/{name}")
                (unpacked / name).write_bytes(member.read())
        try:
            os.rename(unpacked, dist)
        except OSError:
            if not dist.is_dir():  # not another session's folder: a real failure
                raise
    return dist
