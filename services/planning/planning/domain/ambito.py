"""The Ambito's own registry entry: its name, Comune capofila and member Comuni.

Populations are dated (``popolazione_al``, 1 January of a year); a new composition is a
new event, so the composition in force at any past date stays readable.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import verifica_istat_comune


def verifica_composizione(capofila: str, comuni: list[dict]) -> None:
    """Every Comune once, with a six-digit ISTAT code and a population; the capofila among them."""
    codici = [c["istat"] for c in comuni]
    if not comuni:
        raise RuleViolation("Un Ambito comprende almeno un Comune.", rule="ambito.comuni_presenti", field="comuni")
    for i, c in enumerate(comuni):
        verifica_istat_comune(c["istat"], f"comuni.{i}.istat")
        if c["popolazione"] < 0:
            raise RuleViolation("La popolazione non può essere negativa.", rule="ambito.popolazione",
                                field=f"comuni.{i}.popolazione")
    duplicati = sorted({c for c in codici if codici.count(c) > 1})
    if duplicati:
        raise RuleViolation(f"Comuni ripetuti: {', '.join(duplicati)}.", rule="ambito.comuni_unici", field="comuni")
    if capofila not in codici:
        raise RuleViolation("Il Comune capofila deve essere uno dei Comuni dell'Ambito.",
                            rule="ambito.capofila_membro", field="capofila_istat")


class Ambito(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "ambito")

    @event("Registrato")
    def __init__(self, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                 comuni: list[dict]) -> None:
        self.tenant_id = tenant_id
        self._applica(nome, capofila_istat, popolazione_al, comuni)

    @classmethod
    def registra(cls, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                 comuni: list[dict]) -> "Ambito":
        verifica_composizione(capofila_istat, comuni)
        return cls(tenant_id=tenant_id, nome=nome, capofila_istat=capofila_istat,
                   popolazione_al=popolazione_al, comuni=comuni)

    def aggiorna(self, nome: str, capofila_istat: str, popolazione_al: date, comuni: list[dict]) -> None:
        verifica_composizione(capofila_istat, comuni)
        self._aggiorna(nome=nome, capofila_istat=capofila_istat, popolazione_al=popolazione_al, comuni=comuni)

    @event("ComposizioneAggiornata")
    def _aggiorna(self, nome: str, capofila_istat: str, popolazione_al: date,
                  comuni: list[dict]) -> None:
        self._applica(nome, capofila_istat, popolazione_al, comuni)

    def _applica(self, nome: str, capofila_istat: str, popolazione_al: date, comuni: list[dict]) -> None:
        self.nome = nome
        self.capofila_istat = capofila_istat
        self.popolazione_al = popolazione_al
        self.comuni = [dict(c) for c in comuni]

    def composizione(self) -> tuple[str, str, date, list[dict]]:
        return self.nome, self.capofila_istat, self.popolazione_al, self.comuni

    @property
    def popolazione(self) -> int:
        return sum(c["popolazione"] for c in self.comuni)
