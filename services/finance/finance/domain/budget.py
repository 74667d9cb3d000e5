"""The budget of one Piano di Zona: the lines that funds will be allocated to."""

from __future__ import annotations

import uuid

from eventsourcing.domain import event

from ambiti_kit.tenancy import TenantAggregate, tenant_uuid


class Budget(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, piano_id: uuid.UUID, **_: object) -> uuid.UUID:
        """One budget per plan: derived from the plan's id within the tenant."""
        return tenant_uuid(tenant_id, "budget", piano_id)

    @event("Aperto")
    def __init__(self, tenant_id: str, piano_id: uuid.UUID, anno_inizio: int, anno_fine: int) -> None:
        self.tenant_id = tenant_id
        self.piano_id = piano_id
        self.anno_inizio = anno_inizio
        self.anno_fine = anno_fine
        self.righe: list[dict] = []
