"""HTTP API of the funds: the catalogue and the Ambito's assignments per annualità with their acts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import testo

from finance.api.deps import IMPORTO, Contabile, FinanceDep, Lettore
from finance.domain.denaro import euro, importo
from finance.domain.fondi import FONDI, Assegnazione

router = APIRouter(tags=["Fondi"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class AttoIn(_In):
    tipo: Literal["decreto", "delibera_giunta_regionale", "decreto_dirigenziale", "deliberazione", "determina"]
    numero: testo(1, 40) = Field(examples=["312"])
    data: date = Field(strict=False, examples=["2024-11-14"])
    ente: testo(2, 200) = Field(examples=["Ministero del Lavoro e delle Politiche Sociali"])


class VincoliIn(_In):
    quota_servizi_percentuale: str | None = Field(None, pattern=r"^\d{1,3}(\.\d{1,2})?$", examples=["40"])
    macro_livelli_servizi: list[Literal["1", "2", "3", "4", "5"]] = Field(default_factory=list)


class AssegnazioneWrite(_In):
    fondo: str = Field(examples=["FNPS"])
    annualita: int = Field(ge=2000, le=2100, examples=[2024])
    importo: str = IMPORTO
    atto: AttoIn
    vincoli: VincoliIn = Field(default_factory=VincoliIn)


class AssegnazioneRead(BaseModel):
    id: uuid.UUID
    ambito: str
    fondo: str
    annualita: int
    totale: str
    allocato: str
    disponibile: str
    atti: list[dict]
    vincoli: dict

    @classmethod
    def of(cls, a: Assegnazione) -> "AssegnazioneRead":
        return cls(id=a.id, ambito=a.tenant_id, fondo=a.fondo, annualita=a.annualita, totale=euro(a.totale),
                   allocato=euro(a.allocato), disponibile=euro(a.disponibile),
                   atti=[{**x, "importo": euro(x["importo"])} for x in a.atti], vincoli=a.vincoli)


@router.get("/fondi")
def catalogo(principal: Lettore) -> list[dict[str, str]]:
    """Il catalogo delle fonti di finanziamento."""
    return [{"codice": k, "nome": v} for k, v in FONDI.items()]


@router.post("/assegnazioni", response_model=AssegnazioneRead)
def registra(body: AssegnazioneWrite, app: FinanceDep, principal: Contabile, response: Response) -> AssegnazioneRead:
    """Registra l'assegnazione di un'annualità di un fondo con il suo atto (un nuovo atto la integra)."""
    assegnazione, created = app.registra_assegnazione(
        tenant_of(principal), body.fondo, body.annualita, importo(body.importo, "importo"),
        body.atto.model_dump(), body.vincoli.model_dump(exclude_defaults=True), principal.subject)
    response.status_code = 201 if created else 200
    return AssegnazioneRead.of(assegnazione)


@router.get("/assegnazioni/{fondo}/{annualita}", response_model=AssegnazioneRead)
def leggi(fondo: str, annualita: int, app: FinanceDep, principal: Lettore) -> AssegnazioneRead:
    """Legge un'assegnazione: totale, atti, allocato e disponibile."""
    return AssegnazioneRead.of(app.assegnazione(tenant_of(principal), fondo, annualita))
