"""Proposte di deliberazione and the deliberations they become.

A proposal is written by the Ufficio di Piano, put on a seduta's agenda and voted; if the
Comitato approves it, it becomes deliberation ``n/anno`` (the next number of that year in
the Ambito's register) and never changes again: a correction is a new deliberation of type
``rettifica`` that references it.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

TIPI = {
    "approvazione_piano": "Approvazione del Piano Sociale di Zona",
    "approvazione_aggiornamento": "Approvazione dell'aggiornamento del Piano",
    "approvazione_bilancio": "Approvazione del bilancio dell'Ambito",
    "criteri_riparto_costi": "Criteri di ripartizione dei costi tra i Comuni",
    "nomina_coordinatore": "Nomina del coordinatore dell'Ufficio di Piano",
    "rettifica": "Rettifica di una deliberazione",
}
#: What each type must reference (checked when the proposal is written).
RIFERIMENTI = {
    "approvazione_piano": ("piano_id", "versione"),
    "approvazione_aggiornamento": ("piano_id", "versione"),
    "approvazione_bilancio": ("anno",),
    "criteri_riparto_costi": ("anno",),
    "nomina_coordinatore": ("nominativo",),
    "rettifica": ("rettifica_di",),
}


def verifica_riferimenti(tipo: str, riferimenti: dict) -> None:
    if tipo not in TIPI:
        raise RuleViolation(f"Tipo di deliberazione non ammesso: {tipo!r}.", rule="deliberazione.tipo", field="tipo")
    mancanti = [r for r in RIFERIMENTI[tipo] if riferimenti.get(r) in (None, "")]
    if mancanti:
        raise RuleViolation(f"Una deliberazione '{tipo}' indica: {', '.join(mancanti)}.",
                            rule="deliberazione.riferimenti", field=f"riferimenti.{mancanti[0]}")


class Deliberazione(TenantAggregate):
    @event("Proposta")
    def __init__(self, tenant_id: str, tipo: str, oggetto: str, testo: str, riferimenti: dict,
                 proposta_da: str) -> None:
        self.tenant_id = tenant_id
        self.tipo = tipo
        self.oggetto = oggetto
        self.testo = testo
        self.riferimenti = dict(riferimenti)
        self.proposta_da = proposta_da
        self.stato = "proposta"
        self.seduta_id: uuid.UUID | None = None
        self.numero: str | None = None
        self.data: date | None = None
        self.esito: dict | None = None

    @classmethod
    def proponi(cls, tenant_id: str, tipo: str, oggetto: str, testo: str, riferimenti: dict,
                autore: str) -> "Deliberazione":
        verifica_riferimenti(tipo, riferimenti)
        return cls(tenant_id=tenant_id, tipo=tipo, oggetto=oggetto, testo=testo, riferimenti=riferimenti,
                   proposta_da=autore)

    def iscrivi(self, seduta_id: uuid.UUID) -> None:
        """Put the proposal on a seduta's agenda."""
        if self.stato != "proposta":
            raise RuleViolation(f"La proposta {self.id} è {self.stato}: non si iscrive all'ordine del giorno.",
                                rule="deliberazione.iscrivibile", field="ordine_del_giorno")
        self._iscritta(seduta_id=seduta_id)

    @event("IscrittaAllOrdineDelGiorno")
    def _iscritta(self, seduta_id: uuid.UUID) -> None:
        self.stato = "iscritta"
        self.seduta_id = seduta_id

    def rinvia(self, seduta_id: uuid.UUID) -> None:
        """The seduta closed without voting it: the proposal can go on another agenda."""
        self._iscritta_in(seduta_id)
        self._rinviata(seduta_id=seduta_id)

    @event("Rinviata")
    def _rinviata(self, seduta_id: uuid.UUID) -> None:
        self.stato = "proposta"
        self.seduta_id = None

    def approva(self, seduta_id: uuid.UUID, numero: int, anno: int, data: date, esito: dict, quorum: dict,
                regola: dict) -> None:
        self._iscritta_in(seduta_id)
        self._approvata(seduta_id=seduta_id, numero=f"{numero}/{anno}", data=data,
                        esito=esito, quorum=quorum, regola=regola)

    @event("Approvata")
    def _approvata(self, seduta_id: uuid.UUID, numero: str, data: date, esito: dict,
                   quorum: dict, regola: dict) -> None:
        self.stato = "approvata"
        self.numero = numero
        self.data = data
        self.esito = esito

    def respingi(self, seduta_id: uuid.UUID, data: date, esito: dict, quorum: dict, regola: dict) -> None:
        self._iscritta_in(seduta_id)
        self._respinta(seduta_id=seduta_id, data=data, esito=esito, quorum=quorum,
                       regola=regola)

    @event("Respinta")
    def _respinta(self, seduta_id: uuid.UUID, data: date, esito: dict, quorum: dict,
                  regola: dict) -> None:
        self.stato = "respinta"
        self.data = data
        self.esito = esito

    def _iscritta_in(self, seduta_id: uuid.UUID) -> None:
        if self.stato == "approvata":
            raise Conflict(f"La deliberazione {self.numero} è approvata e immutabile: si corregge con una "
                           "deliberazione di rettifica.", rule="deliberazione.immutabile")
        if self.stato != "iscritta" or self.seduta_id != seduta_id:
            raise Conflict("La proposta non è all'ordine del giorno di questa seduta.",
                           rule="deliberazione.iscritta")


class RegistroDeliberazioni(TenantAggregate):
    """The Ambito's register of one year: its version sequence makes numbers unique and gapless."""

    @staticmethod
    def create_id(tenant_id: str, anno: int, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "registro-deliberazioni", anno)

    @event("Aperto")
    def __init__(self, tenant_id: str, anno: int) -> None:
        self.tenant_id = tenant_id
        self.anno = anno
        self.numeri: list[uuid.UUID] = []

    def assegna(self, deliberazione_id: uuid.UUID) -> int:
        self._assegnato(numero=len(self.numeri) + 1, deliberazione_id=deliberazione_id)
        return len(self.numeri)

    @event("NumeroAssegnato")
    def _assegnato(self, numero: int, deliberazione_id: uuid.UUID) -> None:
        self.numeri.append(deliberazione_id)
