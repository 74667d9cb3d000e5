"""The composition of each Ambito (Comuni and dated populations), and its regional summary.

Each ``planning.ambito.composizione_registrata`` carries the whole composition: the
projection replaces the tenant's rows. The regional table keeps only totals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent

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
]
TENANT_TABLES = ["comuni"]
REGIONAL_TABLES = ["regionale_ambiti"]


class Comune(BaseModel):
    model_config = ConfigDict(extra="ignore")

    istat: str
    nome: str
    popolazione: int


class ComposizioneRegistrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    versione: int
    nome: str
    capofila_istat: str
    popolazione_al: date
    comuni: list[Comune]


def project_composizione(schema: str) -> Any:
    comuni = sql.SQL("{}.comuni").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_ambiti").format(sql.Identifier(schema))

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

    return project
