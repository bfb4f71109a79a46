from django.db import models
from django.utils.translation import gettext_lazy as _

from buckets.fields import S3FileField


class Document(models.Model):
    title = models.CharField(_("title"), max_length=200)
    file = S3FileField(
        _("file"),
        upload_to="documents/%Y/%m/",
        max_size=20 * 1024**2,
        accepted_types=["application/pdf", "text/plain", "image/*"],
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.title


class Picture(models.Model):
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    image = S3FileField(_("image"), upload_to="pictures/", accepted_types=["image/*"])

    def __str__(self) -> str:
        return self.caption or (self.image.name if self.image else "-")


class Folder(models.Model):
    name = models.CharField(_("name"), max_length=100)

    def __str__(self) -> str:
        return self.name


class Attachment(models.Model):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="attachments")
    file = S3FileField(_("file"), upload_to="attachments/", blank=True)

    def __str__(self) -> str:
        return self.file.name if self.file else f"{self.folder}: (no file)"
