"""The rendicontazione of an Ambito's funds, computed from its ledger (pure functions, no I/O).

Inputs are what ``finance.projections.lettura`` reads from the read model filled by
``finance.projections.registro`` (itself filled from finance's own integration events):

- ``Assegnato``: one fund's annualità as assigned by its acts (decrees), with its constraints;
- ``Stanziato``: what a budget line (intervento) received from a fund's annualità, with the
  line's nomenclature (for the services quota);
- ``Spesa``: the ledger of one fund annualità × intervento × Comune, added up: commitments
  (gross), their reductions, liquidations and payments;
- ``Riduzione``: each disimpegno or economia with its reason.

Definitions (all amounts ``Decimal`` in euro, never float):

- *impegnato* = impegnato lordo − riduzioni (disimpegni ed economie);
- *residui passivi* = impegnato − pagato (what the Ambito still owes on its commitments);
- *da liquidare* = impegnato − liquidato;
- *disponibile* = assegnato − impegnato (fund level only: a budget line has no assignment,
  it has *stanziato da impegnare* = stanziato − impegnato);
- rates are percentages with two decimals (half-up), ``None`` when the base is zero.

Cumulative figures never decrease without a recorded reason: the ledger has no event that
lowers a liquidation or a payment, and the only event that lowers *impegnato* is a
reduction, which carries its reason (the read model refuses a reduction without one). Each
fund annualità shows *impegnato lordo*, the list of its reductions and *impegnato*, and
``riconcilia_riduzioni`` checks that the difference is exactly the listed reductions.

A commitment without a Comune (spending for the whole Ambito) is reported on the row
"Intero Ambito" (``comune`` None); liquidations and payments follow their commitment's Comune.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Literal, Mapping

from ambiti_kit import values

ZERO = Decimal("0.00")
CENTESIMO = Decimal("0.01")
CENTO = Decimal(100)
INTERO_AMBITO = "Intero Ambito"

#: Fondo Povertà – quota servizi: the fund the 75% condition applies to.
FONDO_POVERTA = "QSFP"
#: Share of annualità N−2 that must be reported before annualità N is released.
SOGLIA_FONDO_POVERTA = Decimal(75)
#: How many annualità back the condition looks ("seconda annualità precedente").
DISTANZA_FONDO_POVERTA = 2
FONTE_FONDO_POVERTA = (
    "D.L. 48/2023, art. 6, comma 11 (erogazione della quota annuale del Fondo Povertà condizionata alla "
    "rendicontazione del 75% della quota della seconda annualità precedente), già prevista dai decreti di "
    "riparto del Fondo Povertà in attuazione del D.Lgs. 147/2017 e del Piano nazionale per gli interventi "
    "e i servizi sociali di contrasto alla povertà")
CRITERIO_RENDICONTATO = "rendicontato = liquidato (somme liquidate su fatture verificate)"

#: Correspondence nomenclatore code -> FNPS macro-livello. Deliberately empty: the grid that
#: maps the interregional nomenclatore to the five macro-livelli is not in the platform's
#: reference data, and guessing it would misstate the services quota. Lines classified by
#: the nomenclatore are reported as "non classificati" (they do not count as services) until
#: the table is filled from the Piano nazionale's annex.
MACRO_LIVELLO_DEL_NOMENCLATORE: dict[str, str] = {}

Stato = Literal["rispettata", "non_rispettata", "non_valutabile"]


# -- inputs --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assegnato:
    fondo: str
    annualita: int
    totale: Decimal
    vincoli: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stanziato:
    """What one budget line received from a fund's annualità (one ledger, or several added up)."""

    fondo: str
    annualita: int
    intervento: str
    importo: Decimal
    #: the line's classification {sistema, codice} from the budget of the plan; None if unknown
    nomenclatura: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Spesa:
    """The spending chain of one fund annualità × intervento × Comune, added up."""

    fondo: str
    annualita: int
    intervento: str
    comune: str | None
    impegnato_lordo: Decimal = ZERO
    ridotto: Decimal = ZERO
    liquidato: Decimal = ZERO
    pagato: Decimal = ZERO


@dataclass(frozen=True)
class Riduzione:
    fondo: str
    annualita: int
    intervento: str
    comune: str | None
    impegno_id: str
    tipo: str  # disimpegno | economia
    importo: Decimal
    motivo: str
    autore: str
    il: datetime


