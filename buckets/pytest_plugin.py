"""pytest fixtures for projects that use django-buckets: test an upload form in one line.

Installed with the package as the pytest plugin ``buckets`` (the ``pytest11`` entry point),
so every project that has django-buckets and pytest gets two fixtures::

    def test_invoice_form(buckets_upload, db):
        form = InvoiceForm({"number": "A-1", "pdf": buckets_upload("shop.Invoice.pdf")})
        assert form.is_valid(), form.errors

``buckets_fake_storage``
    Makes :class:`buckets.test.storage.FakeS3Storage` the default storage for one test,
    with ``MEDIA_ROOT`` in a fresh temporary directory, and returns it. Settings are
    changed through pytest-django's ``settings`` fixture when it is there, and through
    ``django.test.override_settings`` otherwise; either way they are restored after the
    test. Fields with their own ``storage=`` are not switched.

``buckets_upload(field, content=b"...", filename="file.txt", *, user=None, content_type=None)``
    Does what a browser upload through the widget does, without a browser or a server:
    writes ``content`` to the fake storage under a fresh staging name made for ``field``
    (and ``user``) by :func:`buckets.uploads.staging.new_upload_name`, and returns that name, which
    is the value a form's hidden input carries after a real upload. ``field`` is an
    ``S3FileField``, the model's class attribute (``Invoice.pdf``), a form field or bound
    field made from one, or the label ``"app_label.ModelName.field_name"``. ``user`` must be
    the user the form is given (``S3FileFormMixin``'s ``user=``), if it is given one.
    What the real bucket would refuse is refused here too (``ValueError``): an empty file,
    one above the field's ``max_size`` or ``AWS["MAX_FILE_SIZE"]``, a type outside its
    ``accepted_types``.

The module imports nothing from Django until a fixture runs, so it costs nothing in
projects (or test runs) that do not configure Django.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["buckets_fake_storage", "buckets_upload"]

FAKE_BACKEND = "buckets.test.storage.FakeS3Storage"
DEFAULT_CONTENT = b"django-buckets test file\n"


def _django_settings_available() -> bool:
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover -- django-buckets requires Django
        return False
    return bool(settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"))


@pytest.fixture
def buckets_fake_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``FakeS3Storage`` as the default storage, files under a temporary ``MEDIA_ROOT``."""
    if not _django_settings_available():
        pytest.fail(
            "buckets_fake_storage needs Django settings: set DJANGO_SETTINGS_MODULE "
            "(pytest-django's --ds or ini option), or call settings.configure() and "
            "django.setup() in conftest.py.",
            pytrace=False,
        )
    from django.conf import settings as django_settings
    from django.core.files.storage import storages

    media_root = tmp_path / "buckets-media"
    media_root.mkdir()
    new = {
        "MEDIA_ROOT": str(media_root),
        "STORAGES": {**django_settings.STORAGES, "default": {"BACKEND": FAKE_BACKEND}},
    }
    try:
        settings_fixture = request.getfixturevalue("settings")  # pytest-django
    except pytest.FixtureLookupError:
        settings_fixture = None
    if settings_fixture is not None:
        for name, value in new.items():
            setattr(settings_fixture, name, value)  # restored by pytest-django
        yield storages["default"]
        return
    from django.test import override_settings

    override = override_settings(**new)
    override.enable()
    try:
        yield storages["default"]
    finally:
        override.disable()


def _model_field(spec: Any) -> Any:
    """The ``S3FileField`` behind a field, class attribute, form field or label."""
    from django.apps import apps

    from buckets.fields import S3FileField

    candidate = spec
    if isinstance(spec, str):
        parts = spec.split(".")
        if len(parts) != 3:
            raise ValueError(
                f"{spec!r} is not a field label: write 'app_label.ModelName.field_name'."
            )
        app_label, model_name, field_name = parts
        candidate = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    # A class attribute has .field, a form field .model_field, a bound field .field.
    for _ in range(3):
        if isinstance(candidate, S3FileField):
            return candidate
        candidate = getattr(candidate, "model_field", None) or getattr(candidate, "field", None)
    raise TypeError(
        f"buckets_upload needs an S3FileField (the field, Model.field, a form field made from "
        f"one, or 'app_label.ModelName.field_name'), not {spec!r}."
    )


def _content_type(field: Any, filename: str, content_type: str | None) -> str:
    """The Content-Type the signed-URL view would pin for this upload (``ValueError`` when
    it would refuse to sign one)."""
    from buckets.signing.content_types import normalize_content_type
    from buckets.uploads.views import _accepted_patterns, _choose_content_type

    if content_type is not None and normalize_content_type(content_type) is None:
        raise ValueError(f"{field.label}: {content_type!r} is not a valid content type.")
    errors: dict[str, list[str]] = {}
    chosen = _choose_content_type(content_type, filename, _accepted_patterns(field), errors)
    if errors or chosen is None:
        raise ValueError(f"{field.label}: {' '.join(errors.get('content_type', []))}")
    return chosen


@pytest.fixture
def buckets_upload(buckets_fake_storage: Any) -> Callable[..., str]:
    """A function that stores a file as a direct upload for a field would, and returns the
    staging name the form's hidden input then carries (see the module docstring)."""
    from django.core.files.base import ContentFile

    from buckets.signing.limits import S3_MAX_POST_SIZE
    from buckets.test.storage import FakeS3Storage
    from buckets.uploads.staging import field_label, new_upload_name

    def upload(
        field: Any,
        content: bytes | str = DEFAULT_CONTENT,
        filename: str = "file.txt",
        *,
        user: Any = None,
        content_type: str | None = None,
    ) -> str:
        model_field = _model_field(field)
        label = field_label(model_field)
        storage = model_field.storage
        if not isinstance(storage, FakeS3Storage):
            raise TypeError(
                f"{label} stores its files in {storage!r}, not in FakeS3Storage: "
                "buckets_upload writes only to the fake. Give the field no storage= (it then "
                "uses the default storage, which buckets_fake_storage replaces) or a "
                "FakeS3Storage in tests."
            )
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if not data:
            raise ValueError(f"{label}: the submitted file is empty (S3 would refuse it).")
        storage_max = storage.settings.max_file_size or S3_MAX_POST_SIZE
        limit = min(model_field.max_size, storage_max) if model_field.max_size else storage_max
        if len(data) > limit:
            raise ValueError(
                f"{label}: {len(data)} bytes is above the limit of {limit} bytes "
                "(S3 would refuse the upload)."
            )
        chosen_type = _content_type(model_field, filename, content_type)
        name = new_upload_name(
            filename, field_label=label, user=user, prefix=storage.settings.upload_prefix
        )
        file = ContentFile(data, name=filename)
        file.content_type = chosen_type  # type: ignore[attr-defined]
        saved = storage.save(name, file)
        if saved != name:  # a fresh random name is never taken, but never pass a wrong one
            raise RuntimeError(f"The fake storage saved {name!r} as {saved!r}.")
        return name

    return upload
