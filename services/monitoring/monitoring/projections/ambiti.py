"""The composition of each Ambito (Comuni and dated populations), and its regional summary.

Each ``planning.ambito.composizione_registrata`` carries the whole composition: the
projection replaces the tenant's rows. The regional table keeps only totals.

Membership with validity dates (``appartenenze``): one row per period a Comune belongs to
the Ambito, ``[dal, al)``. A Comune counts from its legal date of membership when planning
publishes one (``comuni[].aderente_dal``, issue 12; a later composition that gives or corrects
it moves the start of the open period). Without it, the first composition of an Ambito opens
its Comuni since ever (``dal = 0001-01-01``, ``date.min``: the platform knows nothing earlier;
an open period has ``al = 9999-12-31``, ``date.max``) and a later composition opens periods
for the Comuni it adds from the date of its event; a later composition closes the periods of
the Comuni it no longer lists (``al`` = the date of its event), or at a Comune's legal leaving date
when planning publishes one (``comuni[].cessato_dal``: the first day it is no longer a member).

Populations keep their history (``popolazioni``): each composition carries the populations at
its ``popolazione_al``; a new date adds rows and never overwrites a past one (the same date
again takes the newer composition's figure). ``comuni`` is the composition in force. Periods are never deleted, so a Comune that moved
to another Ambito or merged keeps, in its former Ambito, the months it belonged to it:
services delivered are recorded under the tenant the Comune belonged to in their month
(``monitoring.domain.prestazioni.comune_nel_ambito``), and past figures stay with it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import ReadModel

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.comuni (
        tenant_id text NOT NULL, istat text NOT NULL, nome text NOT NULL, popolazione int NOT NULL,
        popolazione_al date NOT NULL, capofila boolean NOT NULL, PRIMARY KEY (tenant_id, istat))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_ambiti (
        regione text NOT NULL, tenant_id text NOT NULL, nome text NOT NULL, comuni int NOT NULL,
        popolazione int NOT NULL, popolazione_al date NOT NULL, versione int NOT NULL,
        ultimo_evento timestamptz NOT NULL,
        PRIMARY KEY (regione, tenant_id))""",
    "ALTER TABLE {schema}.regionale_ambiti ADD COLUMN IF NOT EXISTS versione int NOT NULL DEFAULT 0",
    """CREATE TABLE IF NOT EXISTS {schema}.appartenenze (
        tenant_id text NOT NULL, istat text NOT NULL, nome text NOT NULL, dal date NOT NULL, al date NOT NULL,
        PRIMARY KEY (tenant_id, istat, dal))""",
    # every population at every reference date a composition carried: a new date never overwrites a past one.
    # Filled from ``comuni`` when created on a database that has compositions (owner, without FORCE; the kit
    # forces RLS again right after).
    """CREATE TABLE IF NOT EXISTS {schema}.popolazioni (
        tenant_id text NOT NULL, istat text NOT NULL, popolazione_al date NOT NULL, popolazione int NOT NULL,
        PRIMARY KEY (tenant_id, istat, popolazione_al))""",
    "ALTER TABLE {schema}.popolazioni NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE {schema}.comuni NO FORCE ROW LEVEL SECURITY",
    """INSERT INTO {schema}.popolazioni (tenant_id, istat, popolazione_al, popolazione)
        SELECT tenant_id, istat, popolazione_al, popolazione FROM {schema}.comuni
        WHERE NOT EXISTS (SELECT 1 FROM {schema}.popolazioni)""",
]
TENANT_TABLES = ["comuni", "appartenenze", "popolazioni"]
REGIONAL_TABLES = ["regionale_ambiti"]


class Comune(BaseModel):
    model_config = ConfigDict(extra="ignore")

    istat: str
    nome: str
    popolazione: int
    #: the legal date the Comune joined the Ambito (optional: planning adds it when it is known)
    aderente_dal: date | None = None
    #: the first day it is no longer a member (optional: its legal leaving date, when known)
    cessato_dal: date | None = None


class ComposizioneRegistrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    versione: int
    nome: str
    capofila_istat: str
    popolazione_al: date
    comuni: list[Comune]


def inizio_appartenenza(aderente_dal: date | None, prima_composizione: bool, giorno: date) -> date:
    """When a Comune a composition lists (and that was not a member) starts to count for the Ambito: its legal
    date of membership when planning publishes one; otherwise since ever for the Ambito's first composition
    (the platform knows nothing earlier) and the day of the composition's event for a later one."""
    if aderente_dal is not None:
        return aderente_dal
    return date.min if prima_composizione else giorno


def popolazione_alla_data(storico: list[tuple[date, int]], al: date) -> int | None:
    """The population of the latest reference date not after ``al``; before the first one, the first one
    (the nearest figure the Ambito registered); None without any."""
    ordinati = sorted(storico)
    if not ordinati:
        return None
    validi = [p for d, p in ordinati if d <= al]
    return validi[-1] if validi else ordinati[0][1]


