"""When an ``S3FileField`` deletes the object a row no longer points at (an orphan).

A replaced or cleared object is deleted after the transaction commits, and only when all of
these hold: the field deletes orphans (``delete_orphans``), the name is not the field's
default, a string ``upload_to`` puts it in the field's folder, no other row of the model
(seen through the base manager, which hides nothing) points at it, and its metadata says
this field wrote it. Everything else (a key API code or a shell set, another row's object,
a shared asset) is never the field's to delete: a wrong delete loses a user's file, a
missed one only leaves an object behind.

The last two rules are asked twice: whether this row is the last reference, before the row
is written (see :func:`is_last_reference`), and that no row points at it, after commit.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.db import router

from buckets.fields.after_commit import after_commit
from buckets.storage.base import FIELD_METADATA
from buckets.uploads.field_tokens import field_label

if TYPE_CHECKING:
    from django.db.models import Field

    from buckets.fields.model_field import S3FileField

__all__ = [
    "delete_after_commit",
    "is_last_reference",
    "may_delete",
    "may_delete_name",
    "upload_to_folder",
    "written_mark",
    "wrote",
]


def written_mark(field: Field[Any, Any]) -> dict[str, str]:
    """The metadata ``field`` writes its objects with (``x-amz-meta-buckets-field``: its
    label, percent-encoded beyond ASCII): how :func:`wrote` knows them again. Any model
    field has one: ``buckets_migrate`` marks what it copies for a ``FileField`` with it, so
    the ``S3FileField`` that takes the column over knows those objects as its own."""
    return {FIELD_METADATA: quote(field_label(field))}


def wrote(field: S3FileField, name: str) -> bool:
    """Whether the object ``name`` was written by ``field`` (a save of a ``File``, a move
    out of staging): its metadata names the field. False for a missing object, and on a
    storage that keeps no metadata."""
    read = getattr(field.storage, "metadata", None)
    if read is None:
        return False
    try:
        metadata = read(name)
    except FileNotFoundError:
        return False
    return bool(metadata.get(FIELD_METADATA) == written_mark(field)[FIELD_METADATA])


def upload_to_folder(upload_to: str | Callable[..., str]) -> str | None:
    """The folder every name a string ``upload_to`` makes starts with (``""``: any), or
    None for a callable ``upload_to`` (any folder)."""
    if callable(upload_to):
        return None
    head = str(upload_to).split("%", 1)[0]  # strftime parts vary: the fixed head
    if "%" in str(upload_to):
        head = head.rpartition("/")[0]
    head = posixpath.normpath(head) if head else ""
    return "" if head in ("", ".") else head + "/"


def may_delete_name(field: S3FileField, name: str) -> bool:
    """The rules of :func:`may_delete` that need no request: the field deletes orphans,
    ``name`` is not its default (shared by every row created without a value) and is in
    its ``upload_to`` folder."""
    if not name or not field.delete_orphans:
        return False
    if field.has_default() and name == field.name_for_value(field.get_default(), strict=False):
        return False
    folder = upload_to_folder(field.upload_to)
    return not folder or name.startswith(folder)


def may_delete(field: S3FileField, name: str) -> bool:
    """Whether ``name``, replaced or cleared, may be deleted as an orphan once no other row
    points at it: :func:`may_delete_name`, and ``field`` wrote it (one HEAD)."""
    return may_delete_name(field, name) and wrote(field, name)


def _every_row(field: S3FileField, using: str) -> Any:
    """A manager that sees every row of the model on ``using``: the base manager, never the
    default one, which may hide rows (soft deletion, archives, tenants) that still reference
    an object."""
    return field.model._base_manager.db_manager(using)


def is_last_reference(field: S3FileField, instance: Any, name: str) -> bool:
    """Whether ``instance``'s row holds the only reference to ``name`` (asked before it is
    written).

    Asked before the write, of two saves that drop the last two references to an object at
    the same moment at most one sees itself as the last (the other still sees the first's
    row), so an object is deleted once: never again after a new upload has taken its free
    name. A stale instance whose row no longer holds ``name`` deletes nothing.
    """
    using = instance._state.db or router.db_for_write(type(instance), instance=instance)
    rows = _every_row(field, using)
    holders = list(rows.filter(**{field.name: name}).values_list("pk", flat=True)[:2])
    return holders == [instance.pk]


def delete_after_commit(field: S3FileField, name: str, using: str) -> None:
    """Once the transaction on ``using`` commits, delete ``name`` if no row points at it
    any more and ``field`` wrote it. ``using`` is the database the row was saved to:
    another one knows nothing of its references. A failure is logged, never raised
    (:func:`~buckets.fields.after_commit.after_commit`): the object is then left behind."""

    def delete_if_orphaned() -> None:
        if not _every_row(field, using).filter(**{field.name: name}).exists() and wrote(
            field, name
        ):
            field.storage.delete(name)

    after_commit(
        delete_if_orphaned,
        "Could not delete %s, which no row points at any more, after commit; it stays in "
        "the bucket.",
        name,
        using=using,
    )
