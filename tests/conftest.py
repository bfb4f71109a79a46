from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from buckets.storage import S3Storage
from tests.site_settings import apply, s3_site

pytest_plugins = ["tests.servers"]


@pytest.fixture
def storage(rgw: Any, bucket: str) -> S3Storage:
    """An ``S3Storage`` on a fresh RGW bucket."""
    return S3Storage(**rgw.storage_options(bucket))


@pytest.fixture
def s3_default(settings: Any, rgw: Any, bucket: str) -> S3Storage:
    """Point the ``AWS`` setting and the default storage at a fresh RGW bucket."""
    return apply(settings, s3_site(rgw, bucket))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The test database is a file in this session's temporary directory, not SQLite's
    in-memory database.

    A live server (``live_server``: the browser tests, the fake S3 endpoint) answers each
    request in its own thread. With an in-memory database Django hands every such thread the
    test's one connection, and concurrent requests (Uppy signing parts at once) then use one
    ``sqlite3`` connection from several threads at a time, which failed with
    ``InterfaceError: bad parameter or other API misuse`` on Python 3.12. A file lets each
    thread open its own connection. pytest-django creates it (with migrations) and deletes it
    at the end of the session; the directory is unique to the session, so suites run side by
    side never share one.
    """
    from django.conf import settings

    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, live_server: Any) -> Any:
    """pytest-django's live server, started once the test database exists: it hands the
    test's own connection to its threads when the database *then* looks in memory, and
    before the test database is set up the configured one (``:memory:``) does."""
    return live_server


@pytest.fixture(autouse=True, scope="session")
def _requests_leave_connections_alone() -> Iterator[None]:
    """Django closes stale database connections when a request starts and ends. A live
    server's thread can end a request after its test is over (the server answered early, the
    client was still sending), when pytest-django blocks the database again: the check runs
    through that block and printed a traceback in passing runs. The live server closes each
    request thread's connection itself when the request is done (its ``close_request``), and
    pytest-django manages the test database, so the suite turns that housekeeping off.

    Django's test client disconnects the housekeeping around each request it makes and
    connects it again afterwards, which would undo this after the first client request: the
    client is given a stand-in that does nothing, so what it reconnects is that."""
    from django.core import signals
    from django.db import close_old_connections
    from django.test import client

    def leave_connections_alone(**kwargs: object) -> None:
        return None

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    client.close_old_connections = leave_connections_alone  # type: ignore[assignment]
    yield
    client.close_old_connections = close_old_connections
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True, scope="session")
def _overridden_storages_keep_their_options() -> Iterator[None]:
    """On Django 4.2, overriding ``STORAGES`` in a test also sets the deprecated
    ``DEFAULT_FILE_STORAGE``/``STATICFILES_STORAGE`` from it, and the storage handler then
    rebuilds both aliases from those names alone, dropping their ``OPTIONS`` (a project's
    own settings module is not affected: there they are not overridden). The suite gives the
    handler ``STORAGES`` as set, as Django 5.1+ does."""
    import django
    from django.core.signals import setting_changed

    if django.VERSION >= (5, 1):
        yield
        return

    def keep_options(*, setting: str, **kwargs: Any) -> None:
        if setting == "STORAGES":
            from django.conf import settings
            from django.core.files.storage import storages

            storages._backends = dict(settings.STORAGES)

    setting_changed.connect(keep_options)
    yield
    setting_changed.disconnect(keep_options)
