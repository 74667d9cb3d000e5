"""The figures the indicators are computed from, read from several read models at once.

Indicators (``monitoring.projections.indicatori``) are pure functions; this module is their
I/O: each reader opens one transaction in the caller's scope (row-level security as the
unprivileged role), so the figures of one answer are consistent with each other, and the
database does the adding up (a few grouped rows, whatever the number of records).

- ``leggi_ambito``: one Ambito's Comuni (for a year: those that belonged to it that year by their legal
  dates, with the population at 1 January of the year from the kept history), spend (``esecuzione`` for the Ambito, the
  commitments and payment orders that name a Comune in ``opendata_*``), users
  (``prestazioni``), coverage (``copertura``) and staff (``personale``);
- ``leggi_regione``: the regional tables only (aggregates per Ambito, never a record);
- ``leggi_leps``: FTE of assistenti sociali and residents, for the LEPS ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from ambiti_kit.readmodel import ReadModel

from monitoring.domain.personale import DATORI_LEPS
from monitoring.projections.ambiti import popolazione_alla_data

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
    #: istat -> Σ monthly user counts (utenze mensili), Σ accesses, and the newest record's time per Comune
    utenti_per_comune: dict[str, int]
    accessi_per_comune: dict[str, int]
    ultimi_utenti: list[datetime]
    #: (intervento, istat) pairs with at least one record
    coperti: set[tuple[str, str]]
    #: FTE of social workers that count for the LEPS, and of those recorded but not counted
    fte_leps: Decimal
    fte_non_conteggiati: Decimal
    #: the newest staff declaration's time (None without any)
    ultimo_personale: datetime | None


def leggi_ambito(read_model: ReadModel, tenant: str, anno: int | None = None) -> DatiAmbito | None:
    """The Ambito's figures, or None while its composition is not registered."""
    t = read_model.table
    with read_model.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT istat, nome, popolazione FROM {} ORDER BY nome, istat").format(t("comuni")))
        comuni = curs.fetchall()
        if not comuni:
            return None
        if anno is not None:
            comuni = _comuni_dell_anno(curs, t, anno)
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
        curs.execute(sql.SQL("SELECT istat, sum(utenti_totale) AS utenti, sum(accessi) AS accessi, "
                             "max(ultimo_evento) AS ultimo FROM {} {} GROUP BY istat").format(t("prestazioni"), w), p)
        prestazioni = curs.fetchall()
        curs.execute(sql.SQL("SELECT DISTINCT intervento, istat FROM {} {}").format(t("copertura"), w), p)
        coperti = {(r["intervento"], r["istat"]) for r in curs.fetchall()}
        fte_leps, fte_altri, ultimo_personale = _personale(curs, t("personale"))
    return DatiAmbito(ambito=tenant, anno=anno, comuni=comuni, esecuzione=esecuzione,
                      impegnato_per_comune=impegnato, pagato_per_comune=pagato,
                      utenti_per_comune={r["istat"]: int(r["utenti"]) for r in prestazioni},
                      accessi_per_comune={r["istat"]: int(r["accessi"]) for r in prestazioni},
                      ultimi_utenti=[r["ultimo"] for r in prestazioni], coperti=coperti, fte_leps=fte_leps,
                      fte_non_conteggiati=fte_altri, ultimo_personale=ultimo_personale)


def _comuni_dell_anno(curs: Any, t: Any, anno: int) -> list[dict[str, Any]]:
    """The Comuni that belonged to the Ambito on some day of ``anno`` (by their legal dates of membership),
    each with its population at 1 January of ``anno`` (the latest reference date not after it)."""
    curs.execute(sql.SQL("SELECT DISTINCT ON (istat) istat, nome FROM {} WHERE dal <= %s AND al > %s "
                         "ORDER BY istat, dal DESC").format(t("appartenenze")), (date(anno, 12, 31), date(anno, 1, 1)))
    membri = {r["istat"]: r["nome"] for r in curs.fetchall()}
    curs.execute(sql.SQL("SELECT istat, popolazione_al, popolazione FROM {} WHERE istat = ANY(%s)").format(
        t("popolazioni")), (sorted(membri),))
    storico: dict[str, list] = {}
    for r in curs.fetchall():
        storico.setdefault(r["istat"], []).append((r["popolazione_al"], r["popolazione"]))
    return sorted(({"istat": i, "nome": n, "popolazione": popolazione_alla_data(storico.get(i, []), date(anno, 1, 1))
                    or 0} for i, n in membri.items()), key=lambda c: (c["nome"], c["istat"]))


