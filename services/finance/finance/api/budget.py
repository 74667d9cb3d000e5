"""HTTP API of the budget of a Piano di Zona: its lines and the allocations of funds to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import Importo, StrictIn

from finance.api.deps import IDEMPOTENT_RESPONSES, FinanceDep, Lettore, UnaVolta, risposta_idempotente
from finance.domain.budget import Budget
from finance.domain.comandi import NuovaAllocazione

router = APIRouter(prefix="/budget", tags=["Budget"])


class BudgetRead(BaseModel):
    id: uuid.UUID
    ambito: str
    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int
    versione_piano: int | None = Field(description="La versione approvata del Piano le cui linee sono in vigore.")
    deliberazione: str | None
    righe: list[dict] = Field(description="Linee: intervento, fondo, anno, previsto, allocato, da allocare.")
    aperto_il: datetime

    @classmethod
    def of(cls, budget: Budget) -> "BudgetRead":
        return cls(id=budget.id, ambito=budget.tenant_id, piano_id=budget.piano_id, anno_inizio=budget.anno_inizio,
                   anno_fine=budget.anno_fine, versione_piano=budget.versione, deliberazione=budget.deliberazione,
                   righe=budget.quadro(), aperto_il=budget.created_on)


class AllocazioneWrite(StrictIn):
    intervento: str = Field(max_length=20, examples=["A.1.1"])
    fondo: str = Field(max_length=40, examples=["FNPS"])
    anno: int = Field(ge=2000, le=2100, description="Anno della linea del Piano.")
    annualita: int = Field(ge=2000, le=2100, description="Annualità del fondo da cui si attinge.")
    importo: Importo


@router.get("/{piano_id}", response_model=BudgetRead)
def leggi_budget(piano_id: uuid.UUID, app: FinanceDep, principal: Lettore) -> BudgetRead:
    """Legge il budget di un Piano di Zona dell'Ambito, con previsto e allocato per linea."""
    return BudgetRead.of(app.budget_del_piano(tenant_of(principal), piano_id))


@router.post("/{piano_id}/allocazioni", status_code=status.HTTP_201_CREATED, responses=IDEMPOTENT_RESPONSES)
def alloca(piano_id: uuid.UUID, body: AllocazioneWrite, app: FinanceDep, once: UnaVolta, response: Response) -> dict:
    """Alloca parte di un'annualità di un fondo a una linea del Piano vigente (apre o incrementa lo stanziamento)."""
    return risposta_idempotente(response, app.alloca(once, NuovaAllocazione(
        piano_id=piano_id, intervento=body.intervento, fondo=body.fondo, anno=body.anno, annualita=body.annualita,
        importo=body.importo)))
