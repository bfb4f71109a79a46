"""Saves of one name at the same moment: each gets its own object, nothing is overwritten.

``get_available_name``'s look at the name races (every thread can find it free), so what
keeps the saves apart is the write itself: on S3 a conditional PUT (``If-None-Match: *``),
on the fake a ``link()`` that fails when the name exists. The threads call ``_save``, which
is past that look, all held at a barrier until every one is ready: the worst case, every
time.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.base import ContentFile

from tests.conformance.conftest import Target

pytestmark = pytest.mark.rgw

THREADS = 50  # as README's reliability table says


def body_of(i: int) -> bytes:
    """A distinct body per thread, of a distinct length (a swapped object cannot pass)."""
    return f"thread {i:02d} ".encode() * (i + 1)


def test_concurrent_saves_of_one_name_never_overwrite(target: Target) -> None:
    storage = target.storage
    barrier = threading.Barrier(THREADS, timeout=60)

    def save(i: int) -> str:
        getattr(storage, "client", None)  # S3: this thread's client, made before the line
        content = ContentFile(body_of(i))
        barrier.wait()
        return storage._save("file.txt", content)

    with ThreadPoolExecutor(THREADS) as pool:
        names = list(pool.map(save, range(THREADS)))
    assert len(set(names)) == THREADS, names
    assert "file.txt" in names and all(name.endswith(".txt") for name in names)
    assert target.keys() == sorted(names)
    for i, name in enumerate(names):
        assert target.get(name)[0] == body_of(i), name
