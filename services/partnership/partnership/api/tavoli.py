"""HTTP API of the tavoli: members, meetings (agenda, attendance, minutes) and proposals to the Piano."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from ambiti_kit.auth import Principal, tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.fields import IstatComune, StrictIn, testo

from partnership.api.deps import (
    CODICE_INTERVENTO,
    Coordinatore,
    LettoreOReferente,
    NomenclaturaIn,
    PartnershipDep,
    ente_del_referente,
    is_lettore,
)
from partnership.application import Partnership
from partnership.domain.comandi import NuovaProposta
from partnership.domain.tavoli import RUOLI_STAFF, Tavolo
from partnership.domain.valori import AREE_TEMATICHE

router = APIRouter(prefix="/tavoli", tags=["Tavoli"])

Area = Literal[AREE_TEMATICHE]  # type: ignore[valid-type]


class TavoloCreate(StrictIn):
    tipo: Literal["tematico", "tecnico", "partenariato"]
    nome: testo(3, 200) = Field(examples=["Tavolo tematico anziani e non autosufficienza"])
    area: Area


class MembroEnteCreate(StrictIn):
    tipo: Literal["ente"]
    ente_id: uuid.UUID = Field(strict=False)
    area: Area


class MembroStaffCreate(StrictIn):
    tipo: Literal["comune"]
    istat: IstatComune
    ruolo: Literal[RUOLI_STAFF]  # type: ignore[valid-type]
    area: Area


class MembroRemove(StrictIn):
    motivo: testo(5, 500)


class RiunioneCreate(StrictIn):
    data: AwareDatetime = Field(strict=False, examples=["2026-05-12T10:00:00+02:00"])
    luogo: testo(2, 200) = Field(examples=["Sala consiliare, Comune di Sapri"])
    ordine_del_giorno: list[testo(3, 300)] = Field(min_length=1, max_length=30)


class RiunioneTenutaWrite(StrictIn):
    presenti: list[str] = Field(max_length=200, description="Chiavi dei membri presenti.")
    verbale: str = Field(min_length=10, max_length=20_000)


class InterventoProposto(StrictIn):
    codice: str = CODICE_INTERVENTO
    titolo: testo(3, 200)
    nomenclatura: NomenclaturaIn
    comuni: list[IstatComune] = Field(min_length=1, max_length=400, examples=[["065134", "065154"]])
    utenti_attesi: int = Field(ge=0, le=10_000_000)


class PropostaCreate(StrictIn):
    titolo: testo(3, 200)
    descrizione: str = Field(min_length=3, max_length=5_000)
    area: Area
    intervento: InterventoProposto
    piano_id: uuid.UUID | None = Field(None, strict=False)
    riunione_id: str | None = Field(None, description="La riunione in cui è nata (deve essere tenuta).")


class TavoloRead(BaseModel):
    id: uuid.UUID
    ambito: str
    tipo: str
    nome: str
    area: str
    membri: dict[str, dict[str, Any]]
    riunioni: list[dict[str, Any]]
    proposte: list[dict[str, Any]]
    versione: int
    istituito_il: datetime

    @classmethod
    def of(cls, t: Tavolo) -> "TavoloRead":
        return cls(id=t.id, ambito=t.tenant_id, tipo=t.tipo, nome=t.nome, area=t.area, membri=t.membri,
                   riunioni=list(t.riunioni.values()), proposte=list(t.proposte.values()), versione=t.version,
                   istituito_il=t.created_on)


class RiunioneCreated(BaseModel):
    riunione_id: str
    tavolo: TavoloRead


class PropostaCreated(BaseModel):
    proposta_id: uuid.UUID
    tavolo: TavoloRead


def _visibile(app: Partnership, principal: Principal, tavolo_id: uuid.UUID) -> Tavolo:
    """Readers see every tavolo; a referente only those its ente sits at (others: 404)."""
    tavolo = app.tavolo(tenant_of(principal), tavolo_id)
    if not is_lettore(principal) and not tavolo.ha_membro_ente(ente_del_referente(app, principal).codice_fiscale):
        raise NotFound(f"Tavolo {tavolo_id} non trovato.")
    return tavolo


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TavoloRead)
def istituisci(body: TavoloCreate, app: PartnershipDep, principal: Coordinatore, request: Request,
               response: Response) -> TavoloRead:
    """Istituisce un tavolo tematico, tecnico o di partenariato."""
    tavolo = app.istituisci_tavolo(tenant_of(principal), body.tipo, body.nome, body.area, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_tavolo", tavolo_id=tavolo.id))
    return TavoloRead.of(tavolo)


@router.get("/{tavolo_id}", response_model=TavoloRead)
def leggi_tavolo(tavolo_id: uuid.UUID, app: PartnershipDep, principal: LettoreOReferente) -> TavoloRead:
    """Legge un tavolo: membri, riunioni con verbali, proposte."""
    return TavoloRead.of(_visibile(app, principal, tavolo_id))


@router.post("/{tavolo_id}/membri", response_model=TavoloRead)
def aggiungi_membro(tavolo_id: uuid.UUID, body: MembroEnteCreate | MembroStaffCreate, app: PartnershipDep,
                    principal: Coordinatore) -> TavoloRead:
    """Aggiunge un ente del registro o un operatore di un Comune (per ruolo), con la sua area tematica."""
    tenant = tenant_of(principal)
    if isinstance(body, MembroEnteCreate):
        tavolo = app.aggiungi_ente_al_tavolo(tenant, tavolo_id, body.ente_id, body.area, principal.subject)
    else:
        tavolo = app.aggiungi_staff_al_tavolo(tenant, tavolo_id, body.istat, body.ruolo, body.area,
                                              principal.subject)
    return TavoloRead.of(tavolo)


@router.post("/{tavolo_id}/membri/{chiave}/rimozione", response_model=TavoloRead)
def rimuovi_membro(tavolo_id: uuid.UUID, chiave: str, body: MembroRemove, app: PartnershipDep,
                   principal: Coordinatore) -> TavoloRead:
    """Rimuove un membro, con il motivo."""
    return TavoloRead.of(app.rimuovi_membro(tenant_of(principal), tavolo_id, chiave, body.motivo, principal.subject))


@router.post("/{tavolo_id}/riunioni", status_code=status.HTTP_201_CREATED, response_model=RiunioneCreated)
def convoca(tavolo_id: uuid.UUID, body: RiunioneCreate, app: PartnershipDep,
            principal: Coordinatore) -> RiunioneCreated:
    """Convoca una riunione con il suo ordine del giorno."""
    tavolo, riunione_id = app.convoca_riunione(tenant_of(principal), tavolo_id, body.data, body.luogo,
                                               body.ordine_del_giorno, principal.subject)
    return RiunioneCreated(riunione_id=riunione_id, tavolo=TavoloRead.of(tavolo))


@router.post("/{tavolo_id}/riunioni/{riunione_id}/verbale", response_model=TavoloRead)
def registra_riunione(tavolo_id: uuid.UUID, riunione_id: str, body: RiunioneTenutaWrite, app: PartnershipDep,
                      principal: Coordinatore) -> TavoloRead:
    """Registra la riunione tenuta: presenze e verbale."""
    return TavoloRead.of(app.registra_riunione(tenant_of(principal), tavolo_id, riunione_id, body.presenti,
                                               body.verbale, principal.subject))


@router.post("/{tavolo_id}/proposte", status_code=status.HTTP_201_CREATED, response_model=PropostaCreated)
def formula_proposta(tavolo_id: uuid.UUID, body: PropostaCreate, app: PartnershipDep,
                     principal: Coordinatore) -> PropostaCreated:
    """Formula una proposta al Piano con l'intervento suggerito (planning la riceve come input della bozza)."""
    proposta = NuovaProposta(tavolo_id=tavolo_id, titolo=body.titolo, descrizione=body.descrizione, area=body.area,
                             intervento=body.intervento.model_dump(mode="python"), piano_id=body.piano_id,
                             riunione_id=body.riunione_id)
    tavolo, proposta_id = app.formula_proposta(tenant_of(principal), proposta, principal.subject)
    return PropostaCreated(proposta_id=uuid.UUID(proposta_id), tavolo=TavoloRead.of(tavolo))
