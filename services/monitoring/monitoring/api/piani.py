"""The Ambito's own view of its plans (monitoring read model, fed by planning's events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.listing import LIST_RESPONSES, Pagina, PaginazioneDep

from monitoring.api.deps import Anno, Lettore, ReadModelDep
from monitoring.projections import piani

router = APIRouter(prefix="/piani", tags=["Monitoraggio"])

StatoPiano = Literal[piani.STATI]  # type: ignore[valid-type]


class PianoMonitorato(BaseModel):
    id: uuid.UUID
    ambito: str
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: StatoPiano
    creato_il: datetime
    #: the latest approved version (None until version 1 is approved) and its deliberation, e.g. "1/2026"
    versione_vigente: int | None
    deliberazione_vigente: str | None
    deliberazione_vigente_id: uuid.UUID | None
    #: time of the last event of the plan applied to this read model
    ultimo_evento: datetime


@router.get("", response_model=Pagina[PianoMonitorato], responses=LIST_RESPONSES)
def elenco_piani(read_model: ReadModelDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
                 response: Response, stato: StatoPiano | None = None, anno: Anno = None) -> dict:
    """Elenca i Piani di Zona dell'Ambito per primo anno e creazione (facoltativamente per stato, o quelli il cui
    triennio comprende un anno)."""
    return piani.elenco_piani(read_model, stato=stato, anno=anno).page(pagina, request, response,
                                                                        tenant=tenant_of(principal))


@router.get("/{piano_id}", response_model=PianoMonitorato)
def leggi_piano(piano_id: uuid.UUID, read_model: ReadModelDep, principal: Lettore) -> dict:
    """Legge un Piano di Zona dell'Ambito dal modello di monitoraggio."""
    piano = piani.leggi_piano(read_model, tenant_of(principal), piano_id)
    if piano is None:
        raise NotFound(f"Piano {piano_id} non trovato.")
    return piano
