"""planning's domain events map to contract events, never to class paths."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from planning.domain.piano import PianoDiZona
from planning.integration.outbound import to_integration_event


def test_piano_creato_maps_to_the_public_contract_event() -> None:
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "coordinatore@15-S09")
    [creato] = piano.collect_events()
    notification = Notification(id=42, originator_id=piano.id, originator_version=1, topic="x", state=b"{}")
    event = to_integration_event(creato, notification)
    assert event is not None
    assert (event.type, event.tenantid, event.sequence, event.subject) == (
        "planning.piano_di_zona.creato", "15-S09", 42, str(piano.id))
    assert event.data["piano_id"] == str(piano.id) and event.data["stato"] == "bozza"
    key, value, headers = event.to_kafka()
    assert key == str(piano.id).encode() and b"planning.domain" not in value
    assert dict(headers)["ce_type"] == b"planning.piano_di_zona.creato"
