"""Create the demo database and a demo user, and say how to log in."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo import modes

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
        cors = modes.manage_command("buckets_cors", "--origin", origin)
        aws = getattr(settings, "AWS", None)
        if aws and modes.mode() == modes.SEAWEEDFS:
            self.stdout.write(
                f"Files go to the bucket {aws['BUCKET']!r} of SeaweedFS at "
                f"{aws['ENDPOINT_URL']}; its CORS rule for this site is set. To set it again:\n"
                f"  {cors}"
            )
        elif aws:
            self.stdout.write(
                f"Files go to the bucket {aws['BUCKET']!r}. Browsers upload to it "
                "directly, so it needs a CORS rule for this site, once (from the repository "
                f"root):\n  {cors}"
            )
        else:
            self.stdout.write(f"Files go to the fake S3 in {settings.MEDIA_ROOT}/s3/.")
        self.stdout.write(f"Data of this mode: {settings.DATABASES['default']['NAME']}")
        self.stdout.write(f"Demo site: {origin}/  (log in as demo / demo; admin at /admin/)")
