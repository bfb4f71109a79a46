"""The live server's request threads each open their own connection to the test database
(a file, see ``django_db_modify_db_settings`` in ``tests/conftest.py``): concurrent requests
never share one ``sqlite3`` connection, which is not safe across threads at once."""

from __future__ import annotations

from typing import Any

from django.db import connection


def test_live_server_threads_do_not_share_the_tests_connection(live_server: Any) -> None:
    assert not connection.is_in_memory_db()
    assert live_server.thread.connections_override == {}


def _connected(signal: Any) -> list[object]:
    receivers = signal.receivers
    return [ref() if callable(ref) else ref for _key, ref, *_rest in receivers]


def test_test_client_requests_leave_the_housekeeping_off(client: Any, db: None) -> None:
    """Django's test client reconnects ``close_old_connections`` after each request; the
    suite's session fixture must stay in force anyway (a live-server request ending after its
    test printed a traceback when it did not)."""
    from django.core import signals
    from django.db import close_old_connections

    client.get("/no-such-page/")
    assert close_old_connections not in _connected(signals.request_started)
    assert close_old_connections not in _connected(signals.request_finished)
