"""Settings that point a test's site at a storage, built in one place.

Every suite needs the same few settings to make the fake, or ``S3Storage`` on a test
server, the site's default storage; each fixture says only what differs (its URLconf, an
endpoint through a fault proxy, short timeouts) and applies the result with :func:`apply`
(pytest-django's ``settings`` fixture) or ``override_settings(**...)``. The ``AWS`` dict is
read off the server's storage options through the option table, so the setting and the
storage options can never name a different server or bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from buckets.conf import OPTIONS

__all__ = ["FAKE_BACKEND", "S3_BACKEND", "apply", "aws_setting", "fake_site", "s3_site"]

FAKE_BACKEND = "buckets.test.storage.FakeS3Storage"
S3_BACKEND = "buckets.storage.S3Storage"


def _default_storage(backend: str) -> dict[str, Any]:
    """``STORAGES`` as configured now, with ``backend`` as the default storage."""
    from django.conf import settings

    return {**settings.STORAGES, "default": {"BACKEND": backend}}


def aws_setting(options: Mapping[str, Any]) -> dict[str, Any]:
    """Storage options (``bucket_name=...``) as the ``AWS`` setting names them (``BUCKET``)."""
    return {OPTIONS[name].aws_key: value for name, value in options.items()}


def s3_site(server: Any, bucket: str, **options: Any) -> dict[str, Any]:
    """``S3Storage`` on ``server``'s ``bucket`` as the default storage, configured by the
    ``AWS`` setting; ``options`` (``endpoint_url``, timeouts...) override the server's."""
    return {
        "AWS": aws_setting(server.storage_options(bucket, **options)),
        "STORAGES": _default_storage(S3_BACKEND),
    }


def fake_site(media_root: Path | str, urlconf: str | None = None, **more: Any) -> dict[str, Any]:
    """The fake as the default storage under ``media_root`` (served at ``/media/``), and
    ``urlconf`` (one that mounts ``buckets.test.urls``) as the site's URLs if given."""
    values: dict[str, Any] = {
        "MEDIA_ROOT": str(media_root),
        "MEDIA_URL": "/media/",
        "STORAGES": _default_storage(FAKE_BACKEND),
    }
    if urlconf is not None:
        values["ROOT_URLCONF"] = urlconf
    return {**values, **more}


def apply(settings: Any, values: Mapping[str, Any]) -> Any:
    """Set ``values`` on pytest-django's ``settings`` fixture (undone after the test) and
    return the default storage they make."""
    for name, value in values.items():
        setattr(settings, name, value)
    from django.core.files.storage import default_storage

    return default_storage
