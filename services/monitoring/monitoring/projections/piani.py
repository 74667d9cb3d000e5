"""Plans per Ambito: the tenant's own list with each plan's state, and the Region's counts.

``planning.piano_di_zona.creato`` adds a plan in ``bozza``; the later events of the plan
move its state as ``PianoDiZona`` does (``bozza → proposto → approvato`` following version
1, then ``in_attuazione`` and ``concluso``) and keep the version in force with the
deliberation that approved it. Each event is applied in the transaction that records its
tracking, so a redelivered event changes nothing. The regional table holds only aggregate
figures per Ambito (how many plans, how many in each state), never an individual plan.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Literal

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.listing import ListQuery
from ambiti_kit.readmodel import ReadModel

from monitoring.projections import conteggi

_log = logging.getLogger("monitoring.projections")

STATI = ("bozza", "proposto", "approvato", "in_attuazione", "concluso")
#: state -> its counter column in ``regionale_piani`` (same names)
COLONNE = {stato: stato for stato in STATI}

CREATO = "planning.piano_di_zona.creato"
PROPOSTO = "planning.piano_di_zona.proposto"
VERSIONE_APPROVATA = "planning.piano_di_zona.versione_approvata"
PROPOSTA_RESPINTA = "planning.piano_di_zona.proposta_respinta"
IN_ATTUAZIONE = "planning.piano_di_zona.in_attuazione"
CONCLUSO = "planning.piano_di_zona.concluso"

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.piani (
            tenant_id text NOT NULL, piano_id uuid NOT NULL, titolo text NOT NULL,
            anno_inizio int NOT NULL, anno_fine int NOT NULL, stato text NOT NULL,
            creato_il timestamptz NOT NULL, PRIMARY KEY (tenant_id, piano_id))""",
    # Added after the first release: ALTER, so that a database made by it gets them too.
    # ``ultimo_evento`` stays NULL on rows written before (readers fall back to creato_il).
    """ALTER TABLE {schema}.piani ADD COLUMN IF NOT EXISTS versione_vigente int,
            ADD COLUMN IF NOT EXISTS deliberazione_vigente text,
            ADD COLUMN IF NOT EXISTS deliberazione_vigente_id uuid,
            ADD COLUMN IF NOT EXISTS ultimo_evento timestamptz""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_piani (
            regione text NOT NULL, tenant_id text NOT NULL, piani int NOT NULL,
            ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id))""",
    "ALTER TABLE {schema}.regionale_piani "
    + ", ".join(f"ADD COLUMN IF NOT EXISTS {c} int NOT NULL DEFAULT 0" for c in COLONNE.values()),
    # Every plan is in exactly one state, so the counters add up to ``piani``. Rows written
    # before the counters existed (when only ``creato`` was projected, so every plan was a
    # bozza) get them here; on rows that add up it is a no-op, so re-running it is harmless.
    # The owner runs it without FORCE, which would hide every row from it: the kit forces
    # row-level security again right after the DDL, in the same transaction.
    "ALTER TABLE {schema}.regionale_piani NO FORCE ROW LEVEL SECURITY",
    "UPDATE {schema}.regionale_piani SET bozza = piani - (" + " + ".join(c for c in COLONNE.values() if c != "bozza")
    + ") WHERE " + " + ".join(COLONNE.values()) + " <> piani",
    # the list's sort (``elenco_piani``)
    "CREATE INDEX IF NOT EXISTS piani_elenco ON {schema}.piani (tenant_id, anno_inizio, creato_il, piano_id)",
]
TENANT_TABLES = ["piani"]
REGIONAL_TABLES = ["regionale_piani"]


# -- event data ---------------------------------------------------------------------------

class PianoCreato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: Literal["bozza", "proposto", "approvato", "in_attuazione", "concluso"]
    creato_il: datetime


class PianoEvento(BaseModel):
    """What every later event of a plan carries that this projection reads."""

    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID


class PianoVersione(PianoEvento):
    versione: int


class VersioneApprovata(PianoVersione):
    deliberazione_id: uuid.UUID
    deliberazione: str


#: the plan's events after ``creato`` -> the data model they must satisfy
AGGIORNAMENTI: dict[str, type[PianoEvento]] = {
    PROPOSTO: PianoVersione,
    VERSIONE_APPROVATA: VersioneApprovata,
    PROPOSTA_RESPINTA: PianoVersione,
    IN_ATTUAZIONE: PianoEvento,
    CONCLUSO: PianoEvento,
}


# -- pure rules -------------------------------------------------------------------------------

def stato_dopo(stato: str, tipo: str, versione: int | None = None) -> str:
    """The plan's state after an event of type ``tipo`` (as ``PianoDiZona`` moves it).

    Proposing, approving or rejecting moves the plan's own state only for version 1 (the
    plan itself); later versions (annual updates) leave it as it is. The read model follows
    the producer and does not re-check its rules: planning refused invalid transitions.
    """
    if tipo in (PROPOSTO, VERSIONE_APPROVATA, PROPOSTA_RESPINTA):
        if versione != 1:
            return stato
        return {PROPOSTO: "proposto", VERSIONE_APPROVATA: "approvato", PROPOSTA_RESPINTA: "bozza"}[tipo]
    if tipo == IN_ATTUAZIONE:
        return "in_attuazione"
    if tipo == CONCLUSO:
        return "concluso"
    return stato


def vigente_dopo(vigente: int | None, approvata: int) -> bool:
    """Whether approving version ``approvata`` makes it the one in force (the latest approved)."""
    return vigente is None or approvata >= vigente


