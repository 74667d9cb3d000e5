"""The riparto engine: split a total among recipients by quotas of weighted criteria, to the cent.

Pure code: no I/O, no clock, exact arithmetic. Shares are ``Fraction``; money is ``Decimal`` euro
with two decimals; a float is refused wherever a number comes in.

A riparto as real acts make it (``esegui``):

1. **Quotas.** The total is split into one or more *quote* (e.g. 80% by resident population and
   20% by an income-gap indicator, or 60% by beneficiary households and 40% by resident population,
   as regional acts of riparto among Ambiti do; see ``shared/DOMAIN.md``, "Riparto"). Each quota ``q``
   has a weight ``peso_q`` (the weights sum to exactly 1), its own criteria and its own declared
   rounding. The quotas' amounts ``A_q`` are ``peso_q × totale`` rounded to the cent by largest
   remainder, so they add up to the total exactly (one quota: ``A = totale``).
2. **Exact shares within a quota.** For recipient ``i``:
   ``s_iq = Σ_k peso_k × indicatore_ik / Σ_j indicatore_jk`` over the quota's criteria (their
   weights sum to 1); ``Σ_i s_iq = 1``. The recipient's overall share is ``Σ_q peso_q × s_iq``.
3. **Declared rounding, per quota** (``Arrotondamento``), giving each recipient's part in cents:

   - ``per_importo``: each exact amount ``s_iq × A_q`` is rounded directly to the cent (half up).
     The parts need not add up to ``A_q``: the difference is the quota's residual, declared and
     shown (the method most acts use: "importi arrotondati al centesimo").
   - ``quote_arrotondate``: the published percentage ``s_iq × 100`` is rounded first to
     ``decimali_percentuale`` decimals (half up), then ``percentuale / 100 × A_q`` to the cent.
     **Precision**: each amount can differ from the exact one by up to
     ``A_q × 0.5 × 10^-(decimali+2)`` + ½ cent (``scarto_massimo`` in the result): with
     2 decimals on € 400 million that is € 20,000 per recipient. To be exact to the cent the
     percentage needs about ``log10(A_q)`` decimals (``decimali_per_il_centesimo``).
   - ``resto_maggiore``: the exact amounts are floored to the cent and the missing cents go one
     each to the largest remainders (ties: the smaller ``id``), so the
     parts add up to ``A_q`` exactly.

   **Never above the total.** A quota whose rounded parts add up to more than ``A_q`` is refused
   (``riparto.eccedenza``) unless its declared rounding says ``eccedenza_ammessa`` (an act that
   publishes rounded percentages summing to more than 100% and pays them anyway).
4. **Floor and ceiling on the recipient's total across quotas** (``Minimo``, ``Massimo``). The
   bounds apply to ``importo_base = Σ_q part_iq``, never to one quota alone (a recipient below the
   floor in one quota but above it in total gets nothing more). How they are financed is declared:

   - floor ``integrazione``: raised to the floor with resources on top of the total
     (``da_ripartire = totale + Σ integrazioni``);
   - floor ``prelievo``: the total does not change; the difference is taken from the others;
   - ceiling ``economia``: cut to the ceiling; what is cut stays undistributed (in the residual);
   - ceiling ``redistribuzione``: cut to the ceiling and given to the others.

   The bounds financed from the pot (``prelievo``, ``redistribuzione``) are solved together: the
   amounts are ``clamp(v_i + μ × quota_i, minimo, massimo)`` for the one μ that keeps their sum,
   where ``v_i`` is the base amount (with one ``resto_maggiore`` quota and no ceiling: the exact
   amount, so that ``v_i + μ × quota_i = λ × quota_i × totale``: the classic "water filling"), and
   ``quota_i`` the exact overall share; then they are rounded to the cent by largest remainder to
   the same sum. A floor ``integrazione`` is applied last, a ceiling ``economia`` first.
   Impossible when ``destinatari × minimo`` exceeds what is split (``riparto.minimo_irraggiungibile``)
   or ``destinatari × massimo`` is below it (``riparto.massimo_irraggiungibile``).

Each recipient's ``integrazione`` / ``prelievo`` is the increase / decrease of its final amount
with respect to its base amount. ``Risultato.come_dict()`` gives the inputs, the method and the
result in a JSON-safe form (every number a string), so that the riparto can be stored as an event
and re-run (``Risultato.da_dict(...).riesegui()``) to the same result; a riparto stored in the
first form (``versione`` 1: one quota, methods ``quote_arrotondate`` / ``resto_maggiore``) is
still read.

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

METODI = ("per_importo", "quote_arrotondate", "resto_maggiore")
#: the methods of the first stored form (``finance.riparto.eseguito`` v1)
METODI_V1 = ("quote_arrotondate", "resto_maggiore")
MODALITA = ("integrazione", "prelievo")
MODALITA_MASSIMO = ("economia", "redistribuzione")
VERSIONE = 2
CENTESIMO = Decimal("0.01")
MAX_DECIMALI_PERCENTUALE = 10
MAX_QUOTE = 10
#: the name of the one quota of a riparto given as criteri + arrotondamento
QUOTA_UNICA = "unica"
_NOME_QUOTA = re.compile(r"[a-z0-9_]{1,40}")


# ---------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Destinatario:
    """A recipient (a Comune by ISTAT code, an Ambito, a Region) and its indicator values."""

    id: str
    indicatori: Mapping[str, Decimal]


@dataclass(frozen=True)
class Criterio:
    """One criterion: the share of its quota split by ``indicatore`` (``peso`` in (0, 1])."""

    indicatore: str
    peso: Fraction


@dataclass(frozen=True)
class Minimo:
    """A floor on every recipient's total, funded by ``integrazione`` (on top) or ``prelievo`` (from the others)."""

    importo: Decimal
    modalita: str


