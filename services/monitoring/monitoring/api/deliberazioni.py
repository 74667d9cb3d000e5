"""The Ambito's own register of deliberations (monitoring read model, fed by planning's events)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.listing import LIST_RESPONSES, Pagina, PaginazioneDep

from monitoring.api.deps import Anno, Lettore, ReadModelDep
from monitoring.projections import deliberazioni
from monitoring.projections.deliberazioni import esito_da_colonne

router = APIRouter(prefix="/deliberazioni", tags=["Monitoraggio"])

StatoDeliberazione = Literal["proposta", "approvata", "respinta"]


class Conteggio(BaseModel):
    favorevoli: int
    contrari: int
    astenuti: int
    base: int


class EsitoVotazione(BaseModel):
    famiglia: str
    motivazione: str
    per_testa: Conteggio
    ponderato: Conteggio


class DeliberazioneMonitorata(BaseModel):
    id: uuid.UUID
    ambito: str
    tipo: str
    oggetto: str
    stato: StatoDeliberazione
    #: "n/anno" once approved
    numero: str | None
    #: date of the vote (approved or rejected)
    data: date | None
    seduta_id: uuid.UUID | None
    #: the figures of the vote (None while proposed)
    esito: EsitoVotazione | None
    proposta_il: datetime
    ultimo_evento: datetime


def _deliberazione(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in ("id", "ambito", "tipo", "oggetto", "stato", "numero", "data", "seduta_id",
                                   "proposta_il", "ultimo_evento")}, "esito": esito_da_colonne(row)}


@router.get("", response_model=Pagina[DeliberazioneMonitorata], responses=LIST_RESPONSES)
def elenco_deliberazioni(read_model: ReadModelDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                         response: Response, stato: StatoDeliberazione | None = None,
                         tipo: str | None = Query(None, pattern=r"^[a-z][a-z0-9_]{0,39}$",
                                                  examples=["approvazione_bilancio"]),
                         anno: Anno = None) -> dict:
    """Elenca le deliberazioni e le proposte dell'Ambito in ordine di proposta (facoltativamente per stato, tipo,
    o anno della votazione)."""
    elenco = deliberazioni.elenco_deliberazioni(read_model, stato=stato, tipo=tipo, anno=anno).page(
        pagina, request, response, tenant=tenant_of(principal))
    return {**elenco, "elementi": [_deliberazione(r) for r in elenco["elementi"]]}


@router.get("/{deliberazione_id}", response_model=DeliberazioneMonitorata)
def leggi_deliberazione(deliberazione_id: uuid.UUID, read_model: ReadModelDep, principal: Lettore) -> dict:
    """Legge una deliberazione dell'Ambito dal modello di monitoraggio."""
    row = deliberazioni.leggi_deliberazione(read_model, tenant_of(principal), deliberazione_id)
    if row is None:
        raise NotFound(f"Deliberazione {deliberazione_id} non trovata.")
    return _deliberazione(row)
