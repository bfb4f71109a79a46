"""The test project's URLs: a list other test modules may append to."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [path("", include("buckets.urls"))]
