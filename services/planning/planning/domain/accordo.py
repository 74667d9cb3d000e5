"""The Accordo di Programma that puts an approved Piano into effect.

The Comuni and the ASL named as required signatories sign it (each once); third-sector
bodies may adhere. When the last required signature arrives the Accordo is *perfezionato*
and the Piano goes ``in_attuazione`` in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, Forbidden, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import verifica_codice_fiscale_ente

ASL = "ASL"


class AccordoDiProgramma(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, piano_id: uuid.UUID, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "accordo-di-programma", piano_id)

    @event("Predisposto")
    def __init__(self, tenant_id: str, piano_id: uuid.UUID, firmatari_richiesti: list[str],
                 predisposto_da: str) -> None:
        self.tenant_id = tenant_id
        self.piano_id = piano_id
        self.firmatari_richiesti = list(firmatari_richiesti)
        self.predisposto_da = predisposto_da
        self.firme: dict[str, dict] = {}
        self.adesioni: dict[str, dict] = {}
        self.perfezionato_il: date | None = None

    @classmethod
    def predisponi(cls, tenant_id: str, piano_id: uuid.UUID, firmatari: list[str], comuni_ambito: set[str],
                   autore: str) -> "AccordoDiProgramma":
        if not firmatari:
            raise RuleViolation("L'Accordo ha almeno un firmatario.", rule="accordo.firmatari", field="firmatari")
        if len(set(firmatari)) != len(firmatari):
            raise RuleViolation("Ogni firmatario compare una volta.", rule="accordo.firmatari_unici",
                                field="firmatari")
        estranei = sorted(set(firmatari) - comuni_ambito - {ASL})
        if estranei:
            raise RuleViolation(f"Firmatari estranei all'Ambito: {', '.join(estranei)}.",
                                rule="accordo.firmatari_ambito", field="firmatari")
        return cls(tenant_id=tenant_id, piano_id=piano_id, firmatari_richiesti=firmatari, predisposto_da=autore)

    @property
    def mancanti(self) -> list[str]:
        return [f for f in self.firmatari_richiesti if f not in self.firme]

    def firma(self, firmatario: str, autore: str, il: date) -> bool:
        """Record a signature; True when it was the last one needed."""
        if firmatario not in self.firmatari_richiesti:
            raise Forbidden(f"{firmatario} non è tra i firmatari dell'Accordo.", rule="accordo.firmatario")
        if firmatario in self.firme:
            raise Conflict(f"{firmatario} ha già firmato.", rule="accordo.firma_unica")
        self._firmato(firmatario=firmatario, firmato_da=autore, data=il)
        if not self.mancanti:
            self._perfezionato(data=il)
            return True
        return False

    @event("Firmato")
    def _firmato(self, firmatario: str, firmato_da: str, data: date) -> None:
        self.firme[firmatario] = {"firmato_da": firmato_da, "data": data}

    @event("Perfezionato")
    def _perfezionato(self, data: date) -> None:
        self.perfezionato_il = data

    def aderisci(self, codice_fiscale: str, denominazione: str, autore: str) -> None:
        """A third-sector body adheres (it does not sign and is not required)."""
        verifica_codice_fiscale_ente(codice_fiscale, "codice_fiscale")
        if codice_fiscale in self.adesioni:
            raise Conflict("L'ente ha già aderito.", rule="accordo.adesione_unica")
        self._adesione(codice_fiscale=codice_fiscale, denominazione=denominazione,
                       registrata_da=autore)

    @event("AdesioneRegistrata")
    def _adesione(self, codice_fiscale: str, denominazione: str, registrata_da: str) -> None:
        self.adesioni[codice_fiscale] = {"denominazione": denominazione, "registrata_da": registrata_da}
