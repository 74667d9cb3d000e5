"""HTTP API of the lists: enti, tavoli, procedures, accreditations and awards of the Ambito.

Read from partnership's read model of its own events (``partnership.projections.elenchi``,
filled by the tracked consumer of ``partnership.events.v1``), so a list is as fresh as that
consumer: what was just stored appears once the relay has published it and the consumer
applied it (the by-id routes read the event store and are always current). The queries run
under row-level security scoped to the token's tenant. Readers of the Ambito see every
row; a ``referente_ets`` sees what it sees by id: its own ente, the tavoli its ente sits
at, the procedures its ente expressed interest in, its own accreditations and awards.
Dates are ISO, amounts strings with two decimals.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, tenant_of
from ambiti_kit.service import RuntimeDep

from partnership.api.deps import LettoreOReferente, PartnershipDep, ente_del_referente, is_lettore
from partnership.projections.elenchi import FASI

router = APIRouter(tags=["Elenchi"])

Fase = Literal[tuple(FASI.values())]  # type: ignore[valid-type]


class EnteVoce(BaseModel):
    id: uuid.UUID
    codice_fiscale: str
    tipo: str
    denominazione: str
    forma_giuridica: str | None
    runts_sezione: str | None
    runts_numero: str | None
    categoria: str | None
    comune_sede: str | None
    ultimo_evento: datetime


class TavoloVoce(BaseModel):
    id: uuid.UUID
    tipo: str | None
    nome: str | None
    area: str | None
    membri: int
    riunioni: int
    proposte: int


class ProceduraVoce(BaseModel):
    id: uuid.UUID
    tipo: str | None
    oggetto: str | None
    fase: str
    scadenza: date | None
    piano_id: uuid.UUID | None
    intervento: str | None


class AccreditamentoVoce(BaseModel):
    id: uuid.UUID
    codice_fiscale: str | None
    denominazione: str | None
    intervento: str | None
    valido_dal: date | None
    valido_al: date | None
    revocato_il: date | None


class AffidamentoVoce(BaseModel):
    id: uuid.UUID
    codice_fiscale: str
    denominazione: str
    piano_id: uuid.UUID
    intervento: str
    importo: str
    valido_dal: date
    valido_al: date


class _Query:
    """A SELECT with AND-ed conditions, run in the principal's tenant scope."""

    def __init__(self, runtime: Any, principal: Principal, select: str | sql.Composable, table: str) -> None:
        self.runtime, self.principal = runtime, principal
        self.select = sql.SQL(select) if isinstance(select, str) else select
        self.table = runtime.read_model.table(table)
        self.where: list[sql.Composable] = []
        self.params: list[Any] = []

    def when(self, condition: str, *params: Any, **tables: str) -> "_Query":
        self.where.append(sql.SQL(condition).format(
            **{k: self.runtime.read_model.table(v) for k, v in tables.items()}))
        self.params.extend(params)
        return self

    def fetch(self, order: str) -> list[dict]:
        query = sql.SQL("SELECT {} FROM {} AS x").format(self.select, self.table)
        if self.where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(self.where)
        query += sql.SQL(" ORDER BY " + order)
        return self.runtime.read_model.fetch_all(query, self.params, tenant=tenant_of(self.principal))


def _ente(app: Any, principal: Principal) -> Any | None:
    """None for a reader of the whole Ambito; the referente's own ente otherwise (403 if it has none)."""
    return None if is_lettore(principal) else ente_del_referente(app, principal)


@router.get("/enti", response_model=list[EnteVoce])
def elenca_enti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                tipo: Literal["ets", "pubblico", "sindacato"] | None = None,
                q: str | None = Query(None, min_length=1, max_length=200,
                                      description="Parte della denominazione (maiuscole e minuscole indifferenti).")
                ) -> list[dict]:
    """L'elenco degli enti del registro (il referente vede solo il proprio)."""
    query = _Query(runtime, principal, "*", "enti")
    if (ente := _ente(app, principal)) is not None:
        query.when("x.id = %s", ente.id)
    if tipo is not None:
        query.when("x.tipo = %s", tipo)
    if q:
        query.when("strpos(lower(x.denominazione), lower(%s)) > 0", q)
    return query.fetch("x.denominazione, x.id")


