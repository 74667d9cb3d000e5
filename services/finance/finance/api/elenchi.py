"""HTTP API of finance's lists: assignments, allocations, commitments, liquidations, payments,
riparti, reference data and municipal contributions of the Ambito.

Read from finance's own read models (``finance.projections``), brought up to date before a
write's response leaves, with the kit's conventions (``ambiti_kit.listing``: filters, a
stable sort, ``limite``/``dopo`` cursor pagination, ``Link: rel="next"``), under row-level
security in the token's tenant. Amounts are strings with two decimals; the newest first.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.listing import LIST_RESPONSES, ListQuery, Pagina, PaginazioneDep
from ambiti_kit.service import RuntimeDep

from finance.api.deps import Lettore
from finance.api.spese import SaldiStanziamento
from finance.domain.fondi import FONDI

router = APIRouter(tags=["Elenchi"])

Fondo = Literal[tuple(FONDI)]  # type: ignore[valid-type]
ANNUALITA = Query(None, ge=2000, le=2100)
ANNO = Query(None, ge=2000, le=2100)
CODICE_FISCALE = Query(None, pattern=r"^[0-9A-Z]{11,16}$", description="Codice fiscale del beneficiario.")
CIG = Query(None, pattern=r"^[0-9A-Z]{10}$", description="Codice identificativo di gara (10 caratteri).")
CUP = Query(None, pattern=r"^[0-9A-Z]{15}$", description="Codice unico di progetto (15 caratteri).")
COMUNE = Query(None, pattern=r"^\d{6}$", description="Codice ISTAT del Comune.")
INTERVENTO = Query(None, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")
DAL = Query(None, description="Dal giorno (compreso).")
AL = Query(None, description="Al giorno (compreso).")


class AssegnazioneVoce(BaseModel):
    assegnazione_id: uuid.UUID
    fondo: str
    annualita: int
    totale: str = Field(description="Somma degli atti di assegnazione.")
    stanziato: str = Field(description="Quanto è allocato alle linee del Piano.")
    atti: int
    registrata_il: datetime


class StanziamentoVoce(SaldiStanziamento):
    stanziamento_id: uuid.UUID
    assegnazione_id: uuid.UUID
    aperto_il: datetime


class ImpegnoVoce(BaseModel):
    impegno_id: uuid.UUID
    stanziamento_id: uuid.UUID
    fondo: str
    annualita: int
    piano_id: uuid.UUID
    intervento: str
    anno: int
    beneficiario: str
    beneficiario_cf: str
    cig: str | None
    cup: str | None
    oggetto: str
    comune: str | None
    atto: dict[str, Any]
    importo: str
    ridotto: str
    liquidato: str
    pagato: str
    residuo: str = Field(description="Impegnato meno ridotto meno liquidato: quanto resta da liquidare.")
    assunto_da: str
    assunto_il: datetime


class LiquidazioneVoce(BaseModel):
    liquidazione_id: uuid.UUID
    impegno_id: uuid.UUID
    stanziamento_id: uuid.UUID
    beneficiario_cf: str | None
    fattura_numero: str
    fattura_data: date
    importo: str
    pagato: str
    disposta_da: str
    disposta_il: datetime


class MandatoVoce(BaseModel):
    mandato_id: uuid.UUID
    liquidazione_id: uuid.UUID
    impegno_id: uuid.UUID
    stanziamento_id: uuid.UUID
    beneficiario_cf: str | None
    importo: str
    data: date
    emesso_da: str
    emesso_il: datetime


class RipartoVoce(BaseModel):
    riparto_id: uuid.UUID
    oggetto: str
    atto: dict[str, Any] | None
    dati_riferimento_id: uuid.UUID | None
    metodo: str | None
    totale: str | None
    ripartito: str | None
    residuo: str | None
    destinatari: int
    eseguito_da: str
    eseguito_il: datetime


class DatiRiferimentoVoce(BaseModel):
    dati_id: uuid.UUID
    nome: str
    data_riferimento: date
    fonte: str
    colonne: list[str]
    righe: int
    caricati_da: str
    caricati_il: datetime


class ContributiVoce(BaseModel):
    contributi_id: uuid.UUID
    anno: int
    metodo: str
    totale: str
    versato: str = Field(description="Versamenti registrati, esclusi quelli stornati.")
    comuni: int
    determinati_il: datetime


def _day_range(query: ListQuery, column: str, dal: date | None, al: date | None) -> None:
    query.when_present(f"{column} >= %s", dal)
    query.when_present(f"{column} < %s::date + 1", al)


@router.get("/assegnazioni", response_model=Pagina[AssegnazioneVoce], responses=LIST_RESPONSES)
def elenca_assegnazioni(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                        response: Response, fondo: Fondo | None = None, annualita: int | None = ANNUALITA) -> dict:
    """Le assegnazioni dei fondi per annualità (la più recente prima), con quanto è già stanziato."""
    rm = runtime.read_model
    query = ListQuery(rm, "rend_assegnazioni", sql.SQL(
        "x.assegnazione_id, x.fondo, x.annualita, x.totale::text AS totale, x.registrata_il, "
        "(SELECT count(*) FROM {a} AS t WHERE t.tenant_id = x.tenant_id AND t.assegnazione_id = x.assegnazione_id) "
        "AS atti, (SELECT coalesce(sum(m.importo), 0)::text FROM {s} AS s JOIN {m} AS m "
        "ON m.tenant_id = s.tenant_id AND m.stanziamento_id = s.stanziamento_id "
        "AND m.tipo IN ('stanziamento', 'incremento') "
        "WHERE s.tenant_id = x.tenant_id AND s.assegnazione_id = x.assegnazione_id) AS stanziato").format(
        a=rm.table("rend_atti"), s=rm.table("rend_stanziamenti"), m=rm.table("rend_movimenti")),
        order=["x.annualita", "x.fondo", "x.assegnazione_id"], descending=True)
    query.when_equal(fondo=fondo, annualita=annualita)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/stanziamenti", response_model=Pagina[StanziamentoVoce], responses=LIST_RESPONSES)
def elenca_stanziamenti(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                        response: Response, piano_id: uuid.UUID | None = None, fondo: Fondo | None = None,
                        annualita: int | None = ANNUALITA, intervento: str | None = INTERVENTO,
                        anno: int | None = ANNO) -> dict:
    """Gli stanziamenti (un'annualità di un fondo su una linea del Piano) con i loro saldi."""
    rm = runtime.read_model
    totals = sql.SQL(
        "CROSS JOIN LATERAL (SELECT "
        "coalesce(sum(importo) FILTER (WHERE tipo IN ('stanziamento', 'incremento')), 0) AS stanziato, "
        "coalesce(sum(importo) FILTER (WHERE tipo = 'impegno'), 0) "
        "- coalesce(sum(importo) FILTER (WHERE tipo = 'riduzione'), 0) AS impegnato, "
        "coalesce(sum(importo) FILTER (WHERE tipo = 'liquidazione'), 0) AS liquidato, "
        "coalesce(sum(importo) FILTER (WHERE tipo = 'mandato'), 0) AS pagato "
        "FROM {} AS m WHERE m.tenant_id = x.tenant_id AND m.stanziamento_id = x.stanziamento_id) AS s"
    ).format(rm.table("rend_movimenti"))
    query = ListQuery(rm, "rend_stanziamenti",
                      "x.stanziamento_id, x.assegnazione_id, x.fondo, x.annualita, x.piano_id, x.intervento, x.anno, "
                      "x.aperto_il, s.stanziato::text AS stanziato, s.impegnato::text AS impegnato, "
                      "s.liquidato::text AS liquidato, s.pagato::text AS pagato, "
                      "(s.stanziato - s.impegnato)::text AS disponibile", joins=totals,
                      order=["x.annualita", "x.fondo", "x.intervento", "x.anno", "x.stanziamento_id"], descending=True)
    query.when_equal(piano_id=piano_id, fondo=fondo, annualita=annualita, intervento=intervento, anno=anno)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/impegni", response_model=Pagina[ImpegnoVoce], responses=LIST_RESPONSES)
def elenca_impegni(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                   response: Response, stanziamento_id: uuid.UUID | None = None, piano_id: uuid.UUID | None = None,
                   fondo: Fondo | None = None, annualita: int | None = ANNUALITA,
                   intervento: str | None = INTERVENTO, comune: str | None = COMUNE,
                   beneficiario: str | None = CODICE_FISCALE, cig: str | None = CIG, cup: str | None = CUP,
                   dal: date | None = DAL, al: date | None = AL,
                   da_liquidare: bool | None = Query(None, description="Solo quelli con un residuo da liquidare.")
                   ) -> dict:
    """Gli impegni (il più recente prima), per stanziamento, fondo, linea, Comune, beneficiario, CIG/CUP, date."""
    query = ListQuery(runtime.read_model, "impegni",
                      "x.impegno_id, x.stanziamento_id, x.fondo, x.annualita, x.piano_id, x.intervento, x.anno, "
                      "x.beneficiario, x.beneficiario_cf, x.cig, x.cup, x.oggetto, x.comune, x.atto, "
                      "x.importo::text AS importo, x.ridotto::text AS ridotto, x.liquidato::text AS liquidato, "
                      "x.pagato::text AS pagato, (x.importo - x.ridotto - x.liquidato)::text AS residuo, "
                      "x.assunto_da, x.assunto_il",
                      order=["x.assunto_il", "x.sequenza"], descending=True)
    query.when_equal(stanziamento_id=stanziamento_id, piano_id=piano_id, fondo=fondo, annualita=annualita,
                     intervento=intervento, comune=comune, beneficiario_cf=beneficiario, cig=cig, cup=cup)
    _day_range(query, "x.assunto_il", dal, al)
    if da_liquidare is not None:
        query.when(("" if da_liquidare else "NOT ") + "(x.importo - x.ridotto - x.liquidato > 0)")
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/liquidazioni", response_model=Pagina[LiquidazioneVoce], responses=LIST_RESPONSES)
def elenca_liquidazioni(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                        response: Response, stanziamento_id: uuid.UUID | None = None,
                        impegno_id: uuid.UUID | None = None, beneficiario: str | None = CODICE_FISCALE,
                        dal: date | None = DAL, al: date | None = AL) -> dict:
    """Le liquidazioni (la più recente prima), per stanziamento, impegno, beneficiario, date."""
    query = ListQuery(runtime.read_model, "liquidazioni",
                      "x.liquidazione_id, x.impegno_id, x.stanziamento_id, x.beneficiario_cf, x.fattura_numero, "
                      "x.fattura_data, x.importo::text AS importo, x.pagato::text AS pagato, x.disposta_da, "
                      "x.disposta_il", order=["x.disposta_il", "x.sequenza"], descending=True)
    query.when_equal(stanziamento_id=stanziamento_id, impegno_id=impegno_id, beneficiario_cf=beneficiario)
    _day_range(query, "x.disposta_il", dal, al)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/mandati", response_model=Pagina[MandatoVoce], responses=LIST_RESPONSES)
def elenca_mandati(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                   response: Response, stanziamento_id: uuid.UUID | None = None, impegno_id: uuid.UUID | None = None,
                   liquidazione_id: uuid.UUID | None = None, beneficiario: str | None = CODICE_FISCALE,
                   dal: date | None = DAL, al: date | None = AL) -> dict:
    """I mandati di pagamento (il più recente prima), per stanziamento, impegno, liquidazione, beneficiario, data."""
    query = ListQuery(runtime.read_model, "mandati",
                      "x.mandato_id, x.liquidazione_id, x.impegno_id, x.stanziamento_id, x.beneficiario_cf, "
                      "x.importo::text AS importo, x.data, x.emesso_da, x.emesso_il",
                      order=["x.data", "x.sequenza"], descending=True)
    query.when_equal(stanziamento_id=stanziamento_id, impegno_id=impegno_id, liquidazione_id=liquidazione_id,
                     beneficiario_cf=beneficiario)
    query.when_present("x.data >= %s", dal)
    query.when_present("x.data <= %s", al)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/riparti", response_model=Pagina[RipartoVoce], responses=LIST_RESPONSES)
def elenca_riparti(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                   response: Response, q: str | None = Query(None, min_length=1, max_length=200,
                                                           description="Parte dell'oggetto."),
                   dal: date | None = DAL, al: date | None = AL) -> dict:
    """I riparti eseguiti (il più recente prima)."""
    query = ListQuery(runtime.read_model, "riparti",
                      "x.riparto_id, x.oggetto, x.atto, x.dati_riferimento_id, x.metodo, x.totale::text AS totale, "
                      "x.ripartito::text AS ripartito, x.residuo::text AS residuo, x.destinatari, x.eseguito_da, "
                      "x.eseguito_il", order=["x.eseguito_il", "x.sequenza"], descending=True)
    query.when_present("strpos(lower(x.oggetto), lower(%s)) > 0", q)
    _day_range(query, "x.eseguito_il", dal, al)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/dati-riferimento", response_model=Pagina[DatiRiferimentoVoce], responses=LIST_RESPONSES)
def elenca_dati_riferimento(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                            response: Response, nome: str | None = Query(None, min_length=1, max_length=100)
                            ) -> dict:
    """I dati di riferimento caricati (per nome, il più recente prima)."""
    query = ListQuery(runtime.read_model, "dati_riferimento",
                      "x.dati_id, x.nome, x.data_riferimento, x.fonte, x.colonne, x.righe, x.caricati_da, "
                      "x.caricati_il", order=["x.data_riferimento", "x.nome", "x.dati_id"], descending=True)
    query.when_present("x.nome = %s", nome)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/contributi", response_model=Pagina[ContributiVoce], responses=LIST_RESPONSES)
def elenca_contributi(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                      response: Response, anno: int | None = ANNO) -> dict:
    """Le quote dei Comuni determinate per anno (il più recente prima), con quanto è stato versato."""
    rm = runtime.read_model
    query = ListQuery(rm, "contributi", sql.SQL(
        "x.contributi_id, x.anno, x.metodo, x.totale::text AS totale, x.comuni, x.determinati_il, "
        "(SELECT coalesce(sum(v.importo), 0)::text FROM {v} AS v WHERE v.tenant_id = x.tenant_id "
        "AND v.contributi_id = x.contributi_id AND v.stornato_il IS NULL) AS versato").format(
        v=rm.table("contributi_versamenti")), order=["x.anno", "x.contributi_id"], descending=True)
    query.when_present("x.anno = %s", anno)
    return query.page(pagina, request, response, tenant=tenant_of(principal))
