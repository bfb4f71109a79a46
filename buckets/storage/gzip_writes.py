"""Objects stored gzip-compressed, as django-storages' ``gzip`` option stores them.

With ``gzip`` on, a save whose Content-Type is one of ``gzip_content_types`` (and whose
``object_parameters`` set no ``ContentEncoding``) is stored compressed with
``Content-Encoding: gzip``: browsers and CDNs decompress it, ``open()`` gives the original
bytes back (:func:`reader`) and ``size()`` is the stored, compressed size, as with
django-storages.

The content is compressed chunk by chunk into a spooled temporary file (in memory up to
``max_memory_size``, then on disk) rather than into the upload stream itself: a save that
must not overwrite is one conditional PUT, which needs the length first, and a failed
attempt is sent again from the start. Memory stays bounded either way.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, cast

from django.conf import settings as django_settings
from django.core.files.base import File

if TYPE_CHECKING:
    from buckets import conf

__all__ = ["GzippedContent", "compress", "reader", "wanted"]

ENCODING = "gzip"


class GzippedContent(File):
    """The compressed copy of a save's content, with the original's Content-Type."""

    content_encoding = ENCODING

    def __init__(self, file: Any, name: str | None, content_type: str | None) -> None:
        super().__init__(file, name)
        self.content_type = content_type


def wanted(settings: conf.S3Settings, args: Mapping[str, Any]) -> bool:
    """Whether an object to be written with PutObject ``args`` is stored compressed."""
    return (
        settings.gzip
        and args.get("ContentType") in settings.gzip_content_types
        and "ContentEncoding" not in args
    )


def compress(content: Any, max_memory_size: int) -> GzippedContent:
    """``content`` (a Django ``File``) gzip-compressed, from its start, chunk by chunk."""
    spooled = tempfile.SpooledTemporaryFile(  # noqa: SIM115 -- closed with the File
        max_size=max_memory_size, dir=django_settings.FILE_UPLOAD_TEMP_DIR
    )
    # mtime=0: the same bytes compress to the same object, as django-storages writes them.
    with gzip.GzipFile(fileobj=spooled, mode="wb", mtime=0) as zipped:
        for chunk in content.chunks():
            zipped.write(chunk)
    compressed = GzippedContent(spooled, content.name, getattr(content, "content_type", None))
    compressed.size = spooled.tell()
    spooled.seek(0)
    return compressed


def reader(raw: Any) -> IO[bytes]:
    """A stream of the original bytes of a compressed object read from ``raw``."""
    return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
