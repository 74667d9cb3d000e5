"""The CSV and XLSX exports of a rendicontazione, parsed back (in memory, no I/O).

Same example as test_rendicontazione.py: QSFP 2024 with lines NOM, RES, SAD, SEG and the
ledger of SAD on 065134, 065156 and the whole Ambito, RES on the whole Ambito.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal as D

import openpyxl

from finance.projections import esportazione
from finance.projections.rendicontazione import Assegnato, Riduzione, Spesa, Stanziato, rendiconto

T = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
R = rendiconto(
    "15-S09",
    [Assegnato("QSFP", 2024, D("100000.00"), {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "2"]}),
     Assegnato("QSFP", 2022, D("80000.00"))],
    [Stanziato("QSFP", 2024, "SAD", D("50000.00"), {"sistema": "fnps_macrolivello", "codice": "2"}),
     Stanziato("QSFP", 2024, "SEG", D("10000.00"), {"sistema": "fnps_macrolivello", "codice": "1"}),
     Stanziato("QSFP", 2024, "RES", D("30000.00"), {"sistema": "fnps_macrolivello", "codice": "4"}),
     Stanziato("QSFP", 2024, "NOM", D("5000.00"), {"sistema": "nomenclatore", "codice": "D2.03"})],
    [Spesa("QSFP", 2024, "SAD", "065134", D("20000.00"), D("1500.00"), D("12000.00"), D("10000.00")),
     Spesa("QSFP", 2024, "SAD", None, D("5000.00"), D("500.00"), D("2000.00"), D("0.00")),
     Spesa("QSFP", 2024, "SAD", "065156", D("8000.00"), D("0.00"), D("8000.00"), D("8000.00")),
     Spesa("QSFP", 2024, "RES", None, D("30000.00")),
     Spesa("QSFP", 2022, "SAD", "065134", D("70000.00"), D("0.00"), D("59999.99"), D("59999.99"))],
    [Riduzione("QSFP", 2024, "SAD", "065134", "i-1", "economia", D("1500.00"), "Minor numero di ore erogate",
               "amministrativo@15-S09", T),
     Riduzione("QSFP", 2024, "SAD", None, "i-2", "disimpegno", D("500.00"), "Revoca parziale dell'affidamento",
               "amministrativo@15-S09", T.replace(day=3))],
    fondo="QSFP", annualita=2024, generato_il=T)

HEADINGS = ["Codice Ambito", "Codice fondo", "Fondo", "Annualità", "Codice intervento", "Sistema di classificazione",
            "Codice classificazione", "Macro-livello FNPS", "Codice ISTAT Comune", "Comune / Ambito",
            "Impegnato lordo (€)", "Disimpegni ed economie (€)", "Impegnato (€)", "Liquidato (€)", "Pagato (€)",
            "Residui passivi (€)", "Da liquidare (€)"]
#: (intervento, ISTAT, Comune / Ambito, impegnato, liquidato, pagato, residui passivi) per row, in order
EXPECTED = [
    ("NOM", "", "Intero Ambito", "0.00", "0.00", "0.00", "0.00"),  # allocated, nothing committed yet
    ("RES", "", "Intero Ambito", "30000.00", "0.00", "0.00", "30000.00"),
    ("SAD", "065134", "065134", "18500.00", "12000.00", "10000.00", "8500.00"),
    ("SAD", "065156", "065156", "8000.00", "8000.00", "8000.00", "0.00"),
    ("SAD", "", "Intero Ambito", "4500.00", "2000.00", "0.00", "4500.00"),
    ("SEG", "", "Intero Ambito", "0.00", "0.00", "0.00", "0.00"),
]


def test_csv_one_row_per_intervento_comune_fund_annualita_with_italian_decimals() -> None:
    data = esportazione.csv_bytes(R)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADINGS
    body = [dict(zip(HEADINGS, row)) for row in rows[1:]]
    assert [(b["Codice intervento"], b["Codice ISTAT Comune"], b["Comune / Ambito"], b["Impegnato (€)"],
             b["Liquidato (€)"], b["Pagato (€)"], b["Residui passivi (€)"]) for b in body] == [
        tuple(x.replace(".", ",") if "." in x else x for x in row) for row in EXPECTED]
    sad = body[2]
    assert (sad["Codice Ambito"], sad["Codice fondo"], sad["Fondo"], sad["Annualità"], sad["Macro-livello FNPS"],
            sad["Impegnato lordo (€)"], sad["Disimpegni ed economie (€)"], sad["Da liquidare (€)"]) == (
        "15-S09", "QSFP", "Fondo Povertà – quota servizi", "2024", "2", "20000,00", "1500,00", "6500,00")
    assert body[0]["Sistema di classificazione"] == "nomenclatore" and body[0]["Macro-livello FNPS"] == ""
    # the columns add up to the fund annualità's totals
    total = sum(D(b["Impegnato (€)"].replace(",", ".")) for b in body)
    assert total == R.voci[0].cifre.impegnato == D("61000.00")


def test_xlsx_detail_sheet_with_header_formats_and_the_same_rows() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(esportazione.xlsx(R)))
    assert wb.sheetnames == ["Rendicontazione", "Riepilogo", "Interventi", "Riduzioni"]
    ws = wb["Rendicontazione"]
    assert [c.value for c in ws[1]] == HEADINGS and ws[1][0].font.bold and ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:Q7"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [(r[4], r[8] or "", r[9], D(str(r[12])).quantize(D("0.01")), D(str(r[13])).quantize(D("0.01")),
             D(str(r[14])).quantize(D("0.01")), D(str(r[15])).quantize(D("0.01"))) for r in rows] == [
        (a, b, c, D(d), D(e), D(f), D(g)) for a, b, c, d, e, f, g in EXPECTED]
    sad = ws[4]
    assert sad[8].value == "065134" and sad[8].number_format == "@"  # the ISTAT code stays text
    assert sad[12].number_format == "#,##0.00" and sad[3].value == 2024


def test_xlsx_summary_sheet_has_totals_and_both_conditions() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(esportazione.xlsx(R)))
    ws = wb["Riepilogo"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0].startswith("Rendicontazione dell'Ambito 15-S09")
    header = values[2]
    assert header[:5] == ["Codice fondo", "Fondo", "Annualità", "Assegnato (€)", "Stanziato (€)"]
    total = dict(zip(header, values[3]))
    assert (total["Codice fondo"], total["Annualità"], total["Assegnato (€)"], total["Stanziato (€)"],
            total["Impegnato (€)"], total["Residui passivi (€)"], total["Disponibile (€) (assegnato − impegnato)"],
            total["Impegnato su assegnato (%)"]) == ("QSFP", 2024, 100000, 95000, 61000, 43000, 39000, 61)
    assert ws.cell(row=4, column=4).number_format == "#,##0.00"
    start = next(i for i, row in enumerate(values) if row[0] == "Condizioni")
    assert values[start + 1][:4] == ["Codice fondo", "Annualità", "Condizione", "Esito"]
    quota, poverta = values[start + 2], values[start + 3]
    assert quota[2].startswith("Quota minima per i servizi (macro-livelli 1, 2)") and quota[3] == "Rispettata"
    assert (quota[4], quota[5], quota[6], quota[7]) == (63.15, 40, 95000, 60000)
    assert poverta[2] == "Fondo Povertà: rendicontato almeno il 75% dell'annualità 2022"
    assert (poverta[3], poverta[4], poverta[6], poverta[7], poverta[8]) == (
        "Non rispettata", 74.99, 80000, 59999.99, 0.01)
    assert "48/2023" in poverta[9]


def test_xlsx_interventi_and_reductions_sheets() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(esportazione.xlsx(R)))
    interventi = [[c.value for c in row] for row in wb["Interventi"].iter_rows(min_row=2)]
    assert [(r[2], r[6], r[7]) for r in interventi] == [("NOM", 5000, 0), ("RES", 30000, 30000),
                                                       ("SAD", 50000, 31000), ("SEG", 10000, 0)]
    riduzioni = [[c.value for c in row] for row in wb["Riduzioni"].iter_rows(min_row=2)]
    assert riduzioni == [
        ["2025-03-01", "QSFP", 2024, "SAD", "065134", "065134", "i-1", "economia", 1500,
         "Minor numero di ore erogate", "amministrativo@15-S09"],
        ["2025-03-03", "QSFP", 2024, "SAD", None, "Intero Ambito", "i-2", "disimpegno", 500,
         "Revoca parziale dell'affidamento", "amministrativo@15-S09"]]
    assert esportazione.nome_file(R, "xlsx") == "rendicontazione_15-S09_QSFP_2024.xlsx"


def test_a_reason_that_looks_like_a_formula_stays_text() -> None:
    r = rendiconto("15-S09", [], [Stanziato("FNPS", 2024, "SAD", D("10.00"))],
                   [Spesa("FNPS", 2024, "SAD", None, D("10.00"), D("1.00"))],
                   [Riduzione("FNPS", 2024, "SAD", None, "i-1", "economia", D("1.00"), "=HYPERLINK(\"http://x\")", "x", T)])
    ws = openpyxl.load_workbook(io.BytesIO(esportazione.xlsx(r)))["Riduzioni"]
    assert ws.cell(row=2, column=10).value == '=HYPERLINK("http://x")' and ws.cell(row=2, column=10).data_type == "s"