@dataclass(frozen=True)
class Massimo:
    """A ceiling on every recipient's total: the excess is an ``economia`` or a ``redistribuzione`` to the others."""

    importo: Decimal
    modalita: str


@dataclass(frozen=True)
class Arrotondamento:
    """The declared rounding of a quota: ``per_importo``, ``quote_arrotondate`` or ``resto_maggiore``;
    ``eccedenza_ammessa``: the act accepts parts adding up to more than the quota."""

    metodo: str
    decimali_percentuale: int = 2
    eccedenza_ammessa: bool = False


@dataclass(frozen=True)
class Quota:
    """One quota of the total (``peso`` of it), split by its own criteria with its own rounding."""

    nome: str
    peso: Fraction
    criteri: tuple[Criterio, ...]
    arrotondamento: Arrotondamento


# ---------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Parte:
    """One recipient's part of one quota."""

    quota: str
    #: exact share of the quota (the shares of a quota sum to 1)
    frazione: Fraction
    #: ``frazione × 100`` rounded to the quota's declared decimals
    percentuale: str
    importo: Decimal

    def come_dict(self) -> dict[str, str]:
        return {"quota": self.quota, "frazione": str(self.frazione), "percentuale": self.percentuale,
                "importo": values.euro(self.importo)}


@dataclass(frozen=True)
class Assegnazione:
    """What one recipient gets, and why."""

    id: str
    #: exact overall share of the total, before floors and ceilings (the shares sum to 1)
    quota: Fraction
    #: the overall percentage: ``quota × 100`` rounded to the (largest) declared decimals
    percentuale: str
    #: Σ of the recipient's parts, before floors and ceilings
    importo_base: Decimal
    #: increase from the floor (or from a redistribution), 0.00 if none
    integrazione: Decimal
    #: decrease to fund the others' floors (or cut by the ceiling), 0.00 if none
    prelievo: Decimal
    #: the amount assigned: importo_base + integrazione − prelievo
    importo: Decimal
    parti: tuple[Parte, ...] = ()

    def come_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "quota": str(self.quota),
            "percentuale": self.percentuale,
            "importo_base": values.euro(self.importo_base),
            "integrazione": values.euro(self.integrazione),
            "prelievo": values.euro(self.prelievo),
            "importo": values.euro(self.importo),
            "parti": [p.come_dict() for p in self.parti],
        }


@dataclass(frozen=True)
class EsitoQuota:
    """A quota's figures: its amount, what its rounding distributed, its residual and its precision."""

    nome: str
    peso: Fraction
    importo: Decimal
    ripartito: Decimal
    #: importo − ripartito (negative only with ``eccedenza_ammessa``)
    residuo: Decimal
    #: the largest difference the declared rounding can make on one recipient's part
    scarto_massimo: Decimal

    def come_dict(self) -> dict[str, str]:
        return {"nome": self.nome, "peso": str(self.peso), "importo": values.euro(self.importo),
                "ripartito": values.euro(self.ripartito), "residuo": values.euro(self.residuo),
                "scarto_massimo": values.euro(self.scarto_massimo)}


