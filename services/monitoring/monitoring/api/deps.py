"""Dependencies shared by the monitoring routers: the application, the read model, who may do what,
typed query parameters and the response models more than one router returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.fields import IstatComune
from ambiti_kit.readmodel import ReadModel
from ambiti_kit.service import RuntimeDep

from monitoring.application import Monitoring


def monitoring(runtime: RuntimeDep) -> Monitoring:
    return runtime.app  # type: ignore[return-value]


def read_model(runtime: RuntimeDep) -> ReadModel:
    return runtime.read_model


MonitoringDep = Annotated[Monitoring, Depends(monitoring)]
ReadModelDep = Annotated[ReadModel, Depends(read_model)]

#: the Ambito's readers: its staff, the Comitato, the ASL and the auditor
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "assistente_sociale", "componente_comitato", "referente_asl", "revisore"))]
#: who enters services delivered: the Comune's social worker (her own Comune only) and the coordinator
Operatore = Annotated[Principal, Depends(require_roles("assistente_sociale", "coordinatore"))]
#: who declares the staff of the Comuni
Gestore = Annotated[Principal, Depends(require_roles("coordinatore", "amministrativo"))]
#: a Region's officer: aggregates per Ambito of that Region, never an Ambito's records
Regione = Annotated[Principal, Depends(require_roles("regione"))]

# -- query parameters ----------------------------------------------------------------------------
ANNO_MIN, ANNO_MAX = 2000, 2100
Anno = Annotated[int | None, Query(ge=ANNO_MIN, le=ANNO_MAX, description="Anno solare (facoltativo).")]
Annualita = Annotated[int | None, Query(ge=ANNO_MIN, le=ANNO_MAX, description="Annualità del fondo (facoltativa).")]
Comune = Annotated[IstatComune | None, Query(description="Codice ISTAT del Comune (6 cifre).")]
Intervento = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
                                         description="Codice dell'intervento.", examples=["SAD"])]
MESE = r"^\d{4}-(0[1-9]|1[0-2])$"


# -- response models shared by several routers -------------------------------------------------------
class ContributoStatale(BaseModel):
    """The State's yearly contribution the eligible FTE imply (L. 178/2020 art. 1 c. 797 lett. a and b)."""

    fte_fascia_6500_5000: str = Field(description="FTE oltre il rapporto 1:6.500 e fino a 1:5.000 (lett. a).")
    importo_fascia_6500_5000: str = Field(description="40.000 € per ciascuna di quelle unità, al centesimo.")
    fte_fascia_5000_4000: str = Field(description="FTE oltre il rapporto 1:5.000 e fino a 1:4.000 (lett. b).")
    importo_fascia_5000_4000: str = Field(description="20.000 € per ciascuna di quelle unità, al centesimo.")
    totale: str


class Leps(BaseModel):
    """The LEPS ratio of the Ambito's social workers to its residents (``monitoring.domain.personale.leps``).

    A measure of the Ambito: no Comune has a LEPS figure of its own."""

    fte_assistenti_sociali: str = Field(description=(
        "FTE di assistenti sociali che contano per il LEPS: a tempo indeterminato, dei Comuni, della forma "
        "associata o dell'ASL delegata."))
    fte_assistenti_sociali_non_conteggiati: str = Field(description=(
        "FTE di assistenti sociali registrati ma esclusi dal LEPS (altro contratto o altro datore di lavoro)."))
    residenti: int
    residenti_per_assistente: str | None
    fte_per_5000: str | None
    fte_richiesti_1_6500: str = Field(description="Residenti / 6.500: la soglia da cui parte il contributo statale.")
    fte_richiesti_1_5000: str = Field(description="Residenti / 5.000: il LEPS.")
    fte_richiesti_1_4000: str = Field(description="Residenti / 4.000: l'obiettivo ulteriore.")
    soglia_1_6500_raggiunta: bool = Field(description="Rapporto 1:6.500 raggiunto (soglia del contributo, non il LEPS).")
    leps_1_5000_raggiunto: bool = Field(description="LEPS 1:5.000 raggiunto.")
    obiettivo_1_5000_raggiunto: bool = Field(deprecated=True, description=(
        "Deprecato: 1:5.000 è il LEPS, non un obiettivo; uguale a `leps_1_5000_raggiunto`."))
    obiettivo_1_4000_raggiunto: bool = Field(description="Obiettivo ulteriore 1:4.000 raggiunto.")
    contributo_statale: ContributoStatale
    fonte: str
