"""HTTP API of accreditamenti (validity, tariffs, renewal, revocation) and affidamenti (awards)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.fields import Cig, Importo, StrictIn, testo

from partnership.api.deps import (
    CODICE_INTERVENTO,
    Atti,
    AttoIn,
    LettoreOReferente,
    NomenclaturaIn,
    PartnershipDep,
    ente_del_referente,
    is_lettore,
)
from partnership.application import Partnership, oggi
from partnership.domain.accreditamenti import UNITA, Accreditamento, Affidamento
from partnership.domain.comandi import NuovoAccreditamento, NuovoAffidamento

router = APIRouter(tags=["Accreditamento e affidamenti"])


class TariffaIn(StrictIn):
    prestazione: testo(3, 200) = Field(examples=["Assistenza domiciliare socio-assistenziale"])
    unita: Literal[UNITA]  # type: ignore[valid-type]
    importo: Importo


class AccreditamentoCreate(StrictIn):
    ente_id: uuid.UUID = Field(strict=False)
    intervento: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$", examples=["A1.2"])
    servizio: NomenclaturaIn | None = None
    valido_dal: date = Field(strict=False)
    valido_al: date = Field(strict=False)
    tariffe: list[TariffaIn] = Field(min_length=1, max_length=50)
    atto: AttoIn


class RinnovoWrite(StrictIn):
    valido_al: date = Field(strict=False)
    atto: AttoIn


class RevocaWrite(StrictIn):
    revocato_il: date = Field(strict=False)
    motivo: testo(5, 2_000)
    atto: AttoIn


class AffidamentoCreate(StrictIn):
    ente_id: uuid.UUID = Field(strict=False)
    piano_id: uuid.UUID = Field(strict=False)
    intervento: str = CODICE_INTERVENTO
    importo: Importo
    cig: Cig | None = Field(None, description=(
        "CIG del contratto: obbligatorio con `gara` e `affidamento_diretto` (422 `affidamento.cig`; L. 136/2010 "
        "art. 3). finance lo riporta sugli impegni sotto l'affidamento e sui loro mandati; l'`importo` è il tetto "
        "di quegli impegni."))
    valido_dal: date = Field(strict=False)
    valido_al: date = Field(strict=False)
    modalita: Literal["accreditamento", "convenzione", "gara", "affidamento_diretto"]
    accreditamento_id: uuid.UUID | None = Field(None, strict=False)
    procedura_id: uuid.UUID | None = Field(None, strict=False)
    atto: AttoIn


class AccreditamentoRead(BaseModel):
    id: uuid.UUID
    ambito: str
    ente: dict[str, str]
    intervento: str | None
    servizio: dict[str, str] | None
    valido_dal: date
    valido_al: date
    tariffe: list[dict[str, str]]
    stato: str = Field(description="Alla data di oggi: non_ancora_valido, valido, scaduto o revocato.")
    revocato_il: date | None
    motivo_revoca: str | None
    atti: list[dict[str, Any]]
    versione: int
    rilasciato_il: datetime

    @classmethod
    def of(cls, a: Accreditamento) -> "AccreditamentoRead":
        return cls(id=a.id, ambito=a.tenant_id, ente=a.ente, intervento=a.intervento, servizio=a.servizio,
                   valido_dal=a.valido_dal, valido_al=a.valido_al,
                   tariffe=[{**t, "importo": str(t["importo"])} for t in a.tariffe], stato=a.stato(oggi()),
                   revocato_il=a.revocato_il, motivo_revoca=a.motivo_revoca, atti=a.atti, versione=a.version,
                   rilasciato_il=a.created_on)


class AffidamentoRead(BaseModel):
    id: uuid.UUID
    ambito: str
    ente: dict[str, str]
    piano_id: uuid.UUID
    intervento: str
    importo: str
    cig: str | None
    valido_dal: date
    valido_al: date
    modalita: str
    accreditamento_id: uuid.UUID | None
    procedura_id: uuid.UUID | None
    atto: dict[str, Any]
    aggiudicato_il: datetime

    @classmethod
    def of(cls, a: Affidamento) -> "AffidamentoRead":
        return cls(id=a.id, ambito=a.tenant_id, ente=a.ente, piano_id=a.piano_id, intervento=a.intervento,
                   importo=str(a.importo), cig=a.cig, valido_dal=a.valido_dal, valido_al=a.valido_al,
                   modalita=a.modalita, accreditamento_id=a.accreditamento_id, procedura_id=a.procedura_id,
                   atto=a.atto, aggiudicato_il=a.created_on)


def _proprio(app: Partnership, principal: Principal, ente: dict, what: str, id_: uuid.UUID) -> None:
    """A referente reads only its own ente's accreditations and awards (others: 404)."""
    if not is_lettore(principal) and ente_del_referente(app, principal).codice_fiscale != ente["codice_fiscale"]:
        raise NotFound(f"{what} {id_} non trovato.")


