"""``include("buckets.test.urls")``: ``buckets.urls`` plus the fake S3 endpoints.

``<MEDIA_URL path>s3/uploads`` (POST, with or without the trailing slash: the storage's
``upload_url()`` has none) and ``<MEDIA_URL path>s3/uploads/<key>`` (GET). The prefix is
read from ``MEDIA_URL`` (``/media/`` when unset) when this module is first imported.
Include it at the site root so these paths match ``FakeS3Storage.url()``.
"""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, include, path, re_path

from . import (
    checks,  # noqa: F401 -- registers the DEBUG = False warning
    views,
)
from .storage import URL_PATH, media_path

_prefix = re.escape(media_path() + URL_PATH.rstrip("/"))

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("buckets.urls")),
    re_path(rf"^{_prefix}/?\Z", views.upload, name="s3_fake_upload"),
    re_path(rf"^{_prefix}/(?P<key>[\s\S]+)\Z", views.serve, name="s3_fake_object"),
]
