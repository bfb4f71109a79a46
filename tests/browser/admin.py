"""An admin site of its own for the browser tests (the global ``admin.site`` stays untouched)."""

from __future__ import annotations

from django.contrib import admin

from tests.testapp.models import Album, Avatar, Document, Photo

site = admin.AdminSite(name="browser_admin")


@admin.register(Document, site=site)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["name", "file"]


@admin.register(Avatar, site=site)
class AvatarAdmin(admin.ModelAdmin):
    pass


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0


@admin.register(Album, site=site)
class AlbumAdmin(admin.ModelAdmin):
    inlines = [PhotoInline]
