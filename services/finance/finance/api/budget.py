"""HTTP API of the budget of a Piano di Zona."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.service import RuntimeDep

from finance.application import Finance
from finance.domain.budget import Budget

router = APIRouter(prefix="/budget", tags=["Budget"])

Lettore = Annotated[Principal, Depends(require_roles("coordinatore", "amministrativo", "revisore"))]


class BudgetRead(BaseModel):
    id: uuid.UUID
    ambito: str
    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int
    righe: list[dict]
    aperto_il: datetime

    @classmethod
    def of(cls, budget: Budget) -> "BudgetRead":
        return cls(id=budget.id, ambito=budget.tenant_id, piano_id=budget.piano_id, anno_inizio=budget.anno_inizio,
                   anno_fine=budget.anno_fine, righe=budget.righe, aperto_il=budget.created_on)


def finance(runtime: RuntimeDep) -> Finance:
    return runtime.app  # type: ignore[return-value]


@router.get("/{piano_id}", response_model=BudgetRead)
def leggi_budget(piano_id: uuid.UUID, app: Annotated[Finance, Depends(finance)], principal: Lettore) -> BudgetRead:
    """Legge il budget di un Piano di Zona dell'Ambito."""
    return BudgetRead.of(app.budget_del_piano(tenant_of(principal), piano_id))
