"""Social-worker staffing of the Ambito per Comune, and the LEPS ratio.

A ``Dotazione`` is the staff of one professional profile in one Comune for one thematic
area: full-time equivalents (FTE) and hours per week devoted to the Piano. It holds no
person: staff are counted, never named. It is declared once and then updated (each update
with its reason).

The LEPS (livello essenziale delle prestazioni sociali, L. 178/2020 art. 1 c. 797) asks for
one assistente sociale (FTE) per 6,500 residents in the Ambito, with a target of one per
5,000: ``leps`` computes both from the Ambito's FTE and residents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.auth import COMUNE_PATTERN
from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

PROFILI = ("assistente_sociale", "educatore", "psicologo", "operatore_socio_sanitario", "mediatore",
           "amministrativo")
AREE = ("minori_famiglie", "disabilita", "anziani", "poverta", "dipendenze", "immigrazione", "salute_mentale",
        "multiutenza", "segretariato_sociale")
#: residents per FTE assistente sociale: the LEPS threshold and the target
LEPS_SOGLIA = 6500
LEPS_OBIETTIVO = 5000
DUE = Decimal("0.01")
#: hours per week of a full-time post (national contract of the Comuni)
ORE_TEMPO_PIENO = Decimal("36")


def quantita(valore: Any, campo: str, massimo: Decimal) -> Decimal:
    """A non-negative decimal (string or int, never a float) with at most two decimals."""
    if isinstance(valore, (float, bool)) or valore is None:
        raise RuleViolation("Si scrive come stringa decimale (es. \"1.50\").", rule="personale.formato", field=campo)
    try:
        d = Decimal(str(valore).strip())
    except InvalidOperation:
        raise RuleViolation(f"Valore non valido: {valore!r}.", rule="personale.formato", field=campo) from None
    if not d.is_finite() or d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise RuleViolation("Al massimo due decimali.", rule="personale.formato", field=campo)
    if d < 0:
        raise RuleViolation("Il valore non può essere negativo.", rule="personale.negativo", field=campo)
    if d > massimo:
        raise RuleViolation(f"Il valore supera {massimo}.", rule="personale.massimo", field=campo)
    return d.quantize(DUE)


@dataclass(frozen=True)
class DatiDotazione:
    comune: str
    profilo: str
    area: str
    fte: Decimal
    ore_settimanali_piano: Decimal


def leggi_dotazione(comune: Any, profilo: Any, area: Any, fte: Any, ore: Any,
                    comuni_ambito: set[str]) -> DatiDotazione:
    if not isinstance(comune, str) or not COMUNE_PATTERN.fullmatch(comune):
        raise RuleViolation("Il Comune si indica con il codice ISTAT di 6 cifre.", rule="personale.comune",
                            field="comune")
    if comune not in comuni_ambito:
        raise RuleViolation(f"Il Comune {comune} non appartiene all'Ambito.", rule="personale.comune_fuori_ambito",
                            field="comune")
    if profilo not in PROFILI:
        raise RuleViolation(f"Profilo sconosciuto (ammessi: {', '.join(PROFILI)}).", rule="personale.profilo",
                            field="profilo")
    if area not in AREE:
        raise RuleViolation(f"Area sconosciuta (ammesse: {', '.join(AREE)}).", rule="personale.area", field="area")
    d_fte = quantita(fte, "fte", Decimal("1000"))
    d_ore = quantita(ore, "ore_settimanali_piano", Decimal("36000"))
    if d_ore > d_fte * ORE_TEMPO_PIENO:
        raise RuleViolation(f"Le ore settimanali sul Piano ({d_ore}) superano quelle di {d_fte} FTE "
                            f"({d_fte * ORE_TEMPO_PIENO}).", rule="personale.ore_oltre_fte",
                            field="ore_settimanali_piano")
    return DatiDotazione(comune, profilo, area, d_fte, d_ore)


@dataclass(frozen=True)
class Leps:
    """The LEPS ratio of an Ambito (or a Comune): see ``leps``."""

    fte: Decimal
    residenti: int
    #: residents per FTE assistente sociale (None without staff)
    residenti_per_assistente: Decimal | None
    #: FTE per 5,000 residents (1.00 = target met)
    fte_per_5000: Decimal | None
    fte_richiesti_soglia: Decimal
    fte_richiesti_obiettivo: Decimal
    soglia_raggiunta: bool
    obiettivo_raggiunto: bool


def leps(fte_assistenti_sociali: Decimal, residenti: int) -> Leps:
    """The LEPS ratio.

    - ``residenti_per_assistente`` = residenti / FTE (two decimals, half up; None when FTE = 0)
    - ``fte_per_5000`` = FTE × 5000 / residenti (two decimals; None when residenti = 0)
    - ``fte_richiesti_soglia`` = residenti / 6500, ``fte_richiesti_obiettivo`` = residenti / 5000
    - ``soglia_raggiunta`` ⇔ FTE × 6500 ≥ residenti; ``obiettivo_raggiunto`` ⇔ FTE × 5000 ≥ residenti
      (compared exactly, without rounding)
    """
    fte = Decimal(fte_assistenti_sociali)
    return Leps(
        fte=fte.quantize(DUE), residenti=residenti,
        residenti_per_assistente=(Decimal(residenti) / fte).quantize(DUE, ROUND_HALF_UP) if fte else None,
        fte_per_5000=(fte * LEPS_OBIETTIVO / residenti).quantize(DUE, ROUND_HALF_UP) if residenti else None,
        fte_richiesti_soglia=(Decimal(residenti) / LEPS_SOGLIA).quantize(DUE, ROUND_HALF_UP),
        fte_richiesti_obiettivo=(Decimal(residenti) / LEPS_OBIETTIVO).quantize(DUE, ROUND_HALF_UP),
        soglia_raggiunta=fte * LEPS_SOGLIA >= residenti,
        obiettivo_raggiunto=fte * LEPS_OBIETTIVO >= residenti)


class Dotazione(TenantAggregate):
    """The staff of one profile in one Comune for one area."""

    @staticmethod
    def create_id(tenant_id: str, comune: str, profilo: str, area: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "dotazione", comune, profilo, area)

    @event("Dichiarata")
    def __init__(self, tenant_id: str, comune: str, profilo: str, area: str, fte: Decimal,
                 ore_settimanali_piano: Decimal, dichiarata_da: str) -> None:
        self.tenant_id = tenant_id
        self.comune, self.profilo, self.area = comune, profilo, area
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano

    @classmethod
    def dichiara(cls, tenant_id: str, dati: DatiDotazione, autore: str) -> "Dotazione":
        return cls(tenant_id=tenant_id, comune=dati.comune, profilo=dati.profilo, area=dati.area, fte=dati.fte,
                   ore_settimanali_piano=dati.ore_settimanali_piano, dichiarata_da=autore)

    def aggiorna(self, dati: DatiDotazione, motivo: str | None, autore: str) -> None:
        if not (motivo or "").strip():
            raise RuleViolation("Un aggiornamento della dotazione indica il motivo.", rule="personale.motivo",
                                field="motivo")
        if (dati.fte, dati.ore_settimanali_piano) == (self.fte, self.ore_settimanali_piano):
            return
        self._aggiornata(fte=dati.fte, ore_settimanali_piano=dati.ore_settimanali_piano,
                         motivo=motivo.strip(), aggiornata_da=autore)  # type: ignore[union-attr]

    @event("Aggiornata")
    def _aggiornata(self, fte: Decimal, ore_settimanali_piano: Decimal, motivo: str,
                    aggiornata_da: str) -> None:
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano
