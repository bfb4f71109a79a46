from django.apps import AppConfig


class MigrateSiteConfig(AppConfig):
    name = "bench.migrate_site"
    label = "migrate_site"
    default_auto_field = "django.db.models.AutoField"
