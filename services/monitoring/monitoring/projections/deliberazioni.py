"""Deliberations per Ambito: the tenant's own register, and the Region's counts.

``planning.deliberazione.proposta`` adds a proposal; ``.approvata`` (with its number
``n/anno``) and ``.respinta`` record the outcome of the vote with a summary of its figures
(per head and weighted by population). The regional table keeps only how many
deliberations of each Ambito are proposed, approved and rejected: no subject, text,
number or vote of an individual deliberation crosses into it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.listing import ListQuery
from ambiti_kit.readmodel import ReadModel

from monitoring.projections import conteggi

_log = logging.getLogger("monitoring.projections")

PROPOSTA = "planning.deliberazione.proposta"
APPROVATA = "planning.deliberazione.approvata"
RESPINTA = "planning.deliberazione.respinta"

#: event type -> the deliberation's state after it
STATO_DOPO = {PROPOSTA: "proposta", APPROVATA: "approvata", RESPINTA: "respinta"}
#: state -> its counter column in ``regionale_deliberazioni``
COLONNE = {"proposta": "proposte", "approvata": "approvate", "respinta": "respinte"}

#: the flat columns of an outcome (see ``colonne_esito``)
COLONNE_ESITO = ("famiglia", "motivazione",
                 "per_testa_favorevoli", "per_testa_contrari", "per_testa_astenuti", "per_testa_base",
                 "ponderato_favorevoli", "ponderato_contrari", "ponderato_astenuti", "ponderato_base")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.deliberazioni (
            tenant_id text NOT NULL, deliberazione_id uuid NOT NULL, tipo text NOT NULL, oggetto text NOT NULL,
            stato text NOT NULL, numero text, data date, seduta_id uuid,
            famiglia text, motivazione text,
            per_testa_favorevoli int, per_testa_contrari int, per_testa_astenuti int, per_testa_base int,
            ponderato_favorevoli bigint, ponderato_contrari bigint, ponderato_astenuti bigint,
            ponderato_base bigint,
            proposta_il timestamptz NOT NULL, ultimo_evento timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, deliberazione_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_deliberazioni (
            regione text NOT NULL, tenant_id text NOT NULL, proposte int NOT NULL, approvate int NOT NULL,
            respinte int NOT NULL, ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id))""",
    # the register's sort (``elenco_deliberazioni``)
    "CREATE INDEX IF NOT EXISTS deliberazioni_elenco ON {schema}.deliberazioni "
    "(tenant_id, proposta_il, deliberazione_id)",
]
TENANT_TABLES = ["deliberazioni"]
REGIONAL_TABLES = ["regionale_deliberazioni"]


# -- event data ---------------------------------------------------------------------------

class DeliberazioneProposta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    deliberazione_id: uuid.UUID
    tipo: str
    oggetto: str


class Conteggio(BaseModel):
    """Favourable, contrary and abstaining shares and the majority base (heads or population)."""

    model_config = ConfigDict(extra="ignore")

    favorevoli: int
    contrari: int
    astenuti: int
    base: int


class Esito(BaseModel):
    model_config = ConfigDict(extra="ignore")

    famiglia: str
    per_testa: Conteggio
    ponderato: Conteggio
    motivazione: str = ""


class DeliberazioneVotata(BaseModel):
    """``.respinta``; ``.approvata`` adds its number."""

    model_config = ConfigDict(extra="ignore")

    deliberazione_id: uuid.UUID
    seduta_id: uuid.UUID
    data: date
    esito: Esito


class DeliberazioneApprovata(DeliberazioneVotata):
    numero: str


VOTATE: dict[str, type[DeliberazioneVotata]] = {APPROVATA: DeliberazioneApprovata, RESPINTA: DeliberazioneVotata}


# -- pure rules -------------------------------------------------------------------------------

def colonne_esito(esito: Esito) -> dict[str, Any]:
    """The outcome's summary as the flat columns of ``deliberazioni`` (``COLONNE_ESITO``)."""
    out: dict[str, Any] = {"famiglia": esito.famiglia, "motivazione": esito.motivazione}
    for nome, conteggio in (("per_testa", esito.per_testa), ("ponderato", esito.ponderato)):
        for campo in ("favorevoli", "contrari", "astenuti", "base"):
            out[f"{nome}_{campo}"] = getattr(conteggio, campo)
    return out


def esito_da_colonne(row: dict[str, Any]) -> dict[str, Any] | None:
    """The nested outcome of a row (None before the vote): the inverse of ``colonne_esito``."""
    if row.get("famiglia") is None:
        return None
    return {"famiglia": row["famiglia"], "motivazione": row["motivazione"],
            **{nome: {campo: row[f"{nome}_{campo}"] for campo in ("favorevoli", "contrari", "astenuti", "base")}
               for nome in ("per_testa", "ponderato")}}


# -- projections ---------------------------------------------------------------------------

