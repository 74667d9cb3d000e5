"""finance's domain events map to contract events."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import Notification

from finance.domain.budget import Budget
from finance.integration.outbound import to_integration_event


def test_budget_aperto_maps_to_the_public_contract_event() -> None:
    piano = uuid.uuid4()
    budget = Budget(tenant_id="15-S09", piano_id=piano, anno_inizio=2025, anno_fine=2027)
    [aperto] = budget.collect_events()
    event = to_integration_event(aperto, Notification(id=7, originator_id=budget.id, originator_version=1,
                                                      topic="x", state=b"{}"))
    assert event is not None and event.type == "finance.budget.aperto"
    assert event.data["piano_id"] == str(piano) and event.data["ambito"] == "15-S09"
