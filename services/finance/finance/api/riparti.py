"""HTTP API of the riparti: reference data loaded from CSV, and recorded runs of the riparto engine."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import Importo, StrictIn, testo

from finance.api.deps import Contabile, FinanceDep, Lettore
from finance.domain.riparti import DatiRiferimento, Riparto
from finance.domain.riparto import Risultato

router = APIRouter(tags=["Riparti"])


class DatiWrite(StrictIn):
    nome: str = Field(pattern=r"^[a-z0-9_-]{2,40}$", examples=["popolazione"])
    data_riferimento: date = Field(strict=False, examples=["2025-01-01"])
    fonte: testo(3, 300) = Field(examples=["ISTAT, popolazione residente al 1° gennaio 2025"])
    csv: str = Field(min_length=1, max_length=2_000_000, description="Intestazione id,<indicatore>,… e una riga per "
                     "destinatario; separatore , o ;, punto decimale.")


class CriterioIn(StrictIn):
    indicatore: str = Field(max_length=40, examples=["popolazione"])
    peso: str = Field(max_length=20, examples=["2/5"], description="Frazione («2/5») o decimale («0.4»).")


class ArrotondamentoIn(StrictIn):
    metodo: Literal["quote_arrotondate", "resto_maggiore"]
    decimali_percentuale: int = Field(2, ge=0, le=10)


class MinimoIn(StrictIn):
    importo: Importo
    modalita: Literal["integrazione", "prelievo"]


class DestinatarioIn(StrictIn):
    id: str = Field(max_length=40)
    indicatori: dict[str, str]


class AttoIn(StrictIn):
    tipo: testo(2, 60) = Field(examples=["decreto"])
    numero: testo(1, 40)
    data: date = Field(strict=False)


class RipartoWrite(StrictIn):
    oggetto: testo(3, 300) = Field(examples=["Riparto FNPS 2025 tra i Comuni dell'Ambito"])
    atto: AttoIn | None = None
    totale: Importo
    criteri: list[CriterioIn] = Field(min_length=1, max_length=10)
    arrotondamento: ArrotondamentoIn
    minimo: MinimoIn | None = None
    dati_riferimento_id: uuid.UUID | None = Field(None, strict=False)
    destinatari: list[DestinatarioIn] | None = Field(None, max_length=2000)


def dati_read(d: DatiRiferimento) -> dict[str, Any]:
    return {"id": str(d.id), "ambito": d.tenant_id, "nome": d.nome, "data_riferimento": d.data_riferimento.isoformat(),
            "fonte": d.fonte, "colonne": d.colonne, "righe": d.righe}


def riparto_read(r: Riparto, verifica: bool = False) -> dict[str, Any]:
    out = {"id": str(r.id), "ambito": r.tenant_id, "oggetto": r.oggetto,
           "atto": {**r.atto, "data": r.atto["data"].isoformat()} if r.atto else None,
           "dati_riferimento_id": str(r.dati_riferimento_id) if r.dati_riferimento_id else None,
           "eseguito_il": r.created_on.isoformat(), **r.riparto,
           "avvisi": Risultato.da_dict(r.riparto).avvisi()}
    if verifica:
        out["riproducibile"] = r.verifica()
    return out


@router.post("/dati-riferimento", status_code=status.HTTP_201_CREATED)
def carica_dati(body: DatiWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Carica dati di riferimento datati da CSV (ogni riga errata è segnalata; niente è caricato se ce n'è una)."""
    return dati_read(app.carica_dati_riferimento(tenant_of(principal), body.nome, body.data_riferimento, body.fonte,
                                                 body.csv, principal.subject))


@router.get("/dati-riferimento/{dati_id}")
def leggi_dati(dati_id: uuid.UUID, app: FinanceDep, principal: Lettore) -> dict[str, Any]:
    """Legge un insieme di dati di riferimento."""
    return dati_read(app.dati_riferimento(tenant_of(principal), dati_id))


def _parametri(body: RipartoWrite) -> dict[str, Any]:
    if (body.dati_riferimento_id is None) == (body.destinatari is None):
        raise RuleViolation("Indicare i destinatari oppure i dati di riferimento da cui prenderli (uno dei due).",
                            rule="riparto.destinatari_o_dati", field="destinatari")
    return {"totale": body.totale, "criteri": [c.model_dump() for c in body.criteri],
            "arrotondamento": body.arrotondamento.model_dump(),
            "minimo": body.minimo.model_dump() if body.minimo else None,
            "destinatari": [d.model_dump() for d in body.destinatari or []]}


@router.post("/riparti/anteprima")
def anteprima(body: RipartoWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Calcola un riparto senza registrarlo: lo stesso motore e la stessa risposta di ``POST /riparti``
    (per destinatario, totali, residuo) con gli avvisi, ma senza id né data: nulla è registrato."""
    risultato = app.calcola_riparto(tenant_of(principal), _parametri(body), body.dati_riferimento_id)
    return {"anteprima": True, "oggetto": body.oggetto,
            "atto": {**body.atto.model_dump(), "data": body.atto.data.isoformat()} if body.atto else None,
            "dati_riferimento_id": str(body.dati_riferimento_id) if body.dati_riferimento_id else None,
            **risultato.come_dict(), "avvisi": risultato.avvisi()}


@router.post("/riparti", status_code=status.HTTP_201_CREATED)
def esegui(body: RipartoWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Esegue e registra un riparto: criteri pesati, minimi, metodo di arrotondamento dichiarato."""
    riparto = app.esegui_riparto(tenant_of(principal), body.oggetto, body.atto.model_dump() if body.atto else None,
                                 _parametri(body), body.dati_riferimento_id, principal.subject)
    return riparto_read(riparto)


@router.get("/riparti/{riparto_id}")
def leggi_riparto(riparto_id: uuid.UUID, app: FinanceDep, principal: Lettore,
                  verifica: bool = Query(False, description="Riesegue il calcolo sui dati registrati e lo confronta.")
                  ) -> dict[str, Any]:
    """Legge un riparto registrato: dati, metodo e risultato (e, a richiesta, la verifica che si riproduce)."""
    return riparto_read(app.riparto(tenant_of(principal), riparto_id), verifica)
