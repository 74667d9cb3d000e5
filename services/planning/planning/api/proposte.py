"""HTTP API of the tavoli's proposals as inputs to the Piano."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import StrictIn

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.api.piani import VersioneRead, versione_read
from planning.domain.proposte import PropostaTavolo

router = APIRouter(tags=["Proposte dei tavoli"])


class RecepimentoWrite(StrictIn):
    area: str = Field(max_length=20, description="Codice dell'area della versione in cui inserire l'intervento.")
    obiettivo: str = Field(max_length=20, description="Codice dell'obiettivo di quell'area.")


def proposta_read(p: PropostaTavolo) -> dict[str, Any]:
    return {"proposta_id": str(p.proposta_id), "ambito": p.tenant_id, "tavolo_id": str(p.tavolo_id),
            "piano_id": str(p.piano_id) if p.piano_id else None, "titolo": p.titolo, "descrizione": p.descrizione,
            "area": p.area, "intervento": p.intervento, "formulata_da": p.formulata_da,
            "recepita": {**p.recepita, "piano_id": str(p.recepita["piano_id"])} if p.recepita else None}


@router.get("/proposte-tavoli/{proposta_id}")
def leggi(proposta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> dict[str, Any]:
    """Legge una proposta di un tavolo ricevuta da partnership, e se è stata recepita."""
    return proposta_read(app.proposta_tavolo(tenant_of(principal), proposta_id))


@router.post("/piani/{piano_id}/versioni/{versione}/proposte-tavoli/{proposta_id}", response_model=VersioneRead)
def recepisci(piano_id: uuid.UUID, versione: int, proposta_id: uuid.UUID, body: RecepimentoWrite, app: PlanningDep,
              principal: Coordinatore) -> VersioneRead:
    """Recepisce la proposta di un tavolo nella bozza: l'intervento proposto entra sotto un'area e un obiettivo."""
    piano, _ = app.recepisci_proposta(tenant_of(principal), piano_id, versione, proposta_id, body.area,
                                      body.obiettivo, principal.subject)
    return versione_read(piano, versione)
