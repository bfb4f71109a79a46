"""``include("buckets.urls")``: the signed-upload endpoint (``s3/signed-url/``)."""

from __future__ import annotations

from django.urls import path

from buckets.uploads import views

urlpatterns = [
    path("s3/signed-url/", views.signed_url, name="s3_signed_url"),
]
