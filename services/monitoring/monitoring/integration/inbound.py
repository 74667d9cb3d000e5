"""Integration events monitoring consumes, routed to its projections."""

from __future__ import annotations

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.service import Runtime

from monitoring.projections import ambiti, piani


def consumers(runtime: Runtime, group: str = "main") -> list[TrackedConsumer]:
    settings, tracker = runtime.settings, runtime.tracker
    schema = settings.db_schema
    return [TrackedConsumer(
        settings, tracker=tracker, group=group,
        topics={settings.topic("planning.events.v1"): "planning"},
        handlers={
            "planning.piano_di_zona.creato": projecting(tracker, piani.project_piano_creato(schema)),
            "planning.ambito.composizione_registrata": projecting(tracker, ambiti.project_composizione(schema)),
        })]
