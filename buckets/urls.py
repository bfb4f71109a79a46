"""``include("buckets.urls")``: the signed-upload endpoint (``s3/signed-url/``) and the
multipart-upload endpoints, ours (:mod:`buckets.uploads.multipart_views`) and
``@uppy/aws-s3``'s (:mod:`buckets.uploads.multipart_uppy`)."""

from __future__ import annotations

from django.urls import path

from buckets.uploads import multipart_uppy as uppy
from buckets.uploads import multipart_views as multipart
from buckets.uploads import views

urlpatterns = [
    path("s3/signed-url/", views.signed_url, name="s3_signed_url"),
    # Ours (trailing slashes), before Uppy's (none), which name an upload by its id.
    path("s3/multipart/", multipart.create, name="s3_multipart_create"),
    path("s3/multipart/sign/", multipart.sign_parts, name="s3_multipart_sign"),
    path("s3/multipart/parts/", multipart.list_parts, name="s3_multipart_parts"),
    path("s3/multipart/complete/", multipart.complete, name="s3_multipart_complete"),
    path("s3/multipart/abort/", multipart.abort, name="s3_multipart_abort"),
    path("s3/multipart", uppy.uppy_create, name="s3_multipart_uppy_create"),
    path(
        "s3/multipart/<str:upload_id>/<int:part_number>",
        uppy.uppy_part,
        name="s3_multipart_uppy_part",
    ),
    path(
        "s3/multipart/<str:upload_id>/complete",
        uppy.uppy_complete,
        name="s3_multipart_uppy_complete",
    ),
    path("s3/multipart/<str:upload_id>", uppy.uppy_upload, name="s3_multipart_uppy_upload"),
    path("s3/params", uppy.uppy_params, name="s3_multipart_uppy_params"),
]
