"""The Ambito's Comitato deliberations, as planning publishes them (``planning.events.v1``).

One row per proposal (``planning.deliberazione.proposta``: its type), marked approved with its number and date
(``planning.deliberazione.approvata``) or rejected (``planning.deliberazione.respinta``). Filled by a tracked
consumer (each event in the transaction of its tracking, under the event's tenant), read when an act of
finance cites a Comitato deliberation (``domain.atti``). Events of one deliberation share its key, so they
arrive in order; each write is an upsert all the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import ReadModel

TOPIC = "planning.events.v1"
DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.deliberazioni (
            tenant_id text NOT NULL, deliberazione_id uuid NOT NULL, tipo text, oggetto text,
            stato text NOT NULL DEFAULT 'proposta', numero text, data date,
            PRIMARY KEY (tenant_id, deliberazione_id))""",
    "CREATE INDEX IF NOT EXISTS deliberazioni_numero ON {schema}.deliberazioni (tenant_id, numero)",
]
TENANT_TABLES = ["deliberazioni"]


class Proposta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tipo: str
    oggetto: str


class Approvata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    numero: str
    data: date


def project(schema: str) -> Any:
    table = sql.SQL("{}.deliberazioni").format(sql.Identifier(schema))

    def upsert(curs: Any, event: CloudEvent, **columns: Any) -> None:
        """The deliberation's row with ``columns`` set (inserted at its first event, whichever comes first)."""
        names = list(columns)
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, deliberazione_id, {}) VALUES (%s, %s, {}) "
                             "ON CONFLICT (tenant_id, deliberazione_id) DO UPDATE SET {}").format(
            table, sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder() * len(names)),
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in names)),
            (event.tenantid, event.data["deliberazione_id"], *columns.values()))

    def proposta(curs: Any, event: CloudEvent) -> None:
        p = Proposta.model_validate(event.data)
        upsert(curs, event, tipo=p.tipo, oggetto=p.oggetto)

    def approvata(curs: Any, event: CloudEvent) -> None:
        a = Approvata.model_validate(event.data)
        upsert(curs, event, stato="approvata", numero=a.numero, data=a.data)

    def respinta(curs: Any, event: CloudEvent) -> None:
        upsert(curs, event, stato="respinta")

    return {"planning.deliberazione.proposta": proposta, "planning.deliberazione.approvata": approvata,
            "planning.deliberazione.respinta": respinta}


def consumer(runtime: Any, group: str = "deliberazioni") -> TrackedConsumer:
    settings, tracker = runtime.settings, runtime.tracker
    handlers = {tipo: projecting(tracker, fn) for tipo, fn in project(settings.db_schema).items()}
    # tracked under its own name: finance's planning consumer (budget, composition) tracks "planning"
    return TrackedConsumer(settings, tracker=tracker, group=group, topics={settings.topic(TOPIC): "planning:deliberazioni"},
                           handlers=handlers)


COLONNE = "deliberazione_id, tipo, oggetto, stato, numero, data"


def per_id(read_model: ReadModel, tenant: str, deliberazione_id: Any) -> dict | None:
    """The deliberation with that id, as finance knows it (None: unknown to finance)."""
    righe = read_model.fetch_all(sql.SQL("SELECT " + COLONNE + " FROM {} WHERE deliberazione_id = %s").format(
        read_model.table("deliberazioni")), (deliberazione_id,), tenant=tenant)
    return righe[0] if righe else None


def per_numero(read_model: ReadModel, tenant: str, numero: str) -> dict | None:
    """The approved deliberation with that number (``n/anno``), or None."""
    righe = read_model.fetch_all(sql.SQL("SELECT " + COLONNE + " FROM {} WHERE numero = %s").format(
        read_model.table("deliberazioni")), (numero,), tenant=tenant)
    return righe[0] if righe else None


def approvate(read_model: ReadModel, tenant: str) -> list[dict]:
    return read_model.fetch_all(sql.SQL("SELECT " + COLONNE + " FROM {} WHERE stato = 'approvata' "
                                        "ORDER BY data, numero").format(read_model.table("deliberazioni")),
                                (), tenant=tenant)