# -- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cifre:
    """The figures of a fund annualità, an intervento or a Comune (assegnato/stanziato where defined)."""

    assegnato: Decimal | None = None
    stanziato: Decimal | None = None
    impegnato_lordo: Decimal = ZERO
    ridotto: Decimal = ZERO
    liquidato: Decimal = ZERO
    pagato: Decimal = ZERO

    @property
    def impegnato(self) -> Decimal:
        return self.impegnato_lordo - self.ridotto

    @property
    def residui_passivi(self) -> Decimal:
        return self.impegnato - self.pagato

    @property
    def da_liquidare(self) -> Decimal:
        return self.impegnato - self.liquidato

    @property
    def disponibile(self) -> Decimal | None:
        return None if self.assegnato is None else self.assegnato - self.impegnato

    @property
    def stanziato_da_impegnare(self) -> Decimal | None:
        return None if self.stanziato is None else self.stanziato - self.impegnato

    def con_spesa(self, s: Spesa) -> "Cifre":
        return replace(self, impegnato_lordo=self.impegnato_lordo + s.impegnato_lordo,
                       ridotto=self.ridotto + s.ridotto, liquidato=self.liquidato + s.liquidato,
                       pagato=self.pagato + s.pagato)


def cifre(spese: Iterable[Spesa], *, assegnato: Decimal | None = None, stanziato: Decimal | None = None) -> Cifre:
    """The sum of ``spese`` with the assigned and allocated amounts of the same scope."""
    out = Cifre(assegnato=assegnato, stanziato=stanziato)
    for s in spese:
        out = out.con_spesa(s)
    return out


def percentuale(parte: Decimal, base: Decimal | None, rounding: str = ROUND_HALF_UP) -> Decimal | None:
    """``parte`` as a percentage of ``base`` with two decimals; None when there is no base."""
    if base is None or base == 0:
        return None
    return (parte * CENTO / base).quantize(CENTESIMO, rounding=rounding)


def tassi(c: Cifre) -> dict[str, Decimal | None]:
    """Execution rates (%): how much of what was assigned / allocated / committed has moved on."""
    return {
        "impegnato_su_assegnato": percentuale(c.impegnato, c.assegnato),
        "impegnato_su_stanziato": percentuale(c.impegnato, c.stanziato),
        "liquidato_su_assegnato": percentuale(c.liquidato, c.assegnato),
        "liquidato_su_impegnato": percentuale(c.liquidato, c.impegnato),
        "pagato_su_impegnato": percentuale(c.pagato, c.impegnato),
    }


# -- conditions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CondizioneFondoPoverta:
    """Whether QSFP annualità ``annualita`` may be released: 75% of annualità N−2 reported.

    The rule: D.L. 48/2023, art. 6, comma 11 makes the payment of each annual quota of the
    Fondo Povertà to the Ambiti conditional on having reported ("rendicontazione") at least
    75% of the quota of the second preceding annualità — a condition the riparto decrees of
    the Fondo Povertà (D.Lgs. 147/2017, Piano nazionale povertà) already set. The law
    checks it "su base regionale" (the Region's Ambiti together) and its start has been
    postponed (D.L. 95/2025, art. 5, c. 7-bis, to 2027); this is the Ambito's own share of
    it, shown so that the Ufficio di Piano sees where it stands.

    Choice made here: *rendicontato* = **liquidato** (what has been liquidated against
    verified invoices). Commitments alone do not count (they may still be reduced);
    payments are not required (a liquidated invoice is reported expenditure even before
    the mandato). The base is the whole annualità N−2 as assigned (``assegnato``).

    ``stato``: ``rispettata`` when liquidato × 100 ≥ assegnato × 75 (exact, no rounding),
    ``non_rispettata`` otherwise, ``non_valutabile`` when no assignment of N−2 is recorded.
    ``mancante`` is what is still to be liquidated, rounded up to the cent.
    """

    annualita: int
    annualita_riferimento: int
    assegnato_riferimento: Decimal | None
    rendicontato_riferimento: Decimal
    soglia_percentuale: Decimal
    soglia_importo: Decimal | None
    percentuale_rendicontata: Decimal | None
    mancante: Decimal | None
    stato: Stato
    motivazione: str
    criterio: str = CRITERIO_RENDICONTATO
    fonte: str = FONTE_FONDO_POVERTA


