"""HTTP API of the Accordo di Programma of a Piano: signatories, signatures, adhesions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import Forbidden
from ambiti_kit.fields import CodiceFiscaleEnte, StrictIn, testo

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.accordo import ASL, AccordoDiProgramma

router = APIRouter(prefix="/piani/{piano_id}/accordo", tags=["Accordo di Programma"])

#: a Comune signs through its member of the Comitato, the ASL through its referente
Firmatario = Annotated[Principal, Depends(require_roles("componente_comitato", "referente_asl"))]


class AccordoCreate(StrictIn):
    firmatari: list[str] | None = Field(None, max_length=400, description=(
        "Codici ISTAT dei Comuni e/o 'ASL' tenuti a firmare; se omesso, tutti i Comuni dell'Ambito e l'ASL."))


class AdesioneCreate(StrictIn):
    codice_fiscale: CodiceFiscaleEnte
    denominazione: testo(3, 200)


class AccordoRead(BaseModel):
    id: uuid.UUID
    piano_id: uuid.UUID
    firmatari_richiesti: list[str]
    firme: dict[str, dict[str, Any]]
    mancanti: list[str]
    adesioni: dict[str, dict[str, Any]]
    perfezionato_il: date | None
    stato_piano: str | None = None

    @classmethod
    def of(cls, a: AccordoDiProgramma, stato_piano: str | None = None) -> "AccordoRead":
        return cls(id=a.id, piano_id=a.piano_id, firmatari_richiesti=a.firmatari_richiesti, firme=a.firme,
                   mancanti=a.mancanti, adesioni=a.adesioni, perfezionato_il=a.perfezionato_il,
                   stato_piano=stato_piano)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccordoRead)
def predisponi(piano_id: uuid.UUID, body: AccordoCreate, app: PlanningDep, principal: Coordinatore) -> AccordoRead:
    """Predispone l'Accordo di Programma di un Piano approvato, con i firmatari richiesti."""
    return AccordoRead.of(app.predisponi_accordo(tenant_of(principal), piano_id, body.firmatari,
                                                 principal.subject))


@router.get("", response_model=AccordoRead)
def leggi(piano_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> AccordoRead:
    """Legge l'Accordo: firme raccolte, mancanti e adesioni."""
    tenant = tenant_of(principal)
    return AccordoRead.of(app.accordo(tenant, piano_id), app.piano(tenant, piano_id).stato)


@router.post("/firme", response_model=AccordoRead)
def firma(piano_id: uuid.UUID, app: PlanningDep, principal: Firmatario) -> AccordoRead:
    """Firma l'Accordo per il proprio Comune (o per l'ASL); l'ultima firma mette il Piano in attuazione."""
    if "referente_asl" in principal.roles:
        firmatario = ASL
    elif principal.comune:
        firmatario = principal.comune
    else:
        raise Forbidden("Il token del componente non indica il Comune (claim 'comune').", rule="token.comune")
    accordo, piano = app.firma_accordo(tenant_of(principal), piano_id, firmatario, principal.subject)
    return AccordoRead.of(accordo, piano.stato)


@router.post("/adesioni", response_model=AccordoRead)
def aderisci(piano_id: uuid.UUID, body: AdesioneCreate, app: PlanningDep, principal: Coordinatore) -> AccordoRead:
    """Registra l'adesione di un ente del Terzo Settore all'Accordo."""
    return AccordoRead.of(app.aderisci_accordo(tenant_of(principal), piano_id, body.codice_fiscale,
                                               body.denominazione, principal.subject))
