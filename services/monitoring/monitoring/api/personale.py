"""Staff of the Ambito (per Comune or for the whole Ambito, profile, area, contract, employer) and its LEPS."""

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
from monitoring.domain.personale import (AREE, CONTRATTI, CONTRATTO_PREDEFINITO, DATORE_PREDEFINITO, DATORI, PROFILI,
                                        conta_per_leps, leggi_dotazione, leps)
from monitoring.projections.ambiti import comuni
from monitoring.projections.dati_indicatori import leggi_leps
from monitoring.projections.indicatori import leps_dict
from monitoring.projections.prestazioni import elenco_personale

router = APIRouter(prefix="/personale", tags=["Personale"])

Profilo = Literal[PROFILI]  # type: ignore[valid-type]
Area = Literal[AREE]  # type: ignore[valid-type]


Contratto = Literal[CONTRATTI]  # type: ignore[valid-type]
Datore = Literal[DATORI]  # type: ignore[valid-type]
Livello = Literal["ambito", "comune"]


class DotazioneScritta(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"comune": "065134", "profilo": "assistente_sociale", "area": "minori_famiglie",
         "contratto": "tempo_indeterminato", "datore_lavoro": "comune", "fte": "2.50", "ore_settimanali_piano": "36.00"},
        {"comune": None, "profilo": "assistente_sociale", "area": "segretariato_sociale",
         "contratto": "tempo_indeterminato", "datore_lavoro": "forma_associata", "fte": "1.00",
         "ore_settimanali_piano": "36.00"}]})

    comune: IstatComune | None = Field(description=(
        "Codice ISTAT del Comune; null per il personale dell'intero Ambito, senza un Comune (il campo è "
        "obbligatorio: si indica null esplicitamente)."))
    profilo: Profilo
    area: Area
    contratto: Contratto = Field(CONTRATTO_PREDEFINITO, description=(
        "Tipo di contratto. Solo `tempo_indeterminato` conta per il LEPS (L. 178/2020 art. 1 c. 797); gli altri si "
        "registrano e si mostrano, ma non si contano. Se assente: `tempo_indeterminato` (i client che non lo "
        "indicano)."))
    datore_lavoro: Datore = Field(DATORE_PREDEFINITO, description=(
        "Datore di lavoro: `comune`, `forma_associata` (Unione, consorzio, convenzione), `asl_delegata` contano per "
        "il LEPS; `altro_ente` (ad esempio una cooperativa in appalto) no. Se assente: `comune`."))
    fte: str = Field(max_length=12, description=(
        "Unità equivalenti a tempo pieno, stringa decimale con il punto (es. \"0.50\"): \"0,5\" è rifiutato "
        "(regola `personale.separatore_decimale`)."))
    ore_settimanali_piano: str = Field(max_length=12, description="Ore settimanali sul Piano, stringa decimale "
                                                                  "con il punto.")
    motivo: testo(3, 500) | None = Field(None, description="Obbligatorio quando si aggiorna una dotazione.")


class DotazioneRegistrata(BaseModel):
    id: uuid.UUID
    nuova: bool
    versione: int


class DotazioneLetta(BaseModel):
    id: uuid.UUID
    #: null: staff of the whole Ambito
    comune: str | None
    profilo: str
    area: str
    contratto: str
    datore_lavoro: str
    conta_per_leps: bool
    fte: str
    ore_settimanali_piano: str
    ultimo_evento: datetime


class LepsAmbito(BaseModel):
    ambito: str
    leps: Leps


@router.put("", response_model=DotazioneRegistrata)
def dichiara(corpo: DotazioneScritta, app: MonitoringDep, read_model: ReadModelDep,
             principal: Gestore) -> DotazioneRegistrata:
    """Dichiara (o aggiorna, con motivo) il personale di un profilo per un'area, con contratto e datore di
    lavoro, in un Comune o per l'intero Ambito (senza Comune)."""
    tenant = tenant_of(principal)
    membri = {c["istat"] for c in comuni(read_model, tenant)}
    dati = leggi_dotazione(corpo.comune, corpo.profilo, corpo.area, corpo.fte, corpo.ore_settimanali_piano, membri,
                           contratto=corpo.contratto, datore_lavoro=corpo.datore_lavoro)
    dotazione, nuova = app.dichiara_dotazione(tenant, dati, corpo.motivo, principal.subject)
    return DotazioneRegistrata(id=dotazione.id, nuova=nuova, versione=dotazione.version)


@router.get("", response_model=Pagina[DotazioneLetta], responses=LIST_RESPONSES)
def elenco(read_model: ReadModelDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
           response: Response, comune: Comune = None, profilo: Profilo | None = None,
           area: Area | None = None, contratto: Contratto | None = None, datore_lavoro: Datore | None = None,
           livello: Livello | None = None) -> dict:
    """Il personale dichiarato: prima quello dell'intero Ambito, poi per Comune, profilo, area, contratto e
    datore di lavoro (facoltativamente per ciascuno; `livello`: `ambito` o `comune`)."""
    pagina_ = elenco_personale(read_model, comune=comune, profilo=profilo, area=area, contratto=contratto,
                               datore_lavoro=datore_lavoro, livello=livello).page(
        pagina, request, response, tenant=tenant_of(principal))
    for riga in pagina_["elementi"]:
        riga["conta_per_leps"] = conta_per_leps(riga["profilo"], riga["contratto"], riga["datore_lavoro"])
    return pagina_


@router.get("/leps", response_model=LepsAmbito)
def rapporto_leps(read_model: ReadModelDep, principal: Lettore) -> LepsAmbito:
    """Il LEPS dell'Ambito (L. 178/2020 art. 1 c. 797): assistenti sociali a tempo indeterminato (FTE) dei
    Comuni, della forma associata o dell'ASL delegata rispetto ai residenti dell'Ambito, alle soglie 1:6.500
    (da cui parte il contributo statale), 1:5.000 (il LEPS) e 1:4.000 (obiettivo ulteriore), con il contributo
    statale annuo che ne deriva."""
    tenant = tenant_of(principal)
    fte, altri, residenti = leggi_leps(read_model, tenant)
    return LepsAmbito(ambito=tenant, leps=Leps(**leps_dict(leps(fte, residenti, altri))))
