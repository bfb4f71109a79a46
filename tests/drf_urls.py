"""The test site with a Django REST framework API: ``api/avatars/``, DRF's token endpoint
``api/token/``, and the signing (and fake S3) endpoints of ``buckets.test.urls``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from tests.testapp.api import AvatarViewSet

router = DefaultRouter()
router.register("api/avatars", AvatarViewSet)

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/token/", obtain_auth_token),
    path("", include(router.urls)),
    path("", include("buckets.test.urls")),
]
