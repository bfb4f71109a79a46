"""``manage.py buckets_lifecycle``: let the bucket itself clear abandoned direct uploads.

Direct uploads land under the staging prefix (``uploads/``) and are moved under
``upload_to`` when a form is saved. A file chosen and never saved stays there; so does a
multipart upload that was never completed. This command writes one lifecycle rule into the
bucket (keeping any others) that expires objects under the staging prefix, and aborts
incomplete multipart uploads, after ``--days`` days.

The rule expires *everything* under the prefix. So the command first lists what is there,
and refuses (naming the keys) when it finds objects that are not shaped like staged uploads
(``<prefix><48 hex digits>/<file name>``): permanent files saved there (an ``upload_to``
under the prefix, another storage's ``location``) would be deleted by the bucket. ``--force``
sets the rule anyway.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from buckets.uploads.staging_names import is_upload_name

#: The ``ID`` of the rule this command owns: running it again replaces that rule only.
RULE_ID = "django-buckets-staging"
#: How many offending keys the refusal names.
SHOWN_KEYS = 10


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
        parser.add_argument(
            "--force",
            action="store_true",
            help="Set the rule even if objects that are not staged uploads are under the prefix "
            "(the bucket will delete them).",
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
        staging = storage.settings.upload_prefix  # type: ignore[attr-defined]
        prefix = staging
        if storage.location:  # type: ignore[attr-defined]
            prefix = f"{storage.location}/{prefix}"  # type: ignore[attr-defined]
        bucket = storage.bucket_name  # type: ignore[attr-defined]
        try:
            if not options["force"]:
                self._refuse_if_not_staged(client, bucket, prefix, staging)
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

    def _refuse_if_not_staged(self, client: Any, bucket: str, key_prefix: str, prefix: str) -> None:
        """``CommandError`` naming the objects under ``key_prefix`` that are not shaped like
        staged uploads: the rule would make the bucket delete them."""
        location = key_prefix[: len(key_prefix) - len(prefix)]
        offending: list[str] = []
        count = 0
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key_prefix):
            for obj in page.get("Contents", ()):
                key = obj["Key"]
                if not is_upload_name(key[len(location) :], prefix=prefix):
                    count += 1
                    if len(offending) < SHOWN_KEYS:
                        offending.append(key)
        if count:
            more = f" and {count - len(offending)} more" if count > len(offending) else ""
            raise CommandError(
                f"Bucket {bucket!r} holds {count} object(s) under the staging prefix "
                f"{key_prefix!r} that are not staged uploads, which the lifecycle rule would "
                f"delete: {', '.join(offending)}{more}. Move them out of the prefix (check that "
                "no S3FileField's upload_to and no storage's location puts files there), or "
                "run again with --force to set the rule anyway."
            )
