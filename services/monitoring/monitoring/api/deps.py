"""Dependencies shared by the monitoring routers: the application, the read model, who may do what,
typed query parameters and the response models more than one router returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

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
class Leps(BaseModel):
    """The LEPS ratio of assistenti sociali to residents (``monitoring.domain.personale.leps``)."""

    fte_assistenti_sociali: str
    residenti: int
    residenti_per_assistente: str | None
    fte_per_5000: str | None
    fte_richiesti_1_6500: str
    fte_richiesti_1_5000: str
    soglia_1_6500_raggiunta: bool
    obiettivo_1_5000_raggiunto: bool