@router.post("/accreditamenti", status_code=status.HTTP_201_CREATED, response_model=AccreditamentoRead)
def rilascia(body: AccreditamentoCreate, app: PartnershipDep, principal: Atti, request: Request,
             response: Response) -> AccreditamentoRead:
    """Rilascia l'accreditamento di un ente per un servizio, con validità e tariffe."""
    accreditamento = NuovoAccreditamento(
        ente_id=body.ente_id, intervento=body.intervento,
        servizio=body.servizio.model_dump() if body.servizio else None, valido_dal=body.valido_dal,
        valido_al=body.valido_al, tariffe=[t.model_dump() for t in body.tariffe], atto=body.atto.model_dump())
    a = app.rilascia_accreditamento(tenant_of(principal), accreditamento, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_accreditamento", accreditamento_id=a.id))
    return AccreditamentoRead.of(a)


@router.get("/accreditamenti/{accreditamento_id}", response_model=AccreditamentoRead)
def leggi_accreditamento(accreditamento_id: uuid.UUID, app: PartnershipDep,
                         principal: LettoreOReferente) -> AccreditamentoRead:
    """Legge un accreditamento con il suo stato a oggi."""
    a = app.accreditamento(tenant_of(principal), accreditamento_id)
    _proprio(app, principal, a.ente, "Accreditamento", accreditamento_id)
    return AccreditamentoRead.of(a)


@router.get("/accreditamenti/{accreditamento_id}/stato")
def stato_accreditamento(accreditamento_id: uuid.UUID, app: PartnershipDep, principal: LettoreOReferente,
                         il: date = Query(description="La data a cui valutare lo stato.")) -> dict[str, Any]:
    """Lo stato dell'accreditamento a una data (valido, scaduto, revocato, non ancora valido)."""
    a = app.accreditamento(tenant_of(principal), accreditamento_id)
    _proprio(app, principal, a.ente, "Accreditamento", accreditamento_id)
    return {"accreditamento_id": str(a.id), "il": il.isoformat(), "stato": a.stato(il)}


@router.post("/accreditamenti/{accreditamento_id}/rinnovo", response_model=AccreditamentoRead)
def rinnova(accreditamento_id: uuid.UUID, body: RinnovoWrite, app: PartnershipDep,
            principal: Atti) -> AccreditamentoRead:
    """Rinnova l'accreditamento estendendone la validità."""
    return AccreditamentoRead.of(app.rinnova_accreditamento(tenant_of(principal), accreditamento_id, body.valido_al,
                                                            body.atto.model_dump(), principal.subject))


@router.post("/accreditamenti/{accreditamento_id}/revoca", response_model=AccreditamentoRead)
def revoca(accreditamento_id: uuid.UUID, body: RevocaWrite, app: PartnershipDep,
           principal: Atti) -> AccreditamentoRead:
    """Revoca l'accreditamento da una data, con il motivo."""
    return AccreditamentoRead.of(app.revoca_accreditamento(tenant_of(principal), accreditamento_id,
                                                           body.revocato_il, body.motivo, body.atto.model_dump(),
                                                           principal.subject))


@router.post("/affidamenti", status_code=status.HTTP_201_CREATED, response_model=AffidamentoRead)
def aggiudica(body: AffidamentoCreate, app: PartnershipDep, principal: Atti, request: Request,
              response: Response) -> AffidamentoRead:
    """Affida un intervento del Piano a un ente (finance ne trae gli impegni)."""
    affidamento = NuovoAffidamento(
        ente_id=body.ente_id, piano_id=body.piano_id, intervento=body.intervento, importo=body.importo, cig=body.cig,
        valido_dal=body.valido_dal, valido_al=body.valido_al, modalita=body.modalita,
        accreditamento_id=body.accreditamento_id, procedura_id=body.procedura_id, atto=body.atto.model_dump())
    a = app.aggiudica(tenant_of(principal), affidamento, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_affidamento", affidamento_id=a.id))
    return AffidamentoRead.of(a)


@router.get("/affidamenti/{affidamento_id}", response_model=AffidamentoRead)
def leggi_affidamento(affidamento_id: uuid.UUID, app: PartnershipDep,
                      principal: LettoreOReferente) -> AffidamentoRead:
    """Legge un affidamento (il referente solo quelli del proprio ente)."""
    a = app.affidamento(tenant_of(principal), affidamento_id)
    _proprio(app, principal, a.ente, "Affidamento", affidamento_id)
    return AffidamentoRead.of(a)
