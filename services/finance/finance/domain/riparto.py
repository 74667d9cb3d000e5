"""The riparto engine: split a total among recipients by weighted criteria, to the cent.

Pure code: no I/O, no clock, exact arithmetic. Shares are ``Fraction``; money is ``Decimal`` euro
with two decimals; a float is refused wherever a number comes in.

How a riparto is computed (``esegui``):

1. **Exact shares.** For every recipient ``i`` and criterion ``k`` (indicator ``k`` with weight
   ``peso_k``, the weights summing to exactly 1):
   ``quota_i = Σ_k peso_k × indicatore_ik / Σ_j indicatore_jk``. The shares sum to exactly 1.
2. **Declared rounding** (``Arrotondamento``), giving each recipient's *base* amount in cents:

   - ``quote_arrotondate`` (a): the published percentage ``quota_i × 100`` is rounded first to
     ``decimali_percentuale`` decimals (ROUND_HALF_UP), then ``percentuale / 100 × totale`` is
     rounded to the cent (ROUND_HALF_UP). The parts need not add up to the total: the difference
     is reported as ``residuo``, exactly.
   - ``resto_maggiore`` (b): the exact amounts ``quota_i × totale`` are floored to the cent and
     the cents still missing go one each to the largest remainders (ties: smaller ``id`` first),
     so the parts add up to the total exactly.

3. **Optional floor** (``Minimo``): every recipient receives at least ``importo``.

   - ``integrazione``: a recipient whose base amount is below the floor is topped up to it; the
     top-ups are funded on top of the total (distributed = totale + Σ integrazioni).
   - ``prelievo``: the total does not change. Recipients below the floor are pinned at it and the
     difference is taken from all the others in proportion to their shares; if that pushes
     someone else below the floor, they are pinned too and the step is repeated (at most one
     round per recipient: the set of pinned recipients only grows). Under (b) the exact amounts
     are ``max(minimo, λ × quota_i × totale)`` for the one λ that makes them add up to the total,
     then rounded to the cent by largest remainder; under (a) the same step works on the base
     amounts of step 2 and each result is rounded to the cent. Impossible when
     ``minimo × destinatari > totale`` (``riparto.minimo_irraggiungibile``).

   Each recipient's ``integrazione`` / ``prelievo`` is the increase / decrease of its final amount
   with respect to its base amount (at most one of the two is non-zero; under ``prelievo`` their
   totals are equal). Under (b) with ``prelievo`` the base and the final amounts are two separate
   largest-remainder roundings, so in rare cases a recipient above the floor ends one cent above
   its base amount: that cent is shown, truthfully, as its ``integrazione``.

The published percentage (``percentuale``) is always the one of the share before floors, rounded
as declared. ``Risultato.come_dict()`` gives the inputs, the method and the result in a JSON-safe
form (every number a string), so that the riparto can be stored as an event and re-run
(``Risultato.da_dict(...).riesegui()``) to the same result.

Reference data (one row per recipient, one column per indicator) is read from CSV by
``leggi_dati_riferimento``, which reports every bad cell with its row and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from ambiti_kit import values
from ambiti_kit.errors import RuleViolation

METODI = ("quote_arrotondate", "resto_maggiore")
MODALITA = ("integrazione", "prelievo")
VERSIONE = 1
CENTESIMO = Decimal("0.01")
MAX_DECIMALI_PERCENTUALE = 10


# ---------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Destinatario:
    """A recipient (a Comune by ISTAT code, an Ambito, a Region) and its indicator values."""

    id: str
    indicatori: Mapping[str, Decimal]


@dataclass(frozen=True)
class Criterio:
    """One criterion: the share of the total split by ``indicatore`` (``peso`` in (0, 1])."""

    indicatore: str
    peso: Fraction


@dataclass(frozen=True)
class Minimo:
    """A floor for every recipient, funded by ``integrazione`` (on top) or ``prelievo`` (from the others)."""

    importo: Decimal
    modalita: str


@dataclass(frozen=True)
class Arrotondamento:
    """The declared rounding: ``quote_arrotondate`` (a) or ``resto_maggiore`` (b)."""

    metodo: str
    decimali_percentuale: int = 2


# ---------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Assegnazione:
    """What one recipient gets, and why."""

    id: str
    #: exact share of the total, before floors (the shares sum to 1)
    quota: Fraction
    #: the percentage as published: ``quota × 100`` rounded to the declared decimals
    percentuale: str
    #: the amount from the declared rounding, before floors
    importo_base: Decimal
    #: increase from the floor (0.00 if none)
    integrazione: Decimal
    #: decrease to fund the others' floors (0.00 if none)
    prelievo: Decimal
    #: the amount assigned: importo_base + integrazione − prelievo
    importo: Decimal

    def come_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "quota": str(self.quota),
            "percentuale": self.percentuale,
            "importo_base": values.euro(self.importo_base),
            "integrazione": values.euro(self.integrazione),
            "prelievo": values.euro(self.prelievo),
            "importo": values.euro(self.importo),
        }


@dataclass(frozen=True)
class Risultato:
    """A riparto: its inputs, its method and its result."""

    totale: Decimal
    destinatari: tuple[Destinatario, ...]
    criteri: tuple[Criterio, ...]
    arrotondamento: Arrotondamento
    minimo: Minimo | None
    assegnazioni: tuple[Assegnazione, ...]
    #: totale, plus the top-ups under ``integrazione``
    totale_da_ripartire: Decimal
    #: Σ importo
    totale_ripartito: Decimal
    totale_integrazioni: Decimal
    totale_prelievi: Decimal
    #: totale_da_ripartire − totale_ripartito: always 0.00 under (b), exact under (a)
    residuo: Decimal
    _per_id: dict[str, Assegnazione] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_per_id", {a.id: a for a in self.assegnazioni})

    def assegnazione(self, id: str) -> Assegnazione:
        return self._per_id[id]

    def importi(self) -> dict[str, Decimal]:
        return {a.id: a.importo for a in self.assegnazioni}

    def parametri(self) -> dict[str, Any]:
        """The keyword arguments of ``esegui`` that produced this result."""
        return {"totale": self.totale, "destinatari": self.destinatari, "criteri": self.criteri,
                "arrotondamento": self.arrotondamento, "minimo": self.minimo}

    def riesegui(self) -> "Risultato":
        """Run the engine again on the stored inputs (equal to ``self`` if nothing was altered)."""
        return esegui(**self.parametri())

    def come_dict(self) -> dict[str, Any]:
        """JSON-safe form (numbers as strings): inputs, method and result."""
        return {
            "versione": VERSIONE,
            "input": parametri_come_dict(**self.parametri()),
            "risultato": {
                "assegnazioni": [a.come_dict() for a in self.assegnazioni],
                "totali": {
                    "da_ripartire": values.euro(self.totale_da_ripartire),
                    "ripartito": values.euro(self.totale_ripartito),
                    "integrazioni": values.euro(self.totale_integrazioni),
                    "prelievi": values.euro(self.totale_prelievi),
                    "residuo": values.euro(self.residuo),
                },
            },
        }

    def avvisi(self) -> list[dict[str, str]]:
        """What a person must see before storing (or reading) this riparto, each with its amount:
        a residual left undistributed, a distributed sum above the total, top-ups and levies for the
        minimum, recipients who get nothing. Derived from the result; never stored with it."""
        avvisi: list[dict[str, str]] = []

        def avviso(regola: str, messaggio: str, importo: Decimal | None = None) -> None:
            avvisi.append({"regola": regola, "messaggio": messaggio,
                           **({"importo": values.euro(importo)} if importo is not None else {})})

        if self.residuo > 0:
            avviso("riparto.residuo", "Resta un residuo non ripartito: va dichiarato nell'atto o ripartito "
                   "con un altro metodo di arrotondamento.", self.residuo)
        elif self.residuo < 0:
            avviso("riparto.eccedenza", "La somma ripartita supera il totale: aumentare i decimali della "
                   "percentuale o usare il metodo del resto maggiore.", -self.residuo)
        if self.totale_da_ripartire > self.totale:
            avviso("riparto.integrazioni", "Per garantire il minimo il totale da ripartire cresce delle "
                   "integrazioni.", self.totale_da_ripartire - self.totale)
        if self.totale_prelievi > 0:
            avviso("riparto.prelievi", "Il minimo è finanziato prelevando dagli altri destinatari.",
                   self.totale_prelievi)
        zero = [a.id for a in self.assegnazioni if a.importo == 0]
        if zero:
            avviso("riparto.destinatari_a_zero", f"{len(zero)} destinatari non ricevono nulla: "
                   + ", ".join(zero[:10]) + ("…" if len(zero) > 10 else "") + ".")
        return avvisi

    @classmethod
    def da_dict(cls, d: Mapping[str, Any]) -> "Risultato":
        """Read back a stored riparto (the output of ``come_dict``) without re-computing it."""
        try:
            if d["versione"] != VERSIONE:
                raise ValueError(f"versione {d['versione']!r} non supportata")
            p = parametri_da_dict(d["input"])
            ris = d["risultato"]
            tot = ris["totali"]
            return cls(
                totale=Decimal(p["totale"]),
                destinatari=tuple(Destinatario(x.id, {k: Decimal(v) for k, v in x.indicatori.items()})
                                  for x in p["destinatari"]),
                criteri=tuple(Criterio(c.indicatore, Fraction(c.peso)) for c in p["criteri"]),
                arrotondamento=p["arrotondamento"],
                minimo=(Minimo(Decimal(p["minimo"].importo), p["minimo"].modalita) if p["minimo"] else None),
                assegnazioni=tuple(
                    Assegnazione(id=str(a["id"]), quota=Fraction(a["quota"]), percentuale=str(a["percentuale"]),
                                 importo_base=Decimal(a["importo_base"]), integrazione=Decimal(a["integrazione"]),
                                 prelievo=Decimal(a["prelievo"]), importo=Decimal(a["importo"]))
                    for a in ris["assegnazioni"]),
                totale_da_ripartire=Decimal(tot["da_ripartire"]),
                totale_ripartito=Decimal(tot["ripartito"]),
                totale_integrazioni=Decimal(tot["integrazioni"]),
                totale_prelievi=Decimal(tot["prelievi"]),
                residuo=Decimal(tot["residuo"]),
            )
        except RuleViolation:
            raise
        except (KeyError, TypeError, ValueError, InvalidOperation, ZeroDivisionError) as exc:
            raise RuleViolation(f"Riparto registrato non leggibile: {exc}.", rule="riparto.formato",
                                field="riparto") from None


# ---------------------------------------------------------------------------------- engine


def esegui(
    totale: Decimal,
    destinatari: Sequence[Destinatario],
    criteri: Sequence[Criterio],
    arrotondamento: Arrotondamento,
    minimo: Minimo | None = None,
) -> Risultato:
    """Run a riparto (see the module docstring). Bad input raises ``RuleViolation`` naming rule and field."""
    totale = values.importo(totale, "totale")
    arr = _valida_arrotondamento(arrotondamento)
    crit = _valida_criteri(criteri)
    dest = _valida_destinatari(destinatari, crit)
    mn = _valida_minimo(minimo)
    n = len(dest)
    if mn is not None and mn.modalita == "prelievo" and mn.importo * n > totale:
        raise RuleViolation(
            f"Minimo irraggiungibile: {n} destinatari × {values.euro(mn.importo)} € = "
            f"{values.euro(mn.importo * n)} € "
            f"supera il totale di {values.euro(totale)} €; con «prelievo» il minimo è pagato dal totale stesso.",
            rule="riparto.minimo_irraggiungibile", field="minimo.importo")

    quote = _quote(dest, crit)
    T = Fraction(totale)
    ids = [d.id for d in dest]
    percentuali = {i: _arrotonda(quote[i] * 100, arr.decimali_percentuale) for i in ids}

    # step 2: base amounts, in integer cents
    if arr.metodo == "quote_arrotondate":
        base = {i: _centesimi(Fraction(percentuali[i]) / 100 * T) for i in ids}
    else:
        base = _resto_maggiore({i: quote[i] * T for i in ids}, _in_centesimi(totale))

    # step 3: floors
    finale = dict(base)
    da_ripartire = totale
    if mn is not None:
        m = _in_centesimi(mn.importo)
        if mn.modalita == "integrazione":
            finale = {i: max(base[i], m) for i in ids}
            da_ripartire = totale + _da_centesimi(sum(finale.values()) - sum(base.values()))
        elif arr.metodo == "resto_maggiore":
            esatti = _preleva({i: quote[i] * T * 100 for i in ids}, quote, Fraction(m))
            finale = _resto_maggiore({i: v / 100 for i, v in esatti.items()}, _in_centesimi(totale))
        else:
            somma_base = sum(base.values())
            if m * n > somma_base:
                raise RuleViolation(
                    f"Minimo irraggiungibile: con le percentuali arrotondate la somma delle quote è "
                    f"{values.euro(_da_centesimi(somma_base))} €, meno di {n} × {values.euro(mn.importo)} €.",
                    rule="riparto.minimo_irraggiungibile", field="minimo.importo")
            esatti = _preleva({i: Fraction(base[i]) for i in ids}, quote, Fraction(m))
            finale = {i: _arrotonda_intero(v) for i, v in esatti.items()}

    assegnazioni = tuple(
        Assegnazione(
            id=i, quota=quote[i], percentuale=format(percentuali[i], "f"),
            importo_base=_da_centesimi(base[i]),
            integrazione=_da_centesimi(max(0, finale[i] - base[i])),
            prelievo=_da_centesimi(max(0, base[i] - finale[i])),
            importo=_da_centesimi(finale[i]))
        for i in ids)
    ripartito = _da_centesimi(sum(finale.values()))
    return Risultato(
        totale=totale, destinatari=dest, criteri=crit, arrotondamento=arr, minimo=mn,
        assegnazioni=assegnazioni,
        totale_da_ripartire=da_ripartire,
        totale_ripartito=ripartito,
        totale_integrazioni=_da_centesimi(sum(max(0, finale[i] - base[i]) for i in ids)),
        totale_prelievi=_da_centesimi(sum(max(0, base[i] - finale[i]) for i in ids)),
        residuo=(da_ripartire - ripartito).quantize(CENTESIMO),
    )


def _quote(dest: Sequence[Destinatario], crit: Sequence[Criterio]) -> dict[str, Fraction]:
    somme = {c.indicatore: sum((Fraction(d.indicatori[c.indicatore]) for d in dest), Fraction(0)) for c in crit}
    return {d.id: sum((c.peso * Fraction(d.indicatori[c.indicatore]) / somme[c.indicatore] for c in crit),
                      Fraction(0))
            for d in dest}


def _resto_maggiore(esatti: Mapping[str, Fraction], totale_centesimi: int) -> dict[str, int]:
    """Largest remainder: floor each exact amount (euro) to the cent, give the missing cents one each
    to the largest remainders, ties to the smaller id. ``esatti`` must add up to the total."""
    centesimi = {i: v * 100 for i, v in esatti.items()}
    parti = {i: math.floor(v) for i, v in centesimi.items()}
    mancanti = totale_centesimi - sum(parti.values())
    assert 0 <= mancanti <= len(parti), "le parti esatte non sommano al totale"
    ordine = sorted(parti, key=lambda i: (-(centesimi[i] - parti[i]), i))
    for i in ordine[:mancanti]:
        parti[i] += 1
    return parti


def _preleva(valori: Mapping[str, Fraction], quote: Mapping[str, Fraction], minimo: Fraction) -> dict[str, Fraction]:
    """Pin those below ``minimo`` at it and take the difference from the others in proportion to
    their shares, repeating while someone falls below. Values in cents; their sum is preserved.
    Terminates in at most ``len(valori)`` rounds (the pinned set only grows); the caller has
    checked that ``minimo × n ≤ Σ valori``, so at least one recipient always stays above it."""
    fissati = {i for i, v in valori.items() if v < minimo}
    risultato = dict(valori)
    while fissati:
        liberi = [i for i in valori if i not in fissati]
        deficit = sum((minimo - valori[i] for i in fissati), Fraction(0))
        quota_liberi = sum((quote[i] for i in liberi), Fraction(0))
        risultato = {i: minimo for i in fissati}
        risultato.update({i: valori[i] - deficit * quote[i] / quota_liberi for i in liberi})
        nuovi = {i for i in liberi if risultato[i] < minimo}
        if not nuovi:
            break
        fissati |= nuovi
    return risultato


# ---------------------------------------------------------------------------------- validation


def _valida_arrotondamento(arr: Arrotondamento) -> Arrotondamento:
    if not isinstance(arr, Arrotondamento):
        raise RuleViolation("Indicare il metodo di arrotondamento dichiarato dall'atto.",
                            rule="riparto.metodo_arrotondamento", field="arrotondamento")
    if arr.metodo not in METODI:
        raise RuleViolation(f"Metodo di arrotondamento sconosciuto {arr.metodo!r}: uno tra {', '.join(METODI)}.",
                            rule="riparto.metodo_arrotondamento", field="arrotondamento.metodo")
    dec = arr.decimali_percentuale
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= MAX_DECIMALI_PERCENTUALE:
        raise RuleViolation(f"I decimali della percentuale sono un intero tra 0 e {MAX_DECIMALI_PERCENTUALE}.",
                            rule="riparto.decimali_percentuale", field="arrotondamento.decimali_percentuale")
    return arr


def _valida_criteri(criteri: Sequence[Criterio]) -> tuple[Criterio, ...]:
    if not criteri:
        raise RuleViolation("Indicare almeno un criterio di riparto.", rule="riparto.criteri_presenti",
                            field="criteri")
    visti: set[str] = set()
    risultato = []
    for k, c in enumerate(criteri):
        if not isinstance(c, Criterio):
            raise RuleViolation("Criterio non valido.", rule="riparto.formato", field=f"criteri.{k}")
        if not isinstance(c.indicatore, str) or not c.indicatore.strip():
            raise RuleViolation("Il criterio deve nominare un indicatore.", rule="riparto.criterio_indicatore",
                                field=f"criteri.{k}.indicatore")
        if c.indicatore in visti:
            raise RuleViolation(f"L'indicatore «{c.indicatore}» compare in più criteri: sommarne i pesi.",
                                rule="riparto.criteri_unici", field=f"criteri.{k}.indicatore")
        visti.add(c.indicatore)
        peso = _frazione(c.peso, f"criteri.{k}.peso")
        if not 0 < peso <= 1:
            raise RuleViolation(f"Il peso del criterio «{c.indicatore}» deve essere maggiore di 0 e al più 1.",
                                rule="riparto.peso_positivo", field=f"criteri.{k}.peso")
        risultato.append(Criterio(c.indicatore, peso))
    somma = sum((c.peso for c in risultato), Fraction(0))
    if somma != 1:
        raise RuleViolation(
            f"I pesi dei criteri devono sommare esattamente a 1 (100%): sommano a {somma} "
            f"(≈ {_arrotonda(somma * 100, 4):f}%).", rule="riparto.pesi_somma_uno", field="criteri")
    return tuple(risultato)


def _valida_destinatari(destinatari: Sequence[Destinatario], crit: Sequence[Criterio]) -> tuple[Destinatario, ...]:
    if not destinatari:
        raise RuleViolation("Indicare almeno un destinatario.", rule="riparto.destinatari_presenti",
                            field="destinatari")
    visti: dict[str, int] = {}
    risultato = []
    for i, d in enumerate(destinatari):
        if not isinstance(d, Destinatario):
            raise RuleViolation("Destinatario non valido.", rule="riparto.formato", field=f"destinatari.{i}")
        if not isinstance(d.id, str) or not d.id.strip():
            raise RuleViolation("Ogni destinatario ha un identificativo (es. codice ISTAT).",
                                rule="riparto.destinatario_id", field=f"destinatari.{i}.id")
        if d.id in visti:
            raise RuleViolation(f"Il destinatario «{d.id}» compare due volte (posizioni {visti[d.id]} e {i}).",
                                rule="riparto.destinatari_unici", field=f"destinatari.{i}.id")
        visti[d.id] = i
        if not isinstance(d.indicatori, Mapping):
            raise RuleViolation("Gli indicatori sono una mappa nome → valore.", rule="riparto.formato",
                                field=f"destinatari.{i}.indicatori")
        for c in crit:
            if c.indicatore not in d.indicatori:
                raise RuleViolation(f"Manca l'indicatore «{c.indicatore}» per il destinatario «{d.id}».",
                                    rule="riparto.indicatore_mancante",
                                    field=f"destinatari.{i}.indicatori.{c.indicatore}")
        indicatori = {str(nome): _indicatore(v, f"destinatari.{i}.indicatori.{nome}", d.id, str(nome))
                      for nome, v in d.indicatori.items()}
        risultato.append(Destinatario(d.id, indicatori))
    for k, c in enumerate(crit):
        if all(d.indicatori[c.indicatore] == 0 for d in risultato):
            raise RuleViolation(
                f"L'indicatore «{c.indicatore}» vale zero per tutti i destinatari: il criterio non può ripartire.",
                rule="riparto.totale_indicatore_zero", field=f"criteri.{k}.indicatore")
    return tuple(risultato)


def _valida_minimo(minimo: Minimo | None) -> Minimo | None:
    if minimo is None:
        return None
    if not isinstance(minimo, Minimo):
        raise RuleViolation("Minimo non valido.", rule="riparto.formato", field="minimo")
    if minimo.modalita not in MODALITA:
        raise RuleViolation(f"Modalità del minimo sconosciuta {minimo.modalita!r}: «integrazione» (a carico di "
                            f"risorse aggiuntive) o «prelievo» (dagli altri destinatari).",
                            rule="riparto.modalita_minimo", field="minimo.modalita")
    importo = values.importo(minimo.importo, "minimo.importo")
    return Minimo(importo, minimo.modalita)


def _numero(valore: object, field: str, regola: str, cosa: str) -> Decimal:
    if isinstance(valore, (float, bool)):
        raise RuleViolation(f"{cosa}: i numeri si scrivono come stringhe decimali (es. \"1250.00\") o Decimal, "
                            f"mai in virgola mobile.", rule=regola, field=field)
    if isinstance(valore, (Decimal, int)):
        d = Decimal(valore)
    elif isinstance(valore, str):
        try:
            d = Decimal(valore.strip())
        except InvalidOperation:
            raise RuleViolation(f"{cosa}: {valore!r} non è un numero.", rule=regola, field=field) from None
    else:
        raise RuleViolation(f"{cosa}: {valore!r} non è un numero.", rule=regola, field=field)
    if not d.is_finite():
        raise RuleViolation(f"{cosa}: {valore!r} non è un numero finito.", rule=regola, field=field)
    if d and not (-12 <= d.adjusted() <= 15) or len(d.as_tuple().digits) > 30:
        # exact arithmetic on numbers this size would run for minutes: no real indicator looks like this
        raise RuleViolation(f"{cosa}: {valore!r} è fuori scala (al più 16 cifre intere e 12 decimali).",
                            rule="riparto.numero_fuori_scala", field=field)
    return d + 0  # no negative zero


def _indicatore(valore: object, field: str, id: str, nome: str) -> Decimal:
    d = _numero(valore, field, "riparto.indicatore_non_valido", f"Indicatore «{nome}» di «{id}»")
    if d < 0:
        raise RuleViolation(f"L'indicatore «{nome}» di «{id}» è negativo ({valore}).",
                            rule="riparto.indicatore_negativo", field=field)
    return d


def _frazione(valore: object, field: str) -> Fraction:
    if isinstance(valore, (float, bool)):
        raise RuleViolation("Il peso si scrive come frazione o decimale esatto (es. \"0.6\" o \"3/5\"), "
                            "mai in virgola mobile.", rule="riparto.peso_non_valido", field=field)
    try:
        if isinstance(valore, str):
            if not _PESO.match(valore.strip()):
                raise ValueError
            peso = Fraction(valore.strip())
        elif isinstance(valore, (Fraction, int, Decimal)):
            if isinstance(valore, Decimal) and not valore.is_finite():
                raise ValueError
            peso = Fraction(valore)
        else:
            raise ValueError
        if peso.numerator > 10**9 or peso.denominator > 10**9:
            raise ValueError
        return peso
    except (ValueError, ZeroDivisionError):
        pass
    raise RuleViolation(f"Peso non valido: {valore!r} (es. \"0.6\" o \"3/5\").", rule="riparto.peso_non_valido",
                        field=field)


# ---------------------------------------------------------------------------------- JSON-safe form


def parametri_come_dict(totale: Decimal, destinatari: Sequence[Destinatario], criteri: Sequence[Criterio],
                        arrotondamento: Arrotondamento, minimo: Minimo | None = None) -> dict[str, Any]:
    """The inputs of a riparto, JSON-safe (numbers as strings, weights as exact fractions "n/d")."""
    return {
        "totale": values.euro(Decimal(totale)),
        "destinatari": [{"id": d.id, "indicatori": {k: format(Decimal(v), "f") for k, v in d.indicatori.items()}}
                        for d in destinatari],
        "criteri": [{"indicatore": c.indicatore, "peso": str(Fraction(c.peso))} for c in criteri],
        "arrotondamento": {"metodo": arrotondamento.metodo,
                           "decimali_percentuale": arrotondamento.decimali_percentuale},
        "minimo": ({"importo": values.euro(Decimal(minimo.importo)), "modalita": minimo.modalita}
                   if minimo is not None else None),
    }


def parametri_da_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``esegui`` from their JSON-safe form (a request body or a stored event).

    Only the shape is checked here (rule ``riparto.formato``); the values are validated by ``esegui``,
    with the same field names (``destinatari.3.indicatori.popolazione``, ``criteri.1.peso``, ...)."""
    def richiesto(m: Any, chiave: str, percorso: str) -> Any:
        if not isinstance(m, Mapping) or chiave not in m:
            raise RuleViolation(f"Manca «{chiave}».", rule="riparto.formato",
                                field=f"{percorso}.{chiave}" if percorso else chiave)
        return m[chiave]

    def lista(v: Any, percorso: str) -> list:
        if not isinstance(v, list):
            raise RuleViolation("Atteso un elenco.", rule="riparto.formato", field=percorso)
        return v

    destinatari = []
    for i, x in enumerate(lista(richiesto(d, "destinatari", ""), "destinatari")):
        indicatori = richiesto(x, "indicatori", f"destinatari.{i}")
        if not isinstance(indicatori, Mapping):
            raise RuleViolation("Gli indicatori sono un oggetto nome → valore.", rule="riparto.formato",
                                field=f"destinatari.{i}.indicatori")
        destinatari.append(Destinatario(richiesto(x, "id", f"destinatari.{i}"), dict(indicatori)))
    criteri = [Criterio(richiesto(c, "indicatore", f"criteri.{k}"), richiesto(c, "peso", f"criteri.{k}"))
               for k, c in enumerate(lista(richiesto(d, "criteri", ""), "criteri"))]
    arr = richiesto(d, "arrotondamento", "")
    arrotondamento = Arrotondamento(richiesto(arr, "metodo", "arrotondamento"),
                                    arr.get("decimali_percentuale", 2))
    m = d.get("minimo")
    minimo = (Minimo(richiesto(m, "importo", "minimo"), richiesto(m, "modalita", "minimo"))
              if m is not None else None)
    return {"totale": richiesto(d, "totale", ""), "destinatari": destinatari, "criteri": criteri,
            "arrotondamento": arrotondamento, "minimo": minimo}


