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


def test_a_received_proposal_is_a_local_event_of_the_read_model_and_never_published() -> None:
    import uuid

    from planning.domain.proposte import PropostaTavolo
    from planning.projections.locale import PROPOSTA_TAVOLO_RICEVUTA, to_read_model_event

    proposta = PropostaTavolo(tenant_id="15-S09", proposta_id=uuid.uuid4(), tavolo_id=uuid.uuid4(), piano_id=None,
                              titolo="Più SAD", descrizione="Estendere il SAD", area="A", intervento={"codice": "A1"},
                              formulata_da="tavolo")
    [ricevuta] = proposta.collect_events()
    notification = Notification(id=7, originator_id=proposta.id, originator_version=1, topic="x", state=b"{}")
    assert to_integration_event(ricevuta, notification) is None
    local = to_read_model_event(ricevuta, notification)
    assert local is not None and (local.type, local.tenantid, local.sequence) == (PROPOSTA_TAVOLO_RICEVUTA, "15-S09", 7)
    assert local.data["proposta_tavolo_id"] == str(proposta.id) and local.data["piano_id"] is None
    # a published event is the same for the read model as on the wire
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "coordinatore@15-S09")
    [creato] = piano.collect_events()
    assert to_read_model_event(creato, notification) == to_integration_event(creato, notification)
