"""HTTP API of the registry of partners: enti, their history, and the referenti who act for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.fields import CodiceFiscaleEnte, IstatComune, StrictIn, testo

from partnership.api.deps import (
    Coordinatore,
    LettoreOReferente,
    PartnershipDep,
    Referente,
    ente_del_referente,
    is_lettore,
)
from partnership.domain.enti import SEZIONI_RUNTS, Ente

router = APIRouter(prefix="/enti", tags=["Registro degli enti"])


class RuntsIn(StrictIn):
    sezione: Literal[SEZIONI_RUNTS]  # type: ignore[valid-type]
    numero_repertorio: str = Field(pattern=r"^\d{1,10}$", examples=["104578"])


class EnteDati(StrictIn):
    tipo: Literal["ets", "pubblico", "sindacato"]
    denominazione: testo(2, 200) = Field(examples=["Cooperativa sociale Il Faro"])
    forma_giuridica: testo(2, 100) | None = Field(None, examples=["cooperativa sociale"])
    runts: RuntsIn | None = None
    categoria: Literal["asl", "centro_impiego", "scuola", "uepe", "comune", "provincia", "ussm", "altro"] | None = None
    comune_sede: IstatComune | None = None


class EnteCreate(EnteDati):
    codice_fiscale: CodiceFiscaleEnte = Field(
        description="Codice fiscale dell'ente: 11 cifre, l'ultima di controllo (mai quello di una persona).")


class ReferenteWrite(StrictIn):
    subject: str = Field(pattern=r"^[A-Za-z0-9._@:+-]{3,128}$", examples=["referente_ets@15-S09"],
                         description="Il subject (claim 'sub') del token del referente.")


class EventoStoria(BaseModel):
    evento: str
    versione: int
    il: datetime
    da: str | None
    modifiche: dict[str, Any] | None = None


class EnteRead(BaseModel):
    id: uuid.UUID
    ambito: str
    codice_fiscale: str
    tipo: str
    denominazione: str
    forma_giuridica: str | None
    runts: dict[str, str] | None
    categoria: str | None
    comune_sede: str | None
    referenti: list[str] | None = Field(description="Subject dei referenti (solo per i lettori dell'Ambito).")
    versione: int
    storia: list[EventoStoria]

    @classmethod
    def of(cls, ente: Ente, storia: list[Any], con_referenti: bool = True) -> "EnteRead":
        return cls(id=ente.id, ambito=ente.tenant_id, codice_fiscale=ente.codice_fiscale, **ente.dati,
                   referenti=list(ente.referenti) if con_referenti else None, versione=ente.version,
                   storia=[_storia(e) for e in storia])


def _storia(e: Any) -> EventoStoria:
    autore = next((getattr(e, a) for a in ("registrato_da", "aggiornato_da", "abilitato_da", "revocato_da")
                   if hasattr(e, a)), None)
    modifiche = getattr(e, "modifiche", None)
    if type(e).__name__ == "Registrato":
        modifiche = {k: {"prima": None, "dopo": v} for k, v in e.dati.items() if v is not None}
    elif type(e).__name__.startswith("Referente"):
        modifiche = {"referente": {"prima": None, "dopo": e.subject}} if "Abilitato" in type(e).__name__ else \
            {"referente": {"prima": e.subject, "dopo": None}}
    return EventoStoria(evento=type(e).__name__, versione=e.originator_version, il=e.timestamp, da=autore,
                        modifiche=modifiche)


def _leggi(app: Any, principal: Any, ente_id: uuid.UUID) -> EnteRead:
    tenant = tenant_of(principal)
    if not is_lettore(principal) and ente_del_referente(app, principal).id != ente_id:
        raise NotFound(f"Ente {ente_id} non trovato.")
    lettore = is_lettore(principal)
    return EnteRead.of(app.ente(tenant, ente_id), app.storia_ente(tenant, ente_id), con_referenti=lettore)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EnteRead)
def registra(body: EnteCreate, app: PartnershipDep, principal: Coordinatore, request: Request,
             response: Response) -> EnteRead:
    """Registra un ente (Terzo Settore, partner pubblico o sindacato) nel registro dell'Ambito."""
    tenant = tenant_of(principal)
    dati = body.model_dump(mode="python", exclude={"codice_fiscale"})
    dati["runts"] = body.runts.model_dump() if body.runts else None
    ente = app.registra_ente(tenant, body.codice_fiscale, dati, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_ente", ente_id=ente.id))
    return EnteRead.of(ente, app.storia_ente(tenant, ente.id))


@router.get("/mio", response_model=EnteRead)
def leggi_mio(app: PartnershipDep, principal: Referente) -> EnteRead:
    """L'ente per cui agisce il referente che chiama."""
    ente = ente_del_referente(app, principal)
    return EnteRead.of(ente, app.storia_ente(ente.tenant_id, ente.id), con_referenti=False)


@router.get("/{ente_id}", response_model=EnteRead)
def leggi_ente(ente_id: uuid.UUID, app: PartnershipDep, principal: LettoreOReferente) -> EnteRead:
    """Legge un ente con la storia delle sue modifiche (il referente vede solo il proprio)."""
    return _leggi(app, principal, ente_id)


@router.put("/{ente_id}", response_model=EnteRead)
def aggiorna(ente_id: uuid.UUID, body: EnteDati, app: PartnershipDep, principal: Coordinatore) -> EnteRead:
    """Aggiorna i dati di un ente: ogni modifica resta nella storia."""
    tenant = tenant_of(principal)
    dati = body.model_dump(mode="python")
    dati["runts"] = body.runts.model_dump() if body.runts else None
    ente = app.aggiorna_ente(tenant, ente_id, dati, principal.subject)
    return EnteRead.of(ente, app.storia_ente(tenant, ente_id))


@router.post("/{ente_id}/referenti", response_model=EnteRead)
def abilita_referente(ente_id: uuid.UUID, body: ReferenteWrite, app: PartnershipDep,
                      principal: Coordinatore) -> EnteRead:
    """Abilita un utente referente_ets (per subject) ad agire per l'ente."""
    tenant = tenant_of(principal)
    ente = app.abilita_referente(tenant, ente_id, body.subject, principal.subject)
    return EnteRead.of(ente, app.storia_ente(tenant, ente_id))


@router.delete("/{ente_id}/referenti/{subject}", response_model=EnteRead)
def revoca_referente(ente_id: uuid.UUID, subject: str, app: PartnershipDep, principal: Coordinatore) -> EnteRead:
    """Revoca l'abilitazione di un referente."""
    tenant = tenant_of(principal)
    ente = app.revoca_referente(tenant, ente_id, subject, principal.subject)
    return EnteRead.of(ente, app.storia_ente(tenant, ente_id))
