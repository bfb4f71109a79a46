"""The pytest plugin other projects get with the package: ``buckets_fake_storage`` and
``buckets_upload``, used directly here and from downstream projects run by ``pytester``."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

import buckets.pytest_plugin
from buckets.test.storage import FakeS3Storage
from tests.testapp.forms import AvatarForm, DocumentForm
from tests.testapp.models import Avatar, Document

pytest_plugins = ["pytester"]

PDF = b"%PDF-1.4\n% a tiny test document\n"
README = Path(__file__).resolve().parents[1] / "README.rst"


# -- registration ------------------------------------------------------------------------


def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    registered = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert registered.get("buckets") == "buckets.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("buckets") is buckets.pytest_plugin


def test_loading_the_plugin_imports_no_django() -> None:
    code = (
        "import sys, buckets.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# -- the fixtures, used directly ---------------------------------------------------------


def test_fake_storage_becomes_the_default_storage(
    buckets_fake_storage: Any, settings: Any, tmp_path: Path
) -> None:
    assert isinstance(buckets_fake_storage, FakeS3Storage)
    assert settings.STORAGES["default"]["BACKEND"] == "buckets.test.storage.FakeS3Storage"
    assert settings.MEDIA_ROOT == str(tmp_path / "buckets-media")
    name = default_storage.save("notes/a.txt", ContentFile(b"hello"))
    assert Path(buckets_fake_storage.root, name).read_bytes() == b"hello"
    assert Path(buckets_fake_storage.root).is_relative_to(tmp_path)
    # The other aliases are kept.
    assert "staticfiles" in settings.STORAGES


@pytest.mark.django_db
def test_an_upload_value_makes_a_model_form_valid(buckets_upload: Any) -> None:
    form = AvatarForm({"image": "", "pdf": buckets_upload(Avatar.pdf, PDF, "Scan 1.pdf")})
    assert form.is_valid(), form.errors
    avatar = form.save()
    assert avatar.pdf.name == "pdfs/Scan_1.pdf"
    with avatar.pdf.open() as fh:
        assert fh.read() == PDF


@pytest.mark.django_db
def test_the_staging_copy_goes_when_the_commit_callbacks_run(
    buckets_upload: Any, buckets_fake_storage: Any, django_capture_on_commit_callbacks: Any
) -> None:
    value = buckets_upload(Avatar.pdf, PDF, "a.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        avatar = AvatarForm({"image": "", "pdf": value}).save()
    assert not buckets_fake_storage.exists(value)
    assert buckets_fake_storage.exists(avatar.pdf.name)


@pytest.mark.django_db
def test_every_way_of_naming_the_field_gives_the_same_binding(buckets_upload: Any) -> None:
    form = DocumentForm()
    for spec in (
        "testapp.Document.file",
        "testapp.document.file",
        Document.file,
        Document._meta.get_field("file"),
        form.fields["file"],
        form["file"],
    ):
        value = buckets_upload(spec, b"text", "notes.txt")
        bound = DocumentForm({"name": "n", "file": value})
        assert bound.is_valid(), (spec, bound.errors)


@pytest.mark.django_db
def test_the_upload_is_bound_to_its_field_and_user(
    buckets_upload: Any, django_user_model: Any
) -> None:
    alice = django_user_model.objects.create_user("alice", password="pw")
    bob = django_user_model.objects.create_user("bob", password="pw")

    def errors(value: str, user: Any) -> Any:
        form = DocumentForm({"name": "n", "file": value}, user=user)
        return None if form.is_valid() else form.errors.as_data()["file"][0].code

    assert errors(buckets_upload("testapp.Document.file", user=alice), alice) is None
    assert errors(buckets_upload("testapp.Document.file", user=bob), alice) == "not_uploaded"
    assert errors(buckets_upload("testapp.Document.file"), alice) == "not_uploaded"
    other_field = buckets_upload(Avatar.pdf, PDF, "a.pdf", user=alice)
    assert errors(other_field, alice) == "not_uploaded"
    # A form that is not told its user checks the field binding only.
    assert errors(buckets_upload("testapp.Document.file", user=bob), None) is None


def test_the_bytes_are_in_the_fake_storage_under_the_staging_prefix(
    buckets_upload: Any, buckets_fake_storage: Any
) -> None:
    name = buckets_upload(Document.file, "héllo", "Relevé été.txt")
    assert name.startswith(buckets_fake_storage.settings.upload_prefix)
    assert name.endswith("/Relevé_été.txt")
    with buckets_fake_storage.open(name) as fh:
        assert fh.read() == "héllo".encode()


def test_what_the_bucket_would_refuse_is_refused(buckets_upload: Any) -> None:
    with pytest.raises(ValueError, match="above the limit of 2048 bytes"):
        buckets_upload(Avatar.pdf, b"x" * 2049, "big.pdf")
    assert buckets_upload(Avatar.pdf, b"x" * 2048, "max.pdf")  # the limit is inclusive
    with pytest.raises(ValueError, match="image/png are not accepted"):
        buckets_upload(Avatar.pdf, PDF, "photo.png")
    with pytest.raises(ValueError, match="text/plain are not accepted"):
        buckets_upload(Avatar.pdf, PDF, "a.pdf", content_type="text/plain")
    with pytest.raises(ValueError, match="empty"):
        buckets_upload(Avatar.pdf, b"", "a.pdf")
    with pytest.raises(TypeError, match="needs an S3FileField"):
        buckets_upload("testapp.Document.name")
    with pytest.raises(ValueError, match="not a field label"):
        buckets_upload("Document.file")


def test_a_type_the_name_does_not_tell_is_pinned_to_the_one_accepted_type(
    buckets_upload: Any, buckets_fake_storage: Any
) -> None:
    from buckets.test.disk import read_meta

    name = buckets_upload(Avatar.pdf, PDF, "scan")
    content_type, _ = read_meta(buckets_fake_storage.key_path(name))
    assert content_type in ("application/pdf", None)  # None: no xattrs on this file system


# -- downstream projects -----------------------------------------------------------------

DOWNSTREAM_SETTINGS = """
    SECRET_KEY = "downstream-tests"
    USE_TZ = True
    INSTALLED_APPS = [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "buckets",
        "shop",
    ]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
    # Production-like: the fixture swaps in the fake for the test.
    AWS = {"BUCKET": "shop-production", "REGION": "eu-west-1"}
    STORAGES = {
        "default": {"BACKEND": "buckets.storage.S3Storage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
"""

SHOP_MODELS = """
    from django.db import models

    from buckets.fields import S3FileField


    class Invoice(models.Model):
        number = models.CharField(max_length=20)
        pdf = S3FileField(
            upload_to="invoices/", max_size=1024 * 1024, accepted_types=["application/pdf"]
        )
"""


def _shop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(downstream_settings=DOWNSTREAM_SETTINGS)
    pytester.mkpydir("shop")
    (pytester.path / "shop" / "models.py").write_text(textwrap.dedent(SHOP_MODELS))


@pytest.fixture
def downstream(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester directory whose subprocesses see no settings of this test suite."""
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return pytester


def test_a_downstream_project_tests_its_form_in_one_line(downstream: pytest.Pytester) -> None:
    _shop(downstream)
    downstream.makeini(
        """
        [pytest]
        DJANGO_SETTINGS_MODULE = downstream_settings
        pythonpath = .
        """
    )
    downstream.makepyfile(
        test_invoice="""
        from django import forms
        from django.conf import settings

        from shop.models import Invoice


        class InvoiceForm(forms.ModelForm):
            class Meta:
                model = Invoice
                fields = ["number", "pdf"]


        def test_invoice_form(buckets_upload, db):
            form = InvoiceForm({"number": "A-1", "pdf": buckets_upload("shop.Invoice.pdf",
                                                                      b"%PDF-1.4", "a.pdf")})
            assert form.is_valid(), form.errors
            invoice = form.save()
            assert invoice.pdf.name == "invoices/a.pdf"
            assert invoice.pdf.read() == b"%PDF-1.4"
            path, _, query = invoice.pdf.url.partition("?")
            assert path.endswith("/s3/uploads/invoices/a.pdf") and "X-Amz-Signature=" in query


        def test_a_value_that_was_not_uploaded_is_refused(buckets_fake_storage, db):
            form = InvoiceForm({"number": "A-2", "pdf": "invoices/someone-elses.pdf"})
            assert not form.is_valid()
            assert form.errors.as_data()["pdf"][0].code == "not_uploaded"


        def test_settings_are_back_after_the_fixture():
            assert settings.STORAGES["default"]["BACKEND"] == "buckets.storage.S3Storage"
        """
    )
    result = downstream.runpytest_subprocess("-p", "no:cacheprovider", "-v", timeout=120)
    result.assert_outcomes(passed=3)


def test_without_pytest_django_the_fixtures_use_override_settings(
    downstream: pytest.Pytester,
) -> None:
    _shop(downstream)
    downstream.makeconftest(
        """
        import django
        from django.conf import settings

        import downstream_settings

        settings.configure(**{k: v for k, v in vars(downstream_settings).items() if k.isupper()})
        django.setup()
        """
    )
    downstream.makepyfile(
        test_plain="""
        from django.conf import settings
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage


        def test_fake(buckets_fake_storage, tmp_path):
            assert type(buckets_fake_storage).__name__ == "FakeS3Storage"
            assert settings.MEDIA_ROOT.startswith(str(tmp_path))
            name = default_storage.save("a.txt", ContentFile(b"hi"))
            assert (tmp_path / "buckets-media" / "s3" / name).read_bytes() == b"hi"


        def test_restored():
            assert settings.STORAGES["default"]["BACKEND"] == "buckets.storage.S3Storage"
            assert not settings.MEDIA_ROOT
        """
    )
    result = downstream.runpytest_subprocess(
        "-p", "no:django", "-p", "no:cacheprovider", f"--rootdir={downstream.path}", timeout=120
    )
    result.assert_outcomes(passed=2)


def test_a_project_without_django_settings_is_not_disturbed(downstream: pytest.Pytester) -> None:
    downstream.makepyfile(
        test_nodjango="""
        def test_plain():
            assert 1 + 1 == 2


        def test_asks_for_the_fake(buckets_fake_storage):
            pass
        """
    )
    result = downstream.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*buckets_fake_storage needs Django settings*"])


def readme_blocks(text: str, kind: str) -> list[str]:
    """The ``.. test: <kind>`` python blocks of README.rst, dedented (as tests/test_readme.py
    reads them)."""
    pattern = re.compile(
        rf"^\.\. test: {re.escape(kind)}\n\n\.\. code-block:: python\n\n((?:(?:  .*)?\n)+)",
        re.M,
    )
    return [textwrap.dedent(m[1]) for m in pattern.finditer(text)]


def test_the_readme_example_passes_in_a_downstream_project(downstream: pytest.Pytester) -> None:
    """README's plugin example, run as the test file of a project made of README's own
    model and form blocks."""
    text = README.read_text()
    examples = readme_blocks(text, "pytest")
    if not examples and "PLUGIN_SECTION" in text:
        pytest.skip("README's 'For other projects' tests' section is not written yet")
    assert examples, "README shows the pytest plugin with a '.. test: pytest' python block"
    (models,) = readme_blocks(text, "models")
    (form,) = readme_blocks(text, "forms")
    downstream.makepyfile(
        downstream_settings=DOWNSTREAM_SETTINGS.replace('"shop"', '"myapp"')
        + '\n    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n'
    )
    downstream.mkpydir("myapp")
    (downstream.path / "myapp" / "models.py").write_text(models)
    (downstream.path / "myapp" / "forms.py").write_text("from .models import MyModel\n" + form)
    downstream.makeini(
        """
        [pytest]
        DJANGO_SETTINGS_MODULE = downstream_settings
        pythonpath = .
        """
    )
    for number, example in enumerate(examples):
        downstream.makepyfile(**{f"test_readme_{number}": example})
    result = downstream.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(
        passed=sum(e.count("\ndef test_") + e.startswith("def test_") for e in examples)
    )
