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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, in the language the command runs in (argparse takes no lazy text).
        self.help = _(
            "Expire abandoned direct uploads under the staging prefix with a bucket lifecycle rule."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=1, help=_("Age in days (default 1)."))
        parser.add_argument("--storage", default="default", help=_("Storage alias (default)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Print the configuration, change nothing.")
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=_(
                "Set the rule even if objects that are not staged uploads are under the prefix "
                "(the bucket will delete them)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError(_("--days must be at least 1."))
        storage = storages[options["storage"]]
        client = getattr(storage, "client", None)
        if client is None:
            raise CommandError(
                _(
                    "Storage %(alias)r is not a bucket; for FakeS3Storage use "
                    "'manage.py buckets_cleanup'."
                )
                % {"alias": options["storage"]}
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
            raise CommandError(
                _("Could not set the lifecycle of bucket %(bucket)r: %(error)s")
                % {"bucket": bucket, "error": exc}
            ) from exc
        if options["dry_run"]:
            said = _("Would set the lifecycle configuration of bucket %(bucket)r:")
        else:
            said = _("Set the lifecycle configuration of bucket %(bucket)r:")
        self.stdout.write(said % {"bucket": bucket})
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
            listed = ", ".join(offending)
            if count > len(offending):
                listed = _("%(listed)s and %(more)d more") % {
                    "listed": listed,
                    "more": count - len(offending),
                }
            raise CommandError(
                ngettext(
                    "Bucket %(bucket)r holds %(count)d object under the staging prefix "
                    "%(prefix)r that is not a staged upload, which the lifecycle rule would "
                    "delete: %(listed)s. Move it out of the prefix (check that no "
                    "S3FileField's upload_to and no storage's location puts files there), or "
                    "run again with --force to set the rule anyway.",
                    "Bucket %(bucket)r holds %(count)d objects under the staging prefix "
                    "%(prefix)r that are not staged uploads, which the lifecycle rule would "
                    "delete: %(listed)s. Move them out of the prefix (check that no "
                    "S3FileField's upload_to and no storage's location puts files there), or "
                    "run again with --force to set the rule anyway.",
                    count,
                )
                % {"bucket": bucket, "count": count, "prefix": key_prefix, "listed": listed}
            )
