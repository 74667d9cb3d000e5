"""monitoring's CSV exports (indicators, 360Giving) never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
import io

from monitoring.api.indicatori import csv_response


def test_a_comune_or_an_object_typed_as_a_formula_is_exported_as_text() -> None:
    response = csv_response(["comune", "nome", "spesa"], [["065134", '=HYPERLINK("http://x","Sapri")', "-12.50"],
                                                          ["065156", "@SUM(A1)", None]], "x.csv")
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert rows == [["comune", "nome", "spesa"], ["065134", '\'=HYPERLINK("http://x","Sapri")', "-12.50"],
                    ["065156", "'@SUM(A1)", ""]]