@dataclass(frozen=True)
class Risultato:
    """A riparto: its inputs, its method and its result."""

    totale: Decimal
    destinatari: tuple[Destinatario, ...]
    quote: tuple[Quota, ...]
    minimo: Minimo | None
    massimo: Massimo | None
    assegnazioni: tuple[Assegnazione, ...]
    esiti_quote: tuple[EsitoQuota, ...]
    #: totale, plus the top-ups of a floor ``integrazione``
    totale_da_ripartire: Decimal
    #: Σ importo
    totale_ripartito: Decimal
    totale_integrazioni: Decimal
    totale_prelievi: Decimal
    #: cut by a ceiling ``economia`` and left undistributed
    totale_economie: Decimal
    #: totale_da_ripartire − totale_ripartito: the quotas' rounding residuals plus the economie
    residuo: Decimal
    #: given as one quota (``criteri`` + ``arrotondamento``): the form of the first version
    semplice: bool = False
    _per_id: dict[str, Assegnazione] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_per_id", {a.id: a for a in self.assegnazioni})

    @property
    def criteri(self) -> tuple[Criterio, ...]:
        """The criteri of a riparto given as one quota."""
        return self.quote[0].criteri

    @property
    def arrotondamento(self) -> Arrotondamento:
        """The rounding of a riparto given as one quota."""
        return self.quote[0].arrotondamento

    def assegnazione(self, id: str) -> Assegnazione:
        return self._per_id[id]

    def importi(self) -> dict[str, Decimal]:
        return {a.id: a.importo for a in self.assegnazioni}

    def parametri(self) -> dict[str, Any]:
        """The keyword arguments of ``esegui`` that produced this result."""
        comuni = {"totale": self.totale, "destinatari": self.destinatari, "minimo": self.minimo,
                  "massimo": self.massimo}
        if self.semplice:
            return {**comuni, "criteri": self.criteri, "arrotondamento": self.arrotondamento}
        return {**comuni, "quote": self.quote}

    def riesegui(self) -> "Risultato":
        """Run the engine again on the stored inputs (equal to ``self`` if nothing was altered)."""
        return esegui(**self.parametri())

    def esprimibile_v1(self) -> bool:
        """Whether the first public form (one quota, ``quote_arrotondate``/``resto_maggiore``, a floor
        only) can describe this riparto."""
        return (self.semplice and self.massimo is None and self.arrotondamento.metodo in METODI_V1
                and not self.arrotondamento.eccedenza_ammessa)

    def come_dict(self) -> dict[str, Any]:
        """JSON-safe form (numbers as strings): inputs, method and result."""
        return {
            "versione": VERSIONE,
            "input": parametri_come_dict(**self.parametri()),
            "risultato": {
                "assegnazioni": [a.come_dict() for a in self.assegnazioni],
                "quote": [q.come_dict() for q in self.esiti_quote],
                "totali": {
                    "totale": values.euro(self.totale),
                    "da_ripartire": values.euro(self.totale_da_ripartire),
                    "ripartito": values.euro(self.totale_ripartito),
                    "integrazioni": values.euro(self.totale_integrazioni),
                    "prelievi": values.euro(self.totale_prelievi),
                    "economie": values.euro(self.totale_economie),
                    "residuo": values.euro(self.residuo),
                },
            },
        }

    def avvisi(self) -> list[dict[str, str]]:
        """What a person must see before storing (or reading) this riparto, each with its amount:
        a residual left undistributed, a distributed sum above the total (only where the act declares
        it), top-ups and levies for the floor, economie of the ceiling, recipients who get nothing.
        Derived from the result; never stored with it."""
        avvisi: list[dict[str, str]] = []

        def avviso(regola: str, messaggio: str, importo: Decimal | None = None) -> None:
            avvisi.append({"regola": regola, "messaggio": messaggio,
                           **({"importo": values.euro(importo)} if importo is not None else {})})

        if self.residuo > 0:
            avviso("riparto.residuo", "Resta un residuo non ripartito: va dichiarato nell'atto o ripartito "
                   "con un altro metodo di arrotondamento.", self.residuo)
        elif self.residuo < 0:
            avviso("riparto.eccedenza", "La somma ripartita supera il totale, come l'atto dichiara di ammettere "
                   "(eccedenza_ammessa): aumentare i decimali della percentuale o usare il metodo del resto "
                   "maggiore per restare nel totale.", -self.residuo)
        if self.totale_da_ripartire > self.totale:
            avviso("riparto.integrazioni", "Per garantire il minimo il totale da ripartire cresce delle "
                   "integrazioni.", self.totale_da_ripartire - self.totale)
        if self.totale_prelievi > 0:
            avviso("riparto.prelievi", "Il minimo o il massimo è finanziato prelevando dagli altri destinatari "
                   "o ridistribuendo ad essi.", self.totale_prelievi)
        if self.totale_economie > 0:
            avviso("riparto.economie", "Il massimo per destinatario lascia un'economia non ripartita.",
                   self.totale_economie)
        zero = [a.id for a in self.assegnazioni if a.importo == 0]
        if zero:
            avviso("riparto.destinatari_a_zero", f"{len(zero)} destinatari non ricevono nulla: "
                   + ", ".join(zero[:10]) + ("…" if len(zero) > 10 else "") + ".")
        return avvisi

    @classmethod
    def da_dict(cls, d: Mapping[str, Any]) -> "Risultato":
        """Read back a stored riparto (the output of ``come_dict``, of this version or the first) without
        re-computing it."""
        try:
            versione = d["versione"]
            if versione not in (1, VERSIONE):
                raise ValueError(f"versione {versione!r} non supportata")
            p = parametri_da_dict(d["input"])
            semplice = "quote" not in p
            quote = (_quote_semplici(p["criteri"], p["arrotondamento"]) if semplice else tuple(p["quote"]))
            quote = tuple(Quota(q.nome, Fraction(q.peso), tuple(Criterio(c.indicatore, Fraction(c.peso))
                                                                  for c in q.criteri),
                                Arrotondamento(q.arrotondamento.metodo, q.arrotondamento.decimali_percentuale,
                                               bool(q.arrotondamento.eccedenza_ammessa)))
                          for q in quote)
            ris = d["risultato"]
            tot = ris["totali"]
            totale = Decimal(p["totale"])

            def parti(a: Mapping[str, Any]) -> tuple[Parte, ...]:
                if "parti" in a:
                    return tuple(Parte(str(x["quota"]), Fraction(x["frazione"]), str(x["percentuale"]),
                                       Decimal(x["importo"])) for x in a["parti"])
                # the first version had one quota: the part is the share and the base amount
                return (Parte(QUOTA_UNICA, Fraction(a["quota"]), str(a["percentuale"]), Decimal(a["importo_base"])),)

            assegnazioni = tuple(
                Assegnazione(id=str(a["id"]), quota=Fraction(a["quota"]), percentuale=str(a["percentuale"]),
                             importo_base=Decimal(a["importo_base"]), integrazione=Decimal(a["integrazione"]),
                             prelievo=Decimal(a["prelievo"]), importo=Decimal(a["importo"]), parti=parti(a))
                for a in ris["assegnazioni"])
            if "quote" in ris:
                esiti = tuple(EsitoQuota(str(q["nome"]), Fraction(q["peso"]), Decimal(q["importo"]),
                                         Decimal(q["ripartito"]), Decimal(q["residuo"]),
                                         Decimal(q["scarto_massimo"])) for q in ris["quote"])
            else:  # the first version: one quota, the whole total
                ripartito = sum((a.importo_base for a in assegnazioni), Decimal("0.00"))
                esiti = (EsitoQuota(QUOTA_UNICA, Fraction(1), totale, ripartito, totale - ripartito,
                                    _scarto_massimo(quote[0].arrotondamento, _in_centesimi(totale))),)
            minimo = p["minimo"]
            massimo = p.get("massimo")
            return cls(
                totale=totale,
                destinatari=tuple(Destinatario(x.id, {k: Decimal(v) for k, v in x.indicatori.items()})
                                  for x in p["destinatari"]),
                quote=quote,
                minimo=Minimo(Decimal(minimo.importo), minimo.modalita) if minimo else None,
                massimo=Massimo(Decimal(massimo.importo), massimo.modalita) if massimo else None,
                assegnazioni=assegnazioni,
                esiti_quote=esiti,
                totale_da_ripartire=Decimal(tot["da_ripartire"]),
                totale_ripartito=Decimal(tot["ripartito"]),
                totale_integrazioni=Decimal(tot["integrazioni"]),
                totale_prelievi=Decimal(tot["prelievi"]),
                totale_economie=Decimal(tot.get("economie", "0.00")),
                residuo=Decimal(tot["residuo"]),
                semplice=semplice,
            )
        except RuleViolation:
            raise
        except (KeyError, TypeError, ValueError, InvalidOperation, ZeroDivisionError, AttributeError) as exc:
            raise RuleViolation(f"Riparto registrato non leggibile: {exc}.", rule="riparto.formato",
                                field="riparto") from None


