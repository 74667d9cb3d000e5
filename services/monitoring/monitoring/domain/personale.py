"""Staff of the Ambito (declared per profile, area, contract and employer) and the LEPS of social workers.

A *dotazione* is the staff of one professional profile for one thematic area, with one kind of
contract and one employer: full-time equivalents (FTE) and hours per week devoted to the Piano.
It holds no person: staff are counted, never named. It is declared once and then updated (each
update with its reason). Two aggregates hold it:

- ``Dotazione``: staff of one Comune of the Ambito;
- ``DotazioneAmbito``: staff of the Ambito as a whole, without a Comune (the social workers of the
  Ufficio di Piano, of the associated form or of the delegated ASL that serve every Comune).

The LEPS (``leps``): L. 178/2020 (legge di bilancio 2021), art. 1, comma 797, sets as *livello
essenziale delle prestazioni sociali* one social worker per 5,000 residents **of the Ambito**
(not of a Comune: the ratio is measured on the Ambito territoriale sociale), and a further
objective of one per 4,000. Only social workers hired *a tempo indeterminato* by the Comuni of
the Ambito, in single or associated form, count (``conta_per_leps``), in full-time equivalents;
the Ambito may delegate the service to the ASL, whose social workers then count too (c. 797 as
implemented by the decreto del Ministro del lavoro e delle politiche sociali that distributes the
contribution). The same comma funds the Ambiti from the Fondo Povertà:

- 40,000 € a year for each FTE social worker beyond the ratio 1:6,500 and up to 1:5,000 (lett. a);
- 20,000 € a year for each FTE beyond 1:5,000 and up to 1:4,000 (lett. b).

1:6,500 is therefore not a minimum: it is the threshold from which the State's contribution starts.
Other contracts (fixed-term, agency, self-employed) and other employers are recorded, and shown,
but never counted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.auth import COMUNE_PATTERN
from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

PROFILI = ("assistente_sociale", "educatore", "psicologo", "operatore_socio_sanitario", "mediatore",
           "amministrativo")
AREE = ("minori_famiglie", "disabilita", "anziani", "poverta", "dipendenze", "immigrazione", "salute_mentale",
        "multiutenza", "segretariato_sociale")
#: kinds of contract; only ``tempo_indeterminato`` counts for the LEPS (L. 178/2020 art. 1 c. 797)
CONTRATTI = ("tempo_indeterminato", "tempo_determinato", "somministrazione", "lavoro_autonomo")
#: employers; the first three count for the LEPS: the Comune, the associated form of the Comuni
#: (Unione, consorzio, convenzione with a capofila, azienda speciale consortile), the ASL the Ambito
#: delegated the service to. ``altro_ente`` (e.g. a cooperative under contract) is recorded, not counted.
DATORI = ("comune", "forma_associata", "asl_delegata", "altro_ente")
DATORI_LEPS = ("comune", "forma_associata", "asl_delegata")
#: what a client that does not say it means (every declaration made before contract and employer existed)
CONTRATTO_PREDEFINITO = "tempo_indeterminato"
DATORE_PREDEFINITO = "comune"

#: residents per FTE social worker: where the State's contribution starts, the LEPS, the further objective
SOGLIA_CONTRIBUTO = 6500
LEPS = 5000
OBIETTIVO_ULTERIORE = 4000
#: euro per FTE per year (L. 178/2020 art. 1 c. 797 lett. a and b)
CONTRIBUTO_FASCIA_A = Decimal("40000")
CONTRIBUTO_FASCIA_B = Decimal("20000")
FONTE_LEPS = ("L. 178/2020, art. 1, comma 797: LEPS 1 assistente sociale (a tempo indeterminato, dei Comuni "
              "singoli o associati, in equivalenti a tempo pieno) ogni 5.000 residenti dell'Ambito; contributo "
              "statale di 40.000 € annui per ogni unità oltre il rapporto 1:6.500 e fino a 1:5.000 (lett. a) e di "
              "20.000 € annui per ogni unità oltre 1:5.000 e fino a 1:4.000 (lett. b)")
DUE = Decimal("0.01")
#: hours per week of a full-time post (national contract of the Comuni)
ORE_TEMPO_PIENO = Decimal("36")


def quantita(valore: Any, campo: str, massimo: Decimal) -> Decimal:
    """A non-negative decimal (string or int, never a float) with at most two decimals and a point.

    The API speaks JSON, whose decimal separator is the point: ``"0,5"`` is refused with its own
    rule (``personale.separatore_decimale``) that says to write ``"0.5"`` (the console converts the
    Italian notation a person types before it calls the API).
    """
    if isinstance(valore, (float, bool)) or valore is None:
        raise RuleViolation("Si scrive come stringa decimale (es. \"1.50\").", rule="personale.formato", field=campo)
    testo = str(valore).strip()
    if "," in testo and _decimale(testo.replace(",", ".", 1)) is not None and testo.count(",") == 1:
        raise RuleViolation(f"Il campo {campo} usa la virgola come separatore decimale: scrivere "
                            f"\"{testo.replace(',', '.')}\" (con il punto) invece di \"{testo}\".",
                            rule="personale.separatore_decimale", field=campo)
    d = _decimale(testo)
    if d is None:
        raise RuleViolation(f"Valore non valido: {valore!r}.", rule="personale.formato", field=campo)
    if d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise RuleViolation("Al massimo due decimali.", rule="personale.formato", field=campo)
    if d < 0:
        raise RuleViolation("Il valore non può essere negativo.", rule="personale.negativo", field=campo)
    if d > massimo:
        raise RuleViolation(f"Il valore supera {massimo}.", rule="personale.massimo", field=campo)
    return d.quantize(DUE)


def _decimale(testo: str) -> Decimal | None:
    if not testo.isascii() or "_" in testo:
        return None
    try:
        d = Decimal(testo)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


@dataclass(frozen=True)
class DatiDotazione:
    #: the Comune (ISTAT), or None for staff of the whole Ambito
    comune: str | None
    profilo: str
    area: str
    contratto: str
    datore_lavoro: str
    fte: Decimal
    ore_settimanali_piano: Decimal

    @property
    def conta_per_leps(self) -> bool:
        return conta_per_leps(self.profilo, self.contratto, self.datore_lavoro)


def conta_per_leps(profilo: str, contratto: str, datore_lavoro: str) -> bool:
    """Whether staff count for the LEPS: social workers, a tempo indeterminato, of a Comune (single or
    associated) or of the delegated ASL (L. 178/2020 art. 1 c. 797)."""
    return profilo == "assistente_sociale" and contratto == "tempo_indeterminato" and datore_lavoro in DATORI_LEPS


def leggi_dotazione(comune: Any, profilo: Any, area: Any, fte: Any, ore: Any, comuni_ambito: set[str], *,
                    contratto: Any = CONTRATTO_PREDEFINITO, datore_lavoro: Any = DATORE_PREDEFINITO) -> DatiDotazione:
    """Validate one declaration. ``comune`` None: staff of the whole Ambito."""
    if comune is not None:
        if not isinstance(comune, str) or not COMUNE_PATTERN.fullmatch(comune):
            raise RuleViolation("Il Comune si indica con il codice ISTAT di 6 cifre (o si omette per il personale "
                                "dell'intero Ambito).", rule="personale.comune", field="comune")
        if comune not in comuni_ambito:
            raise RuleViolation(f"Il Comune {comune} non appartiene all'Ambito.",
                                rule="personale.comune_fuori_ambito", field="comune")
    if profilo not in PROFILI:
        raise RuleViolation(f"Profilo sconosciuto (ammessi: {', '.join(PROFILI)}).", rule="personale.profilo",
                            field="profilo")
    if area not in AREE:
        raise RuleViolation(f"Area sconosciuta (ammesse: {', '.join(AREE)}).", rule="personale.area", field="area")
    if contratto not in CONTRATTI:
        raise RuleViolation(f"Contratto sconosciuto (ammessi: {', '.join(CONTRATTI)}).", rule="personale.contratto",
                            field="contratto")
    if datore_lavoro not in DATORI:
        raise RuleViolation(f"Datore di lavoro sconosciuto (ammessi: {', '.join(DATORI)}).",
                            rule="personale.datore_lavoro", field="datore_lavoro")
    d_fte = quantita(fte, "fte", Decimal("1000"))
    d_ore = quantita(ore, "ore_settimanali_piano", Decimal("36000"))
    if d_ore > d_fte * ORE_TEMPO_PIENO:
        raise RuleViolation(f"Le ore settimanali sul Piano ({d_ore}) superano quelle di {d_fte} FTE "
                            f"({d_fte * ORE_TEMPO_PIENO}).", rule="personale.ore_oltre_fte",
                            field="ore_settimanali_piano")
    return DatiDotazione(comune, profilo, area, contratto, datore_lavoro, d_fte, d_ore)


# -- the LEPS of the Ambito ---------------------------------------------------------------------

@dataclass(frozen=True)
class Soglia:
    """One ratio of c. 797: residents per FTE, the FTE it asks of the Ambito, whether it is reached."""

    residenti_per_fte: int
    #: residenti / residenti_per_fte, two decimals half up (the comparison uses the exact value)
    fte_richiesti: Decimal
    raggiunta: bool


@dataclass(frozen=True)
class Contributo:
    """The State's yearly contribution the eligible FTE imply (c. 797 lett. a and b)."""

    #: FTE beyond 1:6,500 and up to 1:5,000, and beyond 1:5,000 and up to 1:4,000 (four decimals, half up)
    fte_fascia_a: Decimal
    fte_fascia_b: Decimal
    #: 40,000 € × fte_fascia_a and 20,000 € × fte_fascia_b, each rounded half up to the cent once
    importo_fascia_a: Decimal
    importo_fascia_b: Decimal
    totale: Decimal


@dataclass(frozen=True)
class Leps:
    """The LEPS ratio of an Ambito: see ``leps``."""

    #: FTE that count (``conta_per_leps``) and FTE of social workers recorded but not counted
    fte: Decimal
    fte_non_conteggiati: Decimal
    residenti: int
    #: residents per eligible FTE (None without staff)
    residenti_per_assistente: Decimal | None
    #: eligible FTE per 5,000 residents (1.00 = LEPS met; None without residents)
    fte_per_5000: Decimal | None
    soglia_contributo: Soglia
    leps: Soglia
    obiettivo_ulteriore: Soglia
    contributo: Contributo


def _soglia(fte: Fraction, residenti: int, rapporto: int) -> Soglia:
    richiesti = Fraction(residenti, rapporto)
    return Soglia(rapporto, _arrotonda(richiesti, DUE), fte >= richiesti)


def _arrotonda(valore: Fraction, passo: Decimal) -> Decimal:
    return (Decimal(valore.numerator) / Decimal(valore.denominator)).quantize(passo, rounding=ROUND_HALF_UP) \
        if valore.denominator != 1 else Decimal(valore.numerator).quantize(passo)


def contributo_statale(fte: Decimal, residenti: int) -> Contributo:
    """L. 178/2020 art. 1 c. 797: the yearly contribution for ``fte`` eligible social workers.

    With R residents and F eligible FTE (exact fractions, no rounding until the amounts):

    - fascia a = max(0, min(F, R/5000) − R/6500) FTE, at 40,000 € each;
    - fascia b = max(0, min(F, R/4000) − R/5000) FTE, at 20,000 € each.

    Each amount is rounded half up to the cent once; the total is their sum. An Ambito below
    1:6,500 gets nothing; FTE beyond 1:4,000 add nothing.
    """
    f, r = Fraction(fte), residenti
    a = max(Fraction(0), min(f, Fraction(r, LEPS)) - Fraction(r, SOGLIA_CONTRIBUTO))
    b = max(Fraction(0), min(f, Fraction(r, OBIETTIVO_ULTERIORE)) - Fraction(r, LEPS))
    importo_a = _arrotonda(a * Fraction(CONTRIBUTO_FASCIA_A), DUE)
    importo_b = _arrotonda(b * Fraction(CONTRIBUTO_FASCIA_B), DUE)
    quattro = Decimal("0.0001")
    return Contributo(_arrotonda(a, quattro), _arrotonda(b, quattro), importo_a, importo_b, importo_a + importo_b)


def leps(fte_idonei: Decimal, residenti: int, fte_non_conteggiati: Decimal = Decimal("0")) -> Leps:
    """The Ambito's LEPS ratio from its eligible FTE (``conta_per_leps``) and its residents.

    - ``residenti_per_assistente`` = residenti / FTE (two decimals, half up; None when FTE = 0)
    - ``fte_per_5000`` = FTE × 5000 / residenti (two decimals; None when residenti = 0)
    - per ratio 1:6,500, 1:5,000, 1:4,000: FTE required = residenti / ratio, reached ⇔ FTE × ratio ≥
      residenti (compared exactly, without rounding)
    - ``contributo``: ``contributo_statale``
    """
    fte = Decimal(fte_idonei)
    f = Fraction(fte)
    return Leps(
        fte=fte.quantize(DUE), fte_non_conteggiati=Decimal(fte_non_conteggiati).quantize(DUE), residenti=residenti,
        residenti_per_assistente=(Decimal(residenti) / fte).quantize(DUE, ROUND_HALF_UP) if fte else None,
        fte_per_5000=(fte * LEPS / residenti).quantize(DUE, ROUND_HALF_UP) if residenti else None,
        soglia_contributo=_soglia(f, residenti, SOGLIA_CONTRIBUTO), leps=_soglia(f, residenti, LEPS),
        obiettivo_ulteriore=_soglia(f, residenti, OBIETTIVO_ULTERIORE),
        contributo=contributo_statale(fte, residenti))


# -- the aggregates ---------------------------------------------------------------------------------