def condizione_fondo_poverta(annualita: int, assegnato: Mapping[int, Decimal],
                             liquidato: Mapping[int, Decimal]) -> CondizioneFondoPoverta:
    """The Fondo Povertà condition for QSFP ``annualita``, from QSFP's assigned and liquidated per annualità."""
    rif = annualita - DISTANZA_FONDO_POVERTA
    base = assegnato.get(rif)
    fatto = liquidato.get(rif, ZERO)
    if base is None or base <= 0:
        return CondizioneFondoPoverta(
            annualita=annualita, annualita_riferimento=rif, assegnato_riferimento=base,
            rendicontato_riferimento=fatto, soglia_percentuale=SOGLIA_FONDO_POVERTA, soglia_importo=None,
            percentuale_rendicontata=None, mancante=None, stato="non_valutabile",
            motivazione=f"Nessuna assegnazione {FONDO_POVERTA} {rif} registrata: la condizione non è valutabile.")
    soglia = base * SOGLIA_FONDO_POVERTA / CENTO
    ok = fatto * CENTO >= base * SOGLIA_FONDO_POVERTA
    mancante = ZERO if ok else (soglia - fatto).quantize(CENTESIMO, rounding=ROUND_CEILING)
    pct = percentuale(fatto, base, ROUND_DOWN)
    return CondizioneFondoPoverta(
        annualita=annualita, annualita_riferimento=rif, assegnato_riferimento=base, rendicontato_riferimento=fatto,
        soglia_percentuale=SOGLIA_FONDO_POVERTA, soglia_importo=soglia.quantize(CENTESIMO, rounding=ROUND_CEILING),
        percentuale_rendicontata=pct, mancante=mancante, stato="rispettata" if ok else "non_rispettata",
        motivazione=(f"Liquidato il {pct}% dell'annualità {rif}: soglia del {SOGLIA_FONDO_POVERTA}% "
                     + ("raggiunta." if ok else f"non raggiunta, mancano {mancante} €.")))


def macro_livello(nomenclatura: Mapping[str, str] | None) -> str | None:
    """The FNPS macro-livello (1–5) of a budget line's classification, if it can be told."""
    if not nomenclatura:
        return None
    if nomenclatura.get("sistema") == "fnps_macrolivello":
        return str(nomenclatura.get("codice"))
    if nomenclatura.get("sistema") == "nomenclatore":
        return MACRO_LIVELLO_DEL_NOMENCLATORE.get(str(nomenclatura.get("codice")))
    return None


@dataclass(frozen=True)
class QuotaServizi:
    """The minimum services share of an assignment (``vincoli.quota_servizi_percentuale``).

    Base: the annualità's *stanziato* (what has been allocated to the Piano's budget lines).
    Services: the part of it on lines whose nomenclature's FNPS macro-livello is among
    ``vincoli.macro_livelli_servizi``. Lines whose macro-livello cannot be told are counted
    as not services and shown as ``non_classificato``. ``rispettata`` when
    servizi × 100 ≥ base × quota (exact); the shown percentage is rounded down, so it never
    reads as met when it is not.
    """

    quota_minima_percentuale: Decimal
    macro_livelli: tuple[str, ...]
    base_stanziato: Decimal
    stanziato_servizi: Decimal
    stanziato_non_classificato: Decimal
    quota_percentuale: Decimal | None
    minimo_richiesto: Decimal
    mancante: Decimal
    stato: Stato
    motivazione: str


