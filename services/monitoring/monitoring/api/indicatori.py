"""Indicators per Ambito and per Comune, and their CSV exports (reports, not paged lists).

Formulas: ``monitoring.projections.indicatori``; figures: ``monitoring.projections.
dati_indicatori``. Per Ambito, spend and execution rates come from ``esecuzione`` (all funds;
one annualità with ``?anno=``); per Comune, spend comes from the commitments that name the
Comune (``opendata_impegni``, net of reductions) and their payment orders, so the Comuni do not
add up to the Ambito when commitments are for the whole Ambito; execution rates are per Ambito
only.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.exports import csv_row
from ambiti_kit.readmodel import ReadModel

from monitoring.api.deps import Anno, Leps, Lettore, ReadModelDep
from monitoring.domain.prestazioni import AREE_TARGET
from monitoring.domain.riservatezza import sopprimi
from monitoring.projections.dati_indicatori import leggi_ambito, utenze_per_comune_e_area
from monitoring.projections.indicatori import NOMI, per_ambito
from monitoring.settings import riservatezza

router = APIRouter(tags=["Indicatori"])


#: a count as published: the number, or ``<soglia`` (a small count) or ``n.d.`` (suppressed so that totals
#: do not reveal a small count): see ``monitoring.domain.riservatezza``
Conteggio = Annotated[int | str, Field(description=(
    "Un conteggio: il numero, oppure \"<3\" (conteggio piccolo, soglia configurabile) o \"n.d.\" (non divulgato "
    "perché i totali non rivelino un conteggio piccolo)."))]


class IndicatoriBase(BaseModel):
    residenti: int
    #: pagato / residenti (two decimals)
    spesa_pro_capite_pagato: str | None
    #: impegnato (net) / residenti
    spesa_pro_capite_impegnato: str | None
    #: impegnato / assegnato (per Ambito; null per Comune)
    tasso_impegno: str | None
    #: pagato / impegnato
    tasso_pagamento: str | None
    utenze_mensili: Conteggio = Field(description=(
        "Somma dei conteggi mensili di utenti delle prestazioni del periodo: chi è servito in due mesi (o da due "
        "interventi) conta due volte. Non è il numero di persone distinte, che la piattaforma non conosce."))
    utenze_mensili_per_mille: str | None = Field(description="utenze_mensili × 1.000 / residenti (o il segno di "
                                                             "soppressione).")
    accessi: Conteggio = Field(description="Somma degli accessi (prestazioni erogate) del periodo.")
    #: intervento -> share of Comuni with at least one record in the period
    copertura: dict[str, str | None]


class Indicatori(IndicatoriBase):
    utenti: Conteggio = Field(deprecated=True, description="Deprecato: è `utenze_mensili` (somma di conteggi "
                                                            "mensili, non persone).")
    utenti_per_mille: str | None = Field(deprecated=True, description="Deprecato: è `utenze_mensili_per_mille`.")
    #: the Ambito's LEPS (no Comune has one)
    leps: Leps


class IndicatoriComune(IndicatoriBase):
    istat: str
    nome: str


class IndicatoriAmbito(BaseModel):
    ambito: str
    anno: int | None
    #: newest event applied to any of the figures used
    aggiornato_al: datetime | None
    soglia_riservatezza: int = Field(description="Conteggi da 1 a soglia − 1 non si pubblicano per Comune.")
    ambito_indicatori: Indicatori
    comuni: list[IndicatoriComune]


def calcola(read_model: ReadModel, tenant: str, anno: int | None) -> IndicatoriAmbito:
    """Every indicator of the Ambito and its Comuni (404 before its composition is registered)."""
    dati = leggi_ambito(read_model, tenant, anno)
    if dati is None:
        raise NotFound("La composizione dell'Ambito non è ancora registrata.")
    return IndicatoriAmbito(**per_ambito(dati, riservatezza().soglia))


@router.get("/indicatori", response_model=IndicatoriAmbito)
def indicatori_ambito(read_model: ReadModelDep, principal: Lettore, anno: Anno = None) -> IndicatoriAmbito:
    """Indicatori dell'Ambito e di ciascun Comune (spesa pro capite, esecuzione, utenti per 1.000 residenti,
    rapporto LEPS, copertura degli interventi), per un anno o per tutti."""
    return calcola(read_model, tenant_of(principal), anno)


def righe_csv(nome: str, vista: IndicatoriAmbito) -> tuple[list[str], list[list[Any]]]:
    """The rows of one indicator's CSV: the Ambito first (``livello`` = ambito), then each Comune."""
    unita = [("ambito", vista.ambito, "", vista.ambito_indicatori),
             *(("comune", c.istat, c.nome, c) for c in vista.comuni)]
    testa = ["livello", "codice", "nome", "anno"]
    anno = vista.anno if vista.anno is not None else ""
    if nome == "spesa_pro_capite":
        return ([*testa, "residenti", "spesa_pro_capite_impegnato", "spesa_pro_capite_pagato"],
                [[l, k, n, anno, i.residenti, i.spesa_pro_capite_impegnato, i.spesa_pro_capite_pagato]
                 for l, k, n, i in unita])
    if nome == "esecuzione":
        return ([*testa, "tasso_impegno", "tasso_pagamento"],
                [[l, k, n, anno, i.tasso_impegno, i.tasso_pagamento] for l, k, n, i in unita])
    if nome == "utenti_per_mille":
        return ([*testa, "residenti", "utenze_mensili", "accessi", "utenze_mensili_per_mille"],
                [[l, k, n, anno, i.residenti, i.utenze_mensili, i.accessi, i.utenze_mensili_per_mille]
                 for l, k, n, i in unita])
    if nome == "leps":  # the Ambito's only: the LEPS is a measure of the Ambito, never of a Comune
        x = vista.ambito_indicatori.leps
        c = x.contributo_statale
        return ([*testa, "residenti", "fte_assistenti_sociali", "fte_assistenti_sociali_non_conteggiati",
                 "residenti_per_assistente", "fte_richiesti_1_6500", "fte_richiesti_1_5000", "fte_richiesti_1_4000",
                 "soglia_1_6500_raggiunta", "leps_1_5000_raggiunto", "obiettivo_1_4000_raggiunto",
                 "contributo_fte_6500_5000", "contributo_importo_6500_5000", "contributo_fte_5000_4000",
                 "contributo_importo_5000_4000", "contributo_totale"],
                [["ambito", vista.ambito, "", anno, x.residenti, x.fte_assistenti_sociali,
                  x.fte_assistenti_sociali_non_conteggiati, x.residenti_per_assistente, x.fte_richiesti_1_6500,
                  x.fte_richiesti_1_5000, x.fte_richiesti_1_4000, x.soglia_1_6500_raggiunta, x.leps_1_5000_raggiunto,
                  x.obiettivo_1_4000_raggiunto, c.fte_fascia_6500_5000, c.importo_fascia_6500_5000,
                  c.fte_fascia_5000_4000, c.importo_fascia_5000_4000, c.totale]])
    return ([*testa, "intervento", "copertura"],
            [[l, k, n, anno, intervento, valore] for l, k, n, i in unita for intervento, valore in i.copertura.items()])


