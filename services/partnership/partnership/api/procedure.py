"""HTTP API of co-programmazione and co-progettazione: each step of the procedure with its act."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import Forbidden, NotFound, RuleViolation
from ambiti_kit.fields import CodiceFiscaleEnte, Importo, StrictIn, testo

from partnership.api.deps import (
    Atti,
    AttoIn,
    LettoreOReferente,
    PartnershipDep,
    ente_del_referente,
    is_lettore,
)
from partnership.domain.comandi import NuovaConvenzione, NuovaSessione, NuovoAvviso
from partnership.domain.procedure import Procedura

router = APIRouter(prefix="/procedure", tags=["Co-programmazione e co-progettazione"])


class AvvisoCreate(StrictIn):
    tipo: Literal["co_programmazione", "co_progettazione"]
    oggetto: testo(3, 300) = Field(examples=["Co-progettazione dei servizi di assistenza domiciliare"])
    scadenza_manifestazioni: date = Field(strict=False, examples=["2026-04-30"])
    piano_id: uuid.UUID | None = Field(None, strict=False)
    intervento: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$", examples=["A1.2"])
    atto: AttoIn


class ManifestazioneCreate(StrictIn):
    ente_id: uuid.UUID | None = Field(None, strict=False,
                                      description="L'ente (omesso quando la invia il referente del proprio ente).")
    sintesi_documenti: str = Field(min_length=3, max_length=5_000,
                                   examples=["Domanda, statuto, relazione sulle attività, proposta progettuale"])
    ricevuta_il: date = Field(strict=False)
    atto: AttoIn = Field(description="Il protocollo di ricezione.")


class AmmissioneWrite(StrictIn):
    codice_fiscale: CodiceFiscaleEnte
    ammesso: bool
    motivazione: testo(5, 2_000)
    atto: AttoIn


class SessioneCreate(StrictIn):
    data: date = Field(strict=False)
    partecipanti: list[CodiceFiscaleEnte] = Field(min_length=1, max_length=100,
                                                  description="Codici fiscali degli enti ammessi.")
    verbale: str = Field(min_length=10, max_length=20_000)
    tavolo_id: uuid.UUID | None = Field(None, strict=False)
    atto: AttoIn


class ProgettoWrite(StrictIn):
    titolo: testo(3, 300)
    sintesi: str = Field(min_length=3, max_length=20_000)
    atto: AttoIn


class RigaBudget(StrictIn):
    anno: int = Field(ge=2000, le=2100)
    importo: Importo


class ConvenzioneWrite(StrictIn):
    enti: list[CodiceFiscaleEnte] = Field(min_length=1, max_length=20, description="Un ente, o gli enti dell'ATS.")
    capofila: CodiceFiscaleEnte | None = Field(None, description="Il capofila dell'ATS.")
    importo: Importo
    decorrenza: date = Field(strict=False)
    durata_mesi: int = Field(ge=1, le=120)
    budget: list[RigaBudget] = Field(min_length=1, max_length=10)
    atto: AttoIn


class ProceduraRead(BaseModel):
    id: uuid.UUID
    ambito: str
    tipo: str
    oggetto: str
    fase: str
    scadenza_manifestazioni: date
    piano_id: uuid.UUID | None
    intervento: str | None
    avviso: dict[str, Any]
    manifestazioni: list[dict[str, Any]] | None = Field(
        description="Tutte (lettori dell'Ambito); per un referente vedi 'mia'.")
    ammissioni: dict[str, dict[str, Any]] | None
    mia: dict[str, Any] | None = Field(None, description="Per un referente: la propria manifestazione ed esito, e "
                                                          "gli altri enti solo dopo le decisioni di ammissione.")
    sessioni: list[dict[str, Any]]
    progetto: dict[str, Any] | None
    convenzione: dict[str, Any] | None
    versione: int
    pubblicata_il: datetime

    @classmethod
    def of(cls, p: Procedura, codice_fiscale: str | None = None) -> "ProceduraRead":
        completa = codice_fiscale is None
        return cls(id=p.id, ambito=p.tenant_id, tipo=p.tipo, oggetto=p.oggetto, fase=p.fase,
                   scadenza_manifestazioni=p.scadenza_manifestazioni, piano_id=p.piano_id, intervento=p.intervento,
                   avviso=p.avviso, manifestazioni=list(p.manifestazioni.values()) if completa else None,
                   ammissioni=p.ammissioni if completa else None,
                   mia=None if completa else p.vista_per_ente(codice_fiscale),
                   sessioni=p.sessioni, progetto=p.progetto, convenzione=_convenzione(p.convenzione),
                   versione=p.version, pubblicata_il=p.created_on)


def _convenzione(c: dict | None) -> dict | None:
    if c is None:
        return None
    return {**c, "importo": str(c["importo"]), "budget": [{**r, "importo": str(r["importo"])} for r in c["budget"]]}


def _atto(atto: AttoIn) -> dict:
    return atto.model_dump(mode="python")


def _leggi(app: Any, principal: Any, p: Procedura) -> ProceduraRead:
    if is_lettore(principal):
        return ProceduraRead.of(p)
    cf = ente_del_referente(app, principal).codice_fiscale
    if not p.partecipa(cf):
        raise NotFound(f"Procedura {p.id} non trovata.")
    return ProceduraRead.of(p, cf)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProceduraRead)
def pubblica_avviso(body: AvvisoCreate, app: PartnershipDep, principal: Atti, request: Request,
                    response: Response) -> ProceduraRead:
    """Avvia la procedura pubblicando l'avviso (art. 55 D.Lgs. 117/2017)."""
    avviso = NuovoAvviso(tipo=body.tipo, oggetto=body.oggetto, scadenza_manifestazioni=body.scadenza_manifestazioni,
                         piano_id=body.piano_id, intervento=body.intervento, atto=_atto(body.atto))
    p = app.pubblica_avviso(tenant_of(principal), avviso, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_procedura", procedura_id=p.id))
    return ProceduraRead.of(p)


@router.get("/{procedura_id}", response_model=ProceduraRead)
def leggi_procedura(procedura_id: uuid.UUID, app: PartnershipDep, principal: LettoreOReferente) -> ProceduraRead:
    """Legge la procedura; il referente la vede solo se il suo ente ha manifestato interesse."""
    return _leggi(app, principal, app.procedura(tenant_of(principal), procedura_id))


@router.post("/{procedura_id}/manifestazioni", response_model=ProceduraRead)
def manifesta(procedura_id: uuid.UUID, body: ManifestazioneCreate, app: PartnershipDep,
              principal: LettoreOReferente) -> ProceduraRead:
    """Registra una manifestazione d'interesse: l'ufficio per un ente, o il referente per il proprio."""
    tenant = tenant_of(principal)
    if principal.has_any(("coordinatore", "amministrativo")):
        if body.ente_id is None:
            raise RuleViolation("Indicare l'ente che manifesta interesse.", rule="manifestazione.ente",
                                field="ente_id")
        ente_id = body.ente_id
    elif "referente_ets" in principal.roles:
        ente_id = ente_del_referente(app, principal).id
        if body.ente_id is not None and body.ente_id != ente_id:
            raise NotFound(f"Ente {body.ente_id} non trovato.")
    else:
        raise Forbidden("Serve uno dei ruoli: amministrativo, coordinatore, referente_ets.", rule="role.required")
    p = app.ricevi_manifestazione(tenant, procedura_id, ente_id, body.sintesi_documenti, body.ricevuta_il,
                                  _atto(body.atto), principal.subject)
    return _leggi(app, principal, p)


@router.post("/{procedura_id}/ammissioni", response_model=ProceduraRead)
def decidi_ammissione(procedura_id: uuid.UUID, body: AmmissioneWrite, app: PartnershipDep,
                      principal: Atti) -> ProceduraRead:
    """Decide l'ammissione di un ente (ammesso o no), con la motivazione e l'atto."""
    return ProceduraRead.of(app.decidi_ammissione(tenant_of(principal), procedura_id, body.codice_fiscale,
                                                  body.ammesso, body.motivazione, _atto(body.atto), principal.subject))


@router.post("/{procedura_id}/sessioni", response_model=ProceduraRead)
def registra_sessione(procedura_id: uuid.UUID, body: SessioneCreate, app: PartnershipDep,
                      principal: Atti) -> ProceduraRead:
    """Registra una sessione del tavolo di co-progettazione con il suo verbale."""
    sessione = NuovaSessione(procedura_id=procedura_id, data=body.data, partecipanti=body.partecipanti,
                             verbale=body.verbale, tavolo_id=body.tavolo_id, atto=_atto(body.atto))
    return ProceduraRead.of(app.registra_sessione(tenant_of(principal), sessione, principal.subject))


@router.post("/{procedura_id}/progetto", response_model=ProceduraRead)
def condividi_progetto(procedura_id: uuid.UUID, body: ProgettoWrite, app: PartnershipDep,
                       principal: Atti) -> ProceduraRead:
    """Registra il progetto condiviso (o il documento di co-programmazione)."""
    return ProceduraRead.of(app.condividi_progetto(tenant_of(principal), procedura_id, body.titolo, body.sintesi,
                                                   _atto(body.atto), principal.subject))


@router.post("/{procedura_id}/convenzione", response_model=ProceduraRead)
def stipula_convenzione(procedura_id: uuid.UUID, body: ConvenzioneWrite, app: PartnershipDep,
                        principal: Atti) -> ProceduraRead:
    """Stipula la convenzione con un ente ammesso o con un'ATS di enti ammessi, con il budget per anno."""
    convenzione = NuovaConvenzione(procedura_id=procedura_id, enti=body.enti, capofila=body.capofila,
                                   importo=body.importo, decorrenza=body.decorrenza, durata_mesi=body.durata_mesi,
                                   budget=[r.model_dump() for r in body.budget], atto=_atto(body.atto))
    return ProceduraRead.of(app.stipula_convenzione(tenant_of(principal), convenzione, principal.subject))
