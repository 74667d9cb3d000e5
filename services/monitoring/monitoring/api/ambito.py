"""The Ambito's composition: its Comuni with their dated populations and the history of them (monitoring read model).

Not a paged list: the Ambito's composition is one document (a few dozen Comuni at most,
registered together by planning) with its total population, and 404 until it is registered.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import NotFound

from monitoring.api.deps import Lettore, ReadModelDep
from monitoring.projections import ambiti

router = APIRouter(prefix="/ambito", tags=["Monitoraggio"])


class ComuneMonitorato(BaseModel):
    istat: str
    nome: str
    popolazione: int
    popolazione_al: date
    capofila: bool
    #: the start of its membership (its legal date when planning published one); null: since before the
    #: Ambito's first composition
    aderente_dal: date | None
    #: the first day it is no longer a member (its legal leaving date); null: still a member
    cessato_dal: date | None = None


class AmbitoMonitorato(BaseModel):
    ambito: str
    popolazione: int
    comuni: list[ComuneMonitorato]


@router.get("/comuni", response_model=AmbitoMonitorato)
def comuni(read_model: ReadModelDep, principal: Lettore) -> AmbitoMonitorato:
    """I Comuni dell'Ambito con la popolazione alla data di riferimento."""
    tenant = tenant_of(principal)
    righe = ambiti.comuni(read_model, tenant)
    if not righe:
        raise NotFound("La composizione dell'Ambito non è ancora registrata.")
    ultimo: dict[str, tuple[date, date]] = {}  # istat -> its latest period [dal, al)
    for istat, dal, al in ambiti.appartenenze(read_model, tenant):
        if istat not in ultimo or dal > ultimo[istat][0]:
            ultimo[istat] = (dal, al)
    comuni = []
    for r in righe:
        dal, al = ultimo.get(r["istat"], (date.min, date.max))
        comuni.append(ComuneMonitorato(**r, aderente_dal=None if dal == date.min else dal,
                                       cessato_dal=None if al == date.max else al))
    return AmbitoMonitorato(ambito=tenant, popolazione=sum(r["popolazione"] for r in righe), comuni=comuni)


class Popolazione(BaseModel):
    istat: str
    popolazione_al: date
    popolazione: int


class StoricoPopolazioni(BaseModel):
    ambito: str
    popolazioni: list[Popolazione]


@router.get("/popolazioni", response_model=StoricoPopolazioni)
def popolazioni(read_model: ReadModelDep, principal: Lettore) -> StoricoPopolazioni:
    """Ogni popolazione dei Comuni dell'Ambito a ogni data di riferimento registrata (lo storico: una data nuova
    non sovrascrive le precedenti)."""
    tenant = tenant_of(principal)
    storico = ambiti.storico_popolazioni(read_model, tenant)
    return StoricoPopolazioni(ambito=tenant, popolazioni=[
        Popolazione(istat=i, popolazione_al=d, popolazione=p) for i, righe in sorted(storico.items()) for d, p in righe])
