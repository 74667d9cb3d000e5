"""The Ambito's own view of its plans (monitoring read model)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.service import RuntimeDep

router = APIRouter(prefix="/piani", tags=["Monitoraggio"])

Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "assistente_sociale", "componente_comitato", "referente_asl", "revisore"))]

_COLUMNS = sql.SQL("piano_id AS id, tenant_id AS ambito, titolo, anno_inizio, anno_fine, stato, creato_il, "
                   "versione_vigente, deliberazione_vigente, deliberazione_vigente_id, "
                   "coalesce(ultimo_evento, creato_il) AS ultimo_evento")


class PianoMonitorato(BaseModel):
    id: uuid.UUID
    ambito: str
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: str
    creato_il: datetime
    #: the latest approved version (None until version 1 is approved) and its deliberation, e.g. "1/2026"
    versione_vigente: int | None
    deliberazione_vigente: str | None
    deliberazione_vigente_id: uuid.UUID | None
    #: time of the last event of the plan applied to this read model
    ultimo_evento: datetime


@router.get("", response_model=list[PianoMonitorato])
def elenco_piani(runtime: RuntimeDep, principal: Lettore) -> list[dict]:
    """Elenca i Piani di Zona dell'Ambito."""
    rm = runtime.read_model
    return rm.fetch_all(sql.SQL("SELECT {} FROM {} ORDER BY anno_inizio, creato_il").format(
        _COLUMNS, rm.table("piani")), tenant=tenant_of(principal))


@router.get("/{piano_id}", response_model=PianoMonitorato)
def leggi_piano(piano_id: uuid.UUID, runtime: RuntimeDep, principal: Lettore) -> dict:
    """Legge un Piano di Zona dell'Ambito dal modello di monitoraggio."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL("SELECT {} FROM {} WHERE piano_id = %s").format(_COLUMNS, rm.table("piani")),
                        (piano_id,), tenant=tenant_of(principal))
    if not rows:
        raise NotFound(f"Piano {piano_id} non trovato.")
    return rows[0]
