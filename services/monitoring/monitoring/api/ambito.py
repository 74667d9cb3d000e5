"""The Ambito's Comuni with their dated populations (monitoring read model)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.service import RuntimeDep

from monitoring.api.piani import Lettore

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
def comuni(runtime: RuntimeDep, principal: Lettore) -> AmbitoMonitorato:
    """I Comuni dell'Ambito con la popolazione alla data di riferimento."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL("SELECT istat, nome, popolazione, popolazione_al, capofila FROM {} "
                                "ORDER BY nome").format(rm.table("comuni")), tenant=tenant_of(principal))
    if not rows:
        raise NotFound("La composizione dell'Ambito non è ancora registrata.")
    return AmbitoMonitorato(ambito=tenant_of(principal), popolazione=sum(r["popolazione"] for r in rows),
                            comuni=[ComuneMonitorato(**r) for r in rows])
