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
        #: every composition received, by the date of its populations (a later version with the same
        #: date replaces the earlier one): a new population never overwrites the past one
        self.storico: dict[str, dict] = {**getattr(self, "storico", {}),
                                         popolazione_al.isoformat(): {"versione": versione, "comuni": self.comuni}}

    def comuni_al(self, data: date, field: str = "comuni_al") -> tuple[date, int, list[dict]]:
        """The Comuni that are members at ``data`` with their populations at the latest date not after it:
        ``(popolazione_al, versione, comuni)``. A Comune whose legal membership (``aderente_dal``,
        when planning sends it) starts after ``data`` is not a member yet; one whose legal leaving date
        (``cessato_dal``, the first day it is no longer a member) is not after ``data`` is a member no more."""
        date_note = sorted(d for d in map(date.fromisoformat, self.storico) if d <= data)
        if not date_note:
            raise RuleViolation(
                f"Nessuna popolazione dei Comuni dell'Ambito riferita al {data.isoformat()} o prima: la prima è "
                f"al {min(self.storico)}.", rule="riparto.popolazione_alla_data", field=field)
        popolazione_al = date_note[-1]
        versione = self.storico[popolazione_al.isoformat()]
        comuni = [dict(c) for c in versione["comuni"]
                  if (not c.get("aderente_dal") or date.fromisoformat(str(c["aderente_dal"])) <= data)
                  and (not c.get("cessato_dal") or date.fromisoformat(str(c["cessato_dal"])) > data)]
        if not comuni:
            raise RuleViolation(f"Nessun Comune è membro dell'Ambito al {data.isoformat()}.",
                                rule="riparto.comuni_alla_data", field=field)
        return popolazione_al, versione["versione"], comuni


def verifica_composizione_nota(composizione: ComposizioneAmbito | None, field: str) -> ComposizioneAmbito:
    if composizione is None:
        raise RuleViolation("Finance non conosce ancora i Comuni dell'Ambito: registrarli in planning (PUT /ambito).",
                            rule="ambito.composizione_nota", field=field)
    return composizione
