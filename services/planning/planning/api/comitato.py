"""HTTP API of the Comitato Istituzionale: members (from the Ambito's Comuni) and decision rule."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import StrictIn, testo

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.comitato import Comitato, pesi_percentuali

router = APIRouter(prefix="/comitato", tags=["Comitato Istituzionale"])

Frazione = Field(pattern=r"^\d{1,4}/\d{1,4}$", examples=["1/2"])


class SogliaIn(StrictIn):
    frazione: str = Frazione
    stretta: bool = Field(False, description="true: «più di» la frazione; false: «almeno».")


class QuorumIn(StrictIn):
    pesi: SogliaIn | None = Field(description="Quota della popolazione (pesi) che deve essere presente.")
    membri: SogliaIn | None = Field(description="Quota dei componenti che deve essere presente.")


class RegolaIn(StrictIn):
    famiglia: Literal["per_testa", "ponderata", "doppia_maggioranza"]
    base: Literal["presenti", "votanti"] = "presenti"
    consultivi_contano: bool = False
    maggioranza: SogliaIn = SogliaIn(frazione="1/2", stretta=True)
    quorum: dict[Literal["1", "2"], QuorumIn] = Field(
        default_factory=lambda: {
            "1": QuorumIn(pesi=SogliaIn(frazione="1/2", stretta=True), membri=SogliaIn(frazione="1/3")),
            "2": QuorumIn(pesi=SogliaIn(frazione="3/10"), membri=SogliaIn(frazione="1/4"))},
        description="Numero legale per convocazione (1ª obbligatoria, 2ª facoltativa).")


class ConsultivoIn(StrictIn):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,19}$", examples=["ASL"])
    nome: testo(2, 200) = Field(examples=["ASL Salerno – Distretto 71"])
    peso: int = Field(0, ge=0, le=100_000_000)


class ComitatoWrite(StrictIn):
    regola: RegolaIn
    consultivi: list[ConsultivoIn] = Field(default_factory=list, max_length=20)


class ComponenteRead(BaseModel):
    id: str
    nome: str
    peso: int
    peso_percentuale: str
    consultivo: bool


class ComitatoRead(BaseModel):
    ambito: str
    popolazione_al: date
    componenti: list[ComponenteRead]
    regola: dict
    versione: int

    @classmethod
    def of(cls, comitato: Comitato) -> "ComitatoRead":
        quote = pesi_percentuali(comitato.componenti)
        return cls(ambito=comitato.tenant_id, popolazione_al=comitato.popolazione_al,
                   componenti=[ComponenteRead(**c, peso_percentuale=quote[c["id"]]) for c in comitato.componenti],
                   regola=comitato.regola, versione=comitato.version)


@router.put("", response_model=ComitatoRead, responses={
    201: {"model": ComitatoRead, "description": "Configurato per la prima volta."},
    200: {"description": "Configurazione aggiornata (nuova versione)."}})
def configura(body: ComitatoWrite, app: PlanningDep, principal: Coordinatore, response: Response) -> ComitatoRead:
    """Configura il Comitato: un componente per Comune (peso = popolazione), i consultivi e la regola di voto."""
    regola = body.regola.model_dump()
    comitato, created = app.configura_comitato(tenant_of(principal), [c.model_dump() for c in body.consultivi],
                                               regola, principal.subject)
    response.status_code = 201 if created else 200
    return ComitatoRead.of(comitato)


@router.get("", response_model=ComitatoRead)
def leggi(app: PlanningDep, principal: Lettore) -> ComitatoRead:
    """Legge componenti, pesi e regola di voto del Comitato."""
    return ComitatoRead.of(app.comitato(tenant_of(principal)))
