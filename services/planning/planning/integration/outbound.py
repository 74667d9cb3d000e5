"""Domain events of planning -> public integration events (see contracts/planning)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent

from planning.domain.ambito import Ambito
from planning.domain.piano import PianoDiZona

SOURCE = "/ambiti/planning"
SCHEMAS = "https://contracts.ambiti.example/planning"


def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    def contract(type: str, data: dict[str, Any]) -> CloudEvent:
        return CloudEvent.of(domain_event, notification, type=type, source=SOURCE, schemas=SCHEMAS, data=data)

    if isinstance(domain_event, PianoDiZona.Creato):
        return contract("planning.piano_di_zona.creato", {
            "piano_id": str(domain_event.originator_id),
            "ambito": domain_event.tenant_id,
            "titolo": domain_event.titolo,
            "anno_inizio": domain_event.anno_inizio,
            "anno_fine": domain_event.anno_fine,
            "stato": "bozza",
            "creato_da": domain_event.creato_da,
            "creato_il": domain_event.timestamp.isoformat(),
        })
    if isinstance(domain_event, (Ambito.Registrato, Ambito.ComposizioneAggiornata)):
        return contract("planning.ambito.composizione_registrata", {
            "ambito": domain_event.tenant_id,
            "versione": domain_event.originator_version,
            "nome": domain_event.nome,
            "capofila_istat": domain_event.capofila_istat,
            "popolazione_al": domain_event.popolazione_al.isoformat(),
            "comuni": [{"istat": c["istat"], "nome": c["nome"], "popolazione": c["popolazione"]}
                       for c in domain_event.comuni],
        })
    return None
