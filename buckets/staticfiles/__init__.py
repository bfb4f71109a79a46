"""Static files on S3: ``S3StaticStorage``, ``S3ManifestStaticStorage`` and what makes
``collectstatic`` fast with them.

``storage`` (the two storages), ``collecting`` (the state one ``collectstatic`` run keeps:
the listing of the static prefix, the upload pool, deletes held back until the run ends),
``objects`` (what the listing says of an object, and how a local file is compared with it)
and ``names`` (which names are content-hashed, and the headers they get). The command that
drives them is ``buckets.management.commands.collectstatic``. Knows no model field.
"""

from __future__ import annotations

from buckets.staticfiles.storage import S3ManifestStaticStorage, S3StaticStorage

__all__ = ["S3ManifestStaticStorage", "S3StaticStorage"]