# -- projections ---------------------------------------------------------------------------

def project_piano_creato(schema: str) -> Any:
    piani = sql.SQL("{}.piani").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_piani").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        piano = PianoCreato.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, piano_id, titolo, anno_inizio, anno_fine, stato, creato_il, ultimo_evento) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(piani),
            (event.tenantid, piano.piano_id, piano.titolo, piano.anno_inizio, piano.anno_fine, piano.stato,
             piano.creato_il, event.time))
        stato = sql.Identifier(COLONNE[piano.stato])
        curs.execute(sql.SQL(
            "INSERT INTO {t} AS r (regione, tenant_id, piani, ultimo_evento, {s}) VALUES (%s, %s, 1, %s, 1) "
            "ON CONFLICT (regione, tenant_id) DO UPDATE SET piani = r.piani + 1, {s} = r.{s} + 1, "
            "ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)").format(t=regionale, s=stato),
            (regione_of(event.tenantid), event.tenantid, event.time))

    return project


def project_piano_aggiornato(schema: str) -> Any:
    """One projection for every later event of a plan (``AGGIORNAMENTI``)."""
    piani = sql.SQL("{}.piani").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_piani").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        data = AGGIORNAMENTI[event.type].model_validate(event.data)
        curs.execute(sql.SQL("SELECT stato, versione_vigente FROM {} WHERE tenant_id = %s AND piano_id = %s "
                             "FOR UPDATE").format(piani), (event.tenantid, data.piano_id))
        row = curs.fetchone()
        if row is None:
            # The plan's own events share its partition and arrive in order, so its
            # ``creato`` was read before: a missing row means that message was refused
            # (dead-lettered, it is in dead_letters) or the row predates this read model.
            # There is nothing sensible to upsert (title and triennium are in ``creato``
            # only), and refusing this message too would add nothing: it is recorded as
            # applied without effect, and the warning names the plan for a rebuild.
            _log.warning("event of a plan this read model does not hold: ignored",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                                "piano_id": str(data.piano_id)})
            return
        versione = getattr(data, "versione", None)
        stato = stato_dopo(row["stato"], event.type, versione)
        updates = [sql.SQL("stato = %s"), sql.SQL("ultimo_evento = %s")]
        params: list[Any] = [stato, event.time]
        if isinstance(data, VersioneApprovata) and vigente_dopo(row["versione_vigente"], data.versione):
            updates += [sql.SQL("versione_vigente = %s"), sql.SQL("deliberazione_vigente = %s"),
                        sql.SQL("deliberazione_vigente_id = %s")]
            params += [data.versione, data.deliberazione, data.deliberazione_id]
        curs.execute(sql.SQL("UPDATE {} SET {} WHERE tenant_id = %s AND piano_id = %s").format(
            piani, sql.SQL(", ").join(updates)), (*params, event.tenantid, data.piano_id))

        changes = conteggi.delta(row["stato"], stato, COLONNE)
        curs.execute(sql.SQL(
            "UPDATE {} SET {} WHERE regione = %s AND tenant_id = %s").format(
            regionale, sql.SQL(", ").join([*conteggi.assignments(changes),
                                           sql.SQL("ultimo_evento = greatest(ultimo_evento, %s)")])),
            (*changes.values(), event.time, regione_of(event.tenantid), event.tenantid))

    return project


# -- queries --------------------------------------------------------------------------------

#: a plan as the Ambito reads it (``ultimo_evento`` falls back to ``creato_il`` on rows of the first release)
COLONNE_LETTURA = ("x.piano_id AS id, x.tenant_id AS ambito, x.titolo, x.anno_inizio, x.anno_fine, x.stato, "
                   "x.creato_il, x.versione_vigente, x.deliberazione_vigente, x.deliberazione_vigente_id, "
                   "coalesce(x.ultimo_evento, x.creato_il) AS ultimo_evento")


def elenco_piani(read_model: ReadModel, *, stato: str | None = None, anno: int | None = None) -> ListQuery:
    """The Ambito's plans by first year and creation (``anno``: those whose triennium includes it)."""
    query = ListQuery(read_model, "piani", COLONNE_LETTURA, order=["x.anno_inizio", "x.creato_il", "x.piano_id"])
    query.when_present("x.stato = %s", stato)
    query.when_present("x.anno_inizio <= %s AND %s <= x.anno_fine", anno)
    return query


def leggi_piano(read_model: ReadModel, tenant: str, piano_id: uuid.UUID) -> dict[str, Any] | None:
    rows = read_model.fetch_all(sql.SQL("SELECT {} FROM {} AS x WHERE x.piano_id = %s").format(
        sql.SQL(COLONNE_LETTURA), read_model.table("piani")), (piano_id,), tenant=tenant)
    return rows[0] if rows else None


def piani_per_ambito(read_model: ReadModel, regione: str) -> list[dict[str, Any]]:
    """Per Ambito of the Region (registered or with plans): name, population, plans in all and per state."""
    stati = sql.SQL(", ").join(sql.SQL("coalesce(p.{s}, 0) AS {s}").format(s=sql.Identifier(s)) for s in STATI)
    return read_model.fetch_all(sql.SQL(
        "SELECT tenant_id AS ambito, a.nome, a.popolazione, coalesce(p.piani, 0) AS piani, {}, "
        "greatest(p.ultimo_evento, a.ultimo_evento) AS ultimo_evento "
        "FROM {} p FULL JOIN {} a USING (regione, tenant_id) ORDER BY tenant_id").format(
        stati, read_model.table("regionale_piani"), read_model.table("regionale_ambiti")), regione=regione)
