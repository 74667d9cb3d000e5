"""Funding sources and their assignments to the Ambito, per annualità, with the act that made them.

An ``Assegnazione`` is one fund's annualità for the Ambito (e.g. FNPS 2024): the amount
assigned by a decree (and any later decree that adds to it), its constraints (a minimum
share for services), and how much of it has been allocated to the Piano's budget lines.
It never allocates more than it holds.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import ZERO, euro, positivo

from finance.domain.tracciabilita import FONDI_PNRR


#: The catalogue of funding sources (codes shared with planning's budget lines).
FONDI = {
    "FNPS": "Fondo nazionale per le politiche sociali",
    "FNA": "Fondo per le non autosufficienze",
    "QSFP": "Fondo Povertà – quota servizi",
    "DOPO_DI_NOI": "Fondo per l'assistenza alle persone con disabilità grave prive del sostegno familiare",
    "PNRR_M5C2": "PNRR – Missione 5, Componente 2",
    "REGIONALE": "Fondi regionali",
    "FSE_PLUS": "Fondo sociale europeo plus",
    "COFINANZIAMENTO_COMUNALE": "Cofinanziamento dei Comuni",
}
#: Macro-livelli FNPS that count as "services" for a minimum services quota.
MACRO_LIVELLI = ("1", "2", "3", "4", "5")


def verifica_fondo(fondo: str, field: str = "fondo") -> str:
    if fondo not in FONDI:
        raise RuleViolation(f"Fondo sconosciuto: {fondo!r} (ammessi: {', '.join(FONDI)}).", rule="fondo.noto",
                            field=field)
    return fondo


def verifica_vincoli(vincoli: dict) -> None:
    quota = vincoli.get("quota_servizi_percentuale")
    if quota is not None and not Decimal(0) < Decimal(quota) <= 100:
        raise RuleViolation("La quota minima per i servizi è una percentuale tra 0 e 100.",
                            rule="fondo.quota_servizi", field="vincoli.quota_servizi_percentuale")
    livelli = vincoli.get("macro_livelli_servizi") or []
    if quota is not None and not livelli:
        raise RuleViolation("Indicare i macro-livelli che contano come servizi.", rule="fondo.quota_servizi",
                            field="vincoli.macro_livelli_servizi")
    if set(livelli) - set(MACRO_LIVELLI):
        raise RuleViolation("Macro-livelli FNPS da 1 a 5.", rule="fondo.macro_livelli",
                            field="vincoli.macro_livelli_servizi")


class Assegnazione(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, fondo: str, annualita: int, **_: object) -> uuid.UUID:
        """One assignment per fund and annualità in an Ambito."""
        return tenant_uuid(tenant_id, "assegnazione", fondo, annualita)

    class Registrata(TenantAggregate.Created):
        """v2 adds ``investimento`` and ``pnrr``: the annualità finances investment projects or is PNRR-funded,
        so its commitments need a CUP (L. 144/1999 art. 11, L. 3/2003 art. 11); v1 annualità were neither."""

        class_version = 2
        tenant_id: str
        fondo: str
        annualita: int
        importo: Decimal
        atto: dict
        vincoli: dict
        registrata_da: str
        investimento: bool
        pnrr: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["investimento"] = False
            state["pnrr"] = False

    @event(Registrata)
    def __init__(self, tenant_id: str, fondo: str, annualita: int, importo: Decimal, atto: dict, vincoli: dict,
                 registrata_da: str, investimento: bool = False, pnrr: bool = False) -> None:
        self.tenant_id = tenant_id
        self.investimento = investimento
        self.pnrr = pnrr or fondo in FONDI_PNRR
        self.fondo = fondo
        self.annualita = annualita
        self.atti = [{**atto, "importo": importo}]
        self.vincoli = dict(vincoli)
        self.totale = importo
        self.allocato = ZERO
        self.allocazioni: dict[str, Decimal] = {}

    @classmethod
    def registra(cls, tenant_id: str, fondo: str, annualita: int, importo: Decimal, atto: dict, vincoli: dict,
                 autore: str, investimento: bool = False, pnrr: bool = False) -> "Assegnazione":
        verifica_fondo(fondo)
        verifica_vincoli(vincoli)
        positivo(importo)
        return cls(tenant_id=tenant_id, fondo=fondo, annualita=annualita, importo=importo, atto=atto,
                   vincoli=vincoli, registrata_da=autore, investimento=investimento,
                   pnrr=pnrr or fondo in FONDI_PNRR)

    @property
    def disponibile(self) -> Decimal:
        return self.totale - self.allocato

    def integra(self, importo: Decimal, atto: dict, autore: str) -> None:
        """A further act adds to the annualità (e.g. a second decree of riparto)."""
        positivo(importo)
        if any(a["numero"] == atto["numero"] and a["data"] == atto["data"] for a in self.atti):
            raise RuleViolation("Questo atto è già registrato per l'annualità.", rule="fondo.atto_unico",
                                field="atto.numero")
        self._integrata(importo=importo, atto=atto, registrata_da=autore)

    @event("Integrata")
    def _integrata(self, importo: Decimal, atto: dict, registrata_da: str) -> None:
        self.atti.append({**atto, "importo": importo})
        self.totale += importo

    def alloca(self, stanziamento_id: uuid.UUID, importo: Decimal, autore: str) -> None:
        """Reserve part of the annualità for a budget line (the ``Stanziamento``)."""
        positivo(importo)
        if importo > self.disponibile:
            raise RuleViolation(f"Il fondo {self.fondo} {self.annualita} ha disponibili {euro(self.disponibile)} €: "
                                f"non si possono allocare {euro(importo)} €.", rule="budget.disponibilita_fondo",
                                field="importo")
        self._allocata(stanziamento_id=stanziamento_id, importo=importo, allocata_da=autore)

    @event("Allocata")
    def _allocata(self, stanziamento_id: uuid.UUID, importo: Decimal, allocata_da: str) -> None:
        self.allocato += importo
        key = str(stanziamento_id)
        self.allocazioni[key] = self.allocazioni.get(key, ZERO) + importo


def atto(tipo: str, numero: str, data_atto: date, ente: str) -> dict:
    return {"tipo": tipo, "numero": numero, "data": data_atto, "ente": ente}