def quota_servizi(vincoli: Mapping[str, Any], stanziati: Iterable[Stanziato]) -> QuotaServizi | None:
    """The services quota of one fund annualità (None when its assignment sets none)."""
    quota = vincoli.get("quota_servizi_percentuale")
    if quota is None:
        return None
    quota = Decimal(str(quota))
    livelli = tuple(sorted(str(x) for x in vincoli.get("macro_livelli_servizi") or ()))
    base = servizi = non_classificato = ZERO
    for s in stanziati:
        base += s.importo
        livello = macro_livello(s.nomenclatura)
        if livello is None:
            non_classificato += s.importo
        elif livello in livelli:
            servizi += s.importo
    minimo = (base * quota / CENTO).quantize(CENTESIMO, rounding=ROUND_CEILING)
    if base == 0:
        return QuotaServizi(quota, livelli, base, servizi, non_classificato, None, minimo, ZERO, "non_valutabile",
                            "Nulla è ancora stanziato sulle linee del Piano: la quota non è valutabile.")
    ok = servizi * CENTO >= base * quota
    mancante = ZERO if ok else max(ZERO, (base * quota / CENTO - servizi).quantize(CENTESIMO, rounding=ROUND_CEILING))
    pct = percentuale(servizi, base, ROUND_DOWN)
    livelli_testo = ", ".join(livelli)
    testo = (f"Stanziato sui macro-livelli {livelli_testo}: {pct}% contro un minimo del {quota}%"
             + ("." if ok else f"; mancano {mancante} €."))
    if non_classificato:
        testo += f" Linee non classificate per macro-livello: {non_classificato} €."
    stato = "rispettata" if ok else "non_rispettata"
    if not ok and (servizi + non_classificato) * CENTO >= base * quota:
        # the unclassified lines could make up the difference: nothing can be said either way
        stato = "non_valutabile"
        testo += " Classificarle per macro-livello FNPS per valutare la quota."
    return QuotaServizi(quota, livelli, base, servizi, non_classificato, pct, minimo, mancante, stato, testo)


# -- reconciliation of reductions ------------------------------------------------------------

@dataclass(frozen=True)
class RiconciliazioneRiduzioni:
    impegnato_lordo: Decimal
    riduzioni: Decimal
    impegnato: Decimal
    riduzioni_elencate: int
    senza_motivo: int
    coerente: bool


def riconcilia_riduzioni(c: Cifre, riduzioni: Iterable[Riduzione]) -> RiconciliazioneRiduzioni:
    """Check that impegnato lordo − impegnato is exactly the listed reductions, each with its reason."""
    elenco = list(riduzioni)
    totale = sum((r.importo for r in elenco), ZERO)
    senza = sum(1 for r in elenco if not (r.motivo or "").strip())
    return RiconciliazioneRiduzioni(impegnato_lordo=c.impegnato_lordo, riduzioni=totale, impegnato=c.impegnato,
                                    riduzioni_elencate=len(elenco), senza_motivo=senza,
                                    coerente=totale == c.ridotto and senza == 0)


# -- the report --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoceComune:
    comune: str | None
    cifre: Cifre

    @property
    def denominazione(self) -> str:
        return INTERO_AMBITO if self.comune is None else self.comune


@dataclass(frozen=True)
class VoceIntervento:
    intervento: str
    nomenclatura: Mapping[str, str] | None
    macro_livello: str | None
    cifre: Cifre
    comuni: tuple[VoceComune, ...]


@dataclass(frozen=True)
class VoceFondo:
    fondo: str
    annualita: int
    vincoli: Mapping[str, Any]
    cifre: Cifre
    tassi: dict[str, Decimal | None]
    interventi: tuple[VoceIntervento, ...]
    comuni: tuple[VoceComune, ...]
    riduzioni: tuple[Riduzione, ...]
    riconciliazione: RiconciliazioneRiduzioni
    quota_servizi: QuotaServizi | None
    condizione_fondo_poverta: CondizioneFondoPoverta | None


@dataclass(frozen=True)
class Rendiconto:
    ambito: str
    generato_il: datetime | None
    fondo: str | None
    annualita: int | None
    voci: tuple[VoceFondo, ...]

    @property
    def totali(self) -> Cifre:
        """All fund annualità together (different funds added up: for a glance, not for a report)."""
        tutte = [v.cifre for v in self.voci]
        return Cifre(assegnato=sum((c.assegnato or ZERO for c in tutte), ZERO),
                     stanziato=sum((c.stanziato or ZERO for c in tutte), ZERO),
                     impegnato_lordo=sum((c.impegnato_lordo for c in tutte), ZERO),
                     ridotto=sum((c.ridotto for c in tutte), ZERO),
                     liquidato=sum((c.liquidato for c in tutte), ZERO),
                     pagato=sum((c.pagato for c in tutte), ZERO))


def _per_comune(spese: Iterable[Spesa]) -> tuple[VoceComune, ...]:
    gruppi: dict[str | None, list[Spesa]] = defaultdict(list)
    for s in spese:
        gruppi[s.comune].append(s)
    # Comuni by ISTAT code, then the row of the whole Ambito.
    ordine = sorted(gruppi, key=lambda c: (c is None, c or ""))
    return tuple(VoceComune(c, cifre(gruppi[c])) for c in ordine)


