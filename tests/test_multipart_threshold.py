"""``BUCKETS_MULTIPART_THRESHOLD`` and what the widget renders for multipart uploads
(``data-multipart``): the script uploads in parts exactly the files the server plans for."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from buckets.signing.limits import MAX_OBJECT_SIZE, S3_MAX_POST_SIZE
from buckets.uploads.multipart_threshold import MULTIPART_THRESHOLD, multipart_threshold
from tests.testapp.forms import AvatarForm, DocumentForm

MiB = 1024 * 1024


def rendered(form: Any, name: str) -> Any:
    raw = re.search(r'data-multipart="([^"]*)"', str(form[name]))
    assert raw is not None
    return json.loads(unescape(raw.group(1)))


def test_the_default_threshold(settings: Any) -> None:
    assert not hasattr(settings, "BUCKETS_MULTIPART_THRESHOLD")
    assert multipart_threshold() == MULTIPART_THRESHOLD == 64 * MiB


@pytest.mark.parametrize("value", [0, -1, "64", 1.5, True])
def test_a_threshold_that_is_no_number_of_bytes_is_refused(settings: Any, value: Any) -> None:
    settings.BUCKETS_MULTIPART_THRESHOLD = value
    with pytest.raises(ImproperlyConfigured, match="BUCKETS_MULTIPART_THRESHOLD"):
        multipart_threshold()


def test_the_widget_renders_the_endpoints_threshold_and_limit(settings: Any) -> None:
    settings.BUCKETS_MULTIPART_THRESHOLD = 5 * MiB
    config = rendered(DocumentForm(), "file")
    assert config == {
        "create": reverse("s3_multipart_create"),
        "sign": reverse("s3_multipart_sign"),
        "parts": reverse("s3_multipart_parts"),
        "complete": reverse("s3_multipart_complete"),
        "abort": reverse("s3_multipart_abort"),
        "threshold": 5 * MiB,
        "maxSize": MAX_OBJECT_SIZE,
        "slot": "testapp.document.file",
    }


def test_the_fields_limit_applies_to_multipart_too() -> None:
    config = rendered(AvatarForm(), "image")
    assert config["maxSize"] == 1024 * 1024  # the field's max_size
    assert config["threshold"] == MULTIPART_THRESHOLD


def test_a_file_larger_than_a_post_takes_goes_in_parts(settings: Any) -> None:
    settings.BUCKETS_MULTIPART_THRESHOLD = 10 * S3_MAX_POST_SIZE
    assert rendered(DocumentForm(), "file")["threshold"] == S3_MAX_POST_SIZE


def test_no_threshold_no_multipart(settings: Any) -> None:
    settings.BUCKETS_MULTIPART_THRESHOLD = None
    assert rendered(DocumentForm(), "file") is None
