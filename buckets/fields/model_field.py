"""``S3FileField``: a ``CharField`` that stores an object key and gives back an ``S3File``.

It accepts a URL of its own storage (any form that storage makes), a bare key, an
``S3File`` or a Django ``File`` (uploaded on save), and stores the key, so moving between the
fake, MinIO and S3, or adding a CDN, needs no data migration. A value that is not ours is a
``ValidationError`` and is never fetched. Direct uploads land under the staging prefix and
are moved (server-side copy) under ``upload_to`` on save, always to a free name. What the
field writes is marked with its label (metadata ``buckets-field``), and a replaced object
is deleted after the transaction commits only under the rules of
:mod:`buckets.fields.orphans`; a failure of that clean-up is logged, never raised
(:mod:`buckets.fields.after_commit`). What a value names is :mod:`buckets.fields.names`'
rule. API code checks a client's value with :meth:`S3FileField.validate_upload`.

Why this module is longer than most: what is left is the Django ``Field`` API, each method
a hook Django calls (checks, migrations, conversions, validation, ``pre_save``, signals,
``formfield``); the rules those hooks apply live in ``names``, ``orphans`` and
``buckets.uploads``.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Sequence
from typing import Any

from django.core import checks
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.signals import post_init, post_save
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from buckets.fields import orphans
from buckets.fields.after_commit import after_commit
from buckets.fields.files import S3File, S3FileDescriptor, originals
from buckets.fields.names import storage_name
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.storage.base import BucketStorage
from buckets.uploads.field_tokens import field_label
from buckets.uploads.rules import declared_types
from buckets.uploads.staging_checks import staging_checks
from buckets.uploads.staging_names import UPLOAD_ERROR_MESSAGES, upload_error


class S3FileField(models.CharField):
    """A reference to an object in a bucket (the column holds its key).

    ``max_size`` (bytes, inclusive) and ``accepted_types`` (``["image/*", "application/pdf"]``,
    or one string, comma-separated) are written into the upload policy S3 enforces for this
    field's uploads. ``delete_orphans`` (default True) deletes a replaced or cleared object
    after commit (see :meth:`may_delete`). With ``null=True`` an empty value is stored as
    NULL (as ``CharField`` does for its forms), otherwise as ``""``.
    """

    #: What a field token may name (:func:`buckets.uploads.resolve_field_token`): the
    #: uploads side knows upload fields by this mark, not by class.
    accepts_direct_uploads = True

    description = _("A file in an S3 bucket")
    descriptor_class = S3FileDescriptor
    default_error_messages = {
        "foreign": _("This is not the address of a file in this site's storage."),
        "invalid_name": _("This is not a valid file name."),
        "under_staging": _(
            "Files of this field cannot be stored under the staging prefix %(prefix)s: "
            "upload_to must name another folder."
        ),
        **UPLOAD_ERROR_MESSAGES,
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
        self.accepted_types = declared_types(accepted_types)
        self.delete_orphans = delete_orphans
        kwargs.setdefault("max_length", MAX_KEY_BYTES)  # the longest key S3 takes
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
        return field_label(self)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        size = self.max_size
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            errors.append(
                checks.Error(
                    gettext("'max_size' must be a positive integer (bytes)."),
                    obj=self,
                    id="buckets.E101",
                )
            )
        if isinstance(self.upload_to, str) and self.upload_to.startswith(("/", "..")):
            errors.append(
                checks.Error(
                    gettext("'upload_to' must be a relative path."), obj=self, id="buckets.E102"
                )
            )
        errors.extend(staging_checks(self))
        return errors

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if path == "buckets.fields.model_field.S3FileField":
            path = "buckets.fields.S3FileField"  # the documented path, as migrations name it
        if kwargs.get("max_length") == MAX_KEY_BYTES:
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
        """The storage name for a stored or assigned value, by the rule of
        :func:`~buckets.fields.names.storage_name`. ``strict``: raise ``ValidationError``
        for a value that is not ours; otherwise return it unchanged (reading a legacy row
        must not crash a page)."""
        if isinstance(value, S3File):
            value = value.name or ""
        return storage_name(value, self.storage, self.error_messages, strict=strict)

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
        name = self.stored_name(value)
        if name in self.empty_values:
            return
        # A staging name (long: prefix, 48 hex digits, file name) or a new file's name is not
        # what the column will hold: the name it gets on save is cut to max_length then.
        not_final = (isinstance(value, File) and not isinstance(value, S3File)) or (
            self.is_staged(self.name_for_value(name, strict=False))
        )
        errors = []
        for validator in self.validators:
            if not_final and isinstance(validator, MaxLengthValidator):
                continue
            try:
                validator(name)
            except ValidationError as exc:
                if hasattr(exc, "code") and exc.code in self.error_messages:
                    exc.message = self.error_messages[exc.code]
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, File):
            value = value.name
        value = super().get_prep_value(value)
        return value or ""

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        value = super().get_db_prep_save(value, connection)
        if self.null and value in (None, ""):
            return None  # null=True: no file is NULL, as a CharField's form stores it
        return value

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

    def _refuse_staged_target(self, target: str) -> None:
        """A final name under the staging prefix would be taken for an upload, moved again
        and deleted by the staging clean-up: refuse it (a callable ``upload_to`` can make
        one at run time; a string one is reported by the check buckets.E103)."""
        if self.is_staged(target):
            raise ValidationError(
                self.error_messages["under_staging"],
                code="under_staging",
                params={"prefix": self._staging_prefix()},
            )

    def may_delete(self, name: str) -> bool:
        """Whether ``name``, replaced or cleared, may be deleted as an orphan (once no other
        row points at it): the rules of :mod:`buckets.fields.orphans`."""
        return orphans.may_delete(self, name)

    @property
    def written_mark(self) -> dict[str, str]:
        """The metadata this field writes its objects with (``x-amz-meta-buckets-field``)."""
        return orphans.written_mark(self)

    def wrote(self, name: str) -> bool:
        """Whether the object ``name`` was written by this field (its metadata names it)."""
        return orphans.wrote(self, name)

    def validate_upload(self, value: Any, *, user: Any = None, instance: Any = None) -> str:
        """Check a value a client gave (an API's input) as the form field checks a posted
        one, and return its storage name: empty, ``instance``'s saved value unchanged, or
        the staging name (or URL) of an upload signed for this field and, unless ``user``
        is None, for ``user`` (an ``AnonymousUser`` for an anonymous upload), still there.
        Anything else (another object's key or URL) raises ``ValidationError``: assigned
        unchecked, it would let a client point a row at an object it did not upload.
        """
        name = self.name_for_value(value)
        current = ""
        if instance is not None and not instance._state.adding:
            current = self.name_for_value(originals(instance).get(self.attname), strict=False)
        code = upload_error(self, name, user=user, current=current)
        if code is not None:
            raise ValidationError(self.error_messages[code], code=code)
        return name

    def pre_save(self, model_instance: Any, add: bool) -> str:
        value = model_instance.__dict__.get(self.attname)
        pending = model_instance.__dict__.setdefault("_buckets_pending", {})
        storage = self.storage
        if isinstance(value, File) and not isinstance(value, S3File):
            filename = posixpath.basename(value.name or "file")
            target = self.generate_filename(model_instance, filename)
            self._refuse_staged_target(target)
            if isinstance(storage, BucketStorage):  # follows file_overwrite, as FileField
                name = storage.save(target, value, self.max_length, metadata=self.written_mark)
            else:
                name = storage.save(target, value, max_length=self.max_length)
        else:
            name = self.name_for_value(value)
            if name and self.is_staged(name):
                target = self.generate_filename(model_instance, posixpath.basename(name))
                self._refuse_staged_target(target)
                try:  # a fresh name, always (file_overwrite or not), claimed before the copy
                    final = storage.copy_to_available_name(  # type: ignore[attr-defined]
                        name, target, self.max_length, metadata=self.written_mark
                    )
                except FileNotFoundError as exc:
                    # Already moved by an earlier save of the same form, or expired (a
                    # missing bucket is a NoSuchBucketError, an OSError: not this).
                    raise ValidationError(self.error_messages["gone"], code="gone") from exc
                pending.setdefault("staged", []).append(name)
                name = final
        old = "" if add else originals(model_instance).get(self.attname, "")
        if (
            old
            and old != name
            and orphans.may_delete_name(self, old)  # wrote(): asked after commit
            and orphans.is_last_reference(self, model_instance, old)
        ):
            pending["orphan"] = old
        model_instance.__dict__[self.attname] = S3File(model_instance, self, name) if name else ""
        return name

    def _remember_original(self, instance: Any, **kwargs: Any) -> None:
        if self.attname in instance.__dict__:
            originals(instance)[self.attname] = self.stored_name(instance.__dict__[self.attname])
        instance.__dict__["_buckets_initialised"] = True

    def _after_save(self, instance: Any, **kwargs: Any) -> None:
        """Schedule clean-up for after commit: staged copies, and the replaced object."""
        pending = instance.__dict__.pop("_buckets_pending", {})
        loaded = originals(instance)
        # A new row replaced nothing: what it was created with is not an old object.
        old = "" if kwargs.get("created") else loaded.get(self.attname, "")
        new = self.stored_name(instance.__dict__.get(self.attname))
        loaded[self.attname] = new
        storage = self.storage
        using = kwargs.get("using") or "default"
        for staged in pending.get("staged", ()):
            after_commit(
                functools.partial(storage.delete, staged),
                "Could not delete the staged upload %s after its move to %s was committed; "
                "buckets_cleanup (or the bucket's lifecycle rule) deletes it later.",
                staged,
                new,
                using=using,
            )
        if old and old != new and pending.get("orphan") == old:
            orphans.delete_after_commit(self, old, using)

    # -- forms ----------------------------------------------------------------------------

    def formfield(self, **kwargs: Any) -> Any:
        from buckets.fields.forms import S3FileFormField
        from buckets.fields.widgets import S3FileWidget

        widget = kwargs.pop("widget", None)
        if not (isinstance(widget, type) and issubclass(widget, S3FileWidget)) and not isinstance(
            widget, S3FileWidget
        ):
            widget = S3FileWidget  # the admin's default text input would hide the uploader
        kwargs.pop("max_length", None)
        return super().formfield(
            **{"form_class": S3FileFormField, "widget": widget, "model_field": self, **kwargs}
        )