def esegui_da_dict(d: Mapping[str, Any]) -> Risultato:
    """``esegui`` on JSON-safe inputs (the ``input`` member of ``come_dict``, or a request body)."""
    return esegui(**parametri_da_dict(d))


# ---------------------------------------------------------------------------------- reference data (CSV)


@dataclass(frozen=True)
class ErroreDati:
    """One bad cell (or row, or header) of a reference-data CSV. ``riga`` counts the header as 1."""

    riga: int
    colonna: str | None
    regola: str
    messaggio: str

    def come_dict(self) -> dict[str, Any]:
        return {"riga": self.riga, "colonna": self.colonna, "regola": self.regola, "messaggio": self.messaggio}

    def __str__(self) -> str:
        dove = f"riga {self.riga}" + (f", colonna «{self.colonna}»" if self.colonna else "")
        return f"{dove}: {self.messaggio} [{self.regola}]"


_NUMERO = re.compile(r"^[0-9]{1,16}(\.[0-9]{1,12})?$")
_NEGATIVO = re.compile(r"^-[0-9]+(\.[0-9]+)?$")
#: a weight: a fraction of two integers, or a short decimal
_PESO = re.compile(r"^([0-9]{1,9}/[0-9]{1,9}|[0-9]{1,9}(\.[0-9]{1,9})?)$")


