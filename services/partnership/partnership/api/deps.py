"""Dependencies shared by the partnership routers: the application, who may do what, common fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.fields import StrictIn, testo
from ambiti_kit.service import RuntimeDep

from partnership.application import Partnership
from partnership.domain.enti import Ente


def partnership(runtime: RuntimeDep) -> Partnership:
    return runtime.app  # type: ignore[return-value]


PartnershipDep = Annotated[Partnership, Depends(partnership)]
#: the Ufficio di Piano's coordinator manages the registry, the tavoli and everything else
Coordinatore = Annotated[Principal, Depends(require_roles("coordinatore"))]
#: acts (notices, admissions, convenzioni, accreditations, awards) are recorded by the administrative staff too
Atti = Annotated[Principal, Depends(require_roles("coordinatore", "amministrativo"))]
LETTORI = ("coordinatore", "amministrativo", "revisore", "referente_asl")
#: readers of the whole Ambito, and the referente of an ente (who sees only what concerns it)
LettoreOReferente = Annotated[Principal, Depends(require_roles(*LETTORI, "referente_ets"))]
Referente = Annotated[Principal, Depends(require_roles("referente_ets"))]

CODICE_INTERVENTO = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$", examples=["A1.2"])


class AttoIn(StrictIn):
    tipo: Literal["determina", "deliberazione", "decreto", "avviso", "protocollo", "verbale", "convenzione"]
    numero: testo(1, 40) = Field(examples=["145"])
    data: date = Field(strict=False, examples=["2026-03-02"])


class AttoRead(BaseModel):
    tipo: str
    numero: str
    data: date


class NomenclaturaIn(StrictIn):
    sistema: Literal["fnps_macrolivello", "nomenclatore"]
    codice: str = Field(max_length=10, examples=["2"])


def is_lettore(principal: Principal) -> bool:
    """Whether the principal reads the whole Ambito (otherwise it is a referente_ets)."""
    return principal.has_any(LETTORI)


def ente_del_referente(app: Partnership, principal: Principal) -> Ente:
    return app.ente_del_referente(tenant_of(principal), principal.subject)
