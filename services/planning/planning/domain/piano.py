"""The Piano Sociale di Zona: the triennial plan of one Ambito."""

from __future__ import annotations

import uuid

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

DURATA_ANNI = 3
STATI = ("bozza", "proposto", "approvato", "in_attuazione", "concluso")


def verifica_periodo(anno_inizio: int, anno_fine: int) -> None:
    """A Piano di Zona covers three consecutive years (e.g. 2025–2027)."""
    if anno_fine - anno_inizio + 1 != DURATA_ANNI:
        raise RuleViolation(
            f"Il Piano di Zona è triennale: {anno_inizio}–{anno_fine} copre "
            f"{anno_fine - anno_inizio + 1} anni.", rule="piano.periodo_triennale", field="anno_fine")


class PianoDiZona(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, anno_inizio: int, anno_fine: int, **_: object) -> uuid.UUID:
        """One plan per Ambito and triennium: its id is derived from that natural key."""
        return tenant_uuid(tenant_id, "piano-di-zona", anno_inizio, anno_fine)

    @event("Creato")
    def __init__(self, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int, creato_da: str) -> None:
        self.tenant_id = tenant_id
        self.titolo = titolo
        self.anno_inizio = anno_inizio
        self.anno_fine = anno_fine
        self.creato_da = creato_da
        self.stato = "bozza"

    @classmethod
    def redigi(cls, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int,
               creato_da: str) -> "PianoDiZona":
        """Draft a new plan (state ``bozza``) after checking the rules of its period."""
        verifica_periodo(anno_inizio, anno_fine)
        return cls(tenant_id=tenant_id, titolo=titolo.strip(), anno_inizio=anno_inizio,
                   anno_fine=anno_fine, creato_da=creato_da)
