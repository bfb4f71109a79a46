"""``manage.py buckets_lifecycle``: let the bucket itself clear abandoned direct uploads.

Direct uploads land under the staging prefix (``uploads/``) and are moved under
``upload_to`` when a form is saved. A file chosen and never saved stays there; so does a
multipart upload that was never completed. This command writes one lifecycle rule into the
bucket (keeping any others) that expires objects under the staging prefix, and aborts
incomplete multipart uploads, after ``--days`` days.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

#: The ``ID`` of the rule this command owns: running it again replaces that rule only.
RULE_ID = "django-buckets-staging"


def staging_rule(prefix: str, days: int) -> dict[str, Any]:
    return {
        "ID": RULE_ID,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
    }


class Command(BaseCommand):
    help = "Expire abandoned direct uploads under the staging prefix with a bucket lifecycle rule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=1, help="Age in days (default 1).")
        parser.add_argument("--storage", default="default", help="Storage alias (default).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the configuration, change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        storage = storages[options["storage"]]
        client = getattr(storage, "client", None)
        if client is None:
            raise CommandError(
                f"Storage {options['storage']!r} is not a bucket; for FakeS3Storage use "
                "'manage.py buckets_cleanup'."
            )
        prefix = storage.settings.upload_prefix  # type: ignore[attr-defined]
        if storage.location:  # type: ignore[attr-defined]
            prefix = f"{storage.location}/{prefix}"  # type: ignore[attr-defined]
        bucket = storage.bucket_name  # type: ignore[attr-defined]
        try:
            try:
                current = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
                    raise
                current = []
            rules = [r for r in current if r.get("ID") != RULE_ID]
            rules.append(staging_rule(prefix, options["days"]))
            configuration = {"Rules": rules}
            if not options["dry_run"]:
                client.put_bucket_lifecycle_configuration(
                    Bucket=bucket, LifecycleConfiguration=configuration
                )
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(f"Could not set the lifecycle of bucket {bucket!r}: {exc}") from exc
        verb = "Would set" if options["dry_run"] else "Set"
        self.stdout.write(f"{verb} the lifecycle configuration of bucket {bucket!r}:")
        self.stdout.write(json.dumps(configuration, indent=2))
