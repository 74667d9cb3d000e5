"""Social-worker staffing per Comune and the Ambito's LEPS ratio."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.service import RuntimeDep

from monitoring.api.piani import Lettore
from monitoring.domain.personale import leggi_dotazione, leps
from monitoring.projections.indicatori import leps_dict

router = APIRouter(prefix="/personale", tags=["Personale"])

Gestore = Annotated[Principal, Depends(require_roles("coordinatore", "amministrativo"))]


class DotazioneScritta(BaseModel):
    comune: str
    profilo: str
    area: str
    fte: str
    ore_settimanali_piano: str
    #: hours per week on the Piano, decimal string
    motivo: str | None = None


class DotazioneRegistrata(BaseModel):
    id: uuid.UUID
    nuova: bool
    versione: int


class DotazioneLetta(BaseModel):
    id: uuid.UUID
    comune: str
    profilo: str
    area: str
    fte: str
    ore_settimanali_piano: str


class Leps(BaseModel):
    fte_assistenti_sociali: str
    residenti: int
    residenti_per_assistente: str | None
    fte_per_5000: str | None
    fte_richiesti_1_6500: str
    fte_richiesti_1_5000: str
    soglia_1_6500_raggiunta: bool
    obiettivo_1_5000_raggiunto: bool


class PersonaleAmbito(BaseModel):
    ambito: str
    dotazioni: list[DotazioneLetta]
    leps: Leps


@router.put("", response_model=DotazioneRegistrata)
def dichiara(corpo: DotazioneScritta, runtime: RuntimeDep, principal: Gestore) -> DotazioneRegistrata:
    """Dichiara (o aggiorna, con motivo) il personale di un profilo in un Comune per un'area tematica."""
    tenant = tenant_of(principal)
    rm = runtime.read_model
    comuni = {r["istat"] for r in rm.fetch_all(sql.SQL("SELECT istat FROM {}").format(rm.table("comuni")),
                                                 tenant=tenant)}
    dati = leggi_dotazione(corpo.comune, corpo.profilo, corpo.area, corpo.fte, corpo.ore_settimanali_piano, comuni)
    dotazione, nuova = runtime.app.dichiara_dotazione(tenant, dati, corpo.motivo,  # type: ignore[attr-defined]
                                                      principal.subject)
    return DotazioneRegistrata(id=dotazione.id, nuova=nuova, versione=dotazione.version)


@router.get("", response_model=PersonaleAmbito)
def elenco(runtime: RuntimeDep, principal: Lettore) -> PersonaleAmbito:
    """Il personale dell'Ambito per Comune, profilo e area, e il rapporto LEPS (1/6.500 e 1/5.000)."""
    tenant = tenant_of(principal)
    rm = runtime.read_model
    with rm.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT dotazione_id AS id, istat AS comune, profilo, area, fte::text AS fte, "
                             "ore_settimanali_piano::text AS ore_settimanali_piano FROM {} "
                             "ORDER BY istat, profilo, area").format(rm.table("personale")))
        righe = curs.fetchall()
        curs.execute(sql.SQL("SELECT coalesce(sum(popolazione), 0) AS n FROM {}").format(rm.table("comuni")))
        residenti = curs.fetchone()["n"]
    fte = sum((Decimal(r["fte"]) for r in righe if r["profilo"] == "assistente_sociale"), Decimal("0"))
    return PersonaleAmbito(ambito=tenant, dotazioni=[DotazioneLetta(**r) for r in righe],
                           leps=Leps(**leps_dict(leps(fte, residenti))))