# ---------------------------------------------------------------------------------- engine


def esegui(
    totale: Decimal,
    destinatari: Sequence[Destinatario],
    criteri: Sequence[Criterio] | None = None,
    arrotondamento: Arrotondamento | None = None,
    minimo: Minimo | None = None,
    *,
    quote: Sequence[Quota] | None = None,
    massimo: Massimo | None = None,
) -> Risultato:
    """Run a riparto (see the module docstring): either one quota (``criteri`` + ``arrotondamento``)
    or ``quote``. Bad input raises ``RuleViolation`` naming rule and field."""
    totale = values.importo(totale, "totale")
    semplice = quote is None
    if semplice:
        if criteri is not None and not isinstance(criteri, (list, tuple)):
            raise RuleViolation("I criteri sono un elenco.", rule="riparto.formato", field="criteri")
        crit = _valida_criteri(criteri or (), "")
        arr = _valida_arrotondamento(arrotondamento, "")
        qts: tuple[Quota, ...] = (Quota(QUOTA_UNICA, Fraction(1), crit, arr),)
    else:
        if criteri is not None or arrotondamento is not None:
            raise RuleViolation("Indicare i criteri e l'arrotondamento oppure le quote, non entrambi.",
                                rule="riparto.criteri_o_quote", field="quote")
        qts = _valida_quote(quote)
    dest = _valida_destinatari(destinatari, [c for q in qts for c in q.criteri],
                               {c.indicatore: f"{_prefisso(semplice, k)}criteri.{j}.indicatore"
                                for k, q in enumerate(qts) for j, c in enumerate(q.criteri)})
    for k, q in enumerate(qts):
        for j, c in enumerate(q.criteri):
            if all(d.indicatori[c.indicatore] == 0 for d in dest):
                raise RuleViolation(
                    f"L'indicatore «{c.indicatore}» vale zero per tutti i destinatari: il criterio non può "
                    f"ripartire.", rule="riparto.totale_indicatore_zero",
                    field=f"{_prefisso(semplice, k)}criteri.{j}.indicatore")
    mn = _valida_minimo(minimo)
    mx = _valida_massimo(massimo, mn)
    n = len(dest)
    if mn is not None and mn.modalita == "prelievo" and mn.importo * n > totale:
        raise RuleViolation(
            f"Minimo irraggiungibile: {n} destinatari × {values.euro(mn.importo)} € = "
            f"{values.euro(mn.importo * n)} € "
            f"supera il totale di {values.euro(totale)} €; con «prelievo» il minimo è pagato dal totale stesso.",
            rule="riparto.minimo_irraggiungibile", field="minimo.importo")

    ids = [d.id for d in dest]
    T = _in_centesimi(totale)
    importi_quote = _resto_maggiore({q.nome: q.peso * T for q in qts}, T) if len(qts) > 1 else {qts[0].nome: T}

    # steps 2-3: each quota's exact shares and rounded parts, in cents
    condivise: dict[str, Fraction] = {i: Fraction(0) for i in ids}
    parti: dict[str, list[Parte]] = {i: [] for i in ids}
    base: dict[str, int] = {i: 0 for i in ids}
    esatti: dict[str, Fraction] = {i: Fraction(0) for i in ids}
    esiti: list[EsitoQuota] = []
    for k, q in enumerate(qts):
        A = importi_quote[q.nome]
        s = _quote(dest, q.criteri)
        arr = q.arrotondamento
        percentuali = {i: _arrotonda(s[i] * 100, arr.decimali_percentuale) for i in ids}
        if arr.metodo == "per_importo":
            cents = {i: _arrotonda_intero(s[i] * A) for i in ids}
        elif arr.metodo == "quote_arrotondate":
            cents = {i: _arrotonda_intero(Fraction(percentuali[i]) / 100 * A) for i in ids}
        else:
            cents = _resto_maggiore({i: s[i] * A for i in ids}, A)
        ripartito = sum(cents.values())
        if ripartito > A and not arr.eccedenza_ammessa:
            raise RuleViolation(
                f"Con l'arrotondamento «{arr.metodo}»"
                + (f" a {arr.decimali_percentuale} decimali della percentuale" if arr.metodo == "quote_arrotondate"
                   else "")
                + (f" la quota «{q.nome}»" if not semplice else "")
                + f" ripartisce {values.euro(_da_centesimi(ripartito))} €, "
                f"{values.euro(_da_centesimi(ripartito - A))} € più di {values.euro(_da_centesimi(A))} €: la somma "
                f"non può superare il totale. Usare il resto maggiore"
                + (f", almeno {_decimali_per_il_centesimo(A)} decimali della percentuale"
                   if arr.metodo == "quote_arrotondate" and _decimali_per_il_centesimo(A) > arr.decimali_percentuale
                   else "")
                + " oppure dichiarare che l'atto ammette l'eccedenza (eccedenza_ammessa).",
                rule="riparto.eccedenza", field=f"{_prefisso(semplice, k)}arrotondamento.metodo")
        for i in ids:
            condivise[i] += q.peso * s[i]
            esatti[i] += s[i] * A
            base[i] += cents[i]
            parti[i].append(Parte(q.nome, s[i], format(percentuali[i], "f"), _da_centesimi(cents[i])))
        esiti.append(EsitoQuota(q.nome, q.peso, _da_centesimi(A), _da_centesimi(ripartito),
                                _da_centesimi(A - ripartito), _scarto_massimo(arr, A)))

    # step 4: floor and ceiling on the recipient's total
    finale = dict(base)
    economie = 0
    if mx is not None and mx.modalita == "economia":
        M = _in_centesimi(mx.importo)
        economie = sum(max(0, finale[i] - M) for i in ids)
        finale = {i: min(finale[i], M) for i in ids}
    lo = _in_centesimi(mn.importo) if mn is not None and mn.modalita == "prelievo" else None
    hi = _in_centesimi(mx.importo) if mx is not None and mx.modalita == "redistribuzione" else None
    if (lo is not None and any(finale[i] < lo for i in ids)) or (hi is not None and any(finale[i] > hi for i in ids)):
        esatto = semplice and qts[0].arrotondamento.metodo == "resto_maggiore" and mx is None
        v = dict(esatti) if esatto else {i: Fraction(finale[i]) for i in ids}
        somma = sum(finale.values())
        if lo is not None and lo * n > somma:
            raise RuleViolation(
                f"Minimo irraggiungibile: con l'arrotondamento dichiarato la somma delle quote è "
                f"{values.euro(_da_centesimi(somma))} €, meno di {n} × {values.euro(mn.importo)} €.",  # type: ignore[union-attr]
                rule="riparto.minimo_irraggiungibile", field="minimo.importo")
        if hi is not None and hi * n < somma:
            raise RuleViolation(
                f"Massimo irraggiungibile: la somma da ripartire è {values.euro(_da_centesimi(somma))} €, più di "
                f"{n} × {values.euro(mx.importo)} €.",  # type: ignore[union-attr]
                rule="riparto.massimo_irraggiungibile", field="massimo.importo")
        fissi = sum((_entro(v[i], lo, hi) for i in ids if condivise[i] == 0), Fraction(0))
        mobili = sum(1 for i in ids if condivise[i] > 0)
        if hi is not None and fissi + mobili * hi < somma:
            raise RuleViolation(
                f"Massimo irraggiungibile: i destinatari con quota zero non ricevono ciò che si ridistribuisce e "
                f"gli altri {mobili} al massimo di {values.euro(mx.importo)} € non arrivano a "  # type: ignore[union-attr]
                f"{values.euro(_da_centesimi(somma))} €.", rule="riparto.massimo_irraggiungibile",
                field="massimo.importo")
        livellati = _livella(v, condivise, lo, hi, Fraction(somma))
        finale = _resto_maggiore({i: x for i, x in livellati.items()}, somma)
    da_ripartire = T
    if mn is not None and mn.modalita == "integrazione":
        m = _in_centesimi(mn.importo)
        da_ripartire += sum(max(0, m - finale[i]) for i in ids)
        finale = {i: max(finale[i], m) for i in ids}

    ripartito = sum(finale.values())
    if ripartito > da_ripartire and not any(q.arrotondamento.eccedenza_ammessa for q in qts):
        # unreachable by construction (each quota was checked; the bounds keep the sum): a last guard
        raise RuleViolation("La somma ripartita supera il totale.", rule="riparto.eccedenza",
                            field="arrotondamento.metodo" if semplice else "quote")
    decimali = max(q.arrotondamento.decimali_percentuale for q in qts)
    assegnazioni = tuple(
        Assegnazione(
            id=i, quota=condivise[i], percentuale=format(_arrotonda(condivise[i] * 100, decimali), "f"),
            importo_base=_da_centesimi(base[i]),
            integrazione=_da_centesimi(max(0, finale[i] - base[i])),
            prelievo=_da_centesimi(max(0, base[i] - finale[i])),
            importo=_da_centesimi(finale[i]), parti=tuple(parti[i]))
        for i in ids)
    return Risultato(
        totale=totale, destinatari=dest, quote=qts, minimo=mn, massimo=mx,
        assegnazioni=assegnazioni, esiti_quote=tuple(esiti),
        totale_da_ripartire=_da_centesimi(da_ripartire),
        totale_ripartito=_da_centesimi(ripartito),
        totale_integrazioni=_da_centesimi(sum(max(0, finale[i] - base[i]) for i in ids)),
        totale_prelievi=_da_centesimi(sum(max(0, base[i] - finale[i]) for i in ids)),
        totale_economie=_da_centesimi(economie),
        residuo=_da_centesimi(da_ripartire - ripartito),
        semplice=semplice,
    )


