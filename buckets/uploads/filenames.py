"""The client's file name, made safe to be the last segment of a staging key.

The browser uploads straight to the bucket, so the name it reports is all the server knows
of the file; :func:`clean_filename` decides what is kept of it, so that a client can choose
neither a folder nor a character a key, a URL or a ``Content-Disposition`` would trip on.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from buckets.uploads.rules import MAX_INPUT_LENGTH

__all__ = ["MAX_FILENAME_LENGTH", "InvalidFilename", "clean_filename"]

#: Longest cleaned file name, in characters (the extension is kept when shortening).
MAX_FILENAME_LENGTH = 150
#: Extensions longer than this are not treated as extensions when shortening a name.
_MAX_EXTENSION_LENGTH = 16
_UNSAFE_RE = re.compile(r"[^-\w.]")
_SPACES_RE = re.compile(r"\s+")


class InvalidFilename(ValueError):
    """The client's file name cannot be turned into a safe key segment."""


def clean_filename(filename: str) -> str:
    """The last segment of a staging key, made from the client's file name.

    Django's ``get_valid_filename`` rules (spaces become ``_``; only letters, digits, ``_``,
    ``-`` and ``.`` are kept), but Unicode letters survive (NFC first, so a decomposed ``é``
    does not lose its accent): a client's ``C:\\Users\\me\\Relevé été.pdf`` becomes
    ``Relevé_été.pdf``. Directory parts of a ``/`` or ``\\`` path never survive, so the
    client cannot choose a folder; control characters, NUL and every other symbol go. At
    most :data:`MAX_FILENAME_LENGTH` characters, the extension kept. Raises
    :class:`InvalidFilename` when nothing usable is left (``""``, ``"."``, ``"../"``...),
    and for a name over :data:`~buckets.uploads.rules.MAX_INPUT_LENGTH` characters, before
    looking into it.
    """
    if not isinstance(filename, str):
        raise InvalidFilename(_("The file name must be a string."))
    if len(filename) > MAX_INPUT_LENGTH:
        raise InvalidFilename(
            _("The file name is too long (at most %(max)d characters).") % {"max": MAX_INPUT_LENGTH}
        )
    name = unicodedata.normalize("NFC", filename.replace("\\", "/")).rsplit("/", 1)[-1]
    name = _SPACES_RE.sub("_", name.strip())
    name = _UNSAFE_RE.sub("", name)
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) < _MAX_EXTENSION_LENGTH:
            name = f"{stem[: MAX_FILENAME_LENGTH - len(ext) - 1]}.{ext}"
        else:
            name = name[:MAX_FILENAME_LENGTH]
    if name.strip(".") == "":
        raise InvalidFilename(_("The file name has no usable characters."))
    return name
