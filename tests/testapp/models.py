"""Models the tests use."""

from django.db import models

from buckets.fields import S3FileField


class Document(models.Model):
    """The original README's model."""

    name = models.CharField(max_length=200)
    file = S3FileField()


class Avatar(models.Model):
    """A field with limits the upload policy enforces."""

    image = S3FileField(
        upload_to="avatars/", max_size=1024 * 1024, accepted_types=["image/*"], blank=True
    )
    pdf = S3FileField(
        upload_to="pdfs/", max_size=2048, accepted_types=["application/pdf"], blank=True
    )


class Album(models.Model):
    """A parent with an inline of photos, for admin inline tests."""

    title = models.CharField(max_length=100)


class Photo(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="photos")
    image = S3FileField(upload_to="photos/", accepted_types=["image/*"], blank=True)


def folder_path(instance: "Folder", filename: str) -> str:
    return f"{instance.folder}/{filename}"


class Folder(models.Model):
    """A callable ``upload_to``: where a file lands depends on the row."""

    folder = models.CharField(max_length=100, default="files")
    file = S3FileField(upload_to=folder_path, blank=True)


class Profile(models.Model):
    """A field whose default is a shared object, and a nullable field."""

    avatar = S3FileField(default="defaults/avatar.png", blank=True)
    attachment = S3FileField(null=True, blank=True)


class UnarchivedManager(models.Manager["Archivable"]):
    """A default manager that hides archived rows, as soft-deletion managers do."""

    def get_queryset(self) -> models.QuerySet["Archivable"]:
        return super().get_queryset().filter(archived=False)


class Archivable(models.Model):
    """Rows the default manager hides still reference their objects."""

    archived = models.BooleanField(default=False)
    file = S3FileField(blank=True)

    objects = UnarchivedManager()
    every = models.Manager()


class LegacyAttachment(models.Model):
    """Files kept the old way (a ``FileField`` on the local disk), to move into the bucket."""

    file = models.FileField(upload_to="legacy/", max_length=255)
