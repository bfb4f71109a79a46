"""How sizes and file types are said to people, on the server side.

One convention everywhere (the widget's script, server errors, README): binary units,
labelled as such (KiB, MiB, GiB, TiB: 1 MiB = 1,048,576 bytes), because S3's own limits are
binary (5 MiB parts, 5 GiB per POST, 5 TiB per object). :func:`format_size` is the one
formatter here; :data:`SIZE_UNITS` is handed to the widget's script, whose ``formatSize``
applies the same rule in the browser. Types are named as people say them ("PDF, text,
images"), never as a MIME pattern upper-cased ("PLAIN").
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

__all__ = [
    "SIZE_UNITS",
    "describe_types",
    "format_size",
    "size_pair",
    "size_units",
]

#: The unit symbols above bytes, in steps of 1,024. Symbols take no plural form, so a
#: message that holds a size never needs one the script could not choose.
SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB")


def size_units() -> list[str]:
    """``["%s B", "%s KiB", ...]`` in the active language (a language may put the number
    after the unit, or use its own symbol): what the widget's script formats with."""
    return [
        gettext("%s B"),
        gettext("%s KiB"),
        gettext("%s MiB"),
        gettext("%s GiB"),
        gettext("%s TiB"),
    ]


def format_size(size: int, *, exact: bool = False) -> str:
    """``1536`` -> ``"1.5 KiB"``; below 1 KiB, or with ``exact``, the count of bytes in words
    ("1 byte", "1,048,584 bytes"), in the active language."""
    if size < 1024 or exact:
        count = number_format(size, force_grouping=True)
        return ngettext("%(count)s byte", "%(count)s bytes", size) % {"count": count}
    value = float(size)
    unit = -1
    # 1023.95 and up would round to "1024.0": the next unit says it.
    while value >= 1023.95 and unit < len(SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    # Rounded (number_format cuts) and grouped, as the script's toLocaleString does.
    return size_units()[unit + 1] % number_format(
        round(value, 1), decimal_pos=1, force_grouping=True
    )


def size_pair(size: int, limit: int) -> tuple[str, str]:
    """``size`` and ``limit`` for one message: in bytes when both would round to the same
    text ("1.0 MiB is too large; the limit is 1.0 MiB" helps nobody)."""
    said = format_size(size), format_size(limit)
    if said[0] == said[1]:
        return format_size(size, exact=True), format_size(limit, exact=True)
    return said


#: Whole media families (``image/*``).
_FAMILIES: dict[str, Callable[[], str]] = {
    "image": lambda: gettext("images"),
    "video": lambda: gettext("videos"),
    "audio": lambda: gettext("audio files"),
    "text": lambda: gettext("text files"),
}

#: Types people call by a name of their own rather than by a file extension.
_NAMED: dict[str, Callable[[], str]] = {
    "text/plain": lambda: gettext("text"),
    "application/msword": lambda: gettext("Word documents"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": lambda: gettext(
        "Word documents"
    ),
    "application/vnd.ms-excel": lambda: gettext("Excel spreadsheets"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": lambda: gettext(
        "Excel spreadsheets"
    ),
    "application/vnd.ms-powerpoint": lambda: gettext("PowerPoint presentations"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": lambda: gettext(
        "PowerPoint presentations"
    ),
}

#: Extensions that are not the name people use for the format.
_EXTENSION_NAMES = {"jpg": "JPEG", "tif": "TIFF", "htm": "HTML", "mp4v": "MP4", "mpga": "MP3"}


def _type_name(pattern: str) -> str:
    family, _, subtype = pattern.partition("/")
    if subtype == "*" and family in _FAMILIES:
        return _FAMILIES[family]()
    named = _NAMED.get(pattern.lower())
    if named is not None:
        return named()
    extension = mimetypes.guess_extension(pattern, strict=False)
    if extension:
        bare = extension.lstrip(".").lower()
        return _EXTENSION_NAMES.get(bare, bare.upper())
    if subtype.isalnum() and len(subtype) <= 5:
        return subtype.upper()
    return pattern


def describe_types(patterns: Sequence[str]) -> str:
    """``["application/pdf", "text/plain", "image/*"]`` -> ``"PDF, text, images"``: the
    accepted types as a person reads them (a name said twice is said once)."""
    names: list[str] = []
    for pattern in patterns:
        name = _type_name(pattern)
        if name not in names:
            names.append(name)
    return ", ".join(names)
