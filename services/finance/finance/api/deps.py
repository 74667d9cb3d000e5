"""Dependencies shared by the finance routers: the application, who may do what, the money moves' key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.idempotency import IDEMPOTENT_RESPONSES, IdempotencyKey, Once, idempotent_answer
from ambiti_kit.service import RuntimeDep

from finance.application import Finance


def finance(runtime: RuntimeDep) -> Finance:
    return runtime.app  # type: ignore[return-value]


FinanceDep = Annotated[Finance, Depends(finance)]
#: the Ufficio di Piano's administrative staff keeps the books; the coordinator too
Contabile = Annotated[Principal, Depends(require_roles("amministrativo", "coordinatore"))]
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "revisore", "componente_comitato", "referente_asl"))]
#: a Region (its token names the Region, not an Ambito): its riparti among its Ambiti
Regione = Annotated[Principal, Depends(require_roles("regione"))]

#: Money moves: the Idempotency-Key header (required; 428 without it), the 201/200 answer, and their OpenAPI
#: (``responses=IDEMPOTENT_RESPONSES`` on every route that takes ``ChiaveIdempotenza``). All from the kit.
ChiaveIdempotenza = IdempotencyKey
risposta_idempotente = idempotent_answer


def una_volta(principal: Contabile, chiave: ChiaveIdempotenza) -> Once:
    """A money move's request: the accountant's Ambito and subject, and the Idempotency-Key it is sent under."""
    return Once(tenant_of(principal), principal.subject, chiave)


#: what a money move's route hands its use case (with the command): who asks, under which key
UnaVolta = Annotated[Once, Depends(una_volta)]

__all__ = ["IDEMPOTENT_RESPONSES", "ChiaveIdempotenza", "Contabile", "FinanceDep", "Lettore", "Regione", "UnaVolta",
           "finance",
           "risposta_idempotente", "una_volta"]