def leggi_dati_riferimento(testo_csv: str, indicatori_richiesti: Iterable[str] = ()
                           ) -> tuple[list[Destinatario], list[ErroreDati]]:
    """Parse reference data: a header ``<id>,<indicatore1>,<indicatore2>,...`` (the first column is the
    recipient's identifier, e.g. ``istat``) and one row per recipient with non-negative decimal values
    (a dot as decimal separator, no thousands separator). The delimiter is ``,`` or, if the header has
    no comma, ``;``. Blank lines are skipped.

    Returns ``(righe, errori)``: every error found (with row number, the header being row 1, and
    column), not only the first; rows with an error are left out of ``righe``, so the data is usable
    only when ``errori`` is empty."""
    errori: list[ErroreDati] = []
    testo = testo_csv.lstrip("\ufeff")
    if not testo.strip():
        return [], [ErroreDati(1, None, "dati.vuoto", "Il file è vuoto: attesa un'intestazione "
                                                      "id,<indicatore>,... e una riga per destinatario.")]
    prima = next((r for r in testo.splitlines() if r.strip()), "")
    delimitatore = ";" if "," not in prima and ";" in prima else ","
    lettore = csv.reader(io.StringIO(testo), delimiter=delimitatore)
    numerate = ((n, r) for n, r in enumerate(lettore, start=1) if any(c.strip() for c in r))
    try:
        riga_int, intestazione = next(numerate)
    except StopIteration:  # pragma: no cover - the text is not blank, so there is a non-blank row
        return [], [ErroreDati(1, None, "dati.vuoto", "Il file è vuoto.")]
    except csv.Error as exc:
        return [], [ErroreDati(1, None, "dati.formato", f"CSV non leggibile: {exc}.")]
    colonne = [c.strip() for c in intestazione]
    if len(colonne) < 2:
        errori.append(ErroreDati(riga_int, None, "dati.colonne_richieste",
                                 "L'intestazione ha almeno due colonne: l'identificativo e un indicatore."))
    for j, c in enumerate(colonne):
        if not c:
            errori.append(ErroreDati(riga_int, f"#{j + 1}", "dati.intestazione_vuota",
                                     f"La colonna {j + 1} dell'intestazione non ha nome."))
        elif c in colonne[:j]:
            errori.append(ErroreDati(riga_int, c, "dati.colonne_duplicate", f"La colonna «{c}» compare due volte."))
    if errori:
        return [], errori
    for nome in indicatori_richiesti:  # the rows can still be checked: report them too
        if nome not in colonne[1:]:
            errori.append(ErroreDati(riga_int, nome, "dati.colonna_mancante",
                                     f"Manca la colonna «{nome}», richiesta dai criteri di riparto."))

    righe: list[Destinatario] = []
    prima_riga_id: dict[str, int] = {}
    try:
        for n, valori in numerate:
            errori_riga: list[ErroreDati] = []
            if len(valori) != len(colonne):
                errori.append(ErroreDati(n, None, "dati.numero_colonne",
                                         f"La riga ha {len(valori)} valori, l'intestazione {len(colonne)} colonne."))
                continue
            celle = [v.strip() for v in valori]
            id_ = celle[0]
            if not id_:
                errori_riga.append(ErroreDati(n, colonne[0], "dati.valore_vuoto", "Manca l'identificativo."))
            elif id_ in prima_riga_id:
                errori_riga.append(ErroreDati(n, colonne[0], "dati.id_duplicato",
                                              f"L'identificativo «{id_}» è già alla riga {prima_riga_id[id_]}."))
            else:
                prima_riga_id[id_] = n
            indicatori: dict[str, Decimal] = {}
            for nome, cella in zip(colonne[1:], celle[1:]):
                if not cella:
                    errori_riga.append(ErroreDati(n, nome, "dati.valore_vuoto", "Valore mancante."))
                elif _NEGATIVO.match(cella):
                    errori_riga.append(ErroreDati(n, nome, "dati.valore_negativo",
                                                  f"Il valore {cella} è negativo: gli indicatori sono ≥ 0."))
                elif not _NUMERO.match(cella):
                    errori_riga.append(ErroreDati(
                        n, nome, "dati.numero_non_valido",
                        f"«{cella}» non è un numero: cifre, con il punto come separatore decimale e "
                        f"senza separatori delle migliaia (es. 12345 o 2.41)."))
                else:
                    indicatori[nome] = Decimal(cella)
            if errori_riga:
                errori.extend(errori_riga)
            else:
                righe.append(Destinatario(id_, indicatori))
    except csv.Error as exc:
        errori.append(ErroreDati(lettore.line_num, None, "dati.formato", f"CSV non leggibile: {exc}."))
    if not righe and not errori:
        errori.append(ErroreDati(riga_int, None, "dati.vuoto", "Nessuna riga di dati dopo l'intestazione."))
    return righe, errori


# ---------------------------------------------------------------------------------- exact rounding


def _arrotonda(x: Fraction, decimali: int) -> Decimal:
    """``x`` rounded to ``decimali`` decimals, ROUND_HALF_UP (halves away from zero), exactly."""
    scalato = abs(x) * 10 ** decimali
    intero = math.floor(scalato + Fraction(1, 2))
    return Decimal(-intero if x < 0 else intero).scaleb(-decimali)


def _arrotonda_intero(x: Fraction) -> int:
    """A non-negative amount in cents rounded half up to a whole cent."""
    return math.floor(x + Fraction(1, 2))


def _centesimi(euro: Fraction) -> int:
    """An amount in euro rounded half up to whole cents."""
    return _arrotonda_intero(euro * 100)


def _in_centesimi(d: Decimal) -> int:
    return int(d.quantize(CENTESIMO).scaleb(2))


def _da_centesimi(c: int) -> Decimal:
    return Decimal(c).scaleb(-2)
