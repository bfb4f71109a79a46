"""The differences table stays true to the tests: every entry is a case some test asks for
(by its literal name, or an f-string the name starts with), and says why."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conformance.differences import DIFFERENCES

SOURCES = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
LITERALS = set(re.findall(r'(?<![f\w])"([^"\n]+)"', SOURCES))
PREFIXES = {p for p in re.findall(r'\bf"([^"{\n]+)\{', SOURCES)}


def test_every_listed_difference_is_a_case_a_test_asks_for() -> None:
    unused = [
        (server, case)
        for server, cases in DIFFERENCES.items()
        for case in cases
        if case not in LITERALS and not any(case.startswith(p) for p in PREFIXES)
    ]
    assert unused == []


def test_every_difference_says_why() -> None:
    assert all(d.why.strip() for cases in DIFFERENCES.values() for d in cases.values())
