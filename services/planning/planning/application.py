"""The planning application: one method per use case, each ending in save()."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import IntegrityError

from ambiti_kit.errors import Conflict
from ambiti_kit.tenancy import TenantApplication

from datetime import date

from planning.domain.ambito import Ambito
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

    def registra_ambito(self, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                        comuni: list[dict]) -> tuple[Ambito, bool]:
        """Register the Ambito's composition, or record a new one; returns (ambito, created)."""
        ambito_id = Ambito.create_id(tenant_id)
        if self.exists(ambito_id):
            ambito = self.get_for_tenant(tenant_id, ambito_id, Ambito)
            if ambito.composizione() == (nome, capofila_istat, popolazione_al, comuni):
                return ambito, False  # the same composition again: nothing to record
            ambito.aggiorna(nome, capofila_istat, popolazione_al, comuni)
            created = False
        else:
            ambito = Ambito.registra(tenant_id, nome, capofila_istat, popolazione_al, comuni)
            created = True
        try:
            self.save(ambito)
        except IntegrityError:
            raise Conflict("La composizione dell'Ambito è stata modificata nel frattempo: riprovare.",
                           rule="ambito.modifica_concorrente") from None
        return ambito, created

    def ambito(self, tenant_id: str) -> Ambito:
        return self.get_for_tenant(tenant_id, Ambito.create_id(tenant_id), Ambito)
