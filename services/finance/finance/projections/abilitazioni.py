"""Providers' accreditations and awards, as partnership publishes them (``partnership.events.v1``).

One row per accreditation or award, with its provider (codice fiscale), intervento, validity
and revocation; a renewal moves ``valido_al``. Filled by a tracked consumer (each event in
the transaction of its tracking, under the event's tenant), read when a commitment names
a provider (``domain.abilitazioni``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import ReadModel

TOPIC = "partnership.events.v1"
DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.abilitazioni (
            tenant_id text NOT NULL, titolo_id uuid NOT NULL, tipo text NOT NULL, codice_fiscale text NOT NULL,
            intervento text, valido_dal date NOT NULL, valido_al date NOT NULL, revocato_il date,
            PRIMARY KEY (tenant_id, titolo_id))""",
    "CREATE INDEX IF NOT EXISTS abilitazioni_fornitore ON {schema}.abilitazioni (tenant_id, codice_fiscale)",
]
TENANT_TABLES = ["abilitazioni"]


class Titolo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    codice_fiscale: str
    intervento: str | None = None
    valido_dal: date
    valido_al: date


class Rinnovo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    valido_al: date


class Revoca(BaseModel):
    model_config = ConfigDict(extra="ignore")

    revocato_il: date


def project(schema: str) -> Any:
    table = sql.SQL("{}.abilitazioni").format(sql.Identifier(schema))

    def titolo(tipo: str, id_field: str):
        def apply(curs: Any, event: CloudEvent) -> None:
            t = Titolo.model_validate(event.data)
            curs.execute(sql.SQL(
                "INSERT INTO {} (tenant_id, titolo_id, tipo, codice_fiscale, intervento, valido_dal, valido_al) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING").format(table),
                (event.tenantid, event.data[id_field], tipo, t.codice_fiscale, t.intervento, t.valido_dal,
                 t.valido_al))
        return apply

    def rinnovo(curs: Any, event: CloudEvent) -> None:
        r = Rinnovo.model_validate(event.data)
        curs.execute(sql.SQL("UPDATE {} SET valido_al = greatest(valido_al, %s) WHERE tenant_id = %s "
                             "AND titolo_id = %s").format(table),
                     (r.valido_al, event.tenantid, event.data["accreditamento_id"]))

    def revoca(curs: Any, event: CloudEvent) -> None:
        r = Revoca.model_validate(event.data)
        curs.execute(sql.SQL("UPDATE {} SET revocato_il = %s WHERE tenant_id = %s AND titolo_id = %s").format(table),
                     (r.revocato_il, event.tenantid, event.data["accreditamento_id"]))

    return {
        "partnership.accreditamento.rilasciato": titolo("accreditamento", "accreditamento_id"),
        "partnership.affidamento.aggiudicato": titolo("affidamento", "affidamento_id"),
        "partnership.accreditamento.rinnovato": rinnovo,
        "partnership.accreditamento.revocato": revoca,
    }


def consumer(runtime: Any, group: str = "abilitazioni") -> TrackedConsumer:
    settings, tracker = runtime.settings, runtime.tracker
    handlers = {tipo: projecting(tracker, fn) for tipo, fn in project(settings.db_schema).items()}
    return TrackedConsumer(settings, tracker=tracker, group=group, topics={settings.topic(TOPIC): "partnership"},
                           handlers=handlers)


def del_fornitore(read_model: ReadModel, tenant: str, codice_fiscale: str) -> list[dict]:
    """The provider's accreditations and awards in the Ambito."""
    return read_model.fetch_all(sql.SQL(
        "SELECT titolo_id, tipo, intervento, valido_dal, valido_al, revocato_il FROM {} "
        "WHERE codice_fiscale = %s").format(read_model.table("abilitazioni")), (codice_fiscale,), tenant=tenant)
