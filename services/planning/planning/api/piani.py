"""HTTP API of the Piano di Zona."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.fields import testo
from ambiti_kit.service import RuntimeDep

from planning.application import Planning
from planning.domain.piano import PianoDiZona

router = APIRouter(prefix="/piani", tags=["Piano di Zona"])

Coordinatore = Annotated[Principal, Depends(require_roles("coordinatore"))]
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "componente_comitato", "referente_asl", "revisore", "assistente_sociale"))]


class PianoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    titolo: testo(3, 200) = Field(examples=["Piano Sociale di Zona 2025–2027"])
    anno_inizio: int = Field(ge=2000, le=2100, examples=[2025])
    anno_fine: int = Field(ge=2000, le=2100, examples=[2027])


class PianoRead(BaseModel):
    id: uuid.UUID
    ambito: str
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: str
    versione: int
    creato_da: str
    creato_il: datetime

    @classmethod
    def of(cls, piano: PianoDiZona) -> "PianoRead":
        return cls(id=piano.id, ambito=piano.tenant_id, titolo=piano.titolo, anno_inizio=piano.anno_inizio,
                   anno_fine=piano.anno_fine, stato=piano.stato, versione=piano.version,
                   creato_da=piano.creato_da, creato_il=piano.created_on)


def planning(runtime: RuntimeDep) -> Planning:
    return runtime.app  # type: ignore[return-value]


PlanningDep = Annotated[Planning, Depends(planning)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PianoRead)
def redigi_piano(body: PianoCreate, app: PlanningDep, principal: Coordinatore,
                 request: Request, response: Response) -> PianoRead:
    """Redige la bozza del Piano di Zona di un triennio."""
    piano = app.redigi_piano(tenant_of(principal), body.titolo, body.anno_inizio, body.anno_fine,
                             principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_piano", piano_id=piano.id))
    return PianoRead.of(piano)


@router.get("/{piano_id}", response_model=PianoRead)
def leggi_piano(piano_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> PianoRead:
    """Legge un Piano di Zona dell'Ambito."""
    return PianoRead.of(app.piano(tenant_of(principal), piano_id))