def rendiconto(ambito: str, assegnazioni: Iterable[Assegnato], stanziati: Iterable[Stanziato],
               spese: Iterable[Spesa], riduzioni: Iterable[Riduzione], *, fondo: str | None = None,
               annualita: int | None = None, generato_il: datetime | None = None) -> Rendiconto:
    """The rendicontazione per fund and annualità (optionally one fund and/or one annualità).

    Every fund annualità that has an assignment, an allocation or a movement gets a
    ``VoceFondo``. The Fondo Povertà condition of a QSFP annualità looks at annualità N−2,
    so the inputs should not be filtered by annualità beforehand (the filters apply here).
    """
    per_assegnazione = {(a.fondo, a.annualita): a for a in assegnazioni}
    stanziati_per: dict[tuple[str, int], list[Stanziato]] = defaultdict(list)
    spese_per: dict[tuple[str, int], list[Spesa]] = defaultdict(list)
    riduzioni_per: dict[tuple[str, int], list[Riduzione]] = defaultdict(list)
    for s in stanziati:
        stanziati_per[(s.fondo, s.annualita)].append(s)
    for sp in spese:
        spese_per[(sp.fondo, sp.annualita)].append(sp)
    for r in riduzioni:
        riduzioni_per[(r.fondo, r.annualita)].append(r)
    qsfp_assegnato = {a.annualita: a.totale for a in per_assegnazione.values() if a.fondo == FONDO_POVERTA}
    qsfp_liquidato = {anno: cifre(righe).liquidato for (f, anno), righe in spese_per.items() if f == FONDO_POVERTA}

    voci = []
    for f, anno in sorted({*per_assegnazione, *stanziati_per, *spese_per}):
        if (fondo is not None and f != fondo) or (annualita is not None and anno != annualita):
            continue
        a = per_assegnazione.get((f, anno))
        miei_stanziati, mie_spese = stanziati_per.get((f, anno), []), spese_per.get((f, anno), [])
        mie_riduzioni = tuple(sorted(riduzioni_per.get((f, anno), []), key=lambda r: (r.il, r.impegno_id)))
        totale = cifre(mie_spese, assegnato=a.totale if a else ZERO,
                       stanziato=sum((s.importo for s in miei_stanziati), ZERO))

        linee_per: dict[str, list[Stanziato]] = defaultdict(list)
        spese_iv_per: dict[str, list[Spesa]] = defaultdict(list)
        for s in miei_stanziati:
            linee_per[s.intervento].append(s)
        for sp in mie_spese:
            spese_iv_per[sp.intervento].append(sp)
        interventi = []
        for codice in sorted({*linee_per, *spese_iv_per}):
            linee, spese_iv = linee_per.get(codice, []), spese_iv_per.get(codice, [])
            nomenclatura = next((s.nomenclatura for s in linee if s.nomenclatura), None)
            interventi.append(VoceIntervento(
                intervento=codice, nomenclatura=nomenclatura, macro_livello=macro_livello(nomenclatura),
                cifre=cifre(spese_iv, stanziato=sum((s.importo for s in linee), ZERO)),
                comuni=_per_comune(spese_iv)))

        vincoli = dict(a.vincoli) if a else {}
        voci.append(VoceFondo(
            fondo=f, annualita=anno, vincoli=vincoli, cifre=totale, tassi=tassi(totale),
            interventi=tuple(interventi), comuni=_per_comune(mie_spese), riduzioni=mie_riduzioni,
            riconciliazione=riconcilia_riduzioni(totale, mie_riduzioni),
            quota_servizi=quota_servizi(vincoli, miei_stanziati),
            condizione_fondo_poverta=(condizione_fondo_poverta(anno, qsfp_assegnato, qsfp_liquidato)
                                      if f == FONDO_POVERTA else None)))
    return Rendiconto(ambito=ambito, generato_il=generato_il, fondo=fondo, annualita=annualita, voci=tuple(voci))


# -- wire form -----------------------------------------------------------------------------------

def euro(d: Decimal | None) -> str | None:
    """An amount on the wire (the kit's ``euro``); a figure that does not apply (None) stays None."""
    return None if d is None else values.euro(d)


