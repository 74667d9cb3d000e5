"""The Ambito's composition: its Comuni with their dated populations (monitoring read model).

Not a paged list: the Ambito's composition is one document (a few dozen Comuni at most,
registered together by planning) with its total population, and 404 until it is registered.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound

from monitoring.api.deps import Lettore, ReadModelDep
from monitoring.projections import ambiti

router = APIRouter(prefix="/ambito", tags=["Monitoraggio"])


class ComuneMonitorato(BaseModel):
    istat: str
    nome: str
    popolazione: int
    popolazione_al: date
    capofila: bool


class AmbitoMonitorato(BaseModel):
    ambito: str
    popolazione: int
    comuni: list[ComuneMonitorato]


@router.get("/comuni", response_model=AmbitoMonitorato)
def comuni(read_model: ReadModelDep, principal: Lettore) -> AmbitoMonitorato:
    """I Comuni dell'Ambito con la popolazione alla data di riferimento."""
    tenant = tenant_of(principal)
    righe = ambiti.comuni(read_model, tenant)
    if not righe:
        raise NotFound("La composizione dell'Ambito non è ancora registrata.")
    return AmbitoMonitorato(ambito=tenant, popolazione=sum(r["popolazione"] for r in righe),
                            comuni=[ComuneMonitorato(**r) for r in righe])
