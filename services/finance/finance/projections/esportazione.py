"""The rendicontazione as files an Ufficio di Piano uploads: CSV and XLSX.

Template mirrored, and how faithfully. The layout follows the rendicontazione of the
national social funds (FNPS, FNA, Fondo Povertà – quota servizi) that Ambiti file on the
Ministry of Labour's *Piattaforma Multifondo*: per fund and annualità, per intervento
with its classification (FNPS macro-livello or nomenclatore code), the amounts committed
and liquidated, plus what was paid and what is still owed. It is **not** a byte-for-byte
copy of a ministerial template: the platform's data-entry masks and Excel templates are
not public reference data of this project and change with each annualità. What is kept:
one row per reporting unit, codes before descriptions, the fund's code and annualità on
every row, Italian headings, euro amounts with two decimals. What is added: the split per
Comune (ISTAT code; commitments for the whole Ambito on the row "Intero Ambito"), which the
Ambito's own Comuni and the Region ask for, and the reductions with their reasons. A
column mapping to a specific template version is a matter of renaming ``COLONNE``.

Grain of the detail: **one row per intervento × Comune × fondo × annualità** (an
intervento with an allocation but no commitment yet appears once, on "Intero Ambito",
with zeros), so every amount column adds up to the fund annualità's total. Allocations
(*stanziato*) are not split by Comune (they are made to the intervento for the whole
Ambito): they are on the sheet "Interventi" and, with the assigned amount, on "Riepilogo".

CSV: UTF-8 with BOM (so that spreadsheet programs read the accents), ``;`` as separator
and ``,`` as decimal separator, two decimals and no thousands separator (the Italian
locale's convention, which the upload masks of Italian public platforms expect); CRLF line
ends. XLSX (openpyxl): sheet "Rendicontazione" (the detail, header row frozen and with a
filter, amounts formatted ``#,##0.00``, codes as text), sheet "Riepilogo" (totals per fund
and annualità and the conditions: services quota and Fondo Povertà), sheet "Interventi"
and sheet "Riduzioni". Amounts are ``Decimal`` up to the spreadsheet writer; an XLSX cell
holds an IEEE double, so **only inside ``xlsx()``** (``_cell``) each amount becomes ``float``;
a decimal of at most 15 significant digits survives the round trip through a double, so
any amount below 10^13 € reads back with the same cents.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Iterable

from ambiti_kit.exports import csv_row

from finance.domain.fondi import FONDI
from finance.projections.rendicontazione import (
    INTERO_AMBITO, ZERO, Cifre, Rendiconto, VoceComune, euro, macro_livello, tassi,
)

#: (heading, key) of the detail, in order
COLONNE: tuple[tuple[str, str], ...] = (
    ("Codice Ambito", "ambito"),
    ("Codice fondo", "fondo"),
    ("Fondo", "denominazione_fondo"),
    ("Annualità", "annualita"),
    ("Codice intervento", "intervento"),
    ("Sistema di classificazione", "sistema"),
    ("Codice classificazione", "codice"),
    ("Macro-livello FNPS", "macro_livello"),
    ("Codice ISTAT Comune", "istat"),
    ("Comune / Ambito", "destinazione"),
    ("Impegnato lordo (€)", "impegnato_lordo"),
    ("Disimpegni ed economie (€)", "riduzioni"),
    ("Impegnato (€)", "impegnato"),
    ("Liquidato (€)", "liquidato"),
    ("Pagato (€)", "pagato"),
    ("Residui passivi (€)", "residui_passivi"),
    ("Da liquidare (€)", "da_liquidare"),
)
IMPORTI = frozenset(("impegnato_lordo", "riduzioni", "impegnato", "liquidato", "pagato", "residui_passivi",
                     "da_liquidare"))
TESTI = frozenset(("ambito", "fondo", "denominazione_fondo", "intervento", "sistema", "codice", "macro_livello",
                   "istat", "destinazione"))

STATI = {"rispettata": "Rispettata", "non_rispettata": "Non rispettata", "non_valutabile": "Non valutabile"}


def righe(r: Rendiconto) -> list[dict[str, Any]]:
    """The detail rows (amounts as ``Decimal``), ordered by fund, annualità, intervento, Comune."""
    out = []
    for v in r.voci:
        for iv in v.interventi:
            nomenclatura = iv.nomenclatura or {}
            comuni = iv.comuni or (VoceComune(None, Cifre()),)
            for c in comuni:
                f = c.cifre
                out.append({
                    "ambito": r.ambito, "fondo": v.fondo, "denominazione_fondo": FONDI.get(v.fondo, v.fondo),
                    "annualita": v.annualita, "intervento": iv.intervento,
                    "sistema": nomenclatura.get("sistema", ""), "codice": nomenclatura.get("codice", ""),
                    "macro_livello": macro_livello(nomenclatura) or "",
                    "istat": c.comune or "", "destinazione": c.denominazione,
                    "impegnato_lordo": f.impegnato_lordo, "riduzioni": f.ridotto, "impegnato": f.impegnato,
                    "liquidato": f.liquidato, "pagato": f.pagato, "residui_passivi": f.residui_passivi,
                    "da_liquidare": f.da_liquidare,
                })
    return out


def _it(d: Decimal) -> str:
    """An amount as the Italian locale writes it in a CSV: two decimals, decimal comma."""
    return euro(d).replace(".", ",")  # type: ignore[union-attr]


def csv_bytes(r: Rendiconto) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([heading for heading, _ in COLONNE])
    for row in righe(r):
        writer.writerow(csv_row(_it(row[k]) if k in IMPORTI else row[k] for _, k in COLONNE))
    return buffer.getvalue().encode("utf-8-sig")


# -- XLSX -------------------------------------------------------------------------------------

FORMATO_EURO = "#,##0.00"
FORMATO_PERCENTUALE = "0.00"

RIEPILOGO: tuple[tuple[str, str], ...] = (
    ("Codice fondo", "fondo"), ("Fondo", "denominazione_fondo"), ("Annualità", "annualita"),
    ("Assegnato (€)", "assegnato"), ("Stanziato (€)", "stanziato"), ("Impegnato lordo (€)", "impegnato_lordo"),
    ("Disimpegni ed economie (€)", "riduzioni"), ("Impegnato (€)", "impegnato"), ("Liquidato (€)", "liquidato"),
    ("Pagato (€)", "pagato"), ("Residui passivi (€)", "residui_passivi"),
    ("Disponibile (€) (assegnato − impegnato)", "disponibile"),
    ("Impegnato su assegnato (%)", "impegnato_su_assegnato"), ("Liquidato su assegnato (%)", "liquidato_su_assegnato"),
    ("Pagato su impegnato (%)", "pagato_su_impegnato"),
)
CONDIZIONI: tuple[str, ...] = ("Codice fondo", "Annualità", "Condizione", "Esito", "Valore (%)", "Soglia (%)",
                               "Base (€)", "Importo che conta (€)", "Mancante (€)", "Note")
INTERVENTI: tuple[str, ...] = ("Codice fondo", "Annualità", "Codice intervento", "Sistema di classificazione",
                               "Codice classificazione", "Macro-livello FNPS", "Stanziato (€)", "Impegnato (€)",
                               "Liquidato (€)", "Pagato (€)", "Stanziato da impegnare (€)",
                               "Impegnato su stanziato (%)")
RIDUZIONI: tuple[str, ...] = ("Data", "Codice fondo", "Annualità", "Codice intervento", "Codice ISTAT Comune",
                              "Comune / Ambito", "Impegno", "Tipo", "Importo (€)", "Motivo", "Registrata da")


def riepilogo(r: Rendiconto) -> list[dict[str, Any]]:
    """Totals per fund and annualità (amounts ``Decimal``, rates ``Decimal`` percentages or None)."""
    out = []
    for v in r.voci:
        c = v.cifre
        out.append({"fondo": v.fondo, "denominazione_fondo": FONDI.get(v.fondo, v.fondo), "annualita": v.annualita,
                    "assegnato": c.assegnato, "stanziato": c.stanziato, "impegnato_lordo": c.impegnato_lordo,
                    "riduzioni": c.ridotto, "impegnato": c.impegnato, "liquidato": c.liquidato, "pagato": c.pagato,
                    "residui_passivi": c.residui_passivi, "disponibile": c.disponibile, **v.tassi})
    return out


def condizioni(r: Rendiconto) -> list[list[Any]]:
    """One row per condition shown (the columns of ``CONDIZIONI``)."""
    out: list[list[Any]] = []
    for v in r.voci:
        q = v.quota_servizi
        if q is not None:
            out.append([v.fondo, v.annualita,
                        f"Quota minima per i servizi (macro-livelli {', '.join(q.macro_livelli)})",
                        STATI[q.stato], q.quota_percentuale, q.quota_minima_percentuale, q.base_stanziato,
                        q.stanziato_servizi, q.mancante, q.motivazione])
        f = v.condizione_fondo_poverta
        if f is not None:
            out.append([v.fondo, v.annualita,
                        f"Fondo Povertà: rendicontato almeno il {f.soglia_percentuale}% dell'annualità "
                        f"{f.annualita_riferimento}", STATI[f.stato], f.percentuale_rendicontata,
                        f.soglia_percentuale, f.assegnato_riferimento, f.rendicontato_riferimento, f.mancante,
                        f"{f.motivazione} Criterio: {f.criterio}. Fonte: {f.fonte}."])
    return out


def _cell(value: Any) -> Any:
    """Decimal → float here and only here: an XLSX number is an IEEE double (see the module docstring)."""
    return float(value) if isinstance(value, Decimal) else value


def _append(ws: Any, values: Iterable[Any]) -> None:
    """Append a row; text is text even when it starts with "=" (a reason typed by a user is never a formula)."""
    from openpyxl.cell.cell import Cell

    cells = []
    for x in values:  # typed before appending: reading the row back (``ws[ws.max_row]``) scans the whole sheet
        cell = Cell(ws, value=_cell(x))
        if cell.data_type == "f":
            cell.data_type = "s"
        cells.append(cell)
    ws.append(cells)


def xlsx(r: Rendiconto) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    intestazione = Font(bold=True, color="FFFFFF")
    sfondo = PatternFill("solid", fgColor="1F4E78")

    def foglio(ws: Any, headings: Iterable[str], rows: Iterable[list[Any]], formats: dict[int, str],
               widths: dict[int, int] | None = None) -> None:
        headings = list(headings)
        ws.append(headings)
        for cell in ws[1]:
            cell.font, cell.fill = intestazione, sfondo
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        n = 1
        for row in rows:
            _append(ws, row)
            n += 1
            for col, fmt in formats.items():
                ws.cell(row=n, column=col).number_format = fmt
        ws.freeze_panes = "A2"
        if n > 1:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headings))}{n}"
        for i, heading in enumerate(headings, start=1):
            ws.column_dimensions[get_column_letter(i)].width = (widths or {}).get(i, max(12, min(40, len(heading) + 2)))

    # 1. the detail
    ws = wb.active
    ws.title = "Rendicontazione"
    keys = [k for _, k in COLONNE]
    formats = {i: FORMATO_EURO for i, k in enumerate(keys, start=1) if k in IMPORTI}
    formats.update({i: "@" for i, k in enumerate(keys, start=1) if k in TESTI})
    foglio(ws, (h for h, _ in COLONNE), ([row[k] for k in keys] for row in righe(r)), formats)

    # 2. totals and conditions
    ws = wb.create_sheet("Riepilogo")
    ws.append([f"Rendicontazione dell'Ambito {r.ambito}"
               + (f" – generata il {r.generato_il:%d/%m/%Y %H:%M} UTC" if r.generato_il else "")])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    start = ws.max_row + 1
    keys = [k for _, k in RIEPILOGO]
    ws.append([h for h, _ in RIEPILOGO])
    for cell in ws[start]:
        cell.font, cell.fill = intestazione, sfondo
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in riepilogo(r):
        _append(ws, (row[k] for k in keys))
        for i, k in enumerate(keys, start=1):
            cell = ws.cell(row=ws.max_row, column=i)
            if k in ("assegnato", "stanziato", "impegnato_lordo", "riduzioni", "impegnato", "liquidato", "pagato",
                     "residui_passivi", "disponibile"):
                cell.number_format = FORMATO_EURO
            elif k.endswith(("_assegnato", "_impegnato")):
                cell.number_format = FORMATO_PERCENTUALE
    ws.append([])
    ws.append(["Condizioni"])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
    ws.append(list(CONDIZIONI))
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = intestazione, sfondo
    for row in condizioni(r):
        _append(ws, row)
        for col, fmt in ((5, FORMATO_PERCENTUALE), (6, FORMATO_PERCENTUALE), (7, FORMATO_EURO), (8, FORMATO_EURO),
                         (9, FORMATO_EURO)):
            ws.cell(row=ws.max_row, column=col).number_format = fmt
    for i in range(1, len(RIEPILOGO) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 18
    ws.column_dimensions["C"].width = 48
    ws.column_dimensions["J"].width = 60

    # 3. interventi with their allocations
    ws = wb.create_sheet("Interventi")
    rows = []
    for v in r.voci:
        for iv in v.interventi:
            n = iv.nomenclatura or {}
            c = iv.cifre
            rows.append([v.fondo, v.annualita, iv.intervento, n.get("sistema", ""), n.get("codice", ""),
                         iv.macro_livello or "", c.stanziato or ZERO, c.impegnato, c.liquidato, c.pagato,
                         c.stanziato_da_impegnare or ZERO, tassi(c)["impegnato_su_stanziato"]])
    foglio(ws, INTERVENTI, rows, {**{i: FORMATO_EURO for i in range(7, 12)}, 12: FORMATO_PERCENTUALE,
                                  **{i: "@" for i in (1, 3, 4, 5, 6)}})

    # 4. reductions, each with its reason
    ws = wb.create_sheet("Riduzioni")
    rows = [[x.il.strftime("%Y-%m-%d"), v.fondo, v.annualita, x.intervento, x.comune or "",
             x.comune or INTERO_AMBITO, x.impegno_id, x.tipo, x.importo, x.motivo, x.autore]
            for v in r.voci for x in v.riduzioni]
    foglio(ws, RIDUZIONI, rows, {9: FORMATO_EURO, **{i: "@" for i in (1, 2, 4, 5, 6, 7, 8)}}, {10: 60})

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def nome_file(r: Rendiconto, estensione: str) -> str:
    parti = ["rendicontazione", r.ambito, r.fondo or "tutti-i-fondi", str(r.annualita or "tutte-le-annualita")]
    return "_".join(parti) + f".{estensione}"