def project_composizione(schema: str) -> Any:
    comuni = sql.SQL("{}.comuni").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_ambiti").format(sql.Identifier(schema))
    appartenenze = sql.SQL("{}.appartenenze").format(sql.Identifier(schema))
    popolazioni = sql.SQL("{}.popolazioni").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        ambito = ComposizioneRegistrata.model_validate(event.data)
        curs.execute(sql.SQL("SELECT versione FROM {} WHERE regione = %s AND tenant_id = %s").format(regionale),
                     (regione_of(event.tenantid), event.tenantid))
        current = curs.fetchone()
        if current is not None and current["versione"] >= ambito.versione:
            return  # an older composition arriving late (e.g. re-read after a broker loss)
        curs.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(comuni), (event.tenantid,))
        # executemany, not COPY: PostgreSQL refuses COPY FROM into a table under RLS.
        curs.executemany(sql.SQL("INSERT INTO {} (tenant_id, istat, nome, popolazione, popolazione_al, capofila) "
                                 "VALUES (%s, %s, %s, %s, %s, %s)").format(comuni),
                         [(event.tenantid, c.istat, c.nome, c.popolazione, ambito.popolazione_al,
                           c.istat == ambito.capofila_istat) for c in ambito.comuni])
        curs.execute(sql.SQL(
            "INSERT INTO {} (regione, tenant_id, nome, comuni, popolazione, popolazione_al, versione, ultimo_evento) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (regione, tenant_id) DO UPDATE SET "
            "nome = excluded.nome, comuni = excluded.comuni, popolazione = excluded.popolazione, "
            "popolazione_al = excluded.popolazione_al, versione = excluded.versione, "
            "ultimo_evento = excluded.ultimo_evento").format(regionale),
            (regione_of(event.tenantid), event.tenantid, ambito.nome, len(ambito.comuni),
             sum(c.popolazione for c in ambito.comuni), ambito.popolazione_al, ambito.versione, event.time))
        curs.executemany(sql.SQL("INSERT INTO {} (tenant_id, istat, popolazione_al, popolazione) VALUES (%s, %s, %s, "
                                 "%s) ON CONFLICT (tenant_id, istat, popolazione_al) DO UPDATE SET "
                                 "popolazione = excluded.popolazione").format(popolazioni),
                         [(event.tenantid, c.istat, ambito.popolazione_al, c.popolazione) for c in ambito.comuni])
        curs.execute(sql.SQL("SELECT istat, dal FROM {} WHERE tenant_id = %s AND al = '9999-12-31'").format(
            appartenenze), (event.tenantid,))
        aperte = {r["istat"]: r["dal"] for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE tenant_id = %s").format(appartenenze),
                     (event.tenantid,))
        prima = curs.fetchone()["n"] == 0
        giorno = event.time.date()
        nuovi = {c.istat: c for c in ambito.comuni}
        curs.execute(sql.SQL("UPDATE {} SET al = %s WHERE tenant_id = %s AND al = '9999-12-31' AND istat = ANY(%s)")
                     .format(appartenenze), (giorno, event.tenantid, sorted(aperte.keys() - nuovi.keys())))
        # a legal date given (or corrected) for a Comune already a member moves the start of its open period
        for istat, dal in aperte.items():
            legale = nuovi[istat].aderente_dal if istat in nuovi else None
            if legale is not None and legale != dal:
                curs.execute(sql.SQL("UPDATE {} SET dal = %s WHERE tenant_id = %s AND istat = %s AND dal = %s AND "
                                     "al = '9999-12-31' AND NOT EXISTS (SELECT 1 FROM {} WHERE tenant_id = %s AND "
                                     "istat = %s AND dal = %s)").format(appartenenze, appartenenze),
                             (legale, event.tenantid, istat, dal, event.tenantid, istat, legale))
        curs.execute(sql.SQL("SELECT istat, al FROM {} WHERE tenant_id = %s AND al <> '9999-12-31'").format(
            appartenenze), (event.tenantid,))
        chiusi = {(r["istat"], r["al"]) for r in curs.fetchall()}
        curs.executemany(sql.SQL("INSERT INTO {} (tenant_id, istat, nome, dal, al) VALUES (%s, %s, %s, %s, "
                                 "'9999-12-31') ON CONFLICT (tenant_id, istat, dal) DO UPDATE SET al = '9999-12-31'")
                         .format(appartenenze),
                         [(event.tenantid, istat, c.nome, inizio_appartenenza(c.aderente_dal, prima, giorno))
                          for istat, c in sorted(nuovi.items()) if istat not in aperte
                          and (istat, c.cessato_dal) not in chiusi])  # listed still, but its leaving is recorded
        # a legal leaving date ends the period there (not on the day a composition left it out)
        curs.executemany(sql.SQL("UPDATE {} SET al = %s WHERE tenant_id = %s AND istat = %s AND "
                                 "al = '9999-12-31' AND dal < %s").format(appartenenze),
                         [(c.cessato_dal, event.tenantid, istat, c.cessato_dal) for istat, c in sorted(nuovi.items())
                          if c.cessato_dal is not None])

    return project


# -- queries --------------------------------------------------------------------------------

def comuni(read_model: ReadModel, tenant: str) -> list[dict[str, Any]]:
    """The Ambito's Comuni as last registered, by name (none before its first composition)."""
    return read_model.fetch_all(sql.SQL("SELECT istat, nome, popolazione, popolazione_al, capofila FROM {} "
                                        "ORDER BY nome, istat").format(read_model.table("comuni")), tenant=tenant)


def storico_popolazioni(read_model: ReadModel, tenant: str) -> dict[str, list[tuple[date, int]]]:
    """istat -> every (reference date, population) the Ambito's compositions carried."""
    rows = read_model.fetch_all(sql.SQL("SELECT istat, popolazione_al, popolazione FROM {} ORDER BY istat, "
                                        "popolazione_al").format(read_model.table("popolazioni")), tenant=tenant)
    out: dict[str, list[tuple[date, int]]] = {}
    for r in rows:
        out.setdefault(r["istat"], []).append((r["popolazione_al"], r["popolazione"]))
    return out


def appartenenze(read_model: ReadModel, tenant: str) -> list[tuple[str, date, date]]:
    """Every period ``[dal, al)`` a Comune belonged to the Ambito (``istat, dal, al``)."""
    rows = read_model.fetch_all(sql.SQL("SELECT istat, dal, al FROM {}").format(read_model.table("appartenenze")),
                                tenant=tenant)
    return [(r["istat"], r["dal"], r["al"]) for r in rows]
