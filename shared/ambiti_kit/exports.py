"""Cells of the CSV files the platform exports, safe to open in a spreadsheet.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet programs as a formula (CSV injection, OWASP): an ``oggetto`` typed as
``=HYPERLINK(...)`` would run in the auditor's spreadsheet. Such a cell is written with a leading
apostrophe, which spreadsheets show as text. Numbers written as text (``-12,50``, ``-12.50``) are
left as they are, so amounts stay numbers.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell: a formula-looking text neutralised, anything else unchanged (None → "")."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]
