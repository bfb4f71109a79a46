from django.contrib import admin

from .models import Attachment, Document, Folder, Picture

admin.site.site_header = "django-buckets demo"
admin.site.site_title = "django-buckets demo"


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "file", "created"]


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    list_display = ["caption", "image"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 1


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    inlines = [AttachmentInline]
