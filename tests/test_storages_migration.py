"""README's "Moving from django-storages", run: each configuration style writes files with
django-storages 1.14 through a ``FileField``, then django-buckets reads, sizes and links
them through an ``S3FileField`` on the same rows, on RGW. Only the connection settings are
replaced with the test server's; the backend path is the only other change, as the guide
says."""

from __future__ import annotations

import sys
import types
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ModelState, ProjectState
from django.db.migrations.writer import MigrationWriter
from storages.backends.s3 import S3Storage as DjangoStoragesS3

from buckets.storage import S3Storage
from tests.test_readme import blocks

OURS = "buckets.storage.S3Storage"
THEIRS = "storages.backends.s3.S3Storage"
#: Written by django-storages, read back by django-buckets: names with spaces, non-ASCII
#: and characters URL quoting treats differently.
FILES = {
    "report 1.pdf": b"%PDF-1.7 one",
    "r\u00e9sum\u00e9 (2).pdf": b"%PDF-1.7 two",
    "a+b~c'd!.pdf": b"%PDF-1.7 three",
}


def run(code: str, module_name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": module_name}
    exec(compile(code, "README.rst", "exec"), namespace)
    return namespace


def connect_globals(values: dict[str, Any], rgw: Any, bucket: str) -> dict[str, Any]:
    """The README's global settings with the test server's connection."""
    connection_settings = {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": rgw.endpoint_url,
        "AWS_S3_ACCESS_KEY_ID": rgw.access_key,
        "AWS_S3_SECRET_ACCESS_KEY": rgw.secret_key,
        "AWS_S3_REGION_NAME": rgw.region,
    }
    assert connection_settings.keys() <= values.keys()
    return {**values, **connection_settings}


def connect_options(options: dict[str, Any], rgw: Any, bucket: str) -> dict[str, Any]:
    connection_options = {
        "bucket_name": bucket,
        "endpoint_url": rgw.endpoint_url,
        "access_key": rgw.access_key,
        "secret_key": rgw.secret_key,
        "region_name": rgw.region,
    }
    assert connection_options.keys() <= options.keys()
    return {**options, **connection_options}


def settings_of(namespace: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in namespace.items() if k.isupper()}


def with_backend(storages: dict[str, Any], backend: str) -> dict[str, Any]:
    return {**storages, "default": {**storages["default"], "BACKEND": backend}}


def apply(settings: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(settings, name, value)


class Rows:
    """The README's ``Invoice`` model, before (``FileField``) and after (``S3FileField``),
    on one table."""

    def __init__(self) -> None:
        (self.before_code,) = blocks("storages-model-before")
        (self.after_code,) = blocks("storages-model-after")
        self.model: Any = None

    def define(self, code: str) -> Any:
        self.forget()
        self.model = run(code, "tests.testapp.storages_invoices")["Invoice"]
        return self.model

    def forget(self) -> None:
        apps.all_models["testapp"].pop("invoice", None)
        apps.clear_cache()

    def write_with_django_storages(self) -> dict[int, dict[str, Any]]:
        """Rows written through the ``FileField``; what django-storages says of each."""
        model = self.define(self.before_code)
        with connection.schema_editor() as editor:
            editor.create_model(model)
        assert isinstance(default_storage, DjangoStoragesS3)
        seen = {}
        for filename, data in FILES.items():
            row = model()
            row.pdf.save(filename, ContentFile(data))
            seen[row.pk] = {
                "name": row.pdf.name,
                "url": row.pdf.url,
                "size": row.pdf.size,
                "data": data,
            }
        return seen

    def change_field(self) -> Any:
        """The ``S3FileField`` model, after the README's ``AlterField``."""
        old_field = self.model._meta.get_field("pdf")
        model = self.define(self.after_code)
        with connection.schema_editor() as editor:
            editor.alter_field(model, old_field, model._meta.get_field("pdf"))
        return model

    def drop(self) -> None:
        if self.model is not None:
            with connection.schema_editor() as editor:
                editor.delete_model(self.model)
        self.forget()


@pytest.fixture
def rows(transactional_db: Any) -> Any:
    made = Rows()
    yield made
    made.drop()


def read_back_with_buckets(model: Any, seen: dict[int, dict[str, Any]]) -> dict[int, str]:
    """Each row read, sized and linked by django-buckets; its URLs by pk."""
    assert isinstance(default_storage, S3Storage)
    urls = {}
    for row in model.objects.order_by("pk"):
        assert isinstance(row.pdf.storage, S3Storage)
        before = seen[row.pk]
        assert row.pdf.name == before["name"]
        assert row.pdf.size == before["size"] == len(before["data"])
        with row.pdf.storage.open(row.pdf.name) as f:
            assert f.read() == before["data"]
        urls[row.pk] = row.pdf.url
    return urls


def unsigned_part(url: str) -> tuple[str, dict[str, str]]:
    """A SigV4 URL without what changes with time: signature, date, credential's day."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.pop("X-Amz-Signature"), query.pop("X-Amz-Date")
    key, _, region, service, end = query.pop("X-Amz-Credential").split("/")
    query["credential"] = f"{key}/{region}/{service}/{end}"
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


@pytest.mark.django_db(transaction=True)
def test_global_settings_style(settings, rgw, bucket, rows):
    (code,) = blocks("storages-globals")
    values = connect_globals(settings_of(run(code, "readme_settings")), rgw, bucket)
    assert values["STORAGES"]["default"]["BACKEND"] == OURS
    del settings.AWS  # a django-storages project has no AWS dict
    apply(settings, {**values, "STORAGES": with_backend(values["STORAGES"], THEIRS)})
    seen = rows.write_with_django_storages()

    settings.STORAGES = values["STORAGES"]
    urls = read_back_with_buckets(rows.change_field(), seen)
    for pk, url in urls.items():
        assert unsigned_part(url) == unsigned_part(seen[pk]["url"])
        assert "X-Amz-Expires=600" in url
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "max-age=86400"  # django-storages wrote it


@pytest.mark.django_db(transaction=True)
def test_storages_options_style(settings, rgw, bucket, rows):
    (code,) = blocks("storages-options")
    storages = run(code, "readme_settings")["STORAGES"]
    assert storages["default"]["BACKEND"] == OURS
    storages["default"]["OPTIONS"] = connect_options(storages["default"]["OPTIONS"], rgw, bucket)
    settings.STORAGES = with_backend(storages, THEIRS)
    seen = rows.write_with_django_storages()

    settings.STORAGES = storages
    model = rows.change_field()
    urls = read_back_with_buckets(model, seen)
    for pk, url in urls.items():
        assert url == seen[pk]["url"]  # public URLs: the same strings
        assert requests.get(url, timeout=10).status_code == 200  # public-read, as written

    # New files written by django-buckets are public too (default_acl, querystring_auth).
    row = model()
    row.pdf = ContentFile(b"%PDF new", name="new.pdf")
    row.save()
    assert "X-Amz-Signature" not in row.pdf.url
    assert requests.get(row.pdf.url, timeout=10).content == b"%PDF new"


@pytest.mark.django_db(transaction=True)
def test_subclass_style(settings, rgw, bucket, rows, monkeypatch):
    (code,) = blocks("storages-subclass")
    import_line = code.splitlines()[0]
    ours_import, _, was = import_line.partition("  # was: ")
    assert ours_import == "from buckets.storage import S3Storage"
    module = types.ModuleType("myproject.storage_backends")
    monkeypatch.setitem(sys.modules, "myproject", types.ModuleType("myproject"))
    monkeypatch.setitem(sys.modules, "myproject.storage_backends", module)
    (globals_code,) = blocks("storages-globals")
    values = connect_globals(settings_of(run(globals_code, "readme_settings")), rgw, bucket)
    storages = with_backend(values["STORAGES"], "myproject.storage_backends.MediaStorage")
    del settings.AWS
    apply(settings, {**values, "STORAGES": storages})

    exec(compile(code.replace(import_line, was), "README.rst", "exec"), module.__dict__)
    seen = rows.write_with_django_storages()
    for before in seen.values():
        anonymous = requests.get(f"{rgw.endpoint_url}/{bucket}/media/{before['name']}", timeout=10)
        assert anonymous.status_code == 200  # django-storages applied default_acl

    module.__dict__.clear()
    module.__dict__["__name__"] = "myproject.storage_backends"
    exec(compile(code, "README.rst", "exec"), module.__dict__)
    settings.STORAGES = dict(storages)  # a new storage object, of the django-buckets class
    model = rows.change_field()
    urls = read_back_with_buckets(model, seen)
    for pk, url in urls.items():
        assert url == seen[pk]["url"]  # custom_domain URLs: the same strings
        assert url.startswith("https://cdn.example.com/media/invoices/")

    row = model()
    row.pdf = ContentFile(b"%PDF new", name="new.pdf")
    row.save()
    assert row.pdf.url == "https://cdn.example.com/media/invoices/new.pdf"
    public = requests.get(f"{rgw.endpoint_url}/{bucket}/media/{row.pdf.name}", timeout=10)
    assert public.content == b"%PDF new"  # default_acl applied: public, as intended


def test_migration_is_what_makemigrations_writes():
    (before,) = blocks("storages-model-before")
    (after,) = blocks("storages-model-after")
    (documented,) = blocks("storages-migration")

    rows = Rows()

    def state(code: str) -> ProjectState:
        field = rows.define(code)._meta.get_field("pdf").clone()
        rows.forget()
        project = ProjectState()
        project.add_model(
            ModelState(
                "invoices", "Invoice", [("id", models.AutoField(primary_key=True)), ("pdf", field)]
            )
        )
        return project

    detector = MigrationAutodetector(
        state(before), state(after), NonInteractiveMigrationQuestioner()
    )
    (written,) = detector._detect_changes()["invoices"]
    written.dependencies = [("invoices", "0001_initial")]
    readme = run(documented, "readme_migration")["Migration"]("0002_alter_invoice_pdf", "invoices")
    assert MigrationWriter(readme).as_string() == MigrationWriter(written).as_string()
