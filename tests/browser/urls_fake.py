"""The browser tests' URLs with the local fake S3 (``buckets.test``) mounted."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from tests.browser.urls import urlpatterns as base

urlpatterns: list[URLPattern | URLResolver] = [path("", include("buckets.test.urls")), *base]
