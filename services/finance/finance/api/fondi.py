"""HTTP API of the funds: the catalogue and the Ambito's assignments per annualità with their acts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import Importo, StrictIn, testo
from ambiti_kit.values import euro

from finance.api.deps import Contabile, FinanceDep, Lettore
from finance.domain.fondi import FONDI, MACRO_LIVELLI, Assegnazione, verifica_fondo

router = APIRouter(tags=["Fondi"])

#: A fund's code. The OpenAPI lists the catalogue (``GET /fondi``) as its enum; the server refuses any
#: other code with the domain's own rule, ``fondo.noto`` (422, naming the codes allowed), rather than
#: pydantic's ``literal_error``, so that every route that takes a fund answers alike.
FONDO_SCHEMA = {"enum": list(FONDI)}
FONDO_DESCRIZIONE = "Il codice del fondo nel catalogo (GET /fondi)."
CodiceFondo = Annotated[str, Field(max_length=40, json_schema_extra=FONDO_SCHEMA, examples=["FNPS"],
                                   description=FONDO_DESCRIZIONE)]
Annualita = Annotated[int, Field(ge=2000, le=2100, examples=[2024])]

ATTO_ESEMPIO = {"tipo": "decreto", "numero": "312", "data": "2024-11-14",
                "ente": "Ministero del Lavoro e delle Politiche Sociali"}


class AttoAssegnazione(StrictIn):
    """The act that assigns (or adds to) the annualità."""

    model_config = ConfigDict(json_schema_extra={"examples": [ATTO_ESEMPIO]})

    tipo: Literal["decreto", "delibera_giunta_regionale", "decreto_dirigenziale", "deliberazione", "determina"]
    numero: testo(1, 40) = Field(examples=["312"])
    data: date = Field(strict=False, examples=["2024-11-14"])
    ente: testo(2, 200) = Field(examples=["Ministero del Lavoro e delle Politiche Sociali"])


class VincoliIn(StrictIn):
    """The fund's constraints: a minimum share for services, and which macro-livelli count as services."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "2", "3"]}]})

    quota_servizi_percentuale: str | None = Field(None, pattern=r"^\d{1,3}(\.\d{1,2})?$", examples=["40"],
                                                  description="Percentuale minima per i servizi (0–100).")
    macro_livelli_servizi: list[Literal[MACRO_LIVELLI]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=len(MACRO_LIVELLI), examples=[["1", "2", "3"]],
        description="I macro-livelli FNPS che contano come servizi.")


class AssegnazioneWrite(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"fondo": "FNPS", "annualita": 2024, "importo": "125000.00", "atto": ATTO_ESEMPIO,
         "vincoli": {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "2", "3"]}},
        {"fondo": "FNA", "annualita": 2024, "importo": "80000.00",
         "atto": {"tipo": "delibera_giunta_regionale", "numero": "57", "data": "2025-02-11",
                  "ente": "Regione Campania"}},
    ]})

    fondo: CodiceFondo
    annualita: Annualita
    importo: Importo
    atto: AttoAssegnazione
    vincoli: VincoliIn = Field(default_factory=VincoliIn)
    investimento: bool = Field(False, description=(
        "L'annualità finanzia progetti d'investimento: ogni impegno indica il CUP (L. 144/1999 art. 11, L. 3/2003 "
        "art. 11). Si dichiara con il primo atto."))
    pnrr: bool = Field(False, description=(
        "L'annualità è finanziata dal PNRR: ogni impegno indica il CUP. PNRR_M5C2 lo è sempre."))


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
    investimento: bool
    pnrr: bool

    @classmethod
    def of(cls, a: Assegnazione) -> "AssegnazioneRead":
        return cls(id=a.id, ambito=a.tenant_id, fondo=a.fondo, annualita=a.annualita, totale=euro(a.totale),
                   allocato=euro(a.allocato), disponibile=euro(a.disponibile),
                   atti=[{**x, "importo": euro(x["importo"])} for x in a.atti], vincoli=a.vincoli,
                   investimento=a.investimento, pnrr=a.pnrr)


class VoceCatalogo(BaseModel):
    codice: str = Field(examples=["FNPS"])
    nome: str = Field(examples=["Fondo nazionale per le politiche sociali"])


@router.get("/fondi", response_model=list[VoceCatalogo])
def catalogo(principal: Lettore) -> list[dict[str, str]]:
    """Il catalogo delle fonti di finanziamento."""
    return [{"codice": k, "nome": v} for k, v in FONDI.items()]


@router.post("/assegnazioni", status_code=201, response_model=AssegnazioneRead, responses={
    201: {"description": "Registrata: la prima assegnazione di quest'annualità del fondo."},
    200: {"model": AssegnazioneRead,
          "description": "Integrata: l'annualità era già assegnata e il nuovo atto ne aumenta il totale."}})
def registra(body: AssegnazioneWrite, app: FinanceDep, principal: Contabile, response: Response) -> AssegnazioneRead:
    """Registra l'assegnazione di un'annualità di un fondo con il suo atto (un nuovo atto la integra)."""
    assegnazione, created = app.registra_assegnazione(
        tenant_of(principal), body.fondo, body.annualita, body.importo,
        body.atto.model_dump(), body.vincoli.model_dump(exclude_defaults=True), principal.subject,
        investimento=body.investimento, pnrr=body.pnrr)
    response.status_code = 201 if created else 200
    return AssegnazioneRead.of(assegnazione)


@router.get("/assegnazioni/{fondo}/{annualita}", response_model=AssegnazioneRead)
def leggi(fondo: Annotated[str, Path(max_length=40, json_schema_extra=FONDO_SCHEMA, description=FONDO_DESCRIZIONE)],
          annualita: Annotated[int, Path(ge=2000, le=2100)], app: FinanceDep, principal: Lettore) -> AssegnazioneRead:
    """Legge un'assegnazione: totale, atti, allocato e disponibile."""
    return AssegnazioneRead.of(app.assegnazione(tenant_of(principal), verifica_fondo(fondo), annualita))