def _prefisso(semplice: bool, k: int) -> str:
    """Where a quota's fields are in the request: at the top for one quota, under ``quote.<k>.`` otherwise."""
    return "" if semplice else f"quote.{k}."


def _quote_semplici(criteri: Sequence[Criterio], arrotondamento: Arrotondamento) -> tuple[Quota, ...]:
    return (Quota(QUOTA_UNICA, Fraction(1), tuple(criteri), arrotondamento),)


def _scarto_massimo(arr: Arrotondamento, A: int) -> Decimal:
    """The largest difference between a rounded part and its exact amount (A in cents), to the cent above."""
    if arr.metodo == "quote_arrotondate":
        bound = Fraction(A, 2 * 100 * 10 ** arr.decimali_percentuale) + Fraction(1, 2)
    elif arr.metodo == "per_importo":
        bound = Fraction(1, 2)
    else:
        bound = Fraction(1)
    return _da_centesimi(math.ceil(bound))


def _decimali_per_il_centesimo(A: int) -> int:
    """The decimals of the percentage with which rounding the percentage moves no amount by a whole cent."""
    d = 0
    while Fraction(A, 2 * 100 * 10 ** d) >= Fraction(1, 2) and d < MAX_DECIMALI_PERCENTUALE:
        d += 1
    return d


