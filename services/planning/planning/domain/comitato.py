"""The Comitato Istituzionale of an Ambito: its members and its regolamento's decision rules.

Members are one per Comune, weighted by the Comune's population at the reference date of
the Ambito's composition, plus advisory members (ASL, Provincia) with a configured weight
(usually 0). Each seduta copies the composition and the rule in force when it is
convened, so a later change never alters how a past vote is read.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

from planning.domain.regole_voto import Componente, Regola

CODICE_CONSULTIVO = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")


def componenti_da_ambito(comuni: list[dict], consultivi: list[dict]) -> list[dict]:
    """One member per Comune (weight = population) and the advisory members, checked."""
    membri = [{"id": c["istat"], "nome": c["nome"], "peso": c["popolazione"], "consultivo": False} for c in comuni]
    for i, c in enumerate(consultivi):
        if not CODICE_CONSULTIVO.match(c["id"]):
            raise RuleViolation("Il codice di un componente consultivo è in maiuscolo (es. ASL, PROVINCIA).",
                                rule="comitato.codice_consultivo", field=f"consultivi.{i}.id")
        if c["peso"] < 0:
            raise RuleViolation("Il peso non è negativo.", rule="comitato.peso", field=f"consultivi.{i}.peso")
        membri.append({"id": c["id"], "nome": c["nome"], "peso": c["peso"], "consultivo": True})
    ids = [m["id"] for m in membri]
    if len(set(ids)) != len(ids):
        raise RuleViolation("Ogni componente compare una volta.", rule="comitato.componenti_unici", field="consultivi")
    return membri


def verifica_regola(regola: dict) -> Regola:
    """Turn the stored form into a ``Regola``; a bad rule is the caller's 422."""
    try:
        r = Regola.da_dict(regola)
    except (ValueError, KeyError, ZeroDivisionError) as exc:
        raise RuleViolation(f"Regola di voto non valida: {exc}.", rule="comitato.regola", field="regola") from None
    for soglia in [r.maggioranza, *(s for q in r.quorum.values() for s in (q.pesi, q.membri) if s)]:
        if not Fraction(0) < soglia.frazione <= 1 or (soglia.stretta and soglia.frazione == 1):
            raise RuleViolation("Una soglia è una frazione tra 0 (escluso) e 1, raggiungibile.",
                                rule="comitato.soglia", field="regola")
    if r.maggioranza.frazione < Fraction(1, 2):
        raise RuleViolation("La maggioranza non può essere inferiore alla metà.", rule="comitato.maggioranza",
                            field="regola.maggioranza")
    return r


class Comitato(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "comitato-istituzionale")

    @event("Costituito")
    def __init__(self, tenant_id: str, popolazione_al: date, componenti: list[dict], regola: dict,
                 configurato_da: str) -> None:
        self.tenant_id = tenant_id
        self._applica(popolazione_al, componenti, regola)

    @classmethod
    def costituisci(cls, tenant_id: str, popolazione_al: date, componenti: list[dict], regola: dict,
                    autore: str) -> "Comitato":
        verifica_regola(regola)
        return cls(tenant_id=tenant_id, popolazione_al=popolazione_al, componenti=componenti, regola=regola,
                   configurato_da=autore)

    def riconfigura(self, popolazione_al: date, componenti: list[dict], regola: dict, autore: str) -> bool:
        """Record a new composition or rule; False when nothing changed."""
        verifica_regola(regola)
        if (popolazione_al, componenti, regola) == (self.popolazione_al, self.componenti, self.regola):
            return False
        self._riconfigurato(popolazione_al=popolazione_al, componenti=componenti,
                            regola=regola, configurato_da=autore)
        return True

    @event("Riconfigurato")
    def _riconfigurato(self, popolazione_al: date, componenti: list[dict], regola: dict,
                       configurato_da: str) -> None:
        self._applica(popolazione_al, componenti, regola)

    def _applica(self, popolazione_al: date, componenti: list[dict], regola: dict) -> None:
        self.popolazione_al = popolazione_al
        self.componenti = [dict(c) for c in componenti]
        self.regola = dict(regola)


def pesi_percentuali(componenti: list[dict]) -> dict[str, str]:
    """Each member's share of the total weight, as a percentage with 4 decimals (for display)."""
    totale = sum(c["peso"] for c in componenti)
    return {c["id"]: str((Decimal(100 * c["peso"]) / Decimal(totale or 1)).quantize(Decimal("0.0001")))
            for c in componenti}


def come_componenti(componenti: list[dict]) -> list[Componente]:
    return [Componente(c["id"], c["peso"], c["consultivo"]) for c in componenti]