def _pct(d: Decimal | None) -> str | None:
    """A percentage on the wire: a string with two decimals."""
    return None if d is None else str(d.quantize(CENTESIMO))


def cifre_come_dict(c: Cifre) -> dict[str, str | None]:
    return {"assegnato": euro(c.assegnato), "stanziato": euro(c.stanziato), "impegnato_lordo": euro(c.impegnato_lordo),
            "riduzioni": euro(c.ridotto), "impegnato": euro(c.impegnato), "liquidato": euro(c.liquidato),
            "pagato": euro(c.pagato), "residui_passivi": euro(c.residui_passivi), "da_liquidare": euro(c.da_liquidare),
            "disponibile": euro(c.disponibile), "stanziato_da_impegnare": euro(c.stanziato_da_impegnare)}


def _comune_come_dict(v: VoceComune) -> dict[str, Any]:
    return {"comune": v.comune, "denominazione": v.denominazione, "cifre": cifre_come_dict(v.cifre)}


def come_dict(r: Rendiconto) -> dict[str, Any]:
    """The JSON form of a rendicontazione: amounts and percentages as decimal strings."""
    def voce(v: VoceFondo) -> dict[str, Any]:
        q, cfp = v.quota_servizi, v.condizione_fondo_poverta
        return {
            "fondo": v.fondo, "annualita": v.annualita, "vincoli": dict(v.vincoli),
            "cifre": cifre_come_dict(v.cifre), "tassi": {k: _pct(x) for k, x in v.tassi.items()},
            "interventi": [{"intervento": i.intervento, "nomenclatura": dict(i.nomenclatura) if i.nomenclatura else None,
                            "macro_livello": i.macro_livello, "cifre": cifre_come_dict(i.cifre),
                            "tassi": {k: _pct(x) for k, x in tassi(i.cifre).items()},
                            "comuni": [_comune_come_dict(c) for c in i.comuni]} for i in v.interventi],
            "comuni": [_comune_come_dict(c) for c in v.comuni],
            "riduzioni": [{"il": x.il.isoformat(), "intervento": x.intervento, "comune": x.comune,
                           "impegno_id": x.impegno_id, "tipo": x.tipo, "importo": euro(x.importo),
                           "motivo": x.motivo, "autore": x.autore} for x in v.riduzioni],
            "riconciliazione": {"impegnato_lordo": euro(v.riconciliazione.impegnato_lordo),
                                "riduzioni": euro(v.riconciliazione.riduzioni),
                                "impegnato": euro(v.riconciliazione.impegnato),
                                "riduzioni_elencate": v.riconciliazione.riduzioni_elencate,
                                "senza_motivo": v.riconciliazione.senza_motivo,
                                "coerente": v.riconciliazione.coerente},
            "quota_servizi": None if q is None else {
                "quota_minima_percentuale": _pct(q.quota_minima_percentuale), "macro_livelli": list(q.macro_livelli),
                "base_stanziato": euro(q.base_stanziato), "stanziato_servizi": euro(q.stanziato_servizi),
                "stanziato_non_classificato": euro(q.stanziato_non_classificato),
                "quota_percentuale": _pct(q.quota_percentuale), "minimo_richiesto": euro(q.minimo_richiesto),
                "mancante": euro(q.mancante), "stato": q.stato, "motivazione": q.motivazione},
            "condizione_fondo_poverta": None if cfp is None else {
                "annualita": cfp.annualita, "annualita_riferimento": cfp.annualita_riferimento,
                "assegnato_riferimento": euro(cfp.assegnato_riferimento),
                "rendicontato_riferimento": euro(cfp.rendicontato_riferimento),
                "soglia_percentuale": _pct(cfp.soglia_percentuale), "soglia_importo": euro(cfp.soglia_importo),
                "percentuale_rendicontata": _pct(cfp.percentuale_rendicontata), "mancante": euro(cfp.mancante),
                "stato": cfp.stato, "motivazione": cfp.motivazione, "criterio": cfp.criterio, "fonte": cfp.fonte},
        }

    return {"ambito": r.ambito, "generato_il": r.generato_il.isoformat() if r.generato_il else None,
            "filtri": {"fondo": r.fondo, "annualita": r.annualita},
            "totali": cifre_come_dict(r.totali), "voci": [voce(v) for v in r.voci]}
