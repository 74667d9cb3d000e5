"""HTTP API of the acts finance checks: the Ambito's Comitato deliberations it knows, and which act is required
where (``domain.atti``)."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.service import RuntimeDep

from finance.api.deps import Lettore
from finance.domain.atti import ATTI_RICHIESTI
from finance.projections import deliberazioni

router = APIRouter(tags=["Atti"])


class DeliberazioneNota(BaseModel):
    deliberazione_id: uuid.UUID
    tipo: str | None = Field(examples=["criteri_riparto_costi"])
    oggetto: str | None
    numero: str = Field(examples=["3/2025"])
    data: date


class AttiRichiesti(BaseModel):
    deliberazioni: list[DeliberazioneNota] = Field(description=(
        "Le deliberazioni approvate del Comitato dell'Ambito, come planning le ha pubblicate."))
    atti_richiesti: dict[str, dict[str, object]] = Field(description=(
        "Per ogni campo che cita un atto: quale atto finance richiede e, per una deliberazione del Comitato, "
        "di quali tipi."))


@router.get("/deliberazioni", response_model=AttiRichiesti)
def deliberazioni_note(runtime: RuntimeDep, principal: Lettore) -> AttiRichiesti:
    """Le deliberazioni approvate del Comitato che finance conosce (da planning) e gli atti richiesti per campo."""
    righe = deliberazioni.approvate(runtime.read_model, tenant_of(principal))
    return AttiRichiesti(deliberazioni=[DeliberazioneNota(**{k: r[k] for k in DeliberazioneNota.model_fields})
                                        for r in righe],
                         atti_richiesti={k: {**v, "tipi": list(v["tipi"])} for k, v in ATTI_RICHIESTI.items()})
