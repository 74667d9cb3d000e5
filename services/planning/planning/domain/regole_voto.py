"""The Comitato Istituzionale's decision rules: quorum (numero legale) and outcome of a vote.

Pure functions over exact fractions, so that "more than half" and "at least 30%" are decided
without rounding. The Ambito's regolamento chooses:

- the **family**: ``per_testa`` (one Comune, one vote), ``ponderata`` (each vote weighs the
  Comune's population at the reference date) or ``doppia_maggioranza`` (both must pass);
- the **base** of the majority: ``presenti`` (an abstention or a missing vote weighs like a
  contrary one) or ``votanti`` (only favorevoli + contrari count);
- the **quorum** of each call (1st, 2nd): a share of the weights and a share of the members
  that must be present;
- whether **advisory members** (ASL, Provincia) count: if not, they may attend and speak
  but they are neither part of the quorum nor of the vote.

Every figure that decided an outcome is returned with it, so that the deliberation carries
the explanation (``Esito.come_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping

FAMIGLIE = ("per_testa", "ponderata", "doppia_maggioranza")
BASI = ("presenti", "votanti")
VOTI = ("favorevole", "contrario", "astenuto")


@dataclass(frozen=True)
class Soglia:
    """A share of a total: ``> frazione`` if ``stretta`` ("more than half"), else ``>=``."""

    frazione: Fraction
    stretta: bool = False

    def raggiunta(self, parte: int, totale: int) -> bool:
        limite = self.frazione * totale
        return parte > limite if self.stretta else parte >= limite

    def come_dict(self) -> dict:
        return {"frazione": f"{self.frazione.numerator}/{self.frazione.denominator}", "stretta": self.stretta}

    @classmethod
    def da_dict(cls, d: Mapping) -> "Soglia":
        if not isinstance(d["stretta"], bool):
            raise ValueError("stretta è true o false")
        return cls(Fraction(d["frazione"]), d["stretta"])

    def __str__(self) -> str:
        return f"{'>' if self.stretta else '≥'} {self.frazione.numerator}/{self.frazione.denominator}"


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
class Regola:
    famiglia: str
    base: str = "presenti"
    consultivi_contano: bool = False
    quorum: Mapping[int, Quorum] = field(default_factory=lambda: dict(QUORUM_PREDEFINITO))
    maggioranza: Soglia = MAGGIORANZA_SEMPLICE

    def __post_init__(self) -> None:
        if self.famiglia not in FAMIGLIE:
            raise ValueError(f"famiglia {self.famiglia!r} non è tra {FAMIGLIE}")
        if self.base not in BASI:
            raise ValueError(f"base {self.base!r} non è tra {BASI}")
        if set(self.quorum) - {1, 2} or 1 not in self.quorum:
            raise ValueError("il quorum si configura per la 1ª e (facoltativa) la 2ª convocazione")

    def come_dict(self) -> dict:
        return {"famiglia": self.famiglia, "base": self.base, "consultivi_contano": self.consultivi_contano,
                "maggioranza": self.maggioranza.come_dict(),
                "quorum": {str(k): q.come_dict() for k, q in sorted(self.quorum.items())}}

    @classmethod
    def da_dict(cls, d: Mapping) -> "Regola":
        return cls(famiglia=d["famiglia"], base=d["base"], consultivi_contano=bool(d["consultivi_contano"]),
                   maggioranza=Soglia.da_dict(d["maggioranza"]),
                   quorum={int(k): Quorum.da_dict(q) for k, q in d["quorum"].items()})


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

    def come_dict(self) -> dict:
        return {"approvata": self.approvata, "famiglia": self.famiglia, "per_testa": self.per_testa.come_dict(),
                "ponderato": self.ponderato.come_dict(), "motivazione": self.motivazione}


def _conteggio(regola: Regola, qui: list[Componente], voti: Mapping[str, str], peso) -> Conteggio:
    somma = {v: sum(peso(c) for c in qui if voti.get(c.id) == v) for v in VOTI}
    non_votanti = sum(peso(c) for c in qui if c.id not in voti)
    if regola.base == "presenti":
        base = sum(peso(c) for c in qui)
    else:
        base = somma["favorevole"] + somma["contrario"]
    ok = base > 0 and regola.maggioranza.raggiunta(somma["favorevole"], base)
    return Conteggio(somma["favorevole"], somma["contrario"], somma["astenuto"], non_votanti, base, ok)


def esito(regola: Regola, componenti: Iterable[Componente], presenti: Iterable[str],
          voti: Mapping[str, str]) -> Esito:
    """The outcome of a roll-call vote among the members present.

    ``voti`` maps a member's id to ``favorevole``, ``contrario`` or ``astenuto``; a present
    member without a vote counts in a ``presenti`` base and not in a ``votanti`` one. Votes
    of absent members or of advisory members who do not count are ignored (the Seduta
    refuses them before they get here).
    """
    unknown = set(voti.values()) - set(VOTI)
    if unknown:
        raise ValueError(f"voti non ammessi: {sorted(unknown)}")
    presenti = set(presenti)
    qui = [c for c in aventi_diritto(regola, componenti) if c.id in presenti]
    teste = _conteggio(regola, qui, voti, lambda c: 1)
    pesi = _conteggio(regola, qui, voti, lambda c: c.peso)
    approvata = {"per_testa": teste.maggioranza, "ponderata": pesi.maggioranza,
                 "doppia_maggioranza": teste.maggioranza and pesi.maggioranza}[regola.famiglia]
    return Esito(approvata, regola.famiglia, teste, pesi, _motivazione(regola, teste, pesi, approvata))


def _motivazione(regola: Regola, teste: Conteggio, pesi: Conteggio, approvata: bool) -> str:
    base = "dei presenti" if regola.base == "presenti" else "dei votanti"
    parti = []
    if regola.famiglia in ("per_testa", "doppia_maggioranza"):
        parti.append(f"componenti favorevoli {teste.favorevoli} su {teste.base} {base} "
                     f"(soglia {regola.maggioranza}): {'raggiunta' if teste.maggioranza else 'non raggiunta'}")
    if regola.famiglia in ("ponderata", "doppia_maggioranza"):
        parti.append(f"popolazione favorevole {pesi.favorevoli} su {pesi.base} {base} "
                     f"(soglia {regola.maggioranza}): {'raggiunta' if pesi.maggioranza else 'non raggiunta'}")
    return f"{'Approvata' if approvata else 'Respinta'}: " + "; ".join(parti) + "."
