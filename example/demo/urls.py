from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.document_list, name="document_list"),
    path("upload/", views.upload, name="upload"),
    path("admin/", admin.site.urls),
    # buckets.urls (the signed-URL endpoint) plus, for the fake storage, the local
    # S3-compatible upload endpoint and file serving. With S3Storage, buckets.urls is enough.
    path("", include("buckets.test.urls")),
]
