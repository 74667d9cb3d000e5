"""The finance application: one method per use case, each ending in save()."""

from __future__ import annotations

import uuid

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from ambiti_kit.errors import NotFound
from ambiti_kit.tenancy import TenantApplication

from finance.domain.budget import Budget


class Finance(TenantApplication):
    name = "finance"

    def apri_budget_del_piano(self, tenant_id: str, piano_id: uuid.UUID, anno_inizio: int, anno_fine: int,
                              tracking: Tracking) -> None:
        """Open the (empty) budget of a newly drafted plan, recording ``tracking`` atomically."""
        processing = ProcessingEvent(tracking=tracking)
        if not self.exists(Budget.create_id(tenant_id, piano_id)):
            processing.collect_events(Budget(tenant_id=tenant_id, piano_id=piano_id,
                                             anno_inizio=anno_inizio, anno_fine=anno_fine))
        self._record(processing)

    def budget_del_piano(self, tenant_id: str, piano_id: uuid.UUID) -> Budget:
        try:
            return self.get_for_tenant(tenant_id, Budget.create_id(tenant_id, piano_id), Budget)
        except NotFound:
            raise NotFound(f"Nessun budget per il Piano {piano_id}.") from None
