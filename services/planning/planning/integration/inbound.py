"""Integration events planning consumes. Each model holds only the fields planning reads."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import Tracking
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime

from planning.application import Planning
from planning.domain.proposte import PropostaRicevuta


class Nomenclatura(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sistema: str
    codice: str


class InterventoProposto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    codice: str
    titolo: str
    nomenclatura: Nomenclatura
    comuni: list[str]
    utenti_attesi: int


class PropostaFormulata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    proposta_id: uuid.UUID
    tavolo_id: uuid.UUID
    piano_id: uuid.UUID | None = None
    titolo: str
    descrizione: str
    area: str
    intervento: InterventoProposto
    formulata_da: str


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    app: Planning = runtime.app  # type: ignore[assignment]

    def proposta_formulata(event: CloudEvent, tracking: Tracking) -> None:
        p = PropostaFormulata.model_validate(event.data)
        app.ricevi_proposta_tavolo(event.tenantid, PropostaRicevuta(
            proposta_id=p.proposta_id, tavolo_id=p.tavolo_id, piano_id=p.piano_id, titolo=p.titolo,
            descrizione=p.descrizione, area=p.area, intervento=p.intervento.model_dump(), formulata_da=p.formulata_da),
            tracking)

    settings = runtime.settings
    return [TrackedConsumer(
        settings, tracker=runtime.tracker, topics={settings.topic("partnership.events.v1"): "partnership"},
        handlers={"partnership.tavolo.proposta_formulata": proposta_formulata})]
