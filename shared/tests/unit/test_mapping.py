"""The kit's mapper: a table of domain event classes -> public integration events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from eventsourcing.persistence import Notification

from ambiti_kit.mapping import mapper


@dataclass
class Assunto:
    originator_id: uuid.UUID
    tenant_id: str
    timestamp: datetime
    importo: str


class AssuntoBis(Assunto):
    pass


def test_a_mapped_event_gets_its_public_type_source_schema_and_data() -> None:
    to_event = mapper({Assunto: ("prova.impegno.assunto", lambda e: {"importo": e.importo})},
                      source="/ambiti/prova", schemas="https://contracts.example/prova")
    e = Assunto(uuid.uuid4(), "15-S09", datetime(2026, 3, 2, tzinfo=timezone.utc), "10.00")
    n = Notification(id=7, originator_id=e.originator_id, originator_version=1, topic="x", state=b"")
    event = to_event(e, n)
    assert event is not None
    assert (event.type, event.source, event.subject, event.tenantid, event.sequence, event.data) == (
        "prova.impegno.assunto", "/ambiti/prova", str(e.originator_id), "15-S09", 7, {"importo": "10.00"})
    assert event.dataschema == "https://contracts.example/prova/prova.impegno.assunto.v1.schema.json"
    assert to_event(AssuntoBis(e.originator_id, "15-S09", e.timestamp, "1.00"), n) is None  # exact class only
    assert to_event(object(), n) is None
