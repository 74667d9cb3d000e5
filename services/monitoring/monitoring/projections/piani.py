"""Plans per Ambito: the tenant's own list, and the Region's count per Ambito.

Both tables are filled by the same projection from ``planning.piano_di_zona.creato``, in
the transaction that records the event's tracking, so a redelivered event changes
nothing. The regional table holds only aggregate figures (no individual plan).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.piani (
            tenant_id text NOT NULL, piano_id uuid NOT NULL, titolo text NOT NULL,
            anno_inizio int NOT NULL, anno_fine int NOT NULL, stato text NOT NULL,
            creato_il timestamptz NOT NULL, PRIMARY KEY (tenant_id, piano_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_piani (
            regione text NOT NULL, tenant_id text NOT NULL, piani int NOT NULL,
            ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id))""",
]
TENANT_TABLES = ["piani"]
REGIONAL_TABLES = ["regionale_piani"]


class PianoCreato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: str
    creato_il: datetime


def project_piano_creato(schema: str) -> Any:
    piani = sql.SQL("{}.piani").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_piani").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        piano = PianoCreato.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, piano_id, titolo, anno_inizio, anno_fine, stato, creato_il) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)").format(piani),
            (event.tenantid, piano.piano_id, piano.titolo, piano.anno_inizio, piano.anno_fine, piano.stato,
             piano.creato_il))
        curs.execute(sql.SQL(
            "INSERT INTO {t} AS r (regione, tenant_id, piani, ultimo_evento) VALUES (%s, %s, 1, %s) "
            "ON CONFLICT (regione, tenant_id) DO UPDATE SET piani = r.piani + 1, "
            "ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)").format(t=regionale),
            (regione_of(event.tenantid), event.tenantid, event.time))

    return project
