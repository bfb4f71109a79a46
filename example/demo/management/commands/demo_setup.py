"""Create the demo database and a demo user, and say how to log in."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

USERNAME = "demo"
PASSWORD = "demo"


class Command(BaseCommand):
    help = "Migrate and create the demo superuser (demo / demo) if missing."

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0)
        User = get_user_model()
        if not User.objects.filter(username=USERNAME).exists():
            User.objects.create_superuser(USERNAME, "demo@example.com", PASSWORD)
        origin = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        if getattr(settings, "AWS", None):
            self.stdout.write(
                f"Files go to the bucket {settings.AWS['BUCKET']!r}. Browsers upload to it "
                "directly, so it needs a CORS rule for this site, once:\n"
                f"  python manage.py buckets_cors --origin {origin}"
            )
        else:
            self.stdout.write(f"Files go to the fake S3 in {settings.MEDIA_ROOT}/s3/.")
        self.stdout.write(f"Demo site: {origin}/  (log in as demo / demo; admin at /admin/)")
