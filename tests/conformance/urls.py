"""The fake S3's endpoints at the site root, as a project mounts them in development."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [path("", include("buckets.test.urls"))]
