"""Integration events monitoring consumes, routed to its projections."""

from __future__ import annotations

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.service import Runtime

from monitoring.projections import piani


def consumers(runtime: Runtime, group: str = "main") -> list[TrackedConsumer]:
    settings = runtime.settings
    return [TrackedConsumer(
        settings, tracker=runtime.tracker, group=group,
        topics={settings.topic("planning.events.v1"): "planning"},
        handlers={"planning.piano_di_zona.creato":
                  projecting(runtime.tracker, piani.project_piano_creato(settings.db_schema))})]
