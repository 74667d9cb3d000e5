"""Domain events of finance -> public integration events (see contracts/finance)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent

from finance.domain.budget import Budget

SOURCE = "/ambiti/finance"
SCHEMAS = "https://contracts.ambiti.example/finance"


def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    if isinstance(domain_event, Budget.Aperto):
        return CloudEvent.of(domain_event, notification, type="finance.budget.aperto", source=SOURCE,
                             schemas=SCHEMAS, data={
                                 "budget_id": str(domain_event.originator_id),
                                 "ambito": domain_event.tenant_id,
                                 "piano_id": str(domain_event.piano_id),
                                 "anno_inizio": domain_event.anno_inizio,
                                 "anno_fine": domain_event.anno_fine,
                                 "aperto_il": domain_event.timestamp.isoformat(),
                             })
    return None
