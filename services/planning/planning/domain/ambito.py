"""The Ambito's own registry entry: its name, Comune capofila and member Comuni.

Populations are dated (``popolazione_al``, 1 January of a year, as ISTAT publishes the resident
population); a new composition is a new event and never overwrites the past: the populations of
every reference date stay readable (``popolazioni``), and so does the composition at any date
(``composizione_al``).

Membership by legal date: each Comune may carry ``aderente_dal``, the date from which it is a
member of the Ambito in law (the regional act that defines the Ambiti, or the Comune's adhesion to
the convenzione, D.Lgs. 267/2000 art. 30), not the day the Ufficio di Piano recorded it. A later
composition that omits it for a Comune already recorded with one keeps it. A Comune left out of
a later composition is a member until the day that composition was recorded (the platform knows
no earlier legal date for a departure: a known one is recorded by recording the composition that
day). Without ``aderente_dal`` a Comune counts as a member from the day its first composition was
recorded.

Leaving by legal date: each Comune may carry ``cessato_dal``, the first day on which it is no
longer a member in law (the regional act that redraws the Ambiti, or the Comune's withdrawal from
the convenzione, D.Lgs. 267/2000 art. 30, on the date the act or the convenzione sets): a member
from ``aderente_dal`` up to the day before ``cessato_dal``. It is kept when a later composition
omits it, also when that composition leaves the Comune out: the legal date, not the day of
recording, ends its membership. A Comune with a ``cessato_dal`` on or before today is not a member
of the Comitato configured today.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import verifica_istat_comune


def verifica_composizione(capofila: str, comuni: list[dict]) -> None:
    """Every Comune once, with a six-digit ISTAT code and a population; the capofila among them."""
    codici = [c["istat"] for c in comuni]
    if not comuni:
        raise RuleViolation("Un Ambito comprende almeno un Comune.", rule="ambito.comuni_presenti", field="comuni")
    for i, c in enumerate(comuni):
        verifica_istat_comune(c["istat"], f"comuni.{i}.istat")
        if c["popolazione"] < 0:
            raise RuleViolation("La popolazione non può essere negativa.", rule="ambito.popolazione",
                                field=f"comuni.{i}.popolazione")
        if c.get("cessato_dal") is not None and c.get("aderente_dal") is not None \
                and c["cessato_dal"] <= c["aderente_dal"]:
            raise RuleViolation("La data di cessazione segue quella di adesione.", rule="ambito.cessazione",
                                field=f"comuni.{i}.cessato_dal")
    duplicati = sorted({c for c in codici if codici.count(c) > 1})
    if duplicati:
        raise RuleViolation(f"Comuni ripetuti: {', '.join(duplicati)}.", rule="ambito.comuni_unici", field="comuni")
    if capofila not in codici:
        raise RuleViolation("Il Comune capofila deve essere uno dei Comuni dell'Ambito.",
                            rule="ambito.capofila_membro", field="capofila_istat")


def con_adesioni(comuni: list[dict], precedenti: list[dict]) -> list[dict]:
    """``comuni`` with the ``aderente_dal`` and ``cessato_dal`` of the previous composition kept where the
    new one omits them."""
    nuovi = []
    for c in comuni:
        c = dict(c)
        for campo in ("aderente_dal", "cessato_dal"):
            gia = {p["istat"]: p.get(campo) for p in precedenti}
            if c.get(campo) is None:
                c.pop(campo, None)
                if gia.get(c["istat"]) is not None:
                    c[campo] = gia[c["istat"]]
        nuovi.append(c)
    return nuovi


def in_carica(comuni: list[dict], giorno: date) -> list[dict]:
    """The Comuni of a composition that have not left the Ambito by ``giorno`` (``cessato_dal`` after it)."""
    return [c for c in comuni if c.get("cessato_dal") is None or c["cessato_dal"] > giorno]


class Ambito(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "ambito")

    @event("Registrato")
    def __init__(self, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                 comuni: list[dict]) -> None:
        self.tenant_id = tenant_id
        self._applica(nome, capofila_istat, popolazione_al, comuni)

    @classmethod
    def registra(cls, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                 comuni: list[dict]) -> "Ambito":
        verifica_composizione(capofila_istat, comuni)
        return cls(tenant_id=tenant_id, nome=nome, capofila_istat=capofila_istat,
                   popolazione_al=popolazione_al, comuni=con_adesioni(comuni, []))

    def aggiorna(self, nome: str, capofila_istat: str, popolazione_al: date, comuni: list[dict]) -> bool:
        """Record a new composition; False when it is the one in force (nothing recorded)."""
        verifica_composizione(capofila_istat, comuni)
        comuni = con_adesioni(comuni, self.comuni)
        if (nome, capofila_istat, popolazione_al, comuni) == self.composizione():
            return False
        self._aggiorna(nome=nome, capofila_istat=capofila_istat, popolazione_al=popolazione_al, comuni=comuni)
        return True

    @event("ComposizioneAggiornata")
    def _aggiorna(self, nome: str, capofila_istat: str, popolazione_al: date,
                  comuni: list[dict]) -> None:
        self._applica(nome, capofila_istat, popolazione_al, comuni)

    def _applica(self, nome: str, capofila_istat: str, popolazione_al: date, comuni: list[dict]) -> None:
        self.nome = nome
        self.capofila_istat = capofila_istat
        self.popolazione_al = popolazione_al
        self.comuni = [dict(c) for c in comuni]

    def composizione(self) -> tuple[str, str, date, list[dict]]:
        return self.nome, self.capofila_istat, self.popolazione_al, self.comuni

    @property
    def popolazione(self) -> int:
        return sum(c["popolazione"] for c in self.comuni)


#: one recorded composition: (the day it was recorded, in Rome; popolazione_al; comuni)
Composizione = tuple[date, date, list[dict]]


def popolazioni(composizioni: list[Composizione]) -> list[tuple[date, dict[str, int]]]:
    """The populations of every reference date recorded, oldest first (a date recorded again: its
    latest figures)."""
    per_data: dict[date, dict[str, int]] = {}
    for _, al, comuni in composizioni:
        per_data[al] = {c["istat"]: c["popolazione"] for c in comuni}
    return sorted(per_data.items())


def composizione_al(composizioni: list[Composizione], giorno: date) -> tuple[date | None, list[dict]]:
    """The Comuni members on ``giorno`` with the population of the latest reference date not after it.

    A Comune is a member from its ``aderente_dal`` (else from the day it was first recorded) until
    the day before its ``cessato_dal``, else until the day a composition without it was recorded.
    Returns (reference date of the populations, [{istat, nome, popolazione, aderente_dal,
    cessato_dal}]); a Comune with no population dated on or before ``giorno`` has ``popolazione`` None.
    """
    periodi: dict[str, list[list]] = {}
    nomi: dict[str, str] = {}
    adesioni: dict[str, date | None] = {}
    cessazioni: dict[str, date | None] = {}
    presenti: set[str] = set()
    for registrata_il, _, comuni in composizioni:
        ora = {c["istat"] for c in comuni}
        for istat in presenti - ora:
            periodi[istat][-1][1] = cessazioni.get(istat) or registrata_il
        for c in comuni:
            nomi[c["istat"]] = c["nome"]
            adesioni[c["istat"]] = c.get("aderente_dal")
            cessazioni[c["istat"]] = c.get("cessato_dal")
            if c["istat"] not in presenti:
                inizio = c.get("aderente_dal") or registrata_il
                periodi.setdefault(c["istat"], []).append([inizio, None])
            elif c.get("aderente_dal") is not None:
                periodi[c["istat"]][-1][0] = c["aderente_dal"]
            periodi[c["istat"]][-1][1] = c.get("cessato_dal")
        presenti = ora
    membri = [istat for istat, ps in periodi.items()
              if any(dal <= giorno and (al is None or giorno < al) for dal, al in ps)]
    storico = [(al, pop) for al, pop in popolazioni(composizioni) if al <= giorno]
    riferimento = storico[-1][0] if storico else None
    risultato = []
    for istat in membri:
        pop = next((p[istat] for _, p in reversed(storico) if istat in p), None)
        risultato.append({"istat": istat, "nome": nomi[istat], "popolazione": pop,
                          "aderente_dal": adesioni[istat], "cessato_dal": cessazioni[istat]})
    return riferimento, risultato