def _quote(dest: Sequence[Destinatario], crit: Sequence[Criterio]) -> dict[str, Fraction]:
    somme = {c.indicatore: sum((Fraction(d.indicatori[c.indicatore]) for d in dest), Fraction(0)) for c in crit}
    return {d.id: sum((c.peso * Fraction(d.indicatori[c.indicatore]) / somme[c.indicatore] for c in crit),
                      Fraction(0))
            for d in dest}


def _resto_maggiore(esatti: Mapping[str, Fraction], totale_centesimi: int) -> dict[str, int]:
    """Largest remainder: floor each exact amount (in cents) to the cent, give the missing cents one each
    to the largest remainders, ties to the smaller id. ``esatti`` must add up to the total."""
    parti = {i: math.floor(v) for i, v in esatti.items()}
    mancanti = totale_centesimi - sum(parti.values())
    assert 0 <= mancanti <= len(parti), "le parti esatte non sommano al totale"
    ordine = sorted(parti, key=lambda i: (-(esatti[i] - parti[i]), i))
    for i in ordine[:mancanti]:
        parti[i] += 1
    return parti


def _entro(x: Fraction, lo: int | None, hi: int | None) -> Fraction:
    if lo is not None and x < lo:
        return Fraction(lo)
    if hi is not None and x > hi:
        return Fraction(hi)
    return x


def _livella(valori: Mapping[str, Fraction], quote: Mapping[str, Fraction], lo: int | None, hi: int | None,
             somma: Fraction) -> dict[str, Fraction]:
    """``clamp(v_i + μ × quota_i, lo, hi)`` for the one μ that makes them add up to ``somma``.

    The sum is a non-decreasing, piecewise linear function of μ, with breakpoints where a recipient
    reaches a bound: binary search over the breakpoints finds the piece, where μ is solved exactly.
    The caller has checked that ``somma`` is reachable: ``n × lo ≤ somma``, and ``somma`` at most ``hi``
    for every recipient with a share plus the bounded value of those without one."""
    def clamp(x: Fraction) -> Fraction:
        return _entro(x, lo, hi)

    def f(mu: Fraction) -> Fraction:
        return sum((clamp(valori[i] + mu * quote[i]) for i in valori), Fraction(0))

    punti = sorted({(b - valori[i]) / quote[i] for i in valori if quote[i] > 0 for b in (lo, hi) if b is not None})
    a, b = 0, len(punti)  # first breakpoint with f >= somma
    while a < b:
        m = (a + b) // 2
        if f(punti[m]) >= somma:
            b = m
        else:
            a = m + 1
    if a < len(punti) and f(punti[a]) == somma:
        mu = punti[a]
    else:
        sinistra = punti[a - 1] if a > 0 else None
        destra = punti[a] if a < len(punti) else None
        if sinistra is not None and destra is not None:
            medio = (sinistra + destra) / 2
        elif sinistra is not None:
            medio = sinistra + 1
        elif destra is not None:
            medio = destra - 1
        else:
            medio = Fraction(0)
        pendenza = sum((quote[i] for i in valori if quote[i] > 0
                        and (lo is None or valori[i] + medio * quote[i] > lo)
                        and (hi is None or valori[i] + medio * quote[i] < hi)), Fraction(0))
        mu = medio + (somma - f(medio)) / pendenza
    return {i: clamp(valori[i] + mu * quote[i]) for i in valori}


# ---------------------------------------------------------------------------------- validation


def _valida_arrotondamento(arr: Arrotondamento | None, prefisso: str) -> Arrotondamento:
    if not isinstance(arr, Arrotondamento):
        raise RuleViolation("Indicare il metodo di arrotondamento dichiarato dall'atto.",
                            rule="riparto.metodo_arrotondamento", field=f"{prefisso}arrotondamento")
    if arr.metodo not in METODI:
        raise RuleViolation(f"Metodo di arrotondamento sconosciuto {arr.metodo!r}: uno tra {', '.join(METODI)}.",
                            rule="riparto.metodo_arrotondamento", field=f"{prefisso}arrotondamento.metodo")
    dec = arr.decimali_percentuale
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= MAX_DECIMALI_PERCENTUALE:
        raise RuleViolation(f"I decimali della percentuale sono un intero tra 0 e {MAX_DECIMALI_PERCENTUALE}.",
                            rule="riparto.decimali_percentuale",
                            field=f"{prefisso}arrotondamento.decimali_percentuale")
    if not isinstance(arr.eccedenza_ammessa, bool):
        raise RuleViolation("«eccedenza_ammessa» è vero o falso.", rule="riparto.formato",
                            field=f"{prefisso}arrotondamento.eccedenza_ammessa")
    return arr


