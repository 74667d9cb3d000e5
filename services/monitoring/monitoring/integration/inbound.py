"""Integration events monitoring consumes, routed to its projections."""

from __future__ import annotations

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.service import Runtime

from monitoring.projections import ambiti, deliberazioni, piani


def consumers(runtime: Runtime, group: str = "main") -> list[TrackedConsumer]:
    settings, tracker = runtime.settings, runtime.tracker
    schema = settings.db_schema
    piano_aggiornato = projecting(tracker, piani.project_piano_aggiornato(schema))
    votata = projecting(tracker, deliberazioni.project_votata(schema))
    return [TrackedConsumer(
        settings, tracker=tracker, group=group,
        topics={settings.topic("planning.events.v1"): "planning"},
        handlers={
            piani.CREATO: projecting(tracker, piani.project_piano_creato(schema)),
            **{tipo: piano_aggiornato for tipo in piani.AGGIORNAMENTI},
            deliberazioni.PROPOSTA: projecting(tracker, deliberazioni.project_proposta(schema)),
            **{tipo: votata for tipo in deliberazioni.VOTATE},
            "planning.ambito.composizione_registrata": projecting(tracker, ambiti.project_composizione(schema)),
        })]
