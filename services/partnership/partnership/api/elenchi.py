"""HTTP API of the lists: enti, tavoli, procedures, accreditations and awards of the Ambito.

Read from partnership's read model of its own events (``partnership.projections.elenchi``),
which is brought up to date before a write's response leaves: what was just stored is in
its list. Every list follows the kit's conventions (``ambiti_kit.listing``: filters, a
stable sort, ``limite``/``dopo`` cursor pagination, ``Link: rel="next"``). The queries run
under row-level security scoped to the token's tenant. Readers of the Ambito see every
row; a ``referente_ets`` sees what it sees by id: its own ente, the tavoli its ente sits
at, the procedures its ente expressed interest in, its own accreditations and awards.
Dates are ISO, amounts strings with two decimals.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, tenant_of
from ambiti_kit.listing import LIST_RESPONSES, ListQuery, Pagina, PaginazioneDep
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


def _ente(app: Any, principal: Principal) -> Any | None:
    """None for a reader of the whole Ambito; the referente's own ente otherwise (403 if it has none)."""
    return None if is_lettore(principal) else ente_del_referente(app, principal)


@router.get("/enti", response_model=Pagina[EnteVoce], responses=LIST_RESPONSES)
def elenca_enti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente, pagina: PaginazioneDep,
                request: Request, response: Response,
                tipo: Literal["ets", "pubblico", "sindacato"] | None = None,
                q: str | None = Query(None, min_length=1, max_length=200,
                                      description="Parte della denominazione (maiuscole e minuscole indifferenti).")
                ) -> dict:
    """L'elenco degli enti del registro, per denominazione (il referente vede solo il proprio)."""
    query = ListQuery(runtime.read_model, "enti", order=["x.denominazione", "x.id"])
    if (ente := _ente(app, principal)) is not None:
        query.when("x.id = %s", ente.id)
    query.when_present("x.tipo = %s", tipo)
    query.when_present("strpos(lower(x.denominazione), lower(%s)) > 0", q or None)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/tavoli", response_model=Pagina[TavoloVoce], responses=LIST_RESPONSES)
def elenca_tavoli(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente, pagina: PaginazioneDep,
                  request: Request, response: Response,
                  tipo: Literal["tematico", "tecnico", "partenariato"] | None = None) -> dict:
    """L'elenco dei tavoli, per nome, con il numero di membri, riunioni e proposte (il referente: quelli del
    suo ente)."""
    query = ListQuery(runtime.read_model, "tavoli", sql.SQL(
        "x.id, x.tipo, x.nome, x.area, cardinality(x.riunioni) AS riunioni, cardinality(x.proposte) AS proposte, "
        "(SELECT count(*) FROM {} AS m WHERE m.tenant_id = x.tenant_id AND m.tavolo_id = x.id) AS membri"
    ).format(runtime.read_model.table("tavoli_membri")), order=["coalesce(x.nome, '')", "x.id"])
    if (ente := _ente(app, principal)) is not None:
        query.when("EXISTS (SELECT 1 FROM {m} AS m WHERE m.tenant_id = x.tenant_id AND m.tavolo_id = x.id "
                   "AND m.tipo = 'ente' AND m.codice_fiscale = %s)", ente.codice_fiscale, m="tavoli_membri")
    query.when_present("x.tipo = %s", tipo)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/procedure", response_model=Pagina[ProceduraVoce], responses=LIST_RESPONSES)
def elenca_procedure(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                     pagina: PaginazioneDep, request: Request, response: Response,
                     fase: Fase | None = None, piano_id: uuid.UUID | None = None) -> dict:
    """L'elenco delle procedure per scadenza (il referente: quelle in cui il suo ente ha manifestato interesse)."""
    query = ListQuery(runtime.read_model, "procedure",
                      "x.id, x.tipo, x.oggetto, x.fase, x.scadenza, x.piano_id, x.intervento",
                      order=["coalesce(x.scadenza, 'infinity'::date)", "x.id"])
    if (ente := _ente(app, principal)) is not None:
        query.when("EXISTS (SELECT 1 FROM {p} AS p WHERE p.tenant_id = x.tenant_id AND p.procedura_id = x.id "
                   "AND p.codice_fiscale = %s)", ente.codice_fiscale, p="procedure_enti")
    query.when_equal(fase=fase, piano_id=piano_id)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/accreditamenti", response_model=Pagina[AccreditamentoVoce], responses=LIST_RESPONSES)
def elenca_accreditamenti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                          pagina: PaginazioneDep, request: Request, response: Response,
                          codice_fiscale: str | None = Query(None, pattern=r"^\d{11}$"),
                          intervento: str | None = Query(None, max_length=20),
                          validi_il: date | None = Query(None, description="Solo quelli validi a questa data "
                                                                             "(nel periodo e non revocati).")
                          ) -> dict:
    """L'elenco degli accreditamenti per ente e inizio di validità (il referente: quelli del suo ente)."""
    query = ListQuery(runtime.read_model, "accreditamenti", "x.id, x.codice_fiscale, x.denominazione, x.intervento, "
                      "x.valido_dal, x.valido_al, x.revocato_il",
                      order=["coalesce(x.denominazione, '')", "coalesce(x.valido_dal, '-infinity'::date)", "x.id"])
    if (ente := _ente(app, principal)) is not None:
        query.when("x.codice_fiscale = %s", ente.codice_fiscale)
    query.when_equal(codice_fiscale=codice_fiscale, intervento=intervento)
    # as Accreditamento.stato: revoked from the revocation date
    query.when_present("x.valido_dal <= %s AND %s <= x.valido_al AND (x.revocato_il IS NULL OR %s < x.revocato_il)",
                       validi_il)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/affidamenti", response_model=Pagina[AffidamentoVoce], responses=LIST_RESPONSES)
def elenca_affidamenti(app: PartnershipDep, runtime: RuntimeDep, principal: LettoreOReferente,
                       pagina: PaginazioneDep, request: Request, response: Response,
                       piano_id: uuid.UUID | None = None,
                       codice_fiscale: str | None = Query(None, pattern=r"^\d{11}$")) -> dict:
    """L'elenco degli affidamenti per inizio di validità (il referente: quelli del suo ente)."""
    query = ListQuery(runtime.read_model, "affidamenti", "x.id, x.codice_fiscale, x.denominazione, x.piano_id, "
                      "x.intervento, x.importo::text AS importo, x.valido_dal, x.valido_al",
                      order=["x.valido_dal", "x.denominazione", "x.id"])
    if (ente := _ente(app, principal)) is not None:
        query.when("x.codice_fiscale = %s", ente.codice_fiscale)
    query.when_equal(piano_id=piano_id, codice_fiscale=codice_fiscale)
    return query.page(pagina, request, response, tenant=tenant_of(principal))
