"""The live server's request threads each open their own connection to the test database
(a file, see ``django_db_modify_db_settings`` in ``tests/conftest.py``): concurrent requests
never share one ``sqlite3`` connection, which is not safe across threads at once."""

from __future__ import annotations

from typing import Any

from django.db import connection


def test_live_server_threads_do_not_share_the_tests_connection(live_server: Any) -> None:
    assert not connection.is_in_memory_db()
    assert live_server.thread.connections_override == {}
