"""CSV cells that a spreadsheet would run as formulas are written as text (OWASP CSV injection)."""

from __future__ import annotations

import pytest

from ambiti_kit.exports import csv_cell, csv_row


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","clic")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
                                   "\tcmd", "\r=1"])
def test_a_formula_looking_text_becomes_text(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value, expected", [("-12,50", "-12,50"), ("-12.50", "-12.50"), ("+3", "+3"),
                                             ("Cooperativa Il Faro", "Cooperativa Il Faro"), (12, 12), (None, ""),
                                             ("", "")])
def test_numbers_and_plain_text_stay_as_they_are(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


def test_a_row() -> None:
    assert csv_row(["=1+1", "ok", None, -3]) == ["'=1+1", "ok", "", -3]
