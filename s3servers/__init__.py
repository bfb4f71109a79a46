"""Local S3 servers for the test suite and the benchmarks: started on free 127.0.0.1
ports, used through boto3 or ``buckets``, stopped and removed afterwards.

Pytest-free (the ``bench`` extra has no pytest) and not part of the ``buckets`` package:
``tests/`` wraps these in fixtures, ``bench/`` in its launcher. A server that cannot run
here raises :class:`ServerUnavailable`.
"""

from __future__ import annotations

from ._common import (
    S3Server,
    ServerUnavailable,
    empty_bucket,
    free_port,
    free_ports,
    list_keys,
    temporary_bucket,
)
from .rgw import RGW, running_rgw
from .seaweedfs import SeaweedFS, running_seaweedfs

__all__ = [
    "RGW",
    "S3Server",
    "SeaweedFS",
    "ServerUnavailable",
    "empty_bucket",
    "free_port",
    "free_ports",
    "list_keys",
    "temporary_bucket",
    "running_rgw",
    "running_seaweedfs",
]
