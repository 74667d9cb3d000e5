"""The regional read model: aggregate figures per Ambito of the caller's Region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.service import RuntimeDep

router = APIRouter(prefix="/regione", tags=["Regione"])

Regione = Annotated[Principal, Depends(require_roles("regione"))]


class PianiPerAmbito(BaseModel):
    ambito: str
    nome: str | None
    popolazione: int | None
    piani: int
    ultimo_evento: datetime


class VistaRegionale(BaseModel):
    regione: str
    aggiornato_al: datetime | None
    ambiti: list[PianiPerAmbito]


@router.get("/piani", response_model=VistaRegionale)
def piani_per_ambito(runtime: RuntimeDep, principal: Regione) -> VistaRegionale:
    """Numero di Piani di Zona per Ambito della Regione, con la freschezza dei dati."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL(
        "SELECT tenant_id AS ambito, a.nome, a.popolazione, coalesce(p.piani, 0) AS piani, "
        "greatest(p.ultimo_evento, a.ultimo_evento) AS ultimo_evento "
        "FROM {} p FULL JOIN {} a USING (regione, tenant_id) ORDER BY tenant_id").format(
        rm.table("regionale_piani"), rm.table("regionale_ambiti")), regione=principal.regione)
    ambiti = [PianiPerAmbito(**row) for row in rows]
    return VistaRegionale(regione=principal.regione or "", ambiti=ambiti,
                          aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))