def _valida_criteri(criteri: Sequence[Criterio], prefisso: str) -> tuple[Criterio, ...]:
    if not criteri:
        raise RuleViolation("Indicare almeno un criterio di riparto.", rule="riparto.criteri_presenti",
                            field=f"{prefisso}criteri")
    visti: set[str] = set()
    risultato = []
    for k, c in enumerate(criteri):
        if not isinstance(c, Criterio):
            raise RuleViolation("Criterio non valido.", rule="riparto.formato", field=f"{prefisso}criteri.{k}")
        if not isinstance(c.indicatore, str) or not c.indicatore.strip():
            raise RuleViolation("Il criterio deve nominare un indicatore.", rule="riparto.criterio_indicatore",
                                field=f"{prefisso}criteri.{k}.indicatore")
        if c.indicatore in visti:
            raise RuleViolation(f"L'indicatore «{c.indicatore}» compare in più criteri: sommarne i pesi.",
                                rule="riparto.criteri_unici", field=f"{prefisso}criteri.{k}.indicatore")
        visti.add(c.indicatore)
        peso = _frazione(c.peso, f"{prefisso}criteri.{k}.peso")
        if not 0 < peso <= 1:
            raise RuleViolation(f"Il peso del criterio «{c.indicatore}» deve essere maggiore di 0 e al più 1.",
                                rule="riparto.peso_positivo", field=f"{prefisso}criteri.{k}.peso")
        risultato.append(Criterio(c.indicatore, peso))
    somma = sum((c.peso for c in risultato), Fraction(0))
    if somma != 1:
        raise RuleViolation(
            f"I pesi dei criteri devono sommare esattamente a 1 (100%): sommano a {somma} "
            f"(≈ {_arrotonda(somma * 100, 4):f}%).", rule="riparto.pesi_somma_uno", field=f"{prefisso}criteri")
    return tuple(risultato)


def _valida_quote(quote: Sequence[Quota]) -> tuple[Quota, ...]:
    if not isinstance(quote, (list, tuple)) or not quote:
        raise RuleViolation("Indicare almeno una quota.", rule="riparto.quote_presenti", field="quote")
    if len(quote) > MAX_QUOTE:
        raise RuleViolation(f"Al più {MAX_QUOTE} quote.", rule="riparto.quote_presenti", field="quote")
    visti: set[str] = set()
    risultato = []
    for k, q in enumerate(quote):
        if not isinstance(q, Quota):
            raise RuleViolation("Quota non valida.", rule="riparto.formato", field=f"quote.{k}")
        if not isinstance(q.nome, str) or not _NOME_QUOTA.fullmatch(q.nome):
            raise RuleViolation("Il nome della quota ha da 1 a 40 caratteri tra lettere minuscole, cifre e _ "
                                "(es. «popolazione_80»).", rule="riparto.nome_quota", field=f"quote.{k}.nome")
        if q.nome in visti:
            raise RuleViolation(f"La quota «{q.nome}» compare due volte.", rule="riparto.quote_uniche",
                                field=f"quote.{k}.nome")
        visti.add(q.nome)
        peso = _frazione(q.peso, f"quote.{k}.peso")
        if not 0 < peso <= 1:
            raise RuleViolation(f"Il peso della quota «{q.nome}» deve essere maggiore di 0 e al più 1.",
                                rule="riparto.peso_positivo", field=f"quote.{k}.peso")
        if not isinstance(q.criteri, (list, tuple)):
            raise RuleViolation("I criteri sono un elenco.", rule="riparto.formato", field=f"quote.{k}.criteri")
        crit = _valida_criteri(q.criteri, f"quote.{k}.")
        arr = _valida_arrotondamento(q.arrotondamento, f"quote.{k}.")
        risultato.append(Quota(q.nome, peso, crit, arr))
    somma = sum((q.peso for q in risultato), Fraction(0))
    if somma != 1:
        raise RuleViolation(f"I pesi delle quote devono sommare esattamente a 1 (100%): sommano a {somma} "
                            f"(≈ {_arrotonda(somma * 100, 4):f}%).", rule="riparto.pesi_quote_somma_uno",
                            field="quote")
    return tuple(risultato)


def _valida_destinatari(destinatari: Sequence[Destinatario], crit: Sequence[Criterio],
                        campi: Mapping[str, str]) -> tuple[Destinatario, ...]:
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
    return tuple(risultato)


def _valida_limite(limite: Any, cls: type, modalita: tuple[str, ...], nome: str, spiegazione: str) -> Any:
    if limite is None:
        return None
    if not isinstance(limite, cls):
        raise RuleViolation(f"{nome.capitalize()} non valido.", rule="riparto.formato", field=nome)
    if limite.modalita not in modalita:
        raise RuleViolation(f"Modalità del {nome} sconosciuta {limite.modalita!r}: {spiegazione}.",
                            rule=f"riparto.modalita_{nome}", field=f"{nome}.modalita")
    return cls(values.importo(limite.importo, f"{nome}.importo"), limite.modalita)


def _valida_minimo(minimo: Minimo | None) -> Minimo | None:
    return _valida_limite(minimo, Minimo, MODALITA, "minimo",
                          "«integrazione» (a carico di risorse aggiuntive) o «prelievo» (dagli altri destinatari)")


def _valida_massimo(massimo: Massimo | None, minimo: Minimo | None) -> Massimo | None:
    mx = _valida_limite(massimo, Massimo, MODALITA_MASSIMO, "massimo",
                        "«economia» (l'eccedenza resta non ripartita) o «redistribuzione» (agli altri destinatari)")
    if mx is not None and minimo is not None and mx.importo < minimo.importo:
        raise RuleViolation(f"Il massimo ({values.euro(mx.importo)} €) non può essere minore del minimo "
                            f"({values.euro(minimo.importo)} €).", rule="riparto.minimo_massimo",
                            field="massimo.importo")
    return mx


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