def project_proposta(schema: str) -> Any:
    deliberazioni = sql.SQL("{}.deliberazioni").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_deliberazioni").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        proposta = DeliberazioneProposta.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, deliberazione_id, tipo, oggetto, stato, proposta_il, ultimo_evento) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)").format(deliberazioni),
            (event.tenantid, proposta.deliberazione_id, proposta.tipo, proposta.oggetto, STATO_DOPO[PROPOSTA],
             event.time, event.time))
        curs.execute(sql.SQL(
            "INSERT INTO {} AS r (regione, tenant_id, proposte, approvate, respinte, ultimo_evento) "
            "VALUES (%s, %s, 1, 0, 0, %s) ON CONFLICT (regione, tenant_id) DO UPDATE SET "
            "proposte = r.proposte + 1, ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)"
        ).format(regionale), (regione_of(event.tenantid), event.tenantid, event.time))

    return project


def project_votata(schema: str) -> Any:
    """``.approvata`` and ``.respinta``: the outcome of the vote on a proposal."""
    deliberazioni = sql.SQL("{}.deliberazioni").format(sql.Identifier(schema))
    regionale = sql.SQL("{}.regionale_deliberazioni").format(sql.Identifier(schema))

    def project(curs: Any, event: CloudEvent) -> None:
        voto = VOTATE[event.type].model_validate(event.data)
        curs.execute(sql.SQL("SELECT stato FROM {} WHERE tenant_id = %s AND deliberazione_id = %s FOR UPDATE")
                     .format(deliberazioni), (event.tenantid, voto.deliberazione_id))
        row = curs.fetchone()
        if row is None:
            # A deliberation's events share its partition and arrive in order: without a
            # row, its proposal was refused (dead-lettered) or predates this read model.
            # Type and subject, which the register shows, are only in the proposal, so no
            # row is made up; the event is recorded as applied without effect.
            _log.warning("outcome of a proposal this read model does not hold: ignored",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                                "deliberazione_id": str(voto.deliberazione_id)})
            return
        stato = STATO_DOPO[event.type]
        values = {"stato": stato, "numero": getattr(voto, "numero", None), "data": voto.data,
                  "seduta_id": voto.seduta_id, **colonne_esito(voto.esito), "ultimo_evento": event.time}
        curs.execute(sql.SQL("UPDATE {} SET {} WHERE tenant_id = %s AND deliberazione_id = %s").format(
            deliberazioni, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values)),
            (*values.values(), event.tenantid, voto.deliberazione_id))

        changes = conteggi.delta(row["stato"], stato, COLONNE)
        curs.execute(sql.SQL("UPDATE {} SET {} WHERE regione = %s AND tenant_id = %s").format(
            regionale, sql.SQL(", ").join([*conteggi.assignments(changes),
                                           sql.SQL("ultimo_evento = greatest(ultimo_evento, %s)")])),
            (*changes.values(), event.time, regione_of(event.tenantid), event.tenantid))

    return project


# -- queries --------------------------------------------------------------------------------

#: a deliberation as the Ambito reads it: the outcome as flat columns (``esito_da_colonne`` nests them)
COLONNE_LETTURA = ", ".join([
    "x.deliberazione_id AS id, x.tenant_id AS ambito, x.tipo, x.oggetto, x.stato, x.numero, x.data, x.seduta_id, "
    "x.proposta_il, x.ultimo_evento", *(f"x.{c}" for c in COLONNE_ESITO)])


def elenco_deliberazioni(read_model: ReadModel, *, stato: str | None = None, tipo: str | None = None,
                         anno: int | None = None) -> ListQuery:
    """The register in order of proposal (``anno``: those voted in that year)."""
    query = ListQuery(read_model, "deliberazioni", COLONNE_LETTURA, order=["x.proposta_il", "x.deliberazione_id"])
    query.when_present("x.stato = %s", stato)
    query.when_present("x.tipo = %s", tipo)
    query.when_present("x.data >= make_date(%s, 1, 1) AND x.data < make_date(%s + 1, 1, 1)", anno)
    return query


def leggi_deliberazione(read_model: ReadModel, tenant: str, deliberazione_id: uuid.UUID) -> dict[str, Any] | None:
    rows = read_model.fetch_all(sql.SQL("SELECT {} FROM {} AS x WHERE x.deliberazione_id = %s").format(
        sql.SQL(COLONNE_LETTURA), read_model.table("deliberazioni")), (deliberazione_id,), tenant=tenant)
    return rows[0] if rows else None


def deliberazioni_per_ambito(read_model: ReadModel, regione: str) -> list[dict[str, Any]]:
    """Per Ambito of the Region: name, population, how many proposed, approved and rejected."""
    return read_model.fetch_all(sql.SQL(
        "SELECT tenant_id AS ambito, a.nome, a.popolazione, coalesce(d.proposte, 0) AS proposte, "
        "coalesce(d.approvate, 0) AS approvate, coalesce(d.respinte, 0) AS respinte, "
        "greatest(d.ultimo_evento, a.ultimo_evento) AS ultimo_evento "
        "FROM {} d FULL JOIN {} a USING (regione, tenant_id) ORDER BY tenant_id").format(
        read_model.table("regionale_deliberazioni"), read_model.table("regionale_ambiti")), regione=regione)
