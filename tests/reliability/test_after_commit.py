"""The clean-up after a committed save (deleting the staged copy of a moved upload, and the
object a row no longer points at) fails while S3 is unreachable: the save still returns
normally (a committed save is never turned into an error, hence never into a 500), the
failure is logged on ``buckets.fields.after_commit``, and ``buckets_cleanup`` deletes the
staged copy left behind once S3 is back.

The fault is real: ``FaultProxy`` between boto3 and the session RGW resets every
connection after the row is written and before the transaction commits.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction

from buckets import uploads
from buckets.storage import S3Storage
from s3servers import list_keys
from tests.reliability.proxy import FaultProxy
from tests.testapp.models import Document

LOGGER = "buckets.fields.after_commit"

pytestmark = pytest.mark.django_db(transaction=True)


def stage(storage: S3Storage, filename: str) -> str:
    """A direct upload for ``Document.file``, as a browser leaves it under staging."""
    label = Document._meta.get_field("file").label  # type: ignore[attr-defined]
    prefix = storage.settings.upload_prefix
    name = uploads.new_upload_name(filename, field_label=label, user=None, prefix=prefix)
    assert storage.save(name, ContentFile(b"staged " + filename.encode())) == name
    return name


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def cleanup() -> str:
    out = io.StringIO()
    call_command("buckets_cleanup", "--hours", "0", stdout=out)
    return out.getvalue()


def test_staged_copy_delete_fails_after_commit_save_returns_and_cleanup_removes_it(
    proxied_default: S3Storage,
    proxy: FaultProxy,
    s3: Any,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    staged = stage(proxied_default, "report.txt")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with transaction.atomic():
        doc = Document.objects.create(name="report", file=staged)  # the copy: S3 is up
        proxy.down()  # ...and gone when the transaction commits
    proxy.forward()

    doc.refresh_from_db()
    assert doc.file.name == "report.txt"
    assert list_keys(s3, bucket) == sorted(["report.txt", staged])  # the delete failed
    (record,) = failures(caplog)
    assert staged in record.getMessage() and "buckets_cleanup" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], OSError)

    output = cleanup()
    assert f"deleted {staged}" in output
    assert list_keys(s3, bucket) == ["report.txt"]  # the row's object is kept


def test_outside_a_transaction_the_save_returns_too(
    proxied_default: S3Storage,
    proxy: FaultProxy,
    s3: Any,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In autocommit mode (no ``atomic``, no ``ATOMIC_REQUESTS``) the clean-up runs inside
    ``save()`` itself, right after the row is written: its failure must not escape
    ``save()`` either. There is no moment between the copy and the delete to switch the
    proxy from the test, so the storage's ``delete`` takes the server down just before
    it sends its request (the failure itself is still the real one, a reset connection)."""
    staged = stage(proxied_default, "notes.txt")
    doc = Document(name="notes", file=staged)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    original_delete = proxied_default.delete

    def delete_through_a_dead_server(name: str) -> None:
        proxy.down()
        try:
            original_delete(name)
        finally:
            proxy.forward()

    proxied_default.delete = delete_through_a_dead_server  # type: ignore[method-assign]
    try:
        doc.save()
    finally:
        del proxied_default.delete
    assert Document.objects.get(pk=doc.pk).file.name == "notes.txt"
    assert staged in failures(caplog)[0].getMessage()
    assert f"deleted {staged}" in cleanup()
    assert list_keys(s3, bucket) == ["notes.txt"]


def test_replaced_object_delete_fails_after_commit_is_logged(
    proxied_default: S3Storage,
    proxy: FaultProxy,
    s3: Any,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = Document.objects.create(name="v1", file=stage(proxied_default, "v1.txt"))
    staged = stage(proxied_default, "v2.txt")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with transaction.atomic():
        doc.file = staged
        doc.save()
        proxy.down()
    proxy.forward()
    assert Document.objects.get(pk=doc.pk).file.name == "v2.txt"
    messages = [r.getMessage() for r in failures(caplog)]
    assert len(messages) == 2  # the staged copy, and the replaced object: both logged
    assert any(staged in m for m in messages) and any("v1.txt" in m for m in messages)
    assert "v1.txt" in list_keys(s3, bucket)  # left behind, never deleted by mistake