def _personale(curs: Any, personale: sql.Composable) -> tuple[Decimal, Decimal, datetime | None]:
    """FTE of the Ambito's social workers that count for the LEPS (``conta_per_leps``), those that do not,
    and the newest declaration's time, whatever Comune (or none) each declaration names."""
    curs.execute(sql.SQL(
        "SELECT coalesce(sum(fte) FILTER (WHERE profilo = 'assistente_sociale' AND contratto = %s "
        "AND datore_lavoro = ANY(%s)), 0) AS leps, coalesce(sum(fte) FILTER (WHERE profilo = 'assistente_sociale'), "
        "0) AS tutti, max(ultimo_evento) AS ultimo FROM {}").format(personale),
        ("tempo_indeterminato", list(DATORI_LEPS)))
    r = curs.fetchone()
    return Decimal(r["leps"]), Decimal(r["tutti"]) - Decimal(r["leps"]), r["ultimo"]


def utenze_per_comune_e_area(read_model: ReadModel, tenant: str, anno: int | None = None) -> dict[tuple[str, str], int]:
    """(istat, area) -> Σ monthly user counts of the records of the year (or of all years)."""
    w, p = _anno("anno", anno)
    rows = read_model.fetch_all(sql.SQL(
        "SELECT x.istat, a.key AS area, sum(f.value::int) AS utenze FROM {} x "
        "CROSS JOIN LATERAL jsonb_each(x.utenti) a CROSS JOIN LATERAL jsonb_each_text(a.value) f {} "
        "GROUP BY x.istat, a.key").format(read_model.table("prestazioni"),
                                          sql.SQL("WHERE x.anno = %s") if anno is not None else sql.SQL("")),
        p, tenant=tenant)
    return {(r["istat"], r["area"]): int(r["utenze"]) for r in rows}


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
    accessi: dict[str, int]
    #: intervento -> Comuni covered (the largest yearly count over several years)
    copertura: dict[str, dict[str, int]]
    #: FTE of social workers that count for the LEPS, and of those recorded but not counted
    fte_assistenti_sociali: dict[str, Decimal]
    fte_non_conteggiati: dict[str, Decimal]
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
        curs.execute(sql.SQL("SELECT tenant_id, sum(utenti) AS utenti, sum(accessi) AS accessi FROM {} {} "
                             "GROUP BY tenant_id").format(t("regionale_prestazioni"), where_anno), p)
        righe = curs.fetchall()
        utenti = {r["tenant_id"]: int(r["utenti"]) for r in righe}
        accessi = {r["tenant_id"]: int(r["accessi"]) for r in righe}
        # Coverage over several years: the largest yearly count (a Comune may be covered in more than one year).
        curs.execute(sql.SQL("SELECT tenant_id, intervento, max(comuni) AS comuni FROM {} {} "
                             "GROUP BY tenant_id, intervento").format(t("regionale_copertura"), where_anno), p)
        copertura: dict[str, dict[str, int]] = {}
        for r in curs.fetchall():
            copertura.setdefault(r["tenant_id"], {})[r["intervento"]] = r["comuni"]
        curs.execute(sql.SQL("SELECT tenant_id, fte_leps, fte_assistenti_sociali FROM {}").format(
            t("regionale_personale")))
        personale = curs.fetchall()
        fte = {r["tenant_id"]: r["fte_leps"] for r in personale}
        altri = {r["tenant_id"]: r["fte_assistenti_sociali"] - r["fte_leps"] for r in personale}
        tabelle = ("regionale_ambiti", "regionale_esecuzione", "regionale_prestazioni", "regionale_copertura",
                   "regionale_personale")
        curs.execute(sql.SQL("SELECT tenant_id, max(ultimo_evento) AS ultimo FROM ({}) x GROUP BY tenant_id").format(
            sql.SQL(" UNION ALL ").join(sql.SQL("SELECT tenant_id, ultimo_evento FROM {}").format(t(n))
                                        for n in tabelle)))
        freschezza = {r["tenant_id"]: r["ultimo"] for r in curs.fetchall()}
    return DatiRegione(regione=regione, anno=anno, composizioni=composizioni, spesa=spesa, utenti=utenti,
                       accessi=accessi, copertura=copertura, fte_assistenti_sociali=fte, fte_non_conteggiati=altri,
                       freschezza=freschezza)


def leggi_leps(read_model: ReadModel, tenant: str) -> tuple[Decimal, Decimal, int]:
    """FTE of the Ambito's social workers that count for the LEPS, those that do not, and its residents
    (0 before its composition)."""
    with read_model.scoped(tenant=tenant) as curs:
        fte, altri, _ = _personale(curs, read_model.table("personale"))
        curs.execute(sql.SQL("SELECT coalesce(sum(popolazione), 0) AS n FROM {}").format(read_model.table("comuni")))
        residenti = curs.fetchone()["n"]
    return fte, altri, int(residenti)