@router.get("/tavoli", response_model=list[TavoloVoce])
def elenca_tavoli(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente) -> list[dict]:
    """L'elenco dei tavoli con il numero di membri, riunioni e proposte (il referente: quelli del suo ente)."""
    query = _Query(runtime, principal, sql.SQL(
        "x.id, x.tipo, x.nome, x.area, cardinality(x.riunioni) AS riunioni, cardinality(x.proposte) AS proposte, "
        "(SELECT count(*) FROM {} AS m WHERE m.tenant_id = x.tenant_id AND m.tavolo_id = x.id) AS membri"
    ).format(runtime.read_model.table("tavoli_membri")), "tavoli")
    if (ente := _ente(app, principal)) is not None:
        query.when("EXISTS (SELECT 1 FROM {m} AS m WHERE m.tenant_id = x.tenant_id AND m.tavolo_id = x.id "
                   "AND m.tipo = 'ente' AND m.codice_fiscale = %s)", ente.codice_fiscale, m="tavoli_membri")
    return query.fetch("x.nome, x.id")


@router.get("/procedure", response_model=list[ProceduraVoce])
def elenca_procedure(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                     fase: Fase | None = None) -> list[dict]:
    """L'elenco delle procedure (il referente: quelle in cui il suo ente ha manifestato interesse)."""
    query = _Query(runtime, principal, "x.id, x.tipo, x.oggetto, x.fase, x.scadenza, x.piano_id, x.intervento",
                   "procedure")
    if (ente := _ente(app, principal)) is not None:
        query.when("EXISTS (SELECT 1 FROM {p} AS p WHERE p.tenant_id = x.tenant_id AND p.procedura_id = x.id "
                   "AND p.codice_fiscale = %s)", ente.codice_fiscale, p="procedure_enti")
    if fase is not None:
        query.when("x.fase = %s", fase)
    return query.fetch("x.scadenza NULLS LAST, x.id")


@router.get("/accreditamenti", response_model=list[AccreditamentoVoce])
def elenca_accreditamenti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                          codice_fiscale: str | None = Query(None, pattern=r"^\d{11}$"),
                          validi_il: date | None = Query(None, description="Solo quelli validi a questa data "
                                                                             "(nel periodo e non revocati).")
                          ) -> list[dict]:
    """L'elenco degli accreditamenti (il referente: quelli del suo ente)."""
    query = _Query(runtime, principal, "x.id, x.codice_fiscale, x.denominazione, x.intervento, x.valido_dal, "
                   "x.valido_al, x.revocato_il", "accreditamenti")
    if (ente := _ente(app, principal)) is not None:
        query.when("x.codice_fiscale = %s", ente.codice_fiscale)
    if codice_fiscale is not None:
        query.when("x.codice_fiscale = %s", codice_fiscale)
    if validi_il is not None:  # as Accreditamento.stato: revoked from the revocation date
        query.when("x.valido_dal <= %s AND %s <= x.valido_al AND (x.revocato_il IS NULL OR %s < x.revocato_il)",
                   validi_il, validi_il, validi_il)
    return query.fetch("x.denominazione, x.valido_dal, x.id")


@router.get("/affidamenti", response_model=list[AffidamentoVoce])
def elenca_affidamenti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                       piano_id: uuid.UUID | None = None) -> list[dict]:
    """L'elenco degli affidamenti (il referente: quelli del suo ente)."""
    query = _Query(runtime, principal, "x.id, x.codice_fiscale, x.denominazione, x.piano_id, x.intervento, "
                   "x.importo::text AS importo, x.valido_dal, x.valido_al", "affidamenti")
    if (ente := _ente(app, principal)) is not None:
        query.when("x.codice_fiscale = %s", ente.codice_fiscale)
    if piano_id is not None:
        query.when("x.piano_id = %s", piano_id)
    return query.fetch("x.valido_dal, x.denominazione, x.id")
