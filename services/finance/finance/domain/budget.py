"""The budget of one Piano di Zona: the lines funds are allocated to.

The budget opens (empty) when planning drafts the plan; each version of the plan that the
Comitato approves brings its lines (intervento × fund × year × planned amount). Funds are
allocated to the lines of the version in force; a line never receives more than planned.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from eventsourcing.domain import event

from ambiti_kit import values
from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import ZERO, euro, positivo



#: an intervento's optional classification (planning's versione_approvata), kept on each of its lines when given
CLASSIFICAZIONE = ("area_utenza", "disabilita_gravissima", "servizio_qsfp", "investimento")


def chiave_linea(intervento: str, fondo: str, anno: int) -> str:
    return f"{intervento}|{fondo}|{anno}"


class Budget(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, piano_id: uuid.UUID, **_: object) -> uuid.UUID:
        """One budget per plan: derived from the plan's id within the tenant."""
        return tenant_uuid(tenant_id, "budget", piano_id)

    @event("Aperto")
    def __init__(self, tenant_id: str, piano_id: uuid.UUID, anno_inizio: int, anno_fine: int) -> None:
        self.tenant_id = tenant_id
        self.piano_id = piano_id
        self.anno_inizio = anno_inizio
        self.anno_fine = anno_fine
        self.righe: list[dict] = []
        self.versione: int | None = None
        self.deliberazione: str | None = None
        self.allocato: dict[str, Decimal] = {}

    def recepisci(self, versione: int, deliberazione: str, interventi: list[dict]) -> bool:
        """Take the lines of an approved version; False if that version (or a later one) is already in.

        Each line keeps its intervento's classification (``CLASSIFICAZIONE``) only when the Piano gives it:
        lines recorded before it existed simply lack those keys, and readers take a missing key as "not
        classified" (the event's fields are unchanged, so no upcast is needed)."""
        if self.versione is not None and versione <= self.versione:
            return False
        righe = [{"intervento": iv["codice"], "titolo": iv["titolo"], "nomenclatura": iv["nomenclatura"],
                  "comuni": list(iv["comuni"]), "fondo": linea["fondo"], "anno": linea["anno"],
                  "importo": values.importo(linea["importo"], "linee_budget.importo"),
                  **{campo: iv[campo] for campo in CLASSIFICAZIONE if iv.get(campo) is not None}}
                 for iv in interventi for linea in iv["linee_budget"]]
        self._recepita(versione=versione, deliberazione=deliberazione, righe=righe)
        return True

    @event("VersioneRecepita")
    def _recepita(self, versione: int, deliberazione: str, righe: list[dict]) -> None:
        self.versione = versione
        self.deliberazione = deliberazione
        self.righe = [dict(r) for r in righe]

    def riga(self, intervento: str, fondo: str, anno: int) -> dict:
        for r in self.righe:
            if (r["intervento"], r["fondo"], r["anno"]) == (intervento, fondo, anno):
                return r
        raise RuleViolation(f"Il Piano vigente non ha una linea {intervento} / {fondo} / {anno}.",
                            rule="budget.linea_esistente", field="intervento")

    def alloca(self, intervento: str, fondo: str, anno: int, stanziamento_id: uuid.UUID, importo: Decimal,
               autore: str) -> None:
        positivo(importo)
        riga = self.riga(intervento, fondo, anno)
        chiave = chiave_linea(intervento, fondo, anno)
        gia = self.allocato.get(chiave, ZERO)
        if gia + importo > riga["importo"]:
            raise RuleViolation(f"La linea {intervento} / {fondo} / {anno} prevede {euro(riga['importo'])} €, già "
                                f"allocati {euro(gia)} €: non c'è capienza per {euro(importo)} €.",
                                rule="budget.capienza_linea", field="importo")
        self._allocato(intervento=intervento, fondo=fondo, anno=anno,
                       stanziamento_id=stanziamento_id, importo=importo, allocato_da=autore)

    @event("Allocato")
    def _allocato(self, intervento: str, fondo: str, anno: int, stanziamento_id: uuid.UUID,
                  importo: Decimal, allocato_da: str) -> None:
        chiave = chiave_linea(intervento, fondo, anno)
        self.allocato[chiave] = self.allocato.get(chiave, ZERO) + importo

    def quadro(self) -> list[dict]:
        """Each line with planned, allocated and still allocatable amounts (they reconcile)."""
        out = []
        for r in self.righe:
            allocato = self.allocato.get(chiave_linea(r["intervento"], r["fondo"], r["anno"]), ZERO)
            # a later version of the Piano may plan less than was already allocated: shown, never negative
            out.append({**r, "importo": euro(r["importo"]), "allocato": euro(allocato),
                        "da_allocare": euro(max(r["importo"] - allocato, ZERO)),
                        "eccedenza": euro(max(allocato - r["importo"], ZERO))})
        return out
