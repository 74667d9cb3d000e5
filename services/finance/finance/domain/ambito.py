"""Finance's own copy of the Ambito's composition (its Comuni and their dated populations),
taken from planning's ``planning.ambito.composizione_registrata``: per-capita quotas, riparti
among Comuni and reports per Comune need it without asking planning.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid


class ComposizioneAmbito(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "composizione-ambito")

    @event("Recepita")
    def __init__(self, tenant_id: str, versione: int, nome: str, popolazione_al: date, comuni: list[dict]) -> None:
        self.tenant_id = tenant_id
        self._applica(versione, nome, popolazione_al, comuni)

    def aggiorna(self, versione: int, nome: str, popolazione_al: date, comuni: list[dict]) -> bool:
        """Take a newer composition; False for one already seen (or older)."""
        if versione <= self.versione:
            return False
        self._aggiornata(versione=versione, nome=nome, popolazione_al=popolazione_al,
                         comuni=comuni)
        return True

    @event("Aggiornata")
    def _aggiornata(self, versione: int, nome: str, popolazione_al: date, comuni: list[dict]) -> None:
        self._applica(versione, nome, popolazione_al, comuni)

    def _applica(self, versione: int, nome: str, popolazione_al: date, comuni: list[dict]) -> None:
        self.versione = versione
        self.nome = nome
        self.popolazione_al = popolazione_al
        self.comuni = [dict(c) for c in comuni]


def verifica_composizione_nota(composizione: ComposizioneAmbito | None, field: str) -> ComposizioneAmbito:
    if composizione is None:
        raise RuleViolation("Finance non conosce ancora i Comuni dell'Ambito: registrarli in planning (PUT /ambito).",
                            rule="ambito.composizione_nota", field=field)
    return composizione
