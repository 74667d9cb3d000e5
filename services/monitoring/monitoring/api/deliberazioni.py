"""The Ambito's own register of deliberations (monitoring read model)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.service import RuntimeDep

from monitoring.api.piani import Lettore
from monitoring.projections.deliberazioni import COLONNE_ESITO, esito_da_colonne

router = APIRouter(prefix="/deliberazioni", tags=["Monitoraggio"])

_COLUMNS = sql.SQL(", ").join([
    sql.SQL("deliberazione_id AS id, tenant_id AS ambito, tipo, oggetto, stato, numero, data, seduta_id, "
            "proposta_il, ultimo_evento"),
    *[sql.Identifier(c) for c in COLONNE_ESITO]])


class Conteggio(BaseModel):
    favorevoli: int
    contrari: int
    astenuti: int
    base: int


class EsitoVotazione(BaseModel):
    famiglia: str
    motivazione: str
    per_testa: Conteggio
    ponderato: Conteggio


class DeliberazioneMonitorata(BaseModel):
    id: uuid.UUID
    ambito: str
    tipo: str
    oggetto: str
    stato: Literal["proposta", "approvata", "respinta"]
    #: "n/anno" once approved
    numero: str | None
    #: date of the vote (approved or rejected)
    data: date | None
    seduta_id: uuid.UUID | None
    #: the figures of the vote (None while proposed)
    esito: EsitoVotazione | None
    proposta_il: datetime
    ultimo_evento: datetime


def _deliberazione(row: dict) -> DeliberazioneMonitorata:
    return DeliberazioneMonitorata(**{k: row[k] for k in ("id", "ambito", "tipo", "oggetto", "stato", "numero",
                                                          "data", "seduta_id", "proposta_il", "ultimo_evento")},
                                   esito=esito_da_colonne(row))


@router.get("", response_model=list[DeliberazioneMonitorata])
def elenco_deliberazioni(runtime: RuntimeDep, principal: Lettore,
                         stato: Literal["proposta", "approvata", "respinta"] | None = None,
                         ) -> list[DeliberazioneMonitorata]:
    """Elenca le deliberazioni e le proposte di deliberazione dell'Ambito (facoltativamente per stato)."""
    rm = runtime.read_model
    where = sql.SQL("WHERE stato = %s") if stato else sql.SQL("")
    rows = rm.fetch_all(sql.SQL("SELECT {} FROM {} {} ORDER BY proposta_il, deliberazione_id").format(
        _COLUMNS, rm.table("deliberazioni"), where), (stato,) if stato else (), tenant=tenant_of(principal))
    return [_deliberazione(r) for r in rows]


@router.get("/{deliberazione_id}", response_model=DeliberazioneMonitorata)
def leggi_deliberazione(deliberazione_id: uuid.UUID, runtime: RuntimeDep,
                        principal: Lettore) -> DeliberazioneMonitorata:
    """Legge una deliberazione dell'Ambito dal modello di monitoraggio."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL("SELECT {} FROM {} WHERE deliberazione_id = %s").format(
        _COLUMNS, rm.table("deliberazioni")), (deliberazione_id,), tenant=tenant_of(principal))
    if not rows:
        raise NotFound(f"Deliberazione {deliberazione_id} non trovata.")
    return _deliberazione(rows[0])
