"""The fake S3's multipart uploads, on disk, as AWS documents them.

An upload is a directory ``<root>/.buckets-tmp/uploads/<upload id>/`` (inside the spool
directory, so never a key and never listed): ``upload.json`` (its key, the Content-Type and
headers the object gets, when it began) and, per part, ``part-NNNNN.json`` (size, MD5, and
the file holding the bytes). A part is streamed to a temporary file, then renamed into the
upload and recorded by renaming its record over the old one: a part uploaded again replaces
the first, whole. Completing writes the parts, in order, into one temporary file and
renames it under the key (readers see the old object or the new one, never a part of it),
then removes the upload. An aborted or completed upload is gone: ``NoSuchUploadError``.

:mod:`buckets.test.storage_multipart` gives ``FakeS3Storage`` the storage methods over it;
``buckets.test.part_upload`` is the endpoint that takes the parts' pre-signed ``PUT``.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from buckets.storage.multipart import (
    MIN_PART_SIZE,
    InvalidPartsError,
    NoSuchUploadError,
    multipart_etag,
)
from buckets.test.disk import CHUNK_SIZE, TMP_DIR, Disk, Spooled, write_meta

if TYPE_CHECKING:
    pass

UPLOADS_DIR = "uploads"
#: The fake's upload ids (``secrets.token_urlsafe(32)``); anything else names no upload.
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{43}\Z")
_META = "upload.json"


#: What ``copy_file_range`` answers where the file system or kernel cannot copy in place.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def _append(source: int, target: int) -> int:
    """Copy the rest of file descriptor ``source`` to ``target`` (both at their current
    offsets); the number of bytes copied. In the kernel where the OS offers it."""
    copied = 0
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while n := copy_range(source, target, 1 << 30):
                copied += n
            return copied
        except OSError as exc:  # a file system that cannot: copy in Python instead
            if copied or exc.errno not in _NO_KERNEL_COPY:
                raise
    while chunk := os.read(source, CHUNK_SIZE):
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]
        copied += len(chunk)
    return copied


def _unquoted(etag: str) -> str:
    return etag.strip().strip('"')


class UploadStore:
    """The multipart uploads of one fake bucket (the :class:`~buckets.test.disk.Disk`)."""

    def __init__(self, disk: Disk) -> None:
        self.disk = disk
        self.base = os.path.join(disk.root, TMP_DIR, UPLOADS_DIR)

    # -- uploads -------------------------------------------------------------------------

    def create(self, key: str, content_type: str, headers: Mapping[str, str]) -> str:
        """A new upload of ``key`` (already checked to be one the disk holds)."""
        upload_id = secrets.token_urlsafe(32)
        meta = {
            "Key": key,
            "ContentType": content_type,
            "Headers": dict(headers),
            "Initiated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        directory = os.path.join(self.base, upload_id)
        for _ in range(5):  # an abort may remove the emptied base directory meanwhile
            os.makedirs(self.base, mode=0o700, exist_ok=True)
            try:
                os.mkdir(directory, 0o700)
                break
            except FileNotFoundError:
                continue
        self._write_json(directory, _META, meta)
        return upload_id

    def _directory(self, key: str, upload_id: str) -> tuple[str, dict[str, Any]]:
        """The upload's directory and ``upload.json``; ``NoSuchUploadError`` unless it is an
        upload of ``key``."""
        if isinstance(upload_id, str) and _UPLOAD_ID.match(upload_id):
            directory = os.path.join(self.base, upload_id)
            meta = self._read_json(os.path.join(directory, _META))
            if meta is not None and meta.get("Key") == key:
                return directory, meta
        raise NoSuchUploadError(f"No multipart upload {upload_id!r} of {key!r}.")

    def check(self, key: str, upload_id: str) -> None:
        """``NoSuchUploadError`` unless ``upload_id`` is an upload of ``key`` in progress."""
        self._directory(key, upload_id)

    def uploads(self, key_prefix: str) -> list[dict[str, Any]]:
        """``{"Key", "UploadId", "Initiated"}`` of the uploads whose key starts with
        ``key_prefix``, by key then start, as S3 lists them."""
        found = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.base):
                meta = self._read_json(os.path.join(entry.path, _META))
                if meta is None or not str(meta.get("Key", "")).startswith(key_prefix):
                    continue
                initiated = datetime.datetime.fromisoformat(meta["Initiated"])
                found.append({"Key": meta["Key"], "UploadId": entry.name, "Initiated": initiated})
        return sorted(found, key=lambda u: (u["Key"].encode("utf-8"), u["Initiated"]))

    def abort(self, key: str, upload_id: str) -> None:
        """Remove the upload and its parts; an upload already gone is fine."""
        try:
            directory, _ = self._directory(key, upload_id)
        except NoSuchUploadError:
            return
        self._remove(directory)

    def _remove(self, directory: str) -> None:
        shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):  # not empty: another upload is in progress
            os.rmdir(self.base)

    # -- parts ---------------------------------------------------------------------------

    def put_part(self, key: str, upload_id: str, number: int, chunks: Iterable[bytes]) -> str:
        """Store part ``number`` (replacing any before it) and return its quoted MD5 ETag.
        ``NoSuchUploadError`` if the upload is not (or no longer) there: nothing is kept."""
        directory, _ = self._directory(key, upload_id)
        spooled = self.disk.spool(chunks, None)
        data = f"data-{uuid.uuid4().hex}"
        try:
            os.replace(spooled.path, os.path.join(directory, data))
        except FileNotFoundError as exc:  # aborted or completed meanwhile
            self.disk.discard(spooled)
            raise NoSuchUploadError(f"No multipart upload {upload_id!r} of {key!r}.") from exc
        record_name = f"part-{number:05d}.json"
        old = self._read_json(os.path.join(directory, record_name))
        record = {"PartNumber": number, "Size": spooled.size, "MD5": spooled.md5, "File": data}
        try:
            self._write_json(directory, record_name, record)
        except FileNotFoundError as exc:
            raise NoSuchUploadError(f"No multipart upload {upload_id!r} of {key!r}.") from exc
        if old is not None and old.get("File") != data:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, str(old["File"])))
        return f'"{spooled.md5}"'

    def _records(self, directory: str) -> dict[int, dict[str, Any]]:
        records = {}
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(directory):
                if entry.name.startswith("part-") and entry.name.endswith(".json"):
                    record = self._read_json(entry.path)
                    if record is not None:
                        records[int(record["PartNumber"])] = record
        return records

    def parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        """``{"PartNumber", "Size", "ETag"}`` of the parts held, by part number."""
        directory, _ = self._directory(key, upload_id)
        records = self._records(directory)
        return [
            {"PartNumber": n, "Size": int(r["Size"]), "ETag": f'"{r["MD5"]}"'}
            for n, r in sorted(records.items())
        ]

    # -- completing ----------------------------------------------------------------------

    def assemble(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> tuple[Spooled, str, str]:
        """The object ``parts`` make, in a temporary file (not yet under the key), checked
        as AWS checks a CompleteMultipartUpload: ``(spooled file, its ETag, the upload's
        directory)``. :class:`InvalidPartsError` (``MalformedXML`` for no parts,
        ``InvalidPartOrder``, ``InvalidPart``, ``EntityTooSmall``) leaves the upload as is."""
        directory, meta = self._directory(key, upload_id)
        if not parts:
            raise InvalidPartsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        numbers = [number for number, _ in parts]
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise InvalidPartsError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by "
                "part number.",
            )
        records = self._records(directory)
        chosen = []
        for number, etag in parts:
            record = records.get(number)
            if record is None or _unquoted(etag) != record["MD5"]:
                raise InvalidPartsError(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                )
            chosen.append(record)
        for record in chosen[:-1]:
            if int(record["Size"]) < MIN_PART_SIZE:
                raise InvalidPartsError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
        etag = multipart_etag(str(record["MD5"]) for record in chosen)

        paths = [os.path.join(directory, str(record["File"])) for record in chosen]
        try:
            spooled = self._concatenate(paths, meta["ContentType"], meta["Headers"], etag)
        except FileNotFoundError as exc:  # aborted meanwhile
            raise NoSuchUploadError(f"No multipart upload {upload_id!r}.") from exc
        return spooled, etag, directory

    def _concatenate(
        self, paths: list[str], content_type: str, headers: Mapping[str, str], etag: str
    ) -> Spooled:
        """The files at ``paths``, one after the other, in a new temporary file recorded
        with ``content_type``, ``headers`` and ``etag``. The bytes are not hashed (the
        object's ETag is the multipart one, made of the parts' MD5s), so they are copied
        inside the kernel where it can (``os.copy_file_range``): an object of many GiB is
        assembled without passing through Python. ``Spooled.md5`` is left empty."""
        fh = self.disk.temp_file()
        size = 0
        try:
            with fh:
                out = fh.fileno()
                for path in paths:
                    with open(path, "rb") as part:
                        size += _append(part.fileno(), out)
                write_meta(out, content_type, etag, headers)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(fh.name)
            raise
        return Spooled(fh.name, size, "")

    def finish(self, directory: str) -> None:
        """Remove a completed upload."""
        self._remove(directory)

    # -- files ---------------------------------------------------------------------------

    @staticmethod
    def _read_json(path: str) -> dict[str, Any] | None:
        try:
            with open(path, encoding="utf-8") as fh:
                value = json.load(fh)
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def _write_json(self, directory: str, name: str, value: Mapping[str, Any]) -> None:
        """Write a small JSON file atomically (a temporary file renamed over it)."""
        tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex}")
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                json.dump(value, fh)
            os.replace(tmp, os.path.join(directory, name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
