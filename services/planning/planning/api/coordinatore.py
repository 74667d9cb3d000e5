"""HTTP API of the coordinatore's appointment: who holds the role and until when, from the deliberations."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound

from planning.api.deps import Lettore, PlanningDep
from planning.application import oggi

router = APIRouter(prefix="/coordinatore", tags=["Comitato Istituzionale"])


class NominaRead(BaseModel):
    nominativo: str
    dal: date
    al: date | None = Field(description="La fine dell'incarico fissata dalla deliberazione (null: non fissata).")
    fino_al: date | None = Field(description="La fine effettiva: «al», o il giorno prima della nomina seguente.")
    deliberazione_id: uuid.UUID
    deliberazione: str


class CoordinatoreRead(BaseModel):
    ambito: str
    al: date
    in_carica: NominaRead | None
    nomine: list[NominaRead]


@router.get("", response_model=CoordinatoreRead)
def leggi(app: PlanningDep, principal: Lettore,
          al: date | None = Query(None, description="La data a cui leggere chi è in carica (oggi se manca).")
          ) -> CoordinatoreRead:
    """Chi è coordinatore dell'Ufficio di Piano a una data, e ogni nomina deliberata dal Comitato."""
    tenant = tenant_of(principal)
    giorno = al or oggi()
    try:
        incarico = app.coordinatore(tenant)
    except NotFound:
        return CoordinatoreRead(ambito=tenant, al=giorno, in_carica=None, nomine=[])
    corrente: dict[str, Any] | None = incarico.in_carica(giorno)
    return CoordinatoreRead(ambito=tenant, al=giorno, in_carica=NominaRead(**corrente) if corrente else None,
                            nomine=[NominaRead(**p) for p in incarico.periodi()])
