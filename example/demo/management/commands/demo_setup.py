"""Create the demo database and a demo user, and say how to log in."""

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
        self.stdout.write(
            "Demo site: http://127.0.0.1:8000/  (log in as demo / demo; admin at /admin/)"
        )
