"""The planning application: one method per use case, each ending in save()."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import IntegrityError

from ambiti_kit.errors import Conflict
from ambiti_kit.tenancy import TenantApplication

from planning.domain.piano import PianoDiZona


class Planning(TenantApplication):
    name = "planning"

    def redigi_piano(self, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int,
                     autore: str) -> PianoDiZona:
        piano = PianoDiZona.redigi(tenant_id, titolo, anno_inizio, anno_fine, autore)
        if self.exists(piano.id):
            raise Conflict(f"L'Ambito ha già un Piano di Zona {anno_inizio}–{anno_fine}.",
                           rule="piano.unico_per_triennio")
        try:
            self.save(piano)
        except IntegrityError:
            raise Conflict(f"L'Ambito ha già un Piano di Zona {anno_inizio}–{anno_fine}.",
                           rule="piano.unico_per_triennio") from None
        return piano

    def piano(self, tenant_id: str, piano_id: uuid.UUID) -> PianoDiZona:
        return self.get_for_tenant(tenant_id, piano_id, PianoDiZona)
