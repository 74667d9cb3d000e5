"""Integration events finance consumes. Each model holds only the fields finance reads."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from eventsourcing.persistence import Tracking
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import PoisonMessage, TrackedConsumer
from ambiti_kit.errors import NotFound
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime

from finance.application import Finance
from finance.projections import abilitazioni


class PianoCreato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int


class Comune(BaseModel):
    model_config = ConfigDict(extra="ignore")

    istat: str
    nome: str
    popolazione: int


class ComposizioneRegistrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    versione: int
    nome: str
    popolazione_al: date
    comuni: list[Comune]


class LineaBudget(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fondo: str
    anno: int
    importo: Decimal


class Intervento(BaseModel):
    model_config = ConfigDict(extra="ignore")

    codice: str
    titolo: str
    nomenclatura: dict
    comuni: list[str]
    linee_budget: list[LineaBudget]


class VersioneApprovata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    versione: int
    deliberazione: str
    interventi: list[Intervento]


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    app: Finance = runtime.app  # type: ignore[assignment]

    def piano_creato(event: CloudEvent, tracking: Tracking) -> None:
        piano = PianoCreato.model_validate(event.data)
        app.apri_budget_del_piano(event.tenantid, piano.piano_id, piano.anno_inizio, piano.anno_fine, tracking)

    def versione_approvata(event: CloudEvent, tracking: Tracking) -> None:
        v = VersioneApprovata.model_validate(event.data)
        interventi = [{**iv.model_dump(), "linee_budget": [{"fondo": l.fondo, "anno": l.anno, "importo": str(l.importo)}
                                                           for l in iv.linee_budget]} for iv in v.interventi]
        try:
            app.recepisci_versione(event.tenantid, v.piano_id, v.versione, v.deliberazione, interventi, tracking)
        except NotFound:  # the plan's creato comes first on the same partition: this is not retryable
            raise PoisonMessage(f"nessun budget per il Piano {v.piano_id}") from None

    def composizione(event: CloudEvent, tracking: Tracking) -> None:
        c = ComposizioneRegistrata.model_validate(event.data)
        app.recepisci_composizione(event.tenantid, c.versione, c.nome, c.popolazione_al,
                                   [x.model_dump() for x in c.comuni], tracking)

    settings = runtime.settings
    return [TrackedConsumer(
        settings, tracker=runtime.tracker, topics={settings.topic("planning.events.v1"): "planning"},
        handlers={"planning.piano_di_zona.creato": piano_creato,
                  "planning.ambito.composizione_registrata": composizione,
                  "planning.piano_di_zona.versione_approvata": versione_approvata}),
        abilitazioni.consumer(runtime)]  # partnership's accreditations and awards
