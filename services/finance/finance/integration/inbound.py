"""Integration events finance consumes. Each model holds only the fields finance reads."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import Tracking
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime

from finance.application import Finance


class PianoCreato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    app: Finance = runtime.app  # type: ignore[assignment]

    def piano_creato(event: CloudEvent, tracking: Tracking) -> None:
        piano = PianoCreato.model_validate(event.data)
        app.apri_budget_del_piano(event.tenantid, piano.piano_id, piano.anno_inizio, piano.anno_fine, tracking)

    settings = runtime.settings
    return [TrackedConsumer(
        settings, tracker=runtime.tracker, topics={settings.topic("planning.events.v1"): "planning"},
        handlers={"planning.piano_di_zona.creato": piano_creato})]
