"""Proposals of the tavoli (from partnership) as inputs to the Piano.

A tavolo tematico or di partenariato proposes an intervento; planning receives it (one
aggregate per proposal, from ``partnership.tavolo.proposta_formulata``) and the Ufficio di
Piano may take it into a draft version of the plan: the intervento joins the tree under an
area and obiettivo of its choosing, and the proposal records which version took it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid


@dataclass(frozen=True)
class PropostaRicevuta:
    """A tavolo's proposal as partnership published it (``partnership.tavolo.proposta_formulata``)."""

    proposta_id: uuid.UUID
    tavolo_id: uuid.UUID
    piano_id: uuid.UUID | None
    titolo: str
    descrizione: str
    area: str
    intervento: dict
    formulata_da: str


class PropostaTavolo(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, proposta_id: uuid.UUID, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "proposta-tavolo", proposta_id)

    @event("Ricevuta")
    def __init__(self, tenant_id: str, proposta_id: uuid.UUID, tavolo_id: uuid.UUID, piano_id: uuid.UUID | None,
                 titolo: str, descrizione: str, area: str, intervento: dict, formulata_da: str) -> None:
        self.tenant_id = tenant_id
        self.proposta_id = proposta_id
        self.tavolo_id = tavolo_id
        self.piano_id = piano_id
        self.titolo = titolo
        self.descrizione = descrizione
        self.area = area
        self.intervento = dict(intervento)
        self.formulata_da = formulata_da
        self.recepita: dict | None = None

    def recepisci(self, piano_id: uuid.UUID, versione: int, area: str, obiettivo: str, autore: str) -> None:
        if self.recepita is not None:
            raise Conflict(f"La proposta è già stata recepita nella versione {self.recepita['versione']}.",
                           rule="proposta.gia_recepita")
        self._recepita(piano_id=piano_id, versione=versione, area=area, obiettivo=obiettivo,
                       recepita_da=autore)

    @event("Recepita")
    def _recepita(self, piano_id: uuid.UUID, versione: int, area: str, obiettivo: str,
                  recepita_da: str) -> None:
        self.recepita = {"piano_id": piano_id, "versione": versione, "area": area, "obiettivo": obiettivo,
                         "recepita_da": recepita_da}


def con_intervento(aree: list[dict], area: str, obiettivo: str, intervento: dict) -> list[dict]:
    """A copy of the tree with ``intervento`` added under ``area`` / ``obiettivo`` (which must exist)."""
    nuove = [{**a, "obiettivi": [{**o, "interventi": list(o["interventi"])} for o in a["obiettivi"]]} for a in aree]
    for a in nuove:
        if a["codice"] != area:
            continue
        for o in a["obiettivi"]:
            if o["codice"] == obiettivo:
                o["interventi"].append({**intervento, "linee_budget": []})
                return nuove
        raise RuleViolation(f"L'area {area} non ha l'obiettivo {obiettivo}.", rule="proposta.obiettivo_esistente",
                            field="obiettivo")
    raise RuleViolation(f"La versione non ha l'area {area}.", rule="proposta.area_esistente", field="area")
