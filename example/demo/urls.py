from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

# With the fake storage, buckets.test.urls: the signed-URL endpoint (buckets.urls) plus the
# local S3-compatible upload endpoint and file serving. With S3Storage, buckets.urls alone.
FAKE = settings.STORAGES["default"]["BACKEND"] == "buckets.test.storage.FakeS3Storage"

urlpatterns = [
    path("", views.document_list, name="document_list"),
    path("upload/", views.upload, name="upload"),
    path("documents/<int:pk>/edit/", views.edit, name="document_edit"),
    path("documents/<int:pk>/delete/", views.delete, name="document_delete"),
    path("about/", views.about, name="about"),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url=static("demo/favicon.svg"))),
    path("", include("buckets.test.urls" if FAKE else "buckets.urls")),
]
