"""The figures the indicators are computed from, read from several read models at once.

Indicators (``monitoring.projections.indicatori``) are pure functions; this module is their
I/O: each reader opens one transaction in the caller's scope (row-level security as the
unprivileged role), so the figures of one answer are consistent with each other, and the
database does the adding up (a few grouped rows, whatever the number of records).

- ``leggi_ambito``: one Ambito's Comuni, spend (``esecuzione`` for the Ambito, the
  commitments and payment orders that name a Comune in ``opendata_*``), users
  (``prestazioni``), coverage (``copertura``) and staff (``personale``);
- ``leggi_regione``: the regional tables only (aggregates per Ambito, never a record);
- ``leggi_leps``: FTE of assistenti sociali and residents, for the LEPS ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from ambiti_kit.readmodel import ReadModel

ZERO = Decimal("0")


def _anno(colonna: str, anno: int | None) -> tuple[sql.Composable, tuple]:
    if anno is None:
        return sql.SQL(""), ()
    return sql.SQL("WHERE {} = %s").format(sql.Identifier(colonna)), (anno,)


@dataclass(frozen=True)
class DatiAmbito:
    """One Ambito's figures for a year (``anno``) or for all years (None)."""

    ambito: str
    anno: int | None
    #: istat, nome, popolazione; by name
    comuni: list[dict[str, Any]]
    #: Σ assegnato, impegnato (net), pagato over the funds, and the newest event (``ultimo``)
    esecuzione: dict[str, Any]
    impegnato_per_comune: dict[str, Decimal]
    pagato_per_comune: dict[str, Decimal]
    #: istat -> Σ users, and the newest record's time per Comune
    utenti_per_comune: dict[str, int]
    ultimi_utenti: list[datetime]
    #: (intervento, istat) pairs with at least one record
    coperti: set[tuple[str, str]]
    #: istat, profilo, fte, ultimo_evento of every staff declaration
    personale: list[dict[str, Any]]


