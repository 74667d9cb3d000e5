"""Who holds the role of coordinatore (responsabile) of the Ufficio di Piano, and until when.

The Comitato appoints the coordinatore by deliberation (type ``nomina_coordinatore``: the
regolamento dell'Ufficio di Piano or the regional law say who appoints; in most Ambiti it is the
Comitato / Coordinamento Istituzionale). The approved deliberation's outcome is the appointment:
holder (``nominativo``), start (``dal``, default the deliberation's date) and end of the term
(``al``, none: until a new appointment). One aggregate per Ambito keeps every appointment, so the
holder on any date stays readable; a later appointment ends the earlier one the day before it starts.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid


class IncaricoCoordinatore(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "coordinatore-udp")

    @event("Aperto")
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.nomine: list[dict] = []

    def nomina(self, nominativo: str, dal: date, al: date | None, deliberazione_id: uuid.UUID, numero: str) -> None:
        if al is not None and al < dal:
            raise RuleViolation("La fine dell'incarico non precede l'inizio.", rule="nomina.periodo",
                                field="riferimenti.al")
        self._nominato(nominativo=nominativo, dal=dal, al=al, deliberazione_id=deliberazione_id, deliberazione=numero)

    @event("Nominato")
    def _nominato(self, nominativo: str, dal: date, al: date | None, deliberazione_id: uuid.UUID,
                  deliberazione: str) -> None:
        self.nomine.append({"nominativo": nominativo, "dal": dal, "al": al, "deliberazione_id": deliberazione_id,
                            "deliberazione": deliberazione})

    def periodi(self) -> list[dict]:
        """Every appointment with its effective end: its own ``al``, or the day before the next one starts."""
        ordinate = sorted(self.nomine, key=lambda n: n["dal"])
        periodi = []
        for i, n in enumerate(ordinate):
            fine = n["al"]
            if i + 1 < len(ordinate):
                prima_del_seguente = ordinate[i + 1]["dal"] - timedelta(days=1)
                fine = prima_del_seguente if fine is None else min(fine, prima_del_seguente)
            periodi.append({**n, "fino_al": fine})
        return periodi

    def in_carica(self, giorno: date) -> dict | None:
        return next((p for p in reversed(self.periodi())
                     if p["dal"] <= giorno and (p["fino_al"] is None or giorno <= p["fino_al"])), None)
