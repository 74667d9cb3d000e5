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
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.exports import csv_row
from ambiti_kit.readmodel import ReadModel

from monitoring.api.deps import Anno, Leps, Lettore, ReadModelDep
from monitoring.projections.dati_indicatori import leggi_ambito
from monitoring.projections.indicatori import NOMI, per_ambito

router = APIRouter(tags=["Indicatori"])


class Indicatori(BaseModel):
    residenti: int
    #: pagato / residenti (two decimals)
    spesa_pro_capite_pagato: str | None
    #: impegnato (net) / residenti
    spesa_pro_capite_impegnato: str | None
    #: impegnato / assegnato (per Ambito; null per Comune)
    tasso_impegno: str | None
    #: pagato / impegnato
    tasso_pagamento: str | None
    #: Σ monthly users of the period
    utenti: int
    utenti_per_mille: str | None
    leps: Leps
    #: intervento -> share of Comuni with at least one record in the period
    copertura: dict[str, str | None]


class IndicatoriComune(Indicatori):
    istat: str
    nome: str


class IndicatoriAmbito(BaseModel):
    ambito: str
    anno: int | None
    #: newest event applied to any of the figures used
    aggiornato_al: datetime | None
    ambito_indicatori: Indicatori
    comuni: list[IndicatoriComune]


def calcola(read_model: ReadModel, tenant: str, anno: int | None) -> IndicatoriAmbito:
    """Every indicator of the Ambito and its Comuni (404 before its composition is registered)."""
    dati = leggi_ambito(read_model, tenant, anno)
    if dati is None:
        raise NotFound("La composizione dell'Ambito non è ancora registrata.")
    return IndicatoriAmbito(**per_ambito(dati))


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
        return ([*testa, "residenti", "utenti", "utenti_per_mille"],
                [[l, k, n, anno, i.residenti, i.utenti, i.utenti_per_mille] for l, k, n, i in unita])
    if nome == "leps":
        return ([*testa, "residenti", "fte_assistenti_sociali", "residenti_per_assistente", "fte_richiesti_1_6500",
                 "fte_richiesti_1_5000", "soglia_1_6500_raggiunta", "obiettivo_1_5000_raggiunto"],
                [[l, k, n, anno, i.leps.residenti, i.leps.fte_assistenti_sociali, i.leps.residenti_per_assistente,
                  i.leps.fte_richiesti_1_6500, i.leps.fte_richiesti_1_5000, i.leps.soglia_1_6500_raggiunta,
                  i.leps.obiettivo_1_5000_raggiunto] for l, k, n, i in unita])
    return ([*testa, "intervento", "copertura"],
            [[l, k, n, anno, intervento, valore] for l, k, n, i in unita for intervento, valore in i.copertura.items()])


def csv_response(testa: list[str], righe: list[list[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(testa)
    writer.writerows(csv_row(r) for r in righe)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/indicatori/{nome}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def indicatore_csv(nome: str, read_model: ReadModelDep, principal: Lettore, anno: Anno = None) -> Response:
    """Un indicatore in CSV: una riga per l'Ambito e una per ogni Comune."""
    if nome not in NOMI:
        raise NotFound(f"Indicatore sconosciuto: {nome!r} (disponibili: {', '.join(NOMI)}).")
    testa, righe = righe_csv(nome, calcola(read_model, tenant_of(principal), anno))
    return csv_response(testa, righe, f"{nome}.csv")
