"""How sizes and types are said (:mod:`buckets.uploads.wording`): one convention, the one the
widget's script follows too (binary units, labelled KiB/MiB/GiB/TiB)."""

from __future__ import annotations

import pytest
from django.utils import translation

from buckets.uploads.wording import describe_types, format_size, size_pair


def test_types_are_named_as_people_say_them() -> None:
    assert describe_types(["application/pdf", "text/plain", "image/*"]) == "PDF, text, images"
    assert describe_types(["image/png", "image/jpeg", "text/csv"]) == "PNG, JPEG, CSV"
    assert describe_types(["application/msword"]) == "Word documents"
    assert describe_types(["image/png", "image/png"]) == "PNG"  # said once
    assert describe_types(["application/x-made-up-thing"]) == "application/x-made-up-thing"


@pytest.mark.parametrize(
    ("size", "said"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KiB"),
        (5009, "4.9 KiB"),  # rounded, as the script rounds
        (1024 * 1024 - 1, "1.0 MiB"),  # never "1,024.0 KiB"
        (10 * 1024**2, "10.0 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (5 * 1024**4, "5.0 TiB"),
    ],
)
def test_sizes_in_binary_units(size: int, said: str) -> None:
    assert format_size(size) == said


def test_two_sizes_that_read_the_same_are_given_in_bytes() -> None:
    assert size_pair(2049, 2048) == ("2,049 bytes", "2,048 bytes")
    assert size_pair(5009, 2048) == ("4.9 KiB", "2.0 KiB")


def test_sizes_in_the_active_language() -> None:
    with translation.override("de"):
        assert format_size(1536) == "1,5 KiB"
        assert format_size(1048584, exact=True) == "1.048.584 Bytes"
    with translation.override("fr"):
        assert format_size(1536) == "1,5 Kio"
