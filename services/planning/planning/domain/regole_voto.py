"""The Comitato Istituzionale's decision rules: quorum (numero legale), weights and outcome of a vote.

Pure functions over exact fractions, so that "more than half" and "at least 30%" are decided
without rounding. No national law fixes how a Comitato/Coordinamento Istituzionale or an
Assemblea dei Sindaci decides: L. 328/2000 art. 19 c. 1 leaves the Piano di Zona to the
Comuni "d'intesa" in the Ambito, D.Lgs. 267/2000 (TUEL) art. 30 lets them bind themselves by a
convenzione that sets "le forme di consultazione degli enti contraenti", and the regional laws
(e.g. L.R. Campania 11/2007 art. 11; L.R. Lombardia 3/2008 art. 18) and each Ambito's
regolamento or convenzione do the rest. So every choice below is a configurable option that the
Ambito's regolamento takes; none is presented as a rule of law. The regolamento chooses:

- the **family**: ``per_testa`` (one Comune, one vote), ``ponderata`` (each vote weighs the
  Comune's weight) or ``doppia_maggioranza`` (both must pass);
- the **base** of the majority, separately for heads (``base_teste``) and weights
  (``base_pesi``), both defaulting to ``base``: ``presenti`` (an abstention or a missing vote
  weighs like a contrary one), ``votanti`` (only favorevoli + contrari count) or ``assegnati``
  (all members entitled to vote, present or not: "la maggioranza dei componenti assegnati" and
  "la maggioranza della popolazione dell'Ambito", as several regolamenti require for the Piano);
- the **thresholds**, separately for heads (``maggioranza``) and weights (``maggioranza_pesi``,
  default the same), never below one half;
- **qualified majorities per deliberation type** (``qualificate``: e.g. 2/3 of the members
  assigned to amend the regolamento, unanimity ``1/1`` for a convenzione);
- the **weights** (``ponderazione``): the Comune's population at the reference date, or quotas
  fixed by the regolamento (quote, millesimi), with an optional cap on any Comune's share of
  the total (``tetto``), the excess shared among the others in proportion to their weights;
- the **Presidente's casting vote** (``voto_decisivo_presidente``): on a tie under the simple
  majority the side the Presidente voted for prevails (a regolamento clause, the same as the
  usual "in caso di parità prevale il voto del Presidente"; no law imposes it);
- the most **proxies** one delegate may carry (``deleghe_max``);
- the **quorum** of each call (1st, 2nd): a share of the weights and a share of the members
  that must be present;
- whether **advisory members** (ASL, Provincia) count: if not, they may attend and speak
  but they are neither part of the quorum nor of the vote.

Every figure that decided an outcome is returned with it, so that the deliberation carries
the explanation (``Esito.come_dict``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Iterable, Mapping

FAMIGLIE = ("per_testa", "ponderata", "doppia_maggioranza")
#: the values of ``base`` as published since v1 of the contracts
BASI_V1 = ("presenti", "votanti")
BASI = ("presenti", "votanti", "assegnati")
VOTI = ("favorevole", "contrario", "astenuto")
CRITERI_PESO = ("popolazione", "quote")


def _frazione(testo: str) -> Fraction:
    if not isinstance(testo, str) or not re.fullmatch(r"\d{1,4}/\d{1,4}", testo):
        raise ValueError(f"una frazione si scrive n/d con al più 4 cifre ciascuno, non {testo!r}")
    return Fraction(testo)


def _testo(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


@dataclass(frozen=True)
class Soglia:
    """A share of a total: ``> frazione`` if ``stretta`` ("more than half"), else ``>=``."""

    frazione: Fraction
    stretta: bool = False

    def raggiunta(self, parte: int, totale: int) -> bool:
        limite = self.frazione * totale
        return parte > limite if self.stretta else parte >= limite

    def come_dict(self) -> dict:
        return {"frazione": _testo(self.frazione), "stretta": self.stretta}

    @classmethod
    def da_dict(cls, d: Mapping) -> "Soglia":
        if not isinstance(d["stretta"], bool):
            raise ValueError("stretta è true o false")
        return cls(Fraction(d["frazione"]), d["stretta"])

    def __str__(self) -> str:
        return f"{'>' if self.stretta else '≥'} {_testo(self.frazione)}"


@dataclass(frozen=True)
class Quorum:
    """Numero legale of one call; a missing threshold is not applied."""

    pesi: Soglia | None
    membri: Soglia | None

    def come_dict(self) -> dict:
        return {"pesi": self.pesi.come_dict() if self.pesi else None,
                "membri": self.membri.come_dict() if self.membri else None}

    @classmethod
    def da_dict(cls, d: Mapping) -> "Quorum":
        return cls(Soglia.da_dict(d["pesi"]) if d.get("pesi") else None,
                   Soglia.da_dict(d["membri"]) if d.get("membri") else None)


#: The usual regolamento: 1st call majority of weights and ≥1/3 of members;
#: 2nd call ≥30% of weights and ≥1/4 of members.
QUORUM_PREDEFINITO = {
    1: Quorum(pesi=Soglia(Fraction(1, 2), stretta=True), membri=Soglia(Fraction(1, 3))),
    2: Quorum(pesi=Soglia(Fraction(3, 10)), membri=Soglia(Fraction(1, 4))),
}
MAGGIORANZA_SEMPLICE = Soglia(Fraction(1, 2), stretta=True)


@dataclass(frozen=True)
class Maggioranza:
    """The majority one vote needs: a threshold and a base for heads, and for weights."""

    teste: Soglia
    pesi: Soglia
    base_teste: str
    base_pesi: str

    def __post_init__(self) -> None:
        for base in (self.base_teste, self.base_pesi):
            if base not in BASI:
                raise ValueError(f"base {base!r} non è tra {BASI}")

    def come_dict(self) -> dict:
        return {"teste": self.teste.come_dict(), "pesi": self.pesi.come_dict(), "base_teste": self.base_teste,
                "base_pesi": self.base_pesi}

    @classmethod
    def da_dict(cls, d: Mapping, base: str = "presenti") -> "Maggioranza":
        teste = Soglia.da_dict(d["teste"])
        return cls(teste, Soglia.da_dict(d["pesi"]) if d.get("pesi") else teste,
                   d.get("base_teste") or base, d.get("base_pesi") or d.get("base_teste") or base)

    @property
    def semplice(self) -> bool:
        return self.teste == MAGGIORANZA_SEMPLICE and self.pesi == MAGGIORANZA_SEMPLICE


@dataclass(frozen=True)
class Ponderazione:
    """Where the weights come from: the Comune's population or the regolamento's quotas, capped or not.

    ``quote`` maps a Comune's ISTAT code to its quota (quote, millesimi: any non-negative
    integers; shares are quota / total). ``tetto`` caps any one Comune's share of the Comuni's
    total weight (e.g. 2/5): see :func:`pesi_con_tetto`.
    """

    criterio: str = "popolazione"
    quote: Mapping[str, int] | None = None
    tetto: Fraction | None = None

    def __post_init__(self) -> None:
        if self.criterio not in CRITERI_PESO:
            raise ValueError(f"criterio {self.criterio!r} non è tra {CRITERI_PESO}")
        if (self.criterio == "quote") != (self.quote is not None):
            raise ValueError("le quote si indicano se e solo se il criterio è «quote»")
        if self.quote is not None and any(not isinstance(q, int) or isinstance(q, bool) or q < 0
                                          for q in self.quote.values()):
            raise ValueError("ogni quota è un intero non negativo")
        if self.tetto is not None and not Fraction(0) < self.tetto < 1:
            raise ValueError("il tetto è una frazione tra 0 e 1 (esclusi)")

    def come_dict(self) -> dict:
        return {"criterio": self.criterio, "quote": dict(sorted(self.quote.items())) if self.quote is not None else None,
                "tetto": _testo(self.tetto) if self.tetto is not None else None}

    @classmethod
    def da_dict(cls, d: Mapping | None) -> "Ponderazione":
        if not d:
            return cls()
        return cls(d.get("criterio", "popolazione"), dict(d["quote"]) if d.get("quote") is not None else None,
                   _frazione(d["tetto"]) if d.get("tetto") is not None else None)


@dataclass(frozen=True)
class Regola:
    famiglia: str
    base: str = "presenti"
    consultivi_contano: bool = False
    quorum: Mapping[int, Quorum] = field(default_factory=lambda: dict(QUORUM_PREDEFINITO))
    maggioranza: Soglia = MAGGIORANZA_SEMPLICE
    #: the base and threshold of the weights, when they differ from the heads'
    base_teste: str | None = None
    base_pesi: str | None = None
    maggioranza_pesi: Soglia | None = None
    #: qualified majorities by deliberation type (``deliberazione.TIPI``)
    qualificate: Mapping[str, Maggioranza] = field(default_factory=dict)
    ponderazione: Ponderazione = Ponderazione()
    #: the member who presides (a Comune's ISTAT code) and whether his vote breaks a tie
    presidente: str | None = None
    voto_decisivo_presidente: bool = False
    #: the most proxies one member present in person may carry (None: no limit)
    deleghe_max: int | None = None

    def __post_init__(self) -> None:
        if self.famiglia not in FAMIGLIE:
            raise ValueError(f"famiglia {self.famiglia!r} non è tra {FAMIGLIE}")
        if self.base not in BASI_V1:
            raise ValueError(f"base {self.base!r} non è tra {BASI_V1} (per «assegnati»: base_teste, base_pesi)")
        for base in (self.base_teste, self.base_pesi):
            if base is not None and base not in BASI:
                raise ValueError(f"base {base!r} non è tra {BASI}")
        if set(self.quorum) - {1, 2} or 1 not in self.quorum:
            raise ValueError("il quorum si configura per la 1ª e (facoltativa) la 2ª convocazione")
        if self.voto_decisivo_presidente and self.presidente is None:
            raise ValueError("il voto decisivo richiede il presidente")
        if self.deleghe_max is not None and (isinstance(self.deleghe_max, bool) or self.deleghe_max < 0):
            raise ValueError("deleghe_max è un intero non negativo")

    @property
    def ordinaria(self) -> Maggioranza:
        """The majority of every deliberation without a qualified one."""
        return Maggioranza(self.maggioranza, self.maggioranza_pesi or self.maggioranza,
                           self.base_teste or self.base, self.base_pesi or self.base_teste or self.base)

    def maggioranza_per(self, tipo: str | None, predefinite: Mapping[str, Maggioranza] | None = None) -> Maggioranza:
        """The majority a deliberation of ``tipo`` needs: the regolamento's qualified one, else the type's
        default from the reference data (``predefinite``), else the ordinary one."""
        if tipo is not None and tipo in self.qualificate:
            return self.qualificate[tipo]
        if tipo is not None and predefinite and tipo in predefinite:
            return predefinite[tipo]
        return self.ordinaria

    def come_dict(self) -> dict:
        return {"famiglia": self.famiglia, "base": self.base, "consultivi_contano": self.consultivi_contano,
                "maggioranza": self.maggioranza.come_dict(),
                "quorum": {str(k): q.come_dict() for k, q in sorted(self.quorum.items())},
                "base_teste": self.base_teste, "base_pesi": self.base_pesi,
                "maggioranza_pesi": self.maggioranza_pesi.come_dict() if self.maggioranza_pesi else None,
                "qualificate": {t: m.come_dict() for t, m in sorted(self.qualificate.items())},
                "ponderazione": self.ponderazione.come_dict(), "presidente": self.presidente,
                "voto_decisivo_presidente": self.voto_decisivo_presidente, "deleghe_max": self.deleghe_max}

    @classmethod
    def da_dict(cls, d: Mapping) -> "Regola":
        """The stored form back; a form stored before the optional keys existed reads as their defaults."""
        base = d["base"]
        return cls(famiglia=d["famiglia"], base=base, consultivi_contano=bool(d["consultivi_contano"]),
                   maggioranza=Soglia.da_dict(d["maggioranza"]),
                   quorum={int(k): Quorum.da_dict(q) for k, q in d["quorum"].items()},
                   base_teste=d.get("base_teste"), base_pesi=d.get("base_pesi"),
                   maggioranza_pesi=Soglia.da_dict(d["maggioranza_pesi"]) if d.get("maggioranza_pesi") else None,
                   qualificate={t: Maggioranza.da_dict(m, d.get("base_teste") or base)
                                for t, m in (d.get("qualificate") or {}).items()},
                   ponderazione=Ponderazione.da_dict(d.get("ponderazione")),
                   presidente=d.get("presidente"), voto_decisivo_presidente=bool(d.get("voto_decisivo_presidente")),
                   deleghe_max=d.get("deleghe_max"))


def normalizzata(regola: Mapping) -> dict:
    """The canonical stored form of a rule (fractions reduced, every key present): two forms that
    mean the same rule compare equal."""
    return Regola.da_dict(regola).come_dict()


def pesi_con_tetto(pesi: Mapping[str, int], tetto: Fraction | None) -> tuple[dict[str, int], int]:
    """Weights with no member above ``tetto`` of the total, the excess shared among the others in
    proportion to their weights; returns (integer weights, scale).

    Capping the ``k`` largest at share ``t`` leaves the others their weights: the new total is
    ``W = R / (1 - k t)`` (``R``: the others' sum) and each capped weight is ``t W``; ``k`` is the
    smallest number of members for which the capped are all ≥ ``t W`` and the others ≤ ``t W``.
    Shares are exact: every weight is multiplied by ``scale`` (the denominator of ``t W``) so that
    all are integers, then the common divisor is taken out. With no member above the cap nothing
    changes (scale 1). A regolamento clause, not a law; a cap that cannot hold (``t × members < 1``)
    is a ValueError.
    """
    if tetto is None:
        return dict(pesi), 1
    positivi = sorted(((w, m) for m, w in pesi.items() if w > 0), reverse=True)
    if tetto * len(positivi) < 1:
        raise ValueError(f"con {len(positivi)} componenti di peso positivo nessun tetto sotto "
                         f"1/{len(positivi)} può valere")
    limite: Fraction | None = None
    capped: set[str] = set()
    for k in range(len(positivi)):
        if k * tetto >= 1:
            break
        resto = sum(w for w, _ in positivi[k:])
        cap = tetto * Fraction(resto) / (1 - k * tetto)
        if all(w >= cap for w, _ in positivi[:k]) and all(w <= cap for w, _ in positivi[k:]):
            limite, capped = cap, {m for _, m in positivi[:k]}
            break
    if limite is None:  # pragma: no cover - a cap t ≥ 1/n always has a k above
        raise ValueError("tetto non applicabile")
    if not capped:
        return dict(pesi), 1
    scala = limite.denominator
    return {m: int(limite * scala) if m in capped else w * scala for m, w in pesi.items()}, scala


@dataclass(frozen=True)
class Componente:
    """A member: ``peso`` is the population of its Comune (advisory members: as configured)."""

    id: str
    peso: int
    consultivo: bool = False


def aventi_diritto(regola: Regola, componenti: Iterable[Componente]) -> list[Componente]:
    """The members who make up the quorum and vote under ``regola``."""
    componenti = list(componenti)
    if len({c.id for c in componenti}) != len(componenti):
        raise ValueError("ogni componente compare una sola volta")
    return [c for c in componenti if regola.consultivi_contano or not c.consultivo]


@dataclass(frozen=True)
class VerificaQuorum:
    convocazione: int
    raggiunto: bool
    presenti: int
    membri: int
    pesi_presenti: int
    pesi_totali: int
    soglia_membri: str | None
    soglia_pesi: str | None

    def come_dict(self) -> dict:
        return dict(self.__dict__)


def verifica_quorum(regola: Regola, componenti: Iterable[Componente], presenti: Iterable[str],
                    convocazione: int) -> VerificaQuorum:
    """Whether the members present make the numero legale of ``convocazione`` (1 or 2)."""
    if convocazione not in regola.quorum:
        raise ValueError(f"il regolamento non prevede la {convocazione}ª convocazione")
    quorum = regola.quorum[convocazione]
    votanti = aventi_diritto(regola, componenti)
    presenti = set(presenti)
    qui = [c for c in votanti if c.id in presenti]
    n, p = len(qui), sum(c.peso for c in qui)
    n_tot, p_tot = len(votanti), sum(c.peso for c in votanti)
    ok = n > 0
    if quorum.membri is not None:
        ok = ok and quorum.membri.raggiunta(n, n_tot)
    if quorum.pesi is not None:
        ok = ok and quorum.pesi.raggiunta(p, p_tot)
    return VerificaQuorum(convocazione, ok, n, n_tot, p, p_tot,
                          str(quorum.membri) if quorum.membri else None, str(quorum.pesi) if quorum.pesi else None)


@dataclass(frozen=True)
class Conteggio:
    """Favourable, contrary and abstaining shares (heads or weights) and the majority base."""

    favorevoli: int
    contrari: int
    astenuti: int
    non_votanti: int
    base: int
    maggioranza: bool

    def come_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Esito:
    approvata: bool
    famiglia: str
    per_testa: Conteggio
    ponderato: Conteggio
    motivazione: str
    maggioranza: Maggioranza | None = None
    #: the measures ("per_testa", "ponderato") a tie of which the Presidente's vote decided
    voto_decisivo: tuple[str, ...] = ()

    def come_dict(self) -> dict:
        d = {"approvata": self.approvata, "famiglia": self.famiglia, "per_testa": self.per_testa.come_dict(),
             "ponderato": self.ponderato.come_dict(), "motivazione": self.motivazione}
        if self.maggioranza is not None:
            d["maggioranza_richiesta"] = self.maggioranza.come_dict()
        if self.voto_decisivo:
            d["voto_decisivo_presidente"] = list(self.voto_decisivo)
        return d


def _conteggio(tutti: list[Componente], qui: list[Componente], voti: Mapping[str, str], peso,
               soglia: Soglia, base_di: str) -> tuple[Conteggio, bool]:
    """The count on one measure and whether it is a tie (exactly half of the base in favour)."""
    somma = {v: sum(peso(c) for c in qui if voti.get(c.id) == v) for v in VOTI}
    non_votanti = sum(peso(c) for c in qui if c.id not in voti)
    if base_di == "presenti":
        base = sum(peso(c) for c in qui)
    elif base_di == "votanti":
        base = somma["favorevole"] + somma["contrario"]
    else:  # assegnati: every member entitled to vote, present or not
        base = sum(peso(c) for c in tutti)
    ok = base > 0 and soglia.raggiunta(somma["favorevole"], base)
    parita = base > 0 and 2 * somma["favorevole"] == base
    return Conteggio(somma["favorevole"], somma["contrario"], somma["astenuto"], non_votanti, base, ok), parita


def esito(regola: Regola, componenti: Iterable[Componente], presenti: Iterable[str],
          voti: Mapping[str, str], maggioranza: Maggioranza | None = None) -> Esito:
    """The outcome of a roll-call vote among the members present.

    ``voti`` maps a member's id to ``favorevole``, ``contrario`` or ``astenuto``; a present
    member without a vote counts in a ``presenti`` base and not in a ``votanti`` one; every
    member entitled to vote counts in an ``assegnati`` base. Votes of absent members or of
    advisory members who do not count are ignored (the Seduta refuses them before they get
    here). ``maggioranza`` is the one the deliberation's type needs (default: the ordinary one).

    The Presidente's casting vote, where the regolamento gives it: on a measure whose threshold
    is the simple majority (more than half) and where exactly half of the base is in favour, the
    measure passes if the Presidente, present and entitled to vote, voted in favour (and fails
    otherwise, as it would anyway). A qualified majority is never reached by a casting vote.
    """
    unknown = set(voti.values()) - set(VOTI)
    if unknown:
        raise ValueError(f"voti non ammessi: {sorted(unknown)}")
    richiesta = maggioranza or regola.ordinaria
    presenti = set(presenti)
    tutti = aventi_diritto(regola, componenti)
    qui = [c for c in tutti if c.id in presenti]
    decisivi: list[str] = []

    def misura(nome: str, peso, soglia: Soglia, base_di: str) -> Conteggio:
        conteggio, parita = _conteggio(tutti, qui, voti, peso, soglia, base_di)
        if (parita and not conteggio.maggioranza and soglia == MAGGIORANZA_SEMPLICE
                and regola.voto_decisivo_presidente and regola.presidente in {c.id for c in qui}
                and voti.get(regola.presidente) == "favorevole"):
            decisivi.append(nome)
            return replace(conteggio, maggioranza=True)
        return conteggio

    teste = misura("per_testa", lambda c: 1, richiesta.teste, richiesta.base_teste)
    pesi = misura("ponderato", lambda c: c.peso, richiesta.pesi, richiesta.base_pesi)
    approvata = {"per_testa": teste.maggioranza, "ponderata": pesi.maggioranza,
                 "doppia_maggioranza": teste.maggioranza and pesi.maggioranza}[regola.famiglia]
    contano = {"per_testa": ("per_testa",), "ponderata": ("ponderato",),
               "doppia_maggioranza": ("per_testa", "ponderato")}[regola.famiglia]
    decisivi = [d for d in decisivi if d in contano]
    return Esito(approvata, regola.famiglia, teste, pesi,
                 _motivazione(regola, richiesta, teste, pesi, approvata, decisivi), richiesta, tuple(decisivi))


_BASI_IN_PAROLE = {"presenti": "dei presenti", "votanti": "dei votanti", "assegnati": "degli aventi diritto"}


def _motivazione(regola: Regola, richiesta: Maggioranza, teste: Conteggio, pesi: Conteggio, approvata: bool,
                 decisivi: list[str]) -> str:
    parti = []
    if regola.famiglia in ("per_testa", "doppia_maggioranza"):
        parti.append(f"componenti favorevoli {teste.favorevoli} su {teste.base} {_BASI_IN_PAROLE[richiesta.base_teste]} "
                     f"(soglia {richiesta.teste}): {'raggiunta' if teste.maggioranza else 'non raggiunta'}"
                     + (" con il voto decisivo del Presidente" if "per_testa" in decisivi else ""))
    if regola.famiglia in ("ponderata", "doppia_maggioranza"):
        nome = "popolazione" if regola.ponderazione.criterio == "popolazione" and regola.ponderazione.tetto is None \
            else "peso"
        parti.append(f"{nome} favorevole {pesi.favorevoli} su {pesi.base} {_BASI_IN_PAROLE[richiesta.base_pesi]} "
                     f"(soglia {richiesta.pesi}): {'raggiunta' if pesi.maggioranza else 'non raggiunta'}"
                     + (" con il voto decisivo del Presidente" if "ponderato" in decisivi else ""))
    return f"{'Approvata' if approvata else 'Respinta'}: " + "; ".join(parti) + "."
