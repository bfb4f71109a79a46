"""``manage.py buckets_cors --origin https://example.com``: let browsers upload to the bucket.

The upload widget sends files from the site's pages straight to the bucket (a POST, or
the PUT of each part of a multipart upload), and reports progress while doing so, which
makes the browser ask the bucket first (a CORS preflight). The bucket answers only if a CORS
rule allows the page's origin. This command writes that rule (GET, HEAD, POST and PUT from
the given origins, any header a preflight asks for, ``ETag`` and ``Location`` exposed: a
multipart client such as ``@uppy/aws-s3`` reads each part's ``ETag``) into the bucket's CORS
configuration, keeping any other rules, and prints the configuration it set.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

#: The ``ID`` of the rule this command owns: running it again replaces that rule only.
RULE_ID = "django-buckets-uploads"
DEFAULT_MAX_AGE = 3600


def upload_cors_rule(origins: list[str], max_age: int = DEFAULT_MAX_AGE) -> dict[str, Any]:
    """The CORS rule the upload widget needs, for ``put_bucket_cors``."""
    return {
        "ID": RULE_ID,
        "AllowedOrigins": list(origins),
        "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Location"],
        "MaxAgeSeconds": max_age,
    }


def normalize_origin(value: str) -> str:
    """``https://example.com`` as a browser sends it in ``Origin``, or ``CommandError``.

    A trailing slash is dropped (``https://example.com/`` would never match); a path, query,
    user or a scheme other than http(s) is refused. ``*`` (any origin) and one ``*`` in the
    host (``https://*.example.com``) are allowed, as S3 allows them.
    """
    origin = value.strip()
    if origin == "*":
        return origin
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(
            _("%(value)r is not an origin: use scheme://host[:port], such as https://example.com.")
            % {"value": value}
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise CommandError(
            _(
                "%(value)r is not an origin: an origin has no path, query or user, "
                "so use %(origin)s."
            )
            % {"value": value, "origin": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"}
        )
    if parts.netloc.count("*") > 1:
        raise CommandError(
            _("%(value)r: S3 allows at most one '*' in an origin.") % {"value": value}
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, in the language the command runs in (argparse takes no lazy text).
        self.help = _(
            "Apply the bucket CORS rule the upload widget needs (POST and PUT from the site's "
            "origins) to the bucket of a django-buckets storage, and print the configuration it "
            "set."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--origin",
            action="append",
            dest="origins",
            default=[],
            metavar="ORIGIN",
            help=_(
                "A site origin allowed to upload, e.g. https://example.com (repeatable). "
                "Default: settings.CSRF_TRUSTED_ORIGINS."
            ),
        )
        parser.add_argument(
            "--storage",
            default="default",
            help=_("The STORAGES alias whose bucket to configure (default: %(default)s)."),
        )
        parser.add_argument(
            "--max-age",
            type=int,
            default=DEFAULT_MAX_AGE,
            help=_("Seconds browsers may cache a preflight answer (default: %(default)s)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Print the configuration without applying it."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["origins"] or list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))
        if not raw:
            raise CommandError(
                _(
                    "Give the site's origin: --origin https://example.com (repeatable), "
                    "or set CSRF_TRUSTED_ORIGINS."
                )
            )
        origins = list(dict.fromkeys(normalize_origin(o) for o in raw))
        if options["max_age"] < 0:
            raise CommandError(_("--max-age must be zero or more seconds."))

        alias = options["storage"]
        try:
            storage = storages[alias]
        except Exception as exc:  # InvalidStorageError, ImproperlyConfigured...
            raise CommandError(
                _("Storage %(alias)r cannot be loaded: %(error)s") % {"alias": alias, "error": exc}
            ) from exc
        client = getattr(storage, "client", None)
        bucket = getattr(storage, "bucket_name", None)
        if client is None or not bucket:
            raise CommandError(
                _(
                    "Storage %(alias)r (%(class)s) is not a bucket with a boto3 client; a local "
                    "fake needs no CORS rule (its uploads are same-origin)."
                )
                % {"alias": alias, "class": type(storage).__name__}
            )

        rules = [r for r in self._current_rules(client, bucket) if r.get("ID") != RULE_ID]
        rules.append(upload_cors_rule(origins, options["max_age"]))
        configuration = {"CORSRules": rules}
        if not options["dry_run"]:
            try:
                client.put_bucket_cors(Bucket=bucket, CORSConfiguration=configuration)
            except Exception as exc:  # botocore's ClientError and friends
                raise CommandError(
                    _("Could not set the CORS rules of %(bucket)r: %(error)s")
                    % {"bucket": bucket, "error": exc}
                ) from exc
        if options["dry_run"]:
            said = _("Would set the CORS configuration of bucket %(bucket)r:")
        else:
            said = _("Set the CORS configuration of bucket %(bucket)r:")
        self.stdout.write(said % {"bucket": bucket})
        self.stdout.write(json.dumps(configuration, indent=2))

    def _current_rules(self, client: Any, bucket: str) -> list[dict[str, Any]]:
        try:
            return list(client.get_bucket_cors(Bucket=bucket).get("CORSRules", []))
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "NoSuchCORSConfiguration":
                return []
            raise CommandError(
                _("Could not read the CORS rules of %(bucket)r: %(error)s")
                % {"bucket": bucket, "error": exc}
            ) from exc
