"""``S3FileField``: a ``CharField`` that stores an object key and gives back an ``S3File``.

It accepts a URL of its own storage (any form that storage makes), a bare key, an
``S3File`` or a Django ``File`` (uploaded on save), and stores the key, so moving between the
fake, MinIO and S3, or adding a CDN, needs no data migration. A value that is not ours is a
``ValidationError`` and is never fetched. Direct uploads land under the staging prefix and
are moved (server-side copy) under ``upload_to`` on save; replaced objects are deleted only
after the transaction commits, and only when no other row still points at them.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.core import checks
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import models, router, transaction
from django.db.models.signals import post_init, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .files import S3File
from .names import name_to_key

#: A value with a scheme (``https:``, ``javascript:``...) is a URL, never a bare key.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _originals(instance: Any) -> dict[str, str]:
    return instance.__dict__.setdefault("_buckets_originals", {})


class S3FileDescriptor:
    """Wraps stored keys in ``S3File`` on read; remembers the value loaded from the database."""

    def __init__(self, field: S3FileField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        attname = self.field.attname
        if attname not in instance.__dict__:
            instance.refresh_from_db(fields=[attname])  # a deferred field
        value = instance.__dict__[attname]
        if value is None or value == "":
            return None
        if isinstance(value, S3File) or isinstance(value, File):
            return value
        name = self.field.name_for_value(value, strict=False)
        file = S3File(instance, self.field, name)
        instance.__dict__[attname] = file
        return file

    def __set__(self, instance: Any, value: Any) -> None:
        attname = self.field.attname
        originals = _originals(instance)
        if instance.__dict__.get("_buckets_initialised") and attname not in originals:
            # First load of a deferred field, through refresh_from_db().
            originals[attname] = self.field.stored_name(value)
        instance.__dict__[attname] = value


class S3FileField(models.CharField):
    """A reference to an object in a bucket (the column holds its key).

    ``max_size`` (bytes, inclusive) and ``accepted_types`` (``["image/*", "application/pdf"]``)
    are written into the upload policy S3 enforces for this field's uploads.
    ``delete_orphans`` (default True) deletes a replaced or cleared object after commit.
    """

    description = _("A file in an S3 bucket")
    descriptor_class = S3FileDescriptor
    default_error_messages = {
        "foreign": _("This is not the address of a file in this site's storage."),
        "invalid_name": _("This is not a valid file name."),
    }

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        upload_to: str | Callable[..., str] = "",
        storage: Storage | Callable[[], Storage] | None = None,
        max_size: int | None = None,
        accepted_types: Sequence[str] | None = None,
        delete_orphans: bool = True,
        **kwargs: Any,
    ) -> None:
        self._storage_arg = storage
        self.upload_to = upload_to
        self.max_size = max_size
        self.accepted_types = list(accepted_types) if accepted_types else None
        self.delete_orphans = delete_orphans
        kwargs.setdefault("max_length", 1024)
        super().__init__(verbose_name, name, **kwargs)

    # -- configuration --------------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        storage = self._storage_arg
        if storage is None:
            return default_storage
        if callable(storage) and not isinstance(storage, Storage):
            return storage()
        return storage

    @property
    def label(self) -> str:
        """``app_label.model_name.field_name``: how tokens and checks name this field."""
        return f"{self.model._meta.label_lower}.{self.name}"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        size = self.max_size
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            errors.append(
                checks.Error(
                    "'max_size' must be a positive integer (bytes).", obj=self, id="buckets.E101"
                )
            )
        if isinstance(self.upload_to, str) and self.upload_to.startswith(("/", "..")):
            errors.append(
                checks.Error("'upload_to' must be a relative path.", obj=self, id="buckets.E102")
            )
        return errors

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 1024:
            del kwargs["max_length"]
        if self.upload_to:
            kwargs["upload_to"] = self.upload_to
        if self._storage_arg is not None:
            kwargs["storage"] = self._storage_arg
        if self.max_size is not None:
            kwargs["max_size"] = self.max_size
        if self.accepted_types:
            kwargs["accepted_types"] = self.accepted_types
        if not self.delete_orphans:
            kwargs["delete_orphans"] = False
        return name, path, args, kwargs

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract:
            post_init.connect(self._remember_original, sender=cls, weak=False)
            post_save.connect(self._after_save, sender=cls, weak=False)

    # -- values ---------------------------------------------------------------------------

    def name_for_value(self, value: Any, strict: bool = True) -> str:
        """The storage name for a stored or assigned value.

        ``strict``: raise ``ValidationError`` for a value that is not ours; otherwise return
        it unchanged (reading a legacy row must not crash a page).
        """
        if isinstance(value, S3File):
            value = value.name or ""
        if value is None or value == "":
            return ""
        value = str(value)
        try:
            if _SCHEME.match(value) or value.startswith("//"):
                from_url = getattr(self.storage, "name_from_url", None)
                name = from_url(value) if from_url else None
                if name is None:
                    raise ValidationError(self.error_messages["foreign"], code="foreign")
                value = name
            name_to_key(value)
        except SuspiciousFileOperation as exc:
            if strict:
                raise ValidationError(self.error_messages["invalid_name"], code="invalid") from exc
            return value
        except ValidationError:
            if strict:
                raise
            return value
        return value

    def stored_name(self, value: Any) -> str:
        """What the column holds for ``value`` as loaded (no validation, no I/O)."""
        if isinstance(value, File):
            return value.name or ""
        return "" if value is None else str(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, File):
            return value
        return self.name_for_value(value)

    def validate(self, value: Any, model_instance: Any) -> None:
        if isinstance(value, File) and not isinstance(value, S3File):
            return  # a new file, uploaded through the storage on save
        name = self.name_for_value(value)
        super().validate(name, model_instance)

    def run_validators(self, value: Any) -> None:
        super().run_validators(self.stored_name(value))

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, File):
            value = value.name
        value = super().get_prep_value(value)
        return value or ""

    def value_to_string(self, obj: Any) -> str:
        return self.stored_name(self.value_from_object(obj))

    def value_from_object(self, obj: Any) -> Any:
        return obj.__dict__.get(self.attname)

    # -- saving ---------------------------------------------------------------------------

    def generate_filename(self, instance: Any, filename: str) -> str:
        """Where a file called ``filename`` lands: ``upload_to`` + the name (FileField's rule)."""
        if callable(self.upload_to):
            name = self.upload_to(instance, filename)
        else:
            name = posixpath.join(timezone.now().strftime(str(self.upload_to)), filename)
        return self.storage.generate_filename(name)

    def _staging_prefix(self) -> str | None:
        settings = getattr(self.storage, "settings", None)
        return getattr(settings, "upload_prefix", None) or None

    def is_staged(self, name: str) -> bool:
        prefix = self._staging_prefix()
        return bool(prefix and name.startswith(prefix))

    def pre_save(self, model_instance: Any, add: bool) -> str:
        value = model_instance.__dict__.get(self.attname)
        pending = model_instance.__dict__.setdefault("_buckets_pending", {})
        storage = self.storage
        if isinstance(value, File) and not isinstance(value, S3File):
            filename = posixpath.basename(value.name or "file")
            target = self.generate_filename(model_instance, filename)
            name = storage.save(target, value, max_length=self.max_length)
        else:
            name = self.name_for_value(value)
            if name and self.is_staged(name):
                target = self.generate_filename(model_instance, posixpath.basename(name))
                if self.is_staged(target):
                    raise ValidationError(
                        "upload_to must not be under the storage's staging prefix."
                    )
                copy_to = getattr(storage, "copy_to_available_name", None)
                if copy_to is not None:  # claims the name first: concurrent moves can't collide
                    final = copy_to(name, target, max_length=self.max_length)
                else:
                    final = storage.get_available_name(target, max_length=self.max_length)
                    storage.copy(name, final)  # type: ignore[attr-defined]
                pending.setdefault("staged", []).append(name)
                name = final
        old = "" if add else _originals(model_instance).get(self.attname, "")
        if (
            old
            and old != name
            and self.delete_orphans
            and self._is_last_reference(model_instance, old)
        ):
            pending["orphan"] = old
        model_instance.__dict__[self.attname] = S3File(model_instance, self, name) if name else ""
        return name

    def _is_last_reference(self, instance: Any, name: str) -> bool:
        """Whether this row holds the only reference to ``name`` (asked before it is written).

        Asked before the write, of two saves that drop the last two references to an object
        at the same moment at most one sees itself as the last (the other still sees the
        first's row), so an object is deleted once: never again after a new upload has taken
        its free name. A stale instance whose row no longer holds ``name`` deletes nothing.
        """
        using = instance._state.db or router.db_for_write(type(instance), instance=instance)
        manager = self.model._default_manager.db_manager(using)
        holders = list(manager.filter(**{self.name: name}).values_list("pk", flat=True)[:2])
        return holders == [instance.pk]

    def _remember_original(self, instance: Any, **kwargs: Any) -> None:
        if self.attname in instance.__dict__:
            _originals(instance)[self.attname] = self.stored_name(instance.__dict__[self.attname])
        instance.__dict__["_buckets_initialised"] = True

    def _after_save(self, instance: Any, **kwargs: Any) -> None:
        """Schedule clean-up for after commit: staged copies, and the replaced object."""
        pending = instance.__dict__.pop("_buckets_pending", {})
        originals = _originals(instance)
        # A new row replaced nothing: what it was created with is not an old object.
        old = "" if kwargs.get("created") else originals.get(self.attname, "")
        new = self.stored_name(instance.__dict__.get(self.attname))
        originals[self.attname] = new
        storage = self.storage
        using = kwargs.get("using") or "default"
        for staged in pending.get("staged", ()):
            transaction.on_commit(functools.partial(storage.delete, staged), using=using)
        if old and old != new and pending.get("orphan") == old:
            transaction.on_commit(lambda: self._delete_if_orphaned(old, using), using=using)

    def _delete_if_orphaned(self, name: str, using: str = "default") -> None:
        # The database the row was saved to: another one knows nothing of its references.
        manager = self.model._default_manager.db_manager(using)
        if not manager.filter(**{self.name: name}).exists():
            self.storage.delete(name)

    # -- forms ----------------------------------------------------------------------------

    def formfield(self, **kwargs: Any) -> Any:
        from .forms import S3FileFormField
        from .widgets import S3FileWidget

        widget = kwargs.pop("widget", None)
        if not (isinstance(widget, type) and issubclass(widget, S3FileWidget)) and not isinstance(
            widget, S3FileWidget
        ):
            widget = S3FileWidget  # the admin's default text input would hide the uploader
        kwargs.pop("max_length", None)
        return super().formfield(
            **{"form_class": S3FileFormField, "widget": widget, "model_field": self, **kwargs}
        )