def csv_text(testa: list[str], righe: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(testa)
    writer.writerows(csv_row(r) for r in righe)
    return out.getvalue()


def csv_response(testa: list[str], righe: list[list[Any]], filename: str) -> Response:
    return Response(csv_text(testa, righe), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def indicatore(read_model: ReadModel, tenant: str, nome: str, anno: int | None) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one indicator's CSV (``utenze_per_area`` too), small counts suppressed."""
    if nome == "utenze_per_area":
        return righe_per_area(calcola(read_model, tenant, anno), utenze_per_comune_e_area(read_model, tenant, anno),
                              riservatezza().soglia)
    if nome not in NOMI:
        raise NotFound(f"Indicatore sconosciuto: {nome!r} (disponibili: {', '.join((*NOMI, 'utenze_per_area'))}).")
    return righe_csv(nome, calcola(read_model, tenant, anno))


def righe_per_area(vista: IndicatoriAmbito, utenze: dict[tuple[str, str], int],
                   soglia: int) -> tuple[list[str], list[list[Any]]]:
    """Monthly user counts per Comune (rows) and target area (columns) with both totals, suppressed.

    Months of Comuni that have left the Ambito are one more row, never shown (it is in the totals)."""
    membri = [c.istat for c in vista.comuni]
    altri = [[sum(n for (istat, a), n in utenze.items() if a == area and istat not in membri) for area in AREE_TARGET]]
    celle = [[utenze.get((istat, area), 0) for area in AREE_TARGET] for istat in membri] + altri
    t = sopprimi(celle, soglia)
    anno = vista.anno if vista.anno is not None else ""
    righe = [["comune", c.istat, c.nome, anno, *t.celle[k], t.totali_riga[k]]  # type: ignore[index]
             for k, c in enumerate(vista.comuni)]
    righe.append(["ambito", vista.ambito, "", anno, *t.totali_colonna, t.totale])  # type: ignore[misc]
    return ["livello", "codice", "nome", "anno", *AREE_TARGET, "totale"], righe


@router.get("/indicatori/utenze_per_area.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def utenze_per_area_csv(read_model: ReadModelDep, principal: Lettore, anno: Anno = None) -> Response:
    """Utenze mensili per Comune e area di utenza in CSV, con i totali: i conteggi piccoli sono soppressi
    ("<3") e, dove i totali li rivelerebbero, anche altri ("n.d.")."""
    return csv_response(*indicatore(read_model, tenant_of(principal), "utenze_per_area", anno),
                        "utenze_per_area.csv")


@router.get("/indicatori/{nome}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def indicatore_csv(nome: str, read_model: ReadModelDep, principal: Lettore, anno: Anno = None) -> Response:
    """Un indicatore in CSV: una riga per l'Ambito e una per ogni Comune (il LEPS solo per l'Ambito); i
    conteggi per Comune sotto la soglia di riservatezza sono soppressi."""
    return csv_response(*indicatore(read_model, tenant_of(principal), nome, anno), f"{nome}.csv")
