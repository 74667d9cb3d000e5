"""Dependencies shared by the finance routers: the application, who may do what, money fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response
from pydantic import Field

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.errors import DomainError
from ambiti_kit.idempotency import HEADER
from ambiti_kit.service import RuntimeDep

from finance.application import Finance


def finance(runtime: RuntimeDep) -> Finance:
    return runtime.app  # type: ignore[return-value]


FinanceDep = Annotated[Finance, Depends(finance)]
#: the Ufficio di Piano's administrative staff keeps the books; the coordinator too
Contabile = Annotated[Principal, Depends(require_roles("amministrativo", "coordinatore"))]
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "revisore", "componente_comitato", "referente_asl"))]

#: Euro as a decimal string with at most two decimals; the domain also refuses zero and negatives.
IMPORTO = Field(pattern=r"^-?[0-9]{1,13}(\.[0-9]+)?$", examples=["125000.00"],
                description="Euro, stringa decimale con al più due decimali (mai un numero in virgola mobile).")


class PreconditionRequired(DomainError):
    status = 428
    title = "Manca la chiave di idempotenza"


def chiave_idempotenza(key: Annotated[str | None, Header(alias=HEADER)] = None) -> str:
    """Money moves at most once per request: the client names each request with a key it repeats on retry."""
    if key is None:
        raise PreconditionRequired(f"Le operazioni che muovono denaro richiedono l'intestazione {HEADER}.",
                                   rule="idempotenza.chiave_richiesta", field=HEADER)
    return key


ChiaveIdempotenza = Annotated[str, Depends(chiave_idempotenza)]


def risposta_idempotente(response: Response, esito: tuple[dict, bool]) -> dict:
    """201 with the result the first time; 200 with the same result (``Idempotent-Replayed: true``) on a repeat."""
    risultato, replayed = esito
    response.status_code = 200 if replayed else 201
    response.headers["Idempotent-Replayed"] = "true" if replayed else "false"
    return risultato