def leggi_ambito(read_model: ReadModel, tenant: str, anno: int | None = None) -> DatiAmbito | None:
    """The Ambito's figures, or None while its composition is not registered."""
    t = read_model.table
    with read_model.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT istat, nome, popolazione FROM {} ORDER BY nome, istat").format(t("comuni")))
        comuni = curs.fetchall()
        if not comuni:
            return None
        w, p = _anno("annualita", anno)
        curs.execute(sql.SQL("SELECT coalesce(sum(assegnato), 0) AS assegnato, coalesce(sum(impegnato), 0) AS "
                             "impegnato, coalesce(sum(pagato), 0) AS pagato, max(ultimo_evento) AS ultimo FROM {} {}")
                     .format(t("esecuzione"), w), p)
        esecuzione = curs.fetchone()
        curs.execute(sql.SQL("SELECT comune, sum(importo - riduzioni) AS impegnato FROM {} {} GROUP BY comune")
                     .format(t("opendata_impegni"), w), p)
        impegnato = {r["comune"]: r["impegnato"] for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT i.comune, sum(m.importo) AS pagato FROM {} m JOIN {} i USING (tenant_id, "
                             "impegno_id) {} GROUP BY i.comune").format(
            t("opendata_pagamenti"), t("opendata_impegni"),
            sql.SQL("WHERE i.annualita = %s") if anno is not None else sql.SQL("")), p)
        pagato = {r["comune"]: r["pagato"] for r in curs.fetchall()}
        w, p = _anno("anno", anno)
        curs.execute(sql.SQL("SELECT istat, sum(utenti_totale) AS utenti, max(ultimo_evento) AS ultimo FROM {} {} "
                             "GROUP BY istat").format(t("prestazioni"), w), p)
        prestazioni = curs.fetchall()
        curs.execute(sql.SQL("SELECT DISTINCT intervento, istat FROM {} {}").format(t("copertura"), w), p)
        coperti = {(r["intervento"], r["istat"]) for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT istat, profilo, fte, ultimo_evento FROM {}").format(t("personale")))
        personale = curs.fetchall()
    return DatiAmbito(ambito=tenant, anno=anno, comuni=comuni, esecuzione=esecuzione,
                      impegnato_per_comune=impegnato, pagato_per_comune=pagato,
                      utenti_per_comune={r["istat"]: int(r["utenti"]) for r in prestazioni},
                      ultimi_utenti=[r["ultimo"] for r in prestazioni], coperti=coperti, personale=personale)


@dataclass(frozen=True)
class DatiRegione:
    """The regional figures of every Ambito of one Region, per Ambito code."""

    regione: str
    anno: int | None
    #: nome, comuni, popolazione
    composizioni: dict[str, dict[str, Any]]
    #: Σ assegnato, impegnato, pagato
    spesa: dict[str, dict[str, Decimal]]
    utenti: dict[str, int]
    #: intervento -> Comuni covered (the largest yearly count over several years)
    copertura: dict[str, dict[str, int]]
    fte_assistenti_sociali: dict[str, Decimal]
    #: the newest event of the Ambito applied to any regional table
    freschezza: dict[str, datetime]


def leggi_regione(read_model: ReadModel, regione: str, anno: int | None = None) -> DatiRegione:
    t = read_model.table
    where_esecuzione, p = _anno("annualita", anno)
    where_anno, _ = _anno("anno", anno)
    with read_model.scoped(regione=regione) as curs:
        curs.execute(sql.SQL("SELECT tenant_id, nome, comuni, popolazione FROM {}").format(t("regionale_ambiti")))
        composizioni = {r.pop("tenant_id"): r for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, sum(assegnato) AS assegnato, sum(impegnato) AS impegnato, "
                             "sum(pagato) AS pagato FROM {} {} GROUP BY tenant_id").format(
            t("regionale_esecuzione"), where_esecuzione), p)
        spesa = {r.pop("tenant_id"): r for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, sum(utenti) AS utenti FROM {} {} GROUP BY tenant_id").format(
            t("regionale_prestazioni"), where_anno), p)
        utenti = {r["tenant_id"]: int(r["utenti"]) for r in curs.fetchall()}
        # Coverage over several years: the largest yearly count (a Comune may be covered in more than one year).
        curs.execute(sql.SQL("SELECT tenant_id, intervento, max(comuni) AS comuni FROM {} {} "
                             "GROUP BY tenant_id, intervento").format(t("regionale_copertura"), where_anno), p)
        copertura: dict[str, dict[str, int]] = {}
        for r in curs.fetchall():
            copertura.setdefault(r["tenant_id"], {})[r["intervento"]] = r["comuni"]
        curs.execute(sql.SQL("SELECT tenant_id, fte_assistenti_sociali FROM {}").format(t("regionale_personale")))
        fte = {r["tenant_id"]: r["fte_assistenti_sociali"] for r in curs.fetchall()}
        tabelle = ("regionale_ambiti", "regionale_esecuzione", "regionale_prestazioni", "regionale_copertura",
                   "regionale_personale")
        curs.execute(sql.SQL("SELECT tenant_id, max(ultimo_evento) AS ultimo FROM ({}) x GROUP BY tenant_id").format(
            sql.SQL(" UNION ALL ").join(sql.SQL("SELECT tenant_id, ultimo_evento FROM {}").format(t(n))
                                        for n in tabelle)))
        freschezza = {r["tenant_id"]: r["ultimo"] for r in curs.fetchall()}
    return DatiRegione(regione=regione, anno=anno, composizioni=composizioni, spesa=spesa, utenti=utenti,
                       copertura=copertura, fte_assistenti_sociali=fte, freschezza=freschezza)


def leggi_leps(read_model: ReadModel, tenant: str) -> tuple[Decimal, int]:
    """FTE of the Ambito's assistenti sociali and its residents (0 before its composition)."""
    with read_model.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT coalesce(sum(fte), 0) AS fte FROM {} WHERE profilo = 'assistente_sociale'")
                     .format(read_model.table("personale")))
        fte = curs.fetchone()["fte"]
        curs.execute(sql.SQL("SELECT coalesce(sum(popolazione), 0) AS n FROM {}").format(read_model.table("comuni")))
        residenti = curs.fetchone()["n"]
    return Decimal(fte), int(residenti)