def _arrotondamento_come_dict(a: Arrotondamento) -> dict[str, Any]:
    return {"metodo": a.metodo, "decimali_percentuale": a.decimali_percentuale,
            "eccedenza_ammessa": a.eccedenza_ammessa}


def _criteri_come_dict(criteri: Sequence[Criterio]) -> list[dict[str, str]]:
    return [{"indicatore": c.indicatore, "peso": str(Fraction(c.peso))} for c in criteri]


def parametri_come_dict(totale: Decimal, destinatari: Sequence[Destinatario], criteri: Sequence[Criterio] | None = None,
                        arrotondamento: Arrotondamento | None = None, minimo: Minimo | None = None, *,
                        quote: Sequence[Quota] | None = None, massimo: Massimo | None = None) -> dict[str, Any]:
    """The inputs of a riparto, JSON-safe (numbers as strings, weights as exact fractions "n/d"): one quota
    as ``criteri`` + ``arrotondamento`` (the first form), several as ``quote``."""
    out: dict[str, Any] = {
        "totale": values.euro(Decimal(totale)),
        "destinatari": [{"id": d.id, "indicatori": {k: format(Decimal(v), "f") for k, v in d.indicatori.items()}}
                        for d in destinatari],
    }
    if quote is None:
        assert criteri is not None and arrotondamento is not None
        out["criteri"] = _criteri_come_dict(criteri)
        out["arrotondamento"] = _arrotondamento_come_dict(arrotondamento)
    else:
        out["quote"] = [{"nome": q.nome, "peso": str(Fraction(q.peso)), "criteri": _criteri_come_dict(q.criteri),
                         "arrotondamento": _arrotondamento_come_dict(q.arrotondamento)} for q in quote]
    out["minimo"] = ({"importo": values.euro(Decimal(minimo.importo)), "modalita": minimo.modalita}
                     if minimo is not None else None)
    out["massimo"] = ({"importo": values.euro(Decimal(massimo.importo)), "modalita": massimo.modalita}
                      if massimo is not None else None)
    return out


def parametri_da_dict(d: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``esegui`` from their JSON-safe form (a request body or a stored event).

    Only the shape is checked here (rule ``riparto.formato``); the values are validated by ``esegui``,
    with the same field names (``destinatari.3.indicatori.popolazione``, ``criteri.1.peso``,
    ``quote.0.arrotondamento.metodo``, ...)."""
    def richiesto(m: Any, chiave: str, percorso: str) -> Any:
        if not isinstance(m, Mapping) or chiave not in m:
            raise RuleViolation(f"Manca «{chiave}».", rule="riparto.formato",
                                field=f"{percorso}.{chiave}" if percorso else chiave)
        return m[chiave]

    def lista(v: Any, percorso: str) -> list:
        if not isinstance(v, list):
            raise RuleViolation("Atteso un elenco.", rule="riparto.formato", field=percorso)
        return v

    def criteri(v: Any, percorso: str) -> list[Criterio]:
        return [Criterio(richiesto(c, "indicatore", f"{percorso}.{k}"), richiesto(c, "peso", f"{percorso}.{k}"))
                for k, c in enumerate(lista(v, percorso))]

    def arrotondamento(v: Any, percorso: str) -> Arrotondamento:
        return Arrotondamento(richiesto(v, "metodo", percorso), v.get("decimali_percentuale", 2),
                              v.get("eccedenza_ammessa", False))

    destinatari = []
    for i, x in enumerate(lista(richiesto(d, "destinatari", ""), "destinatari")):
        indicatori = richiesto(x, "indicatori", f"destinatari.{i}")
        if not isinstance(indicatori, Mapping):
            raise RuleViolation("Gli indicatori sono un oggetto nome → valore.", rule="riparto.formato",
                                field=f"destinatari.{i}.indicatori")
        destinatari.append(Destinatario(richiesto(x, "id", f"destinatari.{i}"), dict(indicatori)))
    out: dict[str, Any] = {"totale": richiesto(d, "totale", ""), "destinatari": destinatari}
    if d.get("quote") is not None:
        if d.get("criteri") is not None or d.get("arrotondamento") is not None:
            raise RuleViolation("Indicare i criteri e l'arrotondamento oppure le quote, non entrambi.",
                                rule="riparto.criteri_o_quote", field="quote")
        out["quote"] = [Quota(richiesto(q, "nome", f"quote.{k}"), richiesto(q, "peso", f"quote.{k}"),
                              criteri(richiesto(q, "criteri", f"quote.{k}"), f"quote.{k}.criteri"),
                              arrotondamento(richiesto(q, "arrotondamento", f"quote.{k}"), f"quote.{k}.arrotondamento"))
                        for k, q in enumerate(lista(d["quote"], "quote"))]
    else:
        out["criteri"] = criteri(richiesto(d, "criteri", ""), "criteri")
        out["arrotondamento"] = arrotondamento(richiesto(d, "arrotondamento", ""), "arrotondamento")
    m = d.get("minimo")
    out["minimo"] = (Minimo(richiesto(m, "importo", "minimo"), richiesto(m, "modalita", "minimo"))
                     if m is not None else None)
    x = d.get("massimo")
    out["massimo"] = (Massimo(richiesto(x, "importo", "massimo"), richiesto(x, "modalita", "massimo"))
                      if x is not None else None)
    return out


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
