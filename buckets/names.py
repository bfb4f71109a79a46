"""Key rules shared by ``S3Storage`` and the local fake: one place decides what a safe name is.

S3 keys are flat strings, but Django code treats names as paths: ``..`` must never climb out
of ``location`` (or, on the fake, out of the storage root), and an absolute name is a
mistake, not a key that starts with ``/``.
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousFileOperation

#: S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


def clean_name(name: str) -> str:
    """A storage-relative name made safe to use in a key, or ``SuspiciousFileOperation``."""
    name = str(name).replace("\\", "/")
    if "\x00" in name:
        raise SuspiciousFileOperation("File name contains a NUL character.")
    if name.startswith("/"):
        raise SuspiciousFileOperation(f"Detected an absolute path in {name!r}.")
    if ".." in name.split("/"):
        raise SuspiciousFileOperation(f"Detected path traversal attempt in {name!r}.")
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
