"""HTTP API of the Ambito's registry entry (name, capofila, Comuni with dated populations)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import IstatComune, StrictIn, testo

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.ambito import Ambito, composizione_al, popolazioni as popolazioni_registrate

router = APIRouter(prefix="/ambito", tags=["Ambito"])


class ComuneIn(StrictIn):
    istat: IstatComune
    nome: testo(1, 120) = Field(examples=["Sapri"])
    popolazione: int = Field(ge=0, le=5_000_000, examples=[6373])
    aderente_dal: date | None = Field(
        None, strict=False, examples=["2008-07-01"],
        description="Facoltativo: la data da cui il Comune fa parte dell'Ambito per legge (atto regionale o adesione "
                    "alla convenzione), non quella di registrazione; se manca resta quella già registrata.")
    cessato_dal: date | None = Field(
        None, strict=False, examples=["2027-01-01"],
        description="Facoltativo: il primo giorno in cui il Comune non fa più parte dell'Ambito per legge (atto "
                    "regionale o recesso dalla convenzione); aderente fino al giorno prima. Segue aderente_dal; se "
                    "manca resta quella già registrata, anche quando una composizione successiva non elenca il Comune.")


class AmbitoWrite(StrictIn):
    nome: testo(3, 200)
    capofila_istat: IstatComune
    popolazione_al: date = Field(strict=False, description="Data di riferimento della popolazione (1° gennaio).")
    comuni: list[ComuneIn] = Field(min_length=1, max_length=400)


class AmbitoRead(BaseModel):
    ambito: str
    nome: str
    capofila_istat: str
    popolazione_al: date
    popolazione: int
    comuni: list[ComuneIn]
    versione: int

    @classmethod
    def of(cls, ambito: Ambito) -> "AmbitoRead":
        return cls(ambito=ambito.tenant_id, nome=ambito.nome, capofila_istat=ambito.capofila_istat,
                   popolazione_al=ambito.popolazione_al, popolazione=ambito.popolazione,
                   comuni=[ComuneIn(**c) for c in ambito.comuni], versione=ambito.version)


@router.put("", response_model=AmbitoRead, responses={
    201: {"model": AmbitoRead, "description": "Registrata: la prima composizione dell'Ambito."},
    200: {"description": "Aggiornata: una nuova composizione (nuova versione)."}})
def registra_ambito(body: AmbitoWrite, app: PlanningDep, principal: Coordinatore, response: Response) -> AmbitoRead:
    """Registra (o aggiorna) la composizione dell'Ambito: Comuni, capofila e popolazione."""
    ambito, created = app.registra_ambito(tenant_of(principal), body.nome, body.capofila_istat, body.popolazione_al,
                                          [c.model_dump(exclude_none=True) for c in body.comuni])
    response.status_code = 201 if created else 200
    return AmbitoRead.of(ambito)


@router.get("", response_model=AmbitoRead)
def leggi_ambito(app: PlanningDep, principal: Lettore) -> AmbitoRead:
    """Legge la composizione dell'Ambito."""
    return AmbitoRead.of(app.ambito(tenant_of(principal)))


class PopolazioneComune(BaseModel):
    istat: str
    popolazione: int


class PopolazioniAl(BaseModel):
    popolazione_al: date
    popolazione: int
    comuni: list[PopolazioneComune]


@router.get("/popolazioni", response_model=list[PopolazioniAl])
def popolazioni(app: PlanningDep, principal: Lettore) -> list[PopolazioniAl]:
    """Le popolazioni di ogni data di riferimento registrata, dalla più vecchia: nessuna è sovrascritta."""
    storico = popolazioni_registrate(app.composizioni(tenant_of(principal)))
    return [PopolazioniAl(popolazione_al=al, popolazione=sum(pop.values()),
                          comuni=[PopolazioneComune(istat=k, popolazione=v) for k, v in pop.items()])
            for al, pop in storico]


class ComuneAl(BaseModel):
    istat: str
    nome: str
    popolazione: int | None = Field(description="Alla data di riferimento più recente non successiva a «al» "
                                                "(null se nessuna).")
    aderente_dal: date | None
    cessato_dal: date | None = None


class ComposizioneAl(BaseModel):
    ambito: str
    al: date
    popolazione_al: date | None = Field(description="La data di riferimento delle popolazioni usata.")
    popolazione: int
    comuni: list[ComuneAl]


@router.get("/composizione", response_model=ComposizioneAl)
def composizione(app: PlanningDep, principal: Lettore,
                 al: date = Query(description="La data (AAAA-MM-GG) a cui leggere la composizione.")
                 ) -> ComposizioneAl:
    """La composizione a una data: i Comuni aderenti quel giorno e la loro popolazione a quella data."""
    tenant = tenant_of(principal)
    riferimento, comuni = composizione_al(app.composizioni(tenant), al)
    return ComposizioneAl(ambito=tenant, al=al, popolazione_al=riferimento,
                          popolazione=sum(c["popolazione"] or 0 for c in comuni),
                          comuni=[ComuneAl(**c) for c in comuni])
