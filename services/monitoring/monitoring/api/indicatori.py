"""Indicators per Ambito and per Comune, their CSV exports, and the open-data exports.

Formulas: ``monitoring.projections.indicatori``. Per Ambito, spend and execution rates come
from ``esecuzione`` (all funds; one annualità with ``?anno=``); per Comune, spend comes from
the commitments that name the Comune (``opendata_impegni``, net of reductions) and their
payment orders, so the Comuni do not add up to the Ambito when commitments are for the whole
Ambito; execution rates are per Ambito only.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.service import Runtime, RuntimeDep

from monitoring.api.personale import Leps
from monitoring.api.piani import Lettore
from monitoring.projections.indicatori import NOMI, indicatori
from monitoring.projections.opendata import COLONNE_360, giving360, ocds

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


def _where_anno(colonna: str, anno: int | None) -> tuple[sql.Composable, tuple]:
    if anno is None:
        return sql.SQL(""), ()
    return sql.SQL("WHERE {} = %s").format(sql.Identifier(colonna)), (anno,)


def calcola(runtime: Runtime, tenant: str, anno: int | None) -> IndicatoriAmbito:
    """Read the tenant's figures in one transaction and compute every indicator."""
    rm = runtime.read_model
    t = rm.table
    zero = Decimal("0")
    with rm.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT istat, nome, popolazione FROM {} ORDER BY nome").format(t("comuni")))
        comuni = curs.fetchall()
        if not comuni:
            raise NotFound("La composizione dell'Ambito non è ancora registrata.")
        w, p = _where_anno("annualita", anno)
        curs.execute(sql.SQL("SELECT coalesce(sum(assegnato), 0) AS assegnato, coalesce(sum(impegnato), 0) AS "
                             "impegnato, coalesce(sum(pagato), 0) AS pagato, max(ultimo_evento) AS ultimo FROM {} {}")
                     .format(t("esecuzione"), w), p)
        esecuzione = curs.fetchone()
        curs.execute(sql.SQL("SELECT comune, sum(importo - riduzioni) AS impegnato FROM {} {} GROUP BY comune")
                     .format(t("opendata_impegni"), w), p)
        impegnato_comune = {r["comune"]: r["impegnato"] for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT i.comune, sum(m.importo) AS pagato FROM {} m JOIN {} i USING (tenant_id, "
                             "impegno_id) {} GROUP BY i.comune").format(
            t("opendata_pagamenti"), t("opendata_impegni"),
            sql.SQL("WHERE i.annualita = %s") if anno is not None else sql.SQL("")), p)
        pagato_comune = {r["comune"]: r["pagato"] for r in curs.fetchall()}
        w, p = _where_anno("anno", anno)
        curs.execute(sql.SQL("SELECT istat, sum(utenti_totale) AS utenti, max(ultimo_evento) AS ultimo FROM {} {} "
                             "GROUP BY istat").format(t("prestazioni"), w), p)
        prestazioni = curs.fetchall()
        utenti_comune = {r["istat"]: int(r["utenti"]) for r in prestazioni}
        curs.execute(sql.SQL("SELECT DISTINCT intervento, istat FROM {} {}").format(t("copertura"), w), p)
        coperti = [(r["intervento"], r["istat"]) for r in curs.fetchall()]
        curs.execute(sql.SQL("SELECT istat, profilo, fte, ultimo_evento FROM {}").format(t("personale")))
        personale = curs.fetchall()
    membri = {c["istat"] for c in comuni}
    interventi = sorted({i for i, _ in coperti})
    fte_comune: dict[str, Decimal] = {}
    for r in personale:
        if r["profilo"] == "assistente_sociale":
            fte_comune[r["istat"]] = fte_comune.get(r["istat"], zero) + r["fte"]
    residenti = sum(c["popolazione"] for c in comuni)
    ambito = indicatori(
        residenti=residenti, comuni=len(comuni), assegnato=esecuzione["assegnato"],
        impegnato=esecuzione["impegnato"], pagato=esecuzione["pagato"], utenti=sum(utenti_comune.values()),
        fte_assistenti_sociali=sum(fte_comune.values(), zero),
        comuni_coperti={i: len({c for x, c in coperti if x == i and c in membri}) for i in interventi})
    per_comune = [IndicatoriComune(istat=c["istat"], nome=c["nome"], **indicatori(
        residenti=c["popolazione"], comuni=1, assegnato=zero, impegnato=impegnato_comune.get(c["istat"], zero),
        pagato=pagato_comune.get(c["istat"], zero), utenti=utenti_comune.get(c["istat"], 0),
        fte_assistenti_sociali=fte_comune.get(c["istat"], zero),
        comuni_coperti={i: int((i, c["istat"]) in coperti) for i in interventi})) for c in comuni]
    for c in per_comune:
        c.tasso_impegno = None  # execution rates are per Ambito (assignments are not per Comune)
    tempi = [x for x in (esecuzione["ultimo"], *(r["ultimo"] for r in prestazioni),
                         *(r["ultimo_evento"] for r in personale)) if x]
    return IndicatoriAmbito(ambito=tenant, anno=anno, aggiornato_al=max(tempi, default=None),
                            ambito_indicatori=Indicatori(**ambito), comuni=per_comune)


@router.get("/indicatori", response_model=IndicatoriAmbito)
def indicatori_ambito(runtime: RuntimeDep, principal: Lettore, anno: int | None = None) -> IndicatoriAmbito:
    """Indicatori dell'Ambito e di ciascun Comune (spesa pro capite, esecuzione, utenti per 1.000 residenti,
    rapporto LEPS, copertura degli interventi), per un anno o per tutti."""
    return calcola(runtime, tenant_of(principal), anno)


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
    writer.writerows([["" if v is None else v for v in r] for r in righe])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/indicatori/{nome}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def indicatore_csv(nome: str, runtime: RuntimeDep, principal: Lettore, anno: int | None = None) -> Response:
    """Un indicatore in CSV: una riga per l'Ambito e una per ogni Comune."""
    if nome not in NOMI:
        raise NotFound(f"Indicatore sconosciuto: {nome!r} (disponibili: {', '.join(NOMI)}).")
    testa, righe = righe_csv(nome, calcola(runtime, tenant_of(principal), anno))
    return csv_response(testa, righe, f"{nome}.csv")


def _opendata(runtime: Runtime, tenant: str) -> tuple[list[dict], list[dict]]:
    rm = runtime.read_model
    with rm.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT * FROM {} ORDER BY assunto_il, impegno_id").format(rm.table("opendata_impegni")))
        impegni = curs.fetchall()
        curs.execute(sql.SQL("SELECT * FROM {}").format(rm.table("opendata_pagamenti")))
        pagamenti = curs.fetchall()
    return impegni, pagamenti


@router.get("/opendata/ocds.json")
def opendata_ocds(runtime: RuntimeDep, principal: Lettore) -> dict[str, Any]:
    """Contratti e pagamenti dell'Ambito come release OCDS (una per impegno, con i mandati come transazioni)."""
    tenant = tenant_of(principal)
    impegni, pagamenti = _opendata(runtime, tenant)
    pubblicato = max((i["assunto_il"] for i in impegni), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    return ocds(tenant, impegni, pagamenti, pubblicato)


@router.get("/opendata/360giving.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def opendata_360giving(runtime: RuntimeDep, principal: Lettore) -> Response:
    """Gli affidamenti e contributi dell'Ambito nel tracciato 360Giving (CSV)."""
    tenant = tenant_of(principal)
    impegni, _ = _opendata(runtime, tenant)
    return csv_response(list(COLONNE_360), giving360(tenant, impegni), "360giving.csv")
