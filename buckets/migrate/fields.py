"""The model side of a move: the file fields named on the command line, the names their rows
hold, and storages named by ``STORAGES`` alias or dotted path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from buckets.fields.model_field import S3FileField
from buckets.fields.orphans import written_mark
from buckets.transfer import Item

__all__ = ["file_fields", "items_of", "storage_named"]


def is_file_field(field: Any) -> bool:
    """``FileField`` (and ``ImageField``) or ``S3FileField``: columns holding storage names."""
    return isinstance(field, models.FileField | S3FileField)


def _model_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.local_concrete_fields if is_file_field(f)]


def file_fields(labels: Iterable[str]) -> list[models.Field[Any, Any]]:
    """The fields ``app_label``, ``app_label.Model`` or ``app_label.Model.field`` name, in
    order, each once (``LookupError`` or ``ValueError`` naming a wrong label)."""
    found: dict[models.Field[Any, Any], None] = {}
    for label in labels:
        parts = label.split(".")
        if len(parts) == 1:
            config = apps.get_app_config(parts[0])
            models_ = [m for m in config.get_models() if not m._meta.proxy]
            fields = [f for m in models_ for f in _model_fields(m)]
        elif len(parts) in (2, 3):
            model = apps.get_model(parts[0], parts[1])
            if len(parts) == 2:
                fields = _model_fields(model)
            else:
                field = model._meta.get_field(parts[2])
                if not is_file_field(field):
                    raise ValueError(
                        _("%(label)s is not a FileField, ImageField or S3FileField.")
                        % {"label": label}
                    )
                fields = [field]  # type: ignore[list-item]
        else:
            raise ValueError(_("Not an app, model or field label: %(label)s") % {"label": label})
        found.update(dict.fromkeys(fields))
    return list(found)


def stored_names(field: models.Field[Any, Any]) -> Iterator[str]:
    """Every distinct non-empty name the field's rows hold (all rows: the base manager)."""
    column = field.attname
    rows = (
        field.model._base_manager.exclude(**{f"{column}__isnull": True})
        .exclude(**{column: ""})
        .values_list(column, flat=True)
        .distinct()
        .order_by(column)
    )
    for name in rows.iterator():
        yield str(name)


def items_of(
    fields: Iterable[models.Field[Any, Any]], source: Storage | None = None
) -> Iterator[Item]:
    """One :class:`~buckets.transfer.Item` per stored name (from ``source``, else from the
    field's own storage), once per source. Each copy is marked as written by its field, so
    an ``S3FileField`` that replaces the column later deletes it as its own."""
    seen: set[tuple[int, str]] = set()
    for field in fields:
        storage = source if source is not None else field.storage  # type: ignore[attr-defined]
        mark = written_mark(field)
        for name in stored_names(field):
            if (id(storage), name) not in seen:
                seen.add((id(storage), name))
                yield Item(name, storage, mark)


def storage_named(reference: str) -> Storage:
    """A ``STORAGES`` alias, or the dotted path of a storage class (made with no argument)."""
    from django.core.files.storage import storages

    if "." not in reference:
        try:
            return storages[reference]
        except Exception as exc:
            raise ImproperlyConfigured(
                _("No storage %(name)r in STORAGES.") % {"name": reference}
            ) from exc
    try:
        storage_class = import_string(reference)
    except ImportError as exc:
        raise ImproperlyConfigured(
            _("Can't import the storage %(path)s: %(error)s") % {"path": reference, "error": exc}
        ) from exc
    storage = storage_class()
    if not isinstance(storage, Storage):
        raise ImproperlyConfigured(_("%(path)s is not a storage.") % {"path": reference})
    return storage
