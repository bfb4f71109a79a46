"""Key rules shared by ``S3Storage`` and the local fake: one place decides what a safe name is.

S3 keys are flat strings, but Django code treats names as paths: ``..`` must never climb out
of ``location`` (or, on the fake, out of the storage root), and an absolute name is a
mistake, not a key that starts with ``/``.
"""

from __future__ import annotations

import pathlib
import posixpath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name

from buckets.signing.limits import MAX_KEY_BYTES


def clean_name(name: str) -> str:
    """A storage-relative name made safe to use in a key, or ``SuspiciousFileOperation``.

    Backslashes become slashes, and ``.`` and empty segments are dropped (``a/./b`` and
    ``a//b`` are ``a/b``, ``./a`` is ``a``; a trailing slash stays), as django-storages'
    ``clean_name`` does. Kept, such a key could not be fetched by its URL: browsers and
    HTTP clients remove dot segments from a URL's path (RFC 3986 5.2.4, WHATWG URL), so
    the request names another key and a signed URL no longer matches its signature (403);
    proxies merge slashes (nginx's default), and the fake's disk holds neither. ``..``
    (which would climb out of ``location``), an absolute name and NUL are refused.
    """
    name = str(name).replace("\\", "/")
    if "\x00" in name:
        raise SuspiciousFileOperation("File name contains a NUL character.")
    if name.startswith("/"):
        raise SuspiciousFileOperation(f"Detected an absolute path in {name!r}.")
    segments = name.split("/")
    if ".." in segments:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in {name!r}.")
    if "." in segments or "" in segments[:-1]:
        kept = [segment for segment in segments if segment not in ("", ".")]
        trailing = "/" if kept and segments[-1] == "" else ""
        name = "/".join(kept) + trailing
    return name


def name_to_key(name: str, location: str = "") -> str:
    """The object key for a storage name: ``location`` + the cleaned name, length-checked."""
    name = clean_name(name)
    if not name.strip("/"):
        raise SuspiciousFileOperation("An empty file name is not a valid S3 key.")
    key = f"{location}/{name}" if location else name
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise SuspiciousFileOperation(
            f"S3 keys are limited to {MAX_KEY_BYTES} bytes; {name[:40]!r}... is longer."
        )
    return key


def prefix_for(path: str, location: str = "") -> str:
    """The listing prefix of a directory-like ``path`` (``""`` for the root), ending in ``/``."""
    parts = [p for p in (location, clean_name(path).strip("/")) if p]
    return "/".join(parts) + "/" if parts else ""


def fit_name(name: str, max_length: int | None) -> str:
    """``name`` with its file name's root cut to fit ``max_length`` (extensions kept), as
    Django's ``FileSystemStorage(allow_overwrite=True)`` does; ``SuspiciousFileOperation``
    when even an empty root would not fit."""
    dir_name, file_name = posixpath.split(name)
    validate_file_name(file_name)
    if max_length is None or len(name) <= max_length:
        return name
    file_ext = "".join(pathlib.PurePath(file_name).suffixes)
    file_root = file_name.removesuffix(file_ext)
    file_root = file_root[: -(len(name) - max_length)]
    if not file_root:
        raise SuspiciousFileOperation(
            f'Storage can not find an available filename for "{name}". Please make sure '
            'that the corresponding file field allows sufficient "max_length".'
        )
    return posixpath.join(dir_name, file_root + file_ext)
