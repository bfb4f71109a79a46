"""``include("buckets.test.urls")``: ``buckets.urls`` plus the fake S3 endpoints.

``<MEDIA_URL path>s3/uploads`` (POST, with or without the trailing slash: the storage's
``upload_url()`` has none) and ``<MEDIA_URL path>s3/uploads/<key>`` (GET, and PUT for a
multipart upload's parts: ``buckets.test.part_upload``). The prefix is
read from ``MEDIA_URL`` (``/media/`` when unset) when a URL is first resolved, not when this
module is imported, so importing it needs no configured settings. Include it at the site
root so these paths match ``FakeS3Storage.url()``.
"""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.functional import lazy

from buckets.checks import fake as checks_fake  # noqa: F401 -- registers the DEBUG = False warning
from buckets.test import part_upload, views
from buckets.test.storage import URL_PATH, media_path


def _regex(tail: str) -> str:
    """``^<MEDIA_URL path>s3/uploads`` + ``tail``, read from the settings when first used."""
    return "^" + re.escape(media_path() + URL_PATH.rstrip("/")) + tail


# A lazy string: Django compiles it on first use (as it does a translated pattern).
_lazy_regex = lazy(_regex, str)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("buckets.urls")),
    re_path(_lazy_regex(r"/?\Z"), views.upload, name="s3_fake_upload"),
    re_path(
        _lazy_regex(r"/(?P<key>[\s\S]+)\Z"), part_upload.object_endpoint, name="s3_fake_object"
    ),
]
