"""URLs of the browser tests: the signed-URL view, form pages, an admin site, an Uppy page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from tests.browser import admin, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("buckets.urls")),
    path("admin/", admin.site.urls),
    path("documents/new/", views.document, name="document_add"),
    path("documents/<int:pk>/", views.document, name="document_edit"),
    path("avatars/new/", views.avatar, name="avatar_add"),
    path("avatars/<int:pk>/", views.avatar, name="avatar_edit"),
    path("batch/", views.documents, name="documents"),
    path("uppy/", views.uppy, name="uppy"),
    path("uppy/<str:version>/<str:name>", views.uppy_asset, name="uppy_asset"),
]
