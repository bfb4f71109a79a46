from django.db import models


class Attachment(models.Model):
    file = models.FileField(max_length=255)

    class Meta:
        app_label = "migrate_site"
