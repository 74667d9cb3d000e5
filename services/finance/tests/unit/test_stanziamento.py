"""The ledger of one allocation (``Stanziamento``), no I/O: its invariants under random histories.

A hypothesis state machine drives random sequences of incrementa / impegna / riduci / liquida /
paga with random amounts in cents — many of them chosen to sit just above what is left, so that
about half the commands must be refused. After every step:

- impegnato ≤ stanziato and disponibile ≥ 0;
- for every impegno, liquidato ≤ importo − ridotto; for every liquidazione, pagato ≤ importo;
- a refused command leaves the aggregate exactly as it was and emits no event;
- an accepted command emits exactly one event, and the command is accepted exactly when an
  independent model (recomputed from the emitted events only) says it fits.

At the end of each history the balances equal a recomputation from the events' own fields (not
the aggregate's properties) and a fresh aggregate replayed from those events.
Then one pinned case per rule the ledger names.
"""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ambiti_kit.errors import Conflict, DomainError, NotFound, RuleViolation
from finance.domain.stanziamento import Stanziamento

TENANT = "15-S09"
ZERO = Decimal("0.00")
ATTO = {"tipo": "determina", "numero": "12/2026", "data": date(2026, 2, 3)}
COOP = {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": "00743110157"}


def cents(n: int) -> Decimal:
    """``n`` euro cents as a two-decimal ``Decimal`` (how amounts reach the domain)."""
    return Decimal(n).scaleb(-2)


def nuovo(stanziato: str = "1000.00", tenant: str = TENANT) -> Stanziamento:
    return Stanziamento(tenant_id=tenant, assegnazione_id=uuid.uuid4(), fondo="FNPS", annualita=2025,
                        piano_id=uuid.uuid4(), intervento="A.1.1", anno=2025, importo=Decimal(stanziato),
                        aperto_da="amministrativo@15-S09")


def impegna(s: Stanziamento, importo: str | Decimal, impegno_id: uuid.UUID | None = None,
            tipo_atto: str = "determina") -> uuid.UUID:
    impegno_id = impegno_id or uuid.uuid4()
    s.impegna(impegno_id, Decimal(importo), COOP, "ZA12B3C4D5", None, {**ATTO, "tipo": tipo_atto},
              "Servizio di assistenza domiciliare", None, "amministrativo@15-S09")
    return impegno_id


def liquida(s: Stanziamento, impegno_id: uuid.UUID, importo: str | Decimal, numero: str = "FT-1",
            liquidazione_id: uuid.UUID | None = None) -> uuid.UUID:
    liquidazione_id = liquidazione_id or uuid.uuid4()
    s.liquida(liquidazione_id, impegno_id, {"numero": numero, "data": date(2026, 3, 1)}, Decimal(importo),
              "amministrativo@15-S09")
    return liquidazione_id


def paga(s: Stanziamento, liquidazione_id: uuid.UUID, importo: str | Decimal,
         mandato_id: uuid.UUID | None = None) -> uuid.UUID:
    mandato_id = mandato_id or uuid.uuid4()
    s.paga(mandato_id, liquidazione_id, Decimal(importo), date(2026, 3, 15), "amministrativo@15-S09")
    return mandato_id


# -- the independent recomputation ---------------------------------------------------------

@dataclass
class Ricalcolo:
    """Balances recomputed from the events' fields only (never from the aggregate's properties)."""

    stanziato: Decimal = ZERO
    impegni: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    liquidazioni: dict[str, dict[str, Any]] = field(default_factory=dict)
    mandati: dict[str, Decimal] = field(default_factory=dict)

    def applica(self, e: Any) -> None:
        kind = type(e).__name__
        if kind in ("Aperto", "Incrementato"):
            self.stanziato += e.importo
        elif kind == "ImpegnoAssunto":
            assert str(e.impegno_id) not in self.impegni
            self.impegni[str(e.impegno_id)] = {"importo": e.importo, "ridotto": ZERO, "liquidato": ZERO}
        elif kind == "ImpegnoRidotto":
            self.impegni[str(e.impegno_id)]["ridotto"] += e.importo
        elif kind == "LiquidazioneDisposta":
            assert str(e.liquidazione_id) not in self.liquidazioni
            self.impegni[str(e.impegno_id)]["liquidato"] += e.importo
            self.liquidazioni[str(e.liquidazione_id)] = {"impegno_id": str(e.impegno_id), "importo": e.importo,
                                                         "pagato": ZERO}
        elif kind == "MandatoEmesso":
            assert str(e.mandato_id) not in self.mandati
            liq = self.liquidazioni[str(e.liquidazione_id)]
            assert liq["impegno_id"] == str(e.impegno_id)
            liq["pagato"] += e.importo
            self.mandati[str(e.mandato_id)] = e.importo
        else:  # pragma: no cover - a new event kind must be added here
            raise AssertionError(f"unexpected event {kind}")

    @classmethod
    def di(cls, events: list[Any]) -> "Ricalcolo":
        r = cls()
        for e in events:
            r.applica(e)
        return r

    @property
    def impegnato(self) -> Decimal:
        return sum((i["importo"] - i["ridotto"] for i in self.impegni.values()), ZERO)

    @property
    def liquidato(self) -> Decimal:
        return sum((i["liquidato"] for i in self.impegni.values()), ZERO)

    @property
    def pagato(self) -> Decimal:
        return sum(self.mandati.values(), ZERO)

    @property
    def disponibile(self) -> Decimal:
        return self.stanziato - self.impegnato

    def residuo_impegno(self, impegno_id: str) -> Decimal:
        i = self.impegni[impegno_id]
        return i["importo"] - i["ridotto"] - i["liquidato"]

    def residuo_liquidazione(self, liquidazione_id: str) -> Decimal:
        liq = self.liquidazioni[liquidazione_id]
        return liq["importo"] - liq["pagato"]

    def saldi(self) -> tuple[Decimal, ...]:
        return self.stanziato, self.impegnato, self.liquidato, self.pagato, self.disponibile


def saldi(s: Stanziamento) -> tuple[Decimal, ...]:
    return s.stanziato, s.impegnato, s.liquidato, s.pagato, s.disponibile


def stato(s: Stanziamento) -> Any:
    """Everything a command could change, for comparing before and after a refusal."""
    return copy.deepcopy((s.version, s.stanziato, s.impegni, s.liquidazioni, s.mandati))


def rebuilt(events: list[Any]) -> Stanziamento:
    """A fresh aggregate replayed from the events, as the repository's projector does."""
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    assert isinstance(aggregate, Stanziamento)
    return aggregate


def assert_invariants(s: Stanziamento) -> None:
    assert s.impegnato <= s.stanziato
    assert s.disponibile >= 0
    assert s.disponibile == s.stanziato - s.impegnato
    liquidato: dict[str, Decimal] = {}
    for l in s.liquidazioni.values():
        liquidato[l["impegno_id"]] = liquidato.get(l["impegno_id"], ZERO) + l["importo"]
    pagato: dict[str, Decimal] = {}
    for m in s.mandati.values():
        pagato[m["liquidazione_id"]] = pagato.get(m["liquidazione_id"], ZERO) + m["importo"]
    for impegno_id, i in s.impegni.items():
        assert ZERO <= i["ridotto"] <= i["importo"], impegno_id
        assert ZERO <= i["liquidato"] <= i["importo"] - i["ridotto"], impegno_id
        assert liquidato.get(impegno_id, ZERO) == i["liquidato"], impegno_id
    for liquidazione_id, liq in s.liquidazioni.items():
        assert ZERO <= liq["pagato"] <= liq["importo"], liquidazione_id
        assert pagato.get(liquidazione_id, ZERO) == liq["pagato"], liquidazione_id
    assert ZERO <= s.pagato <= s.liquidato <= s.impegnato <= s.stanziato
    for figure in saldi(s):
        assert figure.as_tuple().exponent >= -2  # still cents: no float crept in


# -- the state machine -------------------------------------------------------------------

def importo_intorno(data: st.DataObject, limite: Decimal) -> Decimal:
    """An amount in cents around ``limite``: under, exactly, one cent over, or far over."""
    top = max(int(limite * 100), 0)
    return cents(data.draw(st.one_of(
        st.integers(1, max(top, 1)),
        st.integers(1, max(top // 3, 1)),
        st.just(max(top, 1)),
        st.just(top + 1),
        st.integers(top + 1, top + 500_000),
    ), label="cents"))


class Registro(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.s = nuovo("5000.00")
        self.events: list[Any] = list(self.s.collect_events())
        self.model = Ricalcolo.di(self.events)
        self.fatture: dict[str, set[tuple[str, date]]] = {}
        self.accepted = 0
        self.refused = 0

    # the one way commands are run: refused → nothing changed; accepted → one event, as predicted
    def esegui(self, atteso: str | None, command: Callable[[], Any], kind: str) -> None:
        prima = stato(self.s)
        try:
            command()
        except DomainError as exc:
            assert atteso is not None, f"{kind} refused ({exc.rule}: {exc}) but the model says it fits"
            assert exc.rule == atteso or (atteso == "404" and isinstance(exc, NotFound)), (exc.rule, atteso)
            assert stato(self.s) == prima, "a refused command changed the ledger"
            assert self.s.collect_events() == [], "a refused command emitted an event"
            self.refused += 1
            return
        assert atteso is None, f"{kind} accepted but the model expected {atteso}"
        nuovi = self.s.collect_events()
        assert [type(e).__name__ for e in nuovi] == [kind]
        assert nuovi[0].originator_version == self.s.version == prima[0] + 1
        assert nuovi[0].tenant_id == TENANT
        for e in nuovi:
            self.model.applica(e)
        self.events.extend(nuovi)
        self.accepted += 1

    @precondition(lambda self: self.model.disponibile < Decimal("2000.00"))  # mostly a ledger running low
    @rule(data=st.data())
    def incrementa(self, data: st.DataObject) -> None:
        importo = cents(data.draw(st.integers(1, 300_000), label="cents"))
        self.esegui(None, lambda: self.s.incrementa(importo, "amministrativo@15-S09"), "Incrementato")

    @rule(data=st.data(), tipo=st.sampled_from(["determina", "deliberazione", "decreto"]))
    def impegna(self, data: st.DataObject, tipo: str) -> None:
        importo = importo_intorno(data, self.model.disponibile)
        atteso = ("impegno.atto" if tipo == "decreto"
                  else "impegno.disponibilita" if importo > self.model.disponibile else None)
        self.esegui(atteso, lambda: impegna(self.s, importo, tipo_atto=tipo), "ImpegnoAssunto")

    @precondition(lambda self: self.model.impegni)
    @rule(data=st.data(), tipo=st.sampled_from(["disimpegno", "economia", "storno"]))
    def riduci(self, data: st.DataObject, tipo: str) -> None:
        impegno_id = data.draw(st.sampled_from(list(self.model.impegni)), label="impegno")
        residuo = self.model.residuo_impegno(impegno_id)
        importo = importo_intorno(data, residuo)
        atteso = "riduzione.tipo" if tipo == "storno" else "riduzione.residuo" if importo > residuo else None
        self.esegui(atteso, lambda: self.s.riduci(uuid.UUID(impegno_id), importo, tipo, "Minor fabbisogno",
                                                  "amministrativo@15-S09"), "ImpegnoRidotto")

    @precondition(lambda self: self.model.impegni)
    @rule(data=st.data(), numero=st.sampled_from(["FT-1", "FT-2", "FT-3", "FT-4"]),
          giorno=st.integers(1, 2))
    def liquida(self, data: st.DataObject, numero: str, giorno: int) -> None:
        impegno_id = data.draw(st.sampled_from(list(self.model.impegni)), label="impegno")
        residuo = self.model.residuo_impegno(impegno_id)
        importo = importo_intorno(data, residuo)
        fattura = (numero, date(2026, 3, giorno))
        gia = fattura in self.fatture.get(impegno_id, set())
        atteso = ("liquidazione.residuo_impegno" if importo > residuo
                  else "liquidazione.fattura_unica" if gia else None)

        def command() -> None:
            self.s.liquida(uuid.uuid4(), uuid.UUID(impegno_id), {"numero": numero, "data": fattura[1]}, importo,
                           "amministrativo@15-S09")
            self.fatture.setdefault(impegno_id, set()).add(fattura)

        self.esegui(atteso, command, "LiquidazioneDisposta")

    @precondition(lambda self: self.model.liquidazioni)
    @rule(data=st.data())
    def paga(self, data: st.DataObject) -> None:
        liquidazione_id = data.draw(st.sampled_from(list(self.model.liquidazioni)), label="liquidazione")
        residuo = self.model.residuo_liquidazione(liquidazione_id)
        importo = importo_intorno(data, residuo)
        atteso = "mandato.residuo_liquidazione" if importo > residuo else None
        self.esegui(atteso, lambda: paga(self.s, uuid.UUID(liquidazione_id), importo), "MandatoEmesso")

    @rule(data=st.data(), che=st.sampled_from(["riduci", "liquida", "paga"]))
    def su_id_sconosciuto(self, data: st.DataObject, che: str) -> None:
        ignoto = uuid.uuid4()
        importo = cents(data.draw(st.integers(1, 10_000), label="cents"))
        command = {"riduci": lambda: self.s.riduci(ignoto, importo, "economia", "x", "a"),
                   "liquida": lambda: liquida(self.s, ignoto, importo),
                   "paga": lambda: paga(self.s, ignoto, importo)}[che]
        self.esegui("404", command, "—")

    @invariant()
    def invarianti(self) -> None:
        assert_invariants(self.s)
        assert saldi(self.s) == self.model.saldi()

    def teardown(self) -> None:
        # the end of the history: an independent recomputation and a fresh replay agree with the ledger
        ricalcolo = Ricalcolo.di(self.events)
        assert ricalcolo.saldi() == saldi(self.s)
        assert {k: v["importo"] - v["ridotto"] for k, v in ricalcolo.impegni.items()} == \
            {k: v["importo"] - v["ridotto"] for k, v in self.s.impegni.items()}
        assert {k: (v["importo"], v["pagato"]) for k, v in ricalcolo.liquidazioni.items()} == \
            {k: (v["importo"], v["pagato"]) for k, v in self.s.liquidazioni.items()}
        fresco = rebuilt(self.events)
        assert saldi(fresco) == saldi(self.s)
        assert (fresco.id, fresco.version) == (self.s.id, self.s.version) == (self.s.id, len(self.events))
        assert (fresco.impegni, fresco.liquidazioni, fresco.mandati) == (self.s.impegni, self.s.liquidazioni,
                                                                         self.s.mandati)
        assert_invariants(fresco)


Registro.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None, database=None,
                                      suppress_health_check=[HealthCheck.too_slow,
                                                             HealthCheck.filter_too_much])
TestRegistroCasuale = Registro.TestCase


def test_a_long_seeded_random_history_keeps_every_invariant_and_replays_to_the_same_balances() -> None:
    """Thousands of steps in one ledger (longer than the state machine's histories)."""
    rnd = random.Random(20260214)
    s = nuovo("250000.00")
    events = list(s.collect_events())
    impegni: list[uuid.UUID] = []
    liquidazioni: list[uuid.UUID] = []
    refused = 0
    for step in range(2000):
        op = rnd.choice(["impegna", "impegna", "riduci", "liquida", "liquida", "paga", "paga", "incrementa"])
        importo = cents(rnd.choice([rnd.randint(1, 2_000_000), rnd.randint(1, 50_000), rnd.randint(1, 500)]))
        prima = (s.version, saldi(s), len(s.impegni), len(s.liquidazioni), len(s.mandati))
        try:
            if op == "incrementa":
                s.incrementa(importo, "a")
            elif op == "impegna":
                impegni.append(impegna(s, importo))
            elif op == "riduci" and impegni:
                s.riduci(rnd.choice(impegni), importo, rnd.choice(["disimpegno", "economia"]), "motivo", "a")
            elif op == "liquida" and impegni:
                liquidazioni.append(liquida(s, rnd.choice(impegni), importo, numero=f"FT-{step}"))
            elif op == "paga" and liquidazioni:
                paga(s, rnd.choice(liquidazioni), importo)
        except RuleViolation:
            refused += 1
            assert (s.version, saldi(s), len(s.impegni), len(s.liquidazioni), len(s.mandati)) == prima
            assert s.collect_events() == []
            continue
        events.extend(s.collect_events())
        assert_invariants(s)
    assert refused > 300 and len(events) > 1000  # both kinds of outcome were exercised
    assert Ricalcolo.di(events).saldi() == saldi(s) == saldi(rebuilt(events))
    assert s.pagato > 0 and s.impegnato > 0


# -- pinned cases, one per rule ------------------------------------------------------------

def refused(s: Stanziamento, command: Callable[[], Any], kind: type[DomainError], rule: str | None,
            field: str | None = "importo") -> DomainError:
    prima, pendenti = stato(s), list(s.pending_events)
    with pytest.raises(kind) as info:
        command()
    assert info.value.rule == rule and (rule is None or info.value.field == field), (info.value.rule,
                                                                                      info.value.field)
    assert stato(s) == prima and s.pending_events == pendenti, "a refused command changed the ledger"
    return info.value


def test_impegno_up_to_exactly_the_available_amount_then_one_cent_more_is_refused() -> None:
    s = nuovo("1000.00")
    impegna(s, "600.00")
    impegna(s, "399.99")
    assert s.disponibile == Decimal("0.01")
    exc = refused(s, lambda: impegna(s, "0.02"), RuleViolation, "impegno.disponibilita")
    assert "0.01" in str(exc) and "0.02" in str(exc)
    impegna(s, "0.01")
    assert (s.impegnato, s.disponibile) == (Decimal("1000.00"), ZERO)
    refused(s, lambda: impegna(s, "0.01"), RuleViolation, "impegno.disponibilita")


def test_an_increment_makes_room_for_a_commitment_that_did_not_fit() -> None:
    s = nuovo("100.00")
    refused(s, lambda: impegna(s, "150.00"), RuleViolation, "impegno.disponibilita")
    s.incrementa(Decimal("50.00"), "amministrativo@15-S09")
    impegna(s, "150.00")
    assert (s.stanziato, s.impegnato, s.disponibile) == (Decimal("150.00"), Decimal("150.00"), ZERO)
    assert [type(e).__name__ for e in s.collect_events()] == ["Aperto", "Incrementato", "ImpegnoAssunto"]


def test_impegno_must_cite_a_deliberazione_or_a_determina() -> None:
    s = nuovo()
    refused(s, lambda: impegna(s, "10.00", tipo_atto="decreto"), RuleViolation, "impegno.atto", "atto.tipo")
    impegna(s, "10.00", tipo_atto="deliberazione")
    impegna(s, "10.00", tipo_atto="determina")


def test_the_same_impegno_id_twice_is_a_conflict() -> None:
    s = nuovo()
    impegno = impegna(s, "10.00")
    refused(s, lambda: impegna(s, "10.00", impegno_id=impegno), Conflict, "impegno.unico", None)


def test_riduzione_up_to_what_is_left_to_liquidate_then_refused() -> None:
    s = nuovo("1000.00")
    impegno = impegna(s, "500.00")
    liquida(s, impegno, "200.00")
    refused(s, lambda: s.riduci(impegno, Decimal("300.01"), "disimpegno", "Servizio ridotto", "a"),
            RuleViolation, "riduzione.residuo")
    s.riduci(impegno, Decimal("100.00"), "economia", "Ribasso d'asta", "a")
    s.riduci(impegno, Decimal("200.00"), "disimpegno", "Servizio ridotto", "a")
    assert s.residuo_impegno(str(impegno)) == ZERO
    assert (s.impegnato, s.disponibile, s.liquidato) == (Decimal("200.00"), Decimal("800.00"), Decimal("200.00"))
    refused(s, lambda: s.riduci(impegno, Decimal("0.01"), "economia", "x", "a"), RuleViolation,
            "riduzione.residuo")
    ridotto = [e for e in s.collect_events() if type(e).__name__ == "ImpegnoRidotto"]
    assert [(e.tipo, e.motivo, e.importo) for e in ridotto] == [
        ("economia", "Ribasso d'asta", Decimal("100.00")), ("disimpegno", "Servizio ridotto", Decimal("200.00"))]


def test_riduzione_is_a_disimpegno_or_an_economia() -> None:
    s = nuovo()
    impegno = impegna(s, "10.00")
    refused(s, lambda: s.riduci(impegno, Decimal("1.00"), "storno", "x", "a"), RuleViolation, "riduzione.tipo",
            "tipo")


def test_liquidazione_up_to_what_is_left_of_its_impegno() -> None:
    s = nuovo("1000.00")
    impegno = impegna(s, "300.00")
    liquida(s, impegno, "100.00", numero="FT-1")
    s.riduci(impegno, Decimal("50.00"), "economia", "Ribasso", "a")
    refused(s, lambda: liquida(s, impegno, "150.01", numero="FT-2"), RuleViolation,
            "liquidazione.residuo_impegno")
    liquida(s, impegno, "150.00", numero="FT-2")
    assert s.residuo_impegno(str(impegno)) == ZERO


def test_the_same_invoice_is_liquidated_once_per_impegno() -> None:
    s = nuovo("1000.00")
    impegno, altro = impegna(s, "300.00"), impegna(s, "300.00")
    liquida(s, impegno, "100.00", numero="FT-7")
    refused(s, lambda: liquida(s, impegno, "50.00", numero="FT-7"), Conflict, "liquidazione.fattura_unica", None)
    liquida(s, altro, "50.00", numero="FT-7")  # another commitment: another invoice book
    liquidazione = liquida(s, impegno, "50.00", numero="FT-8")
    refused(s, lambda: liquida(s, impegno, "1.00", numero="FT-9", liquidazione_id=liquidazione), Conflict,
            "liquidazione.unica", None)


def test_mandato_up_to_what_is_left_of_its_liquidazione() -> None:
    s = nuovo("1000.00")
    liquidazione = liquida(s, impegna(s, "300.00"), "200.00")
    paga(s, liquidazione, "120.00")
    refused(s, lambda: paga(s, liquidazione, "80.01"), RuleViolation, "mandato.residuo_liquidazione")
    mandato = paga(s, liquidazione, "80.00")
    assert (s.residuo_liquidazione(str(liquidazione)), s.pagato) == (ZERO, Decimal("200.00"))
    refused(s, lambda: paga(s, liquidazione, "0.01"), RuleViolation, "mandato.residuo_liquidazione")
    refused(s, lambda: paga(s, liquidazione, "0.01", mandato_id=mandato), Conflict, "mandato.unico", None)
    [emesso, *_] = [e for e in s.collect_events() if type(e).__name__ == "MandatoEmesso"]
    assert emesso.data == date(2026, 3, 15)


def test_unknown_impegno_or_liquidazione_is_not_found() -> None:
    s = nuovo()
    impegna(s, "10.00")
    for command in (lambda: s.riduci(uuid.uuid4(), Decimal("1.00"), "economia", "x", "a"),
                    lambda: liquida(s, uuid.uuid4(), "1.00"),
                    lambda: paga(s, uuid.uuid4(), "1.00")):
        refused(s, command, NotFound, None)
    with pytest.raises(NotFound):
        s.residuo_impegno(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        s.residuo_liquidazione(str(uuid.uuid4()))


def test_every_movement_names_who_and_carries_the_tenant() -> None:
    s = nuovo()
    impegno = impegna(s, "10.00")
    paga(s, liquida(s, impegno, "10.00"), "10.00")
    aperto, assunto, disposta, emesso = s.collect_events()
    assert {e.tenant_id for e in (aperto, assunto, disposta, emesso)} == {TENANT}
    assert (assunto.assunto_da, disposta.disposta_da, emesso.emesso_da) == ("amministrativo@15-S09",) * 3
    assert emesso.impegno_id == str(impegno) and assunto.beneficiario == COOP and assunto.cig == "ZA12B3C4D5"


def test_one_ledger_per_fund_annualita_and_budget_line_in_a_tenant() -> None:
    assegnazione, piano = uuid.uuid4(), uuid.uuid4()
    one = Stanziamento.create_id(TENANT, assegnazione, piano, "A.1.1", 2025)
    assert one == Stanziamento.create_id(TENANT, assegnazione, piano, "A.1.1", 2025)
    assert one != Stanziamento.create_id("15-S10", assegnazione, piano, "A.1.1", 2025)
    assert one != Stanziamento.create_id(TENANT, assegnazione, piano, "A.1.1", 2026)


@pytest.mark.parametrize("importo", ["0.00", "-0.01", "-100.00", "0.001"])
def test_the_ledger_itself_refuses_zero_negative_and_sub_cent_amounts(importo: str) -> None:
    """Defence in depth: the HTTP layer parses amounts, but the ledger checks what it records
    itself — a negative riduzione would otherwise raise the net commitment above the allocation
    (impegnato 200 on a stanziato of 100), a negative mandato would un-pay a liquidation."""
    s = nuovo("100.00")
    impegno = impegna(s, "100.00")
    liquidazione = liquida(s, impegno, "10.00")
    amount = Decimal(importo)
    for command in (lambda: impegna(s, amount),
                    lambda: s.riduci(impegno, amount, "economia", "x", "a"),
                    lambda: liquida(s, impegno, amount, numero="FT-neg"),
                    lambda: paga(s, liquidazione, amount),
                    lambda: s.incrementa(amount, "a")):
        refused(s, command, RuleViolation, "importo.positivo")
    assert_invariants(s)
    assert (s.stanziato, s.impegnato, s.liquidato, s.pagato) == (
        Decimal("100.00"), Decimal("100.00"), Decimal("10.00"), ZERO)