def _chiave(contratto: str, datore_lavoro: str) -> tuple[str, ...]:
    """The part of a declaration's natural key after profile and area. Declarations made before contract
    and employer existed were permanent staff of the Comune: that pair keeps their ids."""
    if (contratto, datore_lavoro) == (CONTRATTO_PREDEFINITO, DATORE_PREDEFINITO):
        return ()
    return (contratto, datore_lavoro)


class _Aggiornabile:
    """What both kinds of declaration do when updated (same figures: nothing recorded)."""

    fte: Decimal
    ore_settimanali_piano: Decimal

    def aggiorna(self, dati: DatiDotazione, motivo: str | None, autore: str) -> None:
        if not (motivo or "").strip():
            raise RuleViolation("Un aggiornamento della dotazione indica il motivo.", rule="personale.motivo",
                                field="motivo")
        if (dati.fte, dati.ore_settimanali_piano) == (self.fte, self.ore_settimanali_piano):
            return
        self._aggiornata(fte=dati.fte, ore_settimanali_piano=dati.ore_settimanali_piano,  # type: ignore[attr-defined]
                         motivo=motivo.strip(), aggiornata_da=autore)  # type: ignore[union-attr]


class Dotazione(_Aggiornabile, TenantAggregate):
    """The staff of one profile in one Comune for one area, with one contract and one employer."""

    @staticmethod
    def create_id(tenant_id: str, comune: str, profilo: str, area: str, contratto: str = CONTRATTO_PREDEFINITO,
                  datore_lavoro: str = DATORE_PREDEFINITO, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "dotazione", comune, profilo, area, *_chiave(contratto, datore_lavoro))

    class Dichiarata(TenantAggregate.Created):
        """v2 adds ``contratto`` and ``datore_lavoro``; a v1 event was a declaration of permanent staff of the
        Comune (what every client declared before the two existed: the LEPS counted it so)."""

        class_version = 2
        comune: str
        profilo: str
        area: str
        contratto: str
        datore_lavoro: str
        fte: Decimal
        ore_settimanali_piano: Decimal
        dichiarata_da: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["contratto"] = CONTRATTO_PREDEFINITO
            state["datore_lavoro"] = DATORE_PREDEFINITO

    @event(Dichiarata)
    def __init__(self, tenant_id: str, comune: str, profilo: str, area: str, contratto: str, datore_lavoro: str,
                 fte: Decimal, ore_settimanali_piano: Decimal, dichiarata_da: str) -> None:
        self.tenant_id = tenant_id
        self.comune, self.profilo, self.area = comune, profilo, area
        self.contratto, self.datore_lavoro = contratto, datore_lavoro
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano

    @event("Aggiornata")
    def _aggiornata(self, fte: Decimal, ore_settimanali_piano: Decimal, motivo: str,
                    aggiornata_da: str) -> None:
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano


class DotazioneAmbito(_Aggiornabile, TenantAggregate):
    """The staff of one profile for one area of the whole Ambito, without a Comune."""

    @staticmethod
    def create_id(tenant_id: str, profilo: str, area: str, contratto: str, datore_lavoro: str,
                  **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "dotazione_ambito", profilo, area, contratto, datore_lavoro)

    @event("Dichiarata")
    def __init__(self, tenant_id: str, profilo: str, area: str, contratto: str, datore_lavoro: str,
                 fte: Decimal, ore_settimanali_piano: Decimal, dichiarata_da: str) -> None:
        self.tenant_id = tenant_id
        self.comune = None
        self.profilo, self.area = profilo, area
        self.contratto, self.datore_lavoro = contratto, datore_lavoro
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano

    @event("Aggiornata")
    def _aggiornata(self, fte: Decimal, ore_settimanali_piano: Decimal, motivo: str,
                    aggiornata_da: str) -> None:
        self.fte, self.ore_settimanali_piano = fte, ore_settimanali_piano


def id_dotazione(tenant_id: str, dati: DatiDotazione) -> uuid.UUID:
    if dati.comune is None:
        return DotazioneAmbito.create_id(tenant_id, dati.profilo, dati.area, dati.contratto, dati.datore_lavoro)
    return Dotazione.create_id(tenant_id, dati.comune, dati.profilo, dati.area, dati.contratto, dati.datore_lavoro)


def dichiara(tenant_id: str, dati: DatiDotazione, autore: str) -> Dotazione | DotazioneAmbito:
    campi = dict(profilo=dati.profilo, area=dati.area, contratto=dati.contratto, datore_lavoro=dati.datore_lavoro,
                 fte=dati.fte, ore_settimanali_piano=dati.ore_settimanali_piano, dichiarata_da=autore)
    if dati.comune is None:
        return DotazioneAmbito(tenant_id=tenant_id, **campi)
    return Dotazione(tenant_id=tenant_id, comune=dati.comune, **campi)
