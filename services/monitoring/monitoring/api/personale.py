"""Staff of the Comuni (declarations per Comune, profile and area) and the Ambito's LEPS ratio."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import IstatComune, StrictIn, testo
from ambiti_kit.listing import LIST_RESPONSES, Pagina, PaginazioneDep

from monitoring.api.deps import Comune, Gestore, Leps, Lettore, MonitoringDep, ReadModelDep
from monitoring.domain.personale import AREE, PROFILI, leggi_dotazione, leps
from monitoring.projections.ambiti import comuni
from monitoring.projections.dati_indicatori import leggi_leps
from monitoring.projections.indicatori import leps_dict
from monitoring.projections.prestazioni import elenco_personale

router = APIRouter(prefix="/personale", tags=["Personale"])

Profilo = Literal[PROFILI]  # type: ignore[valid-type]
Area = Literal[AREE]  # type: ignore[valid-type]


class DotazioneScritta(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "comune": "065134", "profilo": "assistente_sociale", "area": "famiglia_minori", "fte": "2.50",
        "ore_settimanali_piano": "36.00"}]})

    comune: IstatComune
    profilo: Profilo
    area: Area
    fte: str = Field(max_length=12, description="Unità equivalenti a tempo pieno, stringa decimale (es. \"2.50\").")
    ore_settimanali_piano: str = Field(max_length=12, description="Ore settimanali sul Piano, stringa decimale.")
    motivo: testo(3, 500) | None = Field(None, description="Obbligatorio quando si aggiorna una dotazione.")


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
    ultimo_evento: datetime


class LepsAmbito(BaseModel):
    ambito: str
    leps: Leps


@router.put("", response_model=DotazioneRegistrata)
def dichiara(corpo: DotazioneScritta, app: MonitoringDep, read_model: ReadModelDep,
             principal: Gestore) -> DotazioneRegistrata:
    """Dichiara (o aggiorna, con motivo) il personale di un profilo in un Comune per un'area tematica."""
    tenant = tenant_of(principal)
    membri = {c["istat"] for c in comuni(read_model, tenant)}
    dati = leggi_dotazione(corpo.comune, corpo.profilo, corpo.area, corpo.fte, corpo.ore_settimanali_piano, membri)
    dotazione, nuova = app.dichiara_dotazione(tenant, dati, corpo.motivo, principal.subject)
    return DotazioneRegistrata(id=dotazione.id, nuova=nuova, versione=dotazione.version)


@router.get("", response_model=Pagina[DotazioneLetta], responses=LIST_RESPONSES)
def elenco(read_model: ReadModelDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
           response: Response, comune: Comune = None, profilo: Profilo | None = None,
           area: Area | None = None) -> dict:
    """Il personale dichiarato dell'Ambito per Comune, profilo e area (facoltativamente per ciascuno)."""
    return elenco_personale(read_model, comune=comune, profilo=profilo, area=area).page(
        pagina, request, response, tenant=tenant_of(principal))


@router.get("/leps", response_model=LepsAmbito)
def rapporto_leps(read_model: ReadModelDep, principal: Lettore) -> LepsAmbito:
    """Il rapporto LEPS dell'Ambito: assistenti sociali (FTE) per residenti, rispetto a 1/6.500 e 1/5.000."""
    tenant = tenant_of(principal)
    fte, residenti = leggi_leps(read_model, tenant)
    return LepsAmbito(ambito=tenant, leps=Leps(**leps_dict(leps(fte, residenti))))
