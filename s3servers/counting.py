"""Count the HTTP requests botocore sends, by kind, in this process: for the tests and the
benchmarks that say how many requests a ``collectstatic`` makes (ours, django-storages',
awscli's: all go through botocore's one HTTP session class).

Nothing is changed in what is sent: the class's ``send`` is wrapped to count, then calls
the original.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.httpsession import URLLib3Session

__all__ = ["count_requests", "request_kind"]


def request_kind(method: str, url: str) -> str:
    """``LIST`` for a bucket listing, else the HTTP method (``PUT``, ``HEAD``, ``GET``...)."""
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    if method == "GET" and ("list-type" in query or "prefix" in query or "delimiter" in query):
        return "LIST"
    return method


@contextlib.contextmanager
def count_requests() -> Iterator[collections.Counter[str]]:
    """A ``Counter`` of the requests sent inside the block, by :func:`request_kind`."""
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    original = URLLib3Session.send

    def send(self: URLLib3Session, request: Any) -> Any:
        with lock:
            counts[request_kind(request.method, request.url)] += 1
        return original(self, request)

    URLLib3Session.send = send  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        URLLib3Session.send = original  # type: ignore[method-assign]
