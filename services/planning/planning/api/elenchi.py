"""HTTP API of the lists: plans, sedute, proposals and deliberations, the tavoli's proposals.

Read from planning's read model of its own events (``planning.projections.elenchi``), which
is brought up to date before a write's response leaves: what was just stored is in its
list. Every list follows the kit's conventions (``ambiti_kit.listing``: filters, a stable
sort, ``limite``/``dopo`` cursor pagination, ``Link: rel="next"``). The queries run under
row-level security scoped to the token's tenant. The readers are those who read the same
items by id (``Lettore``), and like there they see every row of their Ambito.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.listing import LIST_RESPONSES, ListQuery, Pagina, PaginazioneDep
from ambiti_kit.service import RuntimeDep

from planning.api.deps import Lettore
from planning.api.sedute import SedutaSintesi
from planning.domain.deliberazione import TIPI as TIPI_DELIBERAZIONE
from planning.domain.piano import STATI as STATI_PIANO
from planning.projections.elenchi import STATI_DELIBERAZIONE, STATI_PROPOSTA_TAVOLO, STATI_SEDUTA

router = APIRouter(tags=["Elenchi"])

StatoPiano = Literal[STATI_PIANO]  # type: ignore[valid-type]
StatoSeduta = Literal[STATI_SEDUTA]  # type: ignore[valid-type]
StatoDeliberazione = Literal[STATI_DELIBERAZIONE]  # type: ignore[valid-type]
TipoDeliberazione = Literal[tuple(TIPI_DELIBERAZIONE)]  # type: ignore[valid-type]
StatoPropostaTavolo = Literal[STATI_PROPOSTA_TAVOLO]  # type: ignore[valid-type]
#: the largest int4: unnumbered proposals sort after every number of their year (in reverse: before)
SENZA_NUMERO = 2147483647


class VersioneVoce(BaseModel):
    versione: int
    tipo: str
    riferimento: int | None
    titolo: str
    stato: str
    interventi: int
    deliberazione_id: uuid.UUID | None
    deliberazione: str | None


class PianoVoce(BaseModel):
    id: uuid.UUID
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: str
    versione_vigente: int | None
    versioni: list[VersioneVoce]
    creato_il: datetime


class SedutaVoce(SedutaSintesi):
    votate: int


class DeliberazioneVoce(BaseModel):
    id: uuid.UUID
    numero: str | None
    anno: int
    tipo: str
    oggetto: str
    stato: str
    data: date | None
    seduta_id: uuid.UUID | None
    esito: dict[str, Any] | None


class PropostaTavoloVoce(BaseModel):
    proposta_id: uuid.UUID
    tavolo_id: uuid.UUID
    piano_id: uuid.UUID | None
    titolo: str
    area: str
    intervento: dict[str, Any]
    formulata_da: str
    ricevuta_il: datetime
    stato: str
    recepita: dict[str, Any] | None



@router.get("/piani", response_model=Pagina[PianoVoce], responses=LIST_RESPONSES)
def elenca_piani(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                 response: Response, stato: StatoPiano | None = None,
                 anno: int | None = Query(None, ge=2000, le=2100, description="Solo i Piani il cui triennio "
                                                                             "comprende quest'anno.")) -> dict:
    """L'elenco dei Piani di Zona, dal triennio più recente, con le versioni e quella in vigore."""
    v = runtime.read_model.table("piani_versioni")
    query = ListQuery(runtime.read_model, "piani", sql.SQL(
        "x.id, x.titolo, x.anno_inizio, x.anno_fine, x.stato, x.creato_il, "
        "(SELECT max(v.versione) FROM {v} AS v WHERE v.tenant_id = x.tenant_id AND v.piano_id = x.id "
        "AND v.stato = 'approvata') AS versione_vigente, "
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('versione', v.versione, 'tipo', v.tipo, "
        "'riferimento', v.riferimento, 'titolo', v.titolo, 'stato', v.stato, 'interventi', v.interventi, "
        "'deliberazione_id', v.deliberazione_id, 'deliberazione', v.deliberazione) ORDER BY v.versione), '[]') "
        "FROM {v} AS v WHERE v.tenant_id = x.tenant_id AND v.piano_id = x.id) AS versioni").format(v=v),
        order=["x.anno_inizio", "x.id"], descending=True)
    query.when_present("x.stato = %s", stato)
    query.when_present("x.anno_inizio <= %s AND %s <= x.anno_fine", anno)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/sedute", response_model=Pagina[SedutaVoce], responses=LIST_RESPONSES)
def elenca_sedute(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                  response: Response, stato: StatoSeduta | None = None,
                  dal: date | None = Query(None, description="Prima convocazione da questo giorno (incluso)."),
                  al: date | None = Query(None, description="Prima convocazione fino a questo giorno (incluso).")
                  ) -> dict:
    """L'elenco delle sedute del Comitato, dalla più recente per data di prima convocazione."""
    if dal is not None and al is not None and al < dal:
        raise RuleViolation("Il periodo finisce prima di cominciare: «al» precede «dal».", rule="elenco.periodo",
                            field="al")
    query = ListQuery(runtime.read_model, "sedute", "x.id, x.oggetto, x.luogo, x.stato, x.prima_convocazione, "
                      "x.seconda_convocazione, x.convocazione, x.prima_deserta, x.ordine_del_giorno, "
                      "cardinality(x.votate) AS votate",
                      order=["x.prima_convocazione", "x.id"], descending=True)
    query.when_present("x.stato = %s", stato)
    query.when_present("x.giorno >= %s", dal)
    query.when_present("x.giorno <= %s", al)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/deliberazioni", response_model=Pagina[DeliberazioneVoce], responses=LIST_RESPONSES)
def elenca_deliberazioni(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                         response: Response,
                         anno: int | None = Query(None, ge=2000, le=2100, description=(
                             "L'anno dell'atto: del numero nel registro per le approvate, della decisione per le "
                             "respinte, della proposta per le altre.")),
                         tipo: TipoDeliberazione | None = None, stato: StatoDeliberazione | None = None,
                         numero: str | None = Query(None, pattern=r"^[1-9]\d{0,5}/\d{4}$", examples=["12/2026"]),
                         seduta_id: uuid.UUID | None = None) -> dict:
    """Il registro delle deliberazioni per anno e numero, dal più recente; in ogni anno prima le proposte
    ancora senza numero (le più recenti per prime)."""
    query = ListQuery(runtime.read_model, "deliberazioni", "x.id, x.numero, x.anno, x.tipo, x.oggetto, x.stato, "
                      "x.data, x.seduta_id, x.esito",
                      order=["x.anno", f"coalesce(x.progressivo, {SENZA_NUMERO})", "x.proposta_il", "x.id"],
                      descending=True)
    query.when_equal(anno=anno, tipo=tipo, stato=stato, numero=numero, seduta_id=seduta_id)
    return query.page(pagina, request, response, tenant=tenant_of(principal))


@router.get("/proposte-tavoli", response_model=Pagina[PropostaTavoloVoce], responses=LIST_RESPONSES)
def elenca_proposte_tavoli(runtime: RuntimeDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                           response: Response,
                           stato: StatoPropostaTavolo | None = Query(None, description=(
                               "«ricevuta»: non ancora recepita in una versione del Piano; «recepita»: già "
                               "recepita.")),
                           tavolo_id: uuid.UUID | None = None,
                           piano_id: uuid.UUID | None = Query(None, description="Il Piano a cui il tavolo l'ha "
                                                                                 "indirizzata.")) -> dict:
    """Le proposte dei tavoli ricevute da partnership, dalla più recente, e se sono state recepite."""
    query = ListQuery(runtime.read_model, "proposte_tavoli", "x.proposta_id, x.tavolo_id, x.piano_id, x.titolo, "
                      "x.area, x.intervento, x.formulata_da, x.ricevuta_il, x.stato, x.recepita",
                      order=["x.ricevuta_il", "x.id"], descending=True)
    query.when_equal(stato=stato, tavolo_id=tavolo_id, piano_id=piano_id)
    return query.page(pagina, request, response, tenant=tenant_of(principal))
