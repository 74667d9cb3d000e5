"""Funds, the Piano's budget and money itself, no I/O.

- ``Assegnazione``: a fund's annualità with the acts that made it; it never allocates more than it
  holds (``budget.disponibilita_fondo``), an act is recorded once (``fondo.atto_unico``), unknown
  funds and malformed constraints are refused.
- ``Budget``: the lines of the approved version in force (only a newer version replaces them); a
  line never receives more than planned (``budget.capienza_linea``), an unknown line is refused
  (``budget.linea_esistente``), and the quadro reconciles: previsto = allocato + da allocare.

Amounts, CIG, CUP and the codice fiscale of an organisation are the kit's (``ambiti_kit.values``,
tested in ``shared/tests/unit/test_values.py``).
"""

from __future__ import annotations

import copy
import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambiti_kit.errors import RuleViolation
from finance.domain.budget import Budget, chiave_linea
from finance.domain.fondi import FONDI, Assegnazione, atto, verifica_fondo, verifica_vincoli

TENANT = "15-S09"
DECRETO = atto("decreto", "312", date(2024, 11, 14), "Ministero del Lavoro e delle Politiche Sociali")
SECONDO = atto("decreto", "45", date(2025, 3, 2), "Ministero del Lavoro e delle Politiche Sociali")
QUOTA = {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "2", "3"]}
FAST = settings(max_examples=200, deadline=None, database=None)


def refused(rule: str, field: str | None, command: Callable[[], Any], *aggregates: Any) -> RuleViolation:
    """``command`` raises ``rule`` on ``field`` and leaves ``aggregates`` (state and pending events) as they were."""
    prima = [(copy.deepcopy(a.__dict__), list(a.pending_events)) for a in aggregates]
    with pytest.raises(RuleViolation) as info:
        command()
    assert (info.value.rule, info.value.field) == (rule, field), (info.value.rule, info.value.field, info.value)
    dopo = [(a.__dict__, list(a.pending_events)) for a in aggregates]
    assert dopo == prima, "a refused command changed the aggregate"
    return info.value


def replay(events: list[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


# -- Assegnazione ------------------------------------------------------------------------

def fnps(importo_: str = "300000.00", vincoli: dict | None = None) -> Assegnazione:
    return Assegnazione.registra(TENANT, "FNPS", 2024, Decimal(importo_), DECRETO,
                                 QUOTA if vincoli is None else vincoli, "amministrativo@15-S09")


def test_an_assignment_is_one_per_fund_annualita_and_tenant_with_its_act() -> None:
    a = fnps()
    assert a.id == Assegnazione.create_id(TENANT, "FNPS", 2024)
    assert a.id not in (Assegnazione.create_id(TENANT, "FNPS", 2025), Assegnazione.create_id(TENANT, "FNA", 2024),
                        Assegnazione.create_id("15-S10", "FNPS", 2024))
    assert (a.totale, a.allocato, a.disponibile) == (Decimal("300000.00"), Decimal("0.00"), Decimal("300000.00"))
    assert a.atti == [{**DECRETO, "importo": Decimal("300000.00")}] and a.vincoli == QUOTA
    [registrata] = a.collect_events()
    assert type(registrata).__name__ == "Registrata" and registrata.tenant_id == TENANT
    assert registrata.registrata_da == "amministrativo@15-S09" and registrata.atto["numero"] == "312"


@pytest.mark.parametrize("fondo", sorted(FONDI))
def test_every_fund_of_the_catalogue_can_be_assigned(fondo: str) -> None:
    a = Assegnazione.registra(TENANT, fondo, 2025, Decimal("10.00"), DECRETO, {}, "a")
    assert a.fondo == fondo and verifica_fondo(fondo) == fondo


@pytest.mark.parametrize("fondo", ["FNPSS", "fnps", "", "FONDO_POVERTA"])
def test_an_unknown_fund_is_refused(fondo: str) -> None:
    with pytest.raises(RuleViolation) as info:
        Assegnazione.registra(TENANT, fondo, 2024, Decimal("10.00"), DECRETO, {}, "a")
    assert (info.value.rule, info.value.field) == ("fondo.noto", "fondo")
    assert "FNPS" in str(info.value)  # names what is allowed


@pytest.mark.parametrize(("vincoli", "rule", "field"), [
    ({"quota_servizi_percentuale": "0", "macro_livelli_servizi": ["1"]}, "fondo.quota_servizi",
     "vincoli.quota_servizi_percentuale"),
    ({"quota_servizi_percentuale": "100.01", "macro_livelli_servizi": ["1"]}, "fondo.quota_servizi",
     "vincoli.quota_servizi_percentuale"),
    ({"quota_servizi_percentuale": "40"}, "fondo.quota_servizi", "vincoli.macro_livelli_servizi"),
    ({"quota_servizi_percentuale": "40", "macro_livelli_servizi": []}, "fondo.quota_servizi",
     "vincoli.macro_livelli_servizi"),
    ({"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1", "6"]}, "fondo.macro_livelli",
     "vincoli.macro_livelli_servizi"),
    ({"macro_livelli_servizi": ["0"]}, "fondo.macro_livelli", "vincoli.macro_livelli_servizi"),
])
def test_malformed_constraints_are_refused_naming_the_field(vincoli: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as info:
        fnps(vincoli=vincoli)
    assert (info.value.rule, info.value.field) == (rule, field)


@pytest.mark.parametrize("vincoli", [{}, QUOTA, {"quota_servizi_percentuale": "100", "macro_livelli_servizi": ["5"]},
                                     {"quota_servizi_percentuale": "0.01", "macro_livelli_servizi": ["1"]},
                                     {"macro_livelli_servizi": ["2"]}])
def test_well_formed_constraints_are_kept(vincoli: dict) -> None:
    verifica_vincoli(vincoli)
    assert fnps(vincoli=vincoli).vincoli == vincoli


def test_a_further_act_adds_to_the_annualita_once() -> None:
    a = fnps("300000.00")
    a.integra(Decimal("25000.50"), SECONDO, "amministrativo@15-S09")
    assert (a.totale, a.disponibile) == (Decimal("325000.50"), Decimal("325000.50"))
    assert [x["numero"] for x in a.atti] == ["312", "45"] and a.atti[1]["importo"] == Decimal("25000.50")
    refused("fondo.atto_unico", "atto.numero", lambda: a.integra(Decimal("1.00"), SECONDO, "a"), a)
    refused("fondo.atto_unico", "atto.numero", lambda: a.integra(Decimal("1.00"), {**DECRETO, "ente": "altro"}, "a"),
            a)
    # the same number on another date is another act
    a.integra(Decimal("1.00"), {**SECONDO, "data": date(2025, 3, 3)}, "a")
    assert a.totale == Decimal("325001.50")


def test_allocations_never_exceed_what_the_annualita_holds() -> None:
    a = fnps("1000.00")
    uno, due = uuid.uuid4(), uuid.uuid4()
    a.alloca(uno, Decimal("600.00"), "a")
    a.alloca(due, Decimal("300.00"), "a")
    a.alloca(uno, Decimal("99.99"), "a")
    assert (a.allocato, a.disponibile) == (Decimal("999.99"), Decimal("0.01"))
    assert a.allocazioni == {str(uno): Decimal("699.99"), str(due): Decimal("300.00")}
    exc = refused("budget.disponibilita_fondo", "importo", lambda: a.alloca(due, Decimal("0.02"), "a"), a)
    assert "0.01" in str(exc) and "FNPS 2024" in str(exc)
    a.alloca(due, Decimal("0.01"), "a")
    assert a.disponibile == Decimal("0.00")
    refused("budget.disponibilita_fondo", "importo", lambda: a.alloca(uno, Decimal("0.01"), "a"), a)
    # a further decree makes room again
    a.integra(Decimal("50.00"), SECONDO, "a")
    a.alloca(uno, Decimal("50.00"), "a")
    events = a.collect_events()
    assert [type(e).__name__ for e in events] == ["Registrata", "Allocata", "Allocata", "Allocata", "Allocata",
                                                  "Integrata", "Allocata"]
    fresca = replay(events)
    assert (fresca.totale, fresca.allocato, fresca.allocazioni, fresca.version) == (
        a.totale, a.allocato, a.allocazioni, a.version)


@FAST
@given(st.lists(st.integers(1, 80_000), max_size=40), st.integers(1, 500_000))
def test_random_allocations_stay_within_the_assignment(richieste: list[int], totale: int) -> None:
    a = fnps(str(Decimal(totale).scaleb(-2)))
    accolte = Decimal("0.00")
    for n in richieste:
        somma = Decimal(n).scaleb(-2)
        if somma <= a.disponibile:
            a.alloca(uuid.uuid4(), somma, "a")
            accolte += somma
        else:
            refused("budget.disponibilita_fondo", "importo", lambda: a.alloca(uuid.uuid4(), somma, "a"), a)
        assert Decimal("0.00") <= a.disponibile and a.allocato + a.disponibile == a.totale
    allocate = [e.importo for e in a.collect_events() if type(e).__name__ == "Allocata"]
    assert sum(allocate, Decimal("0.00")) == accolte == a.allocato <= a.totale


# -- Budget -------------------------------------------------------------------------------

def intervento(codice: str, *linee: tuple[str, int, str], comuni: tuple[str, ...] = ("065134", "065021")) -> dict:
    return {"codice": codice, "titolo": f"Intervento {codice}",
            "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}, "comuni": list(comuni),
            "linee_budget": [{"fondo": f, "anno": y, "importo": i} for f, y, i in linee]}


V1 = [intervento("A.1.1", ("FNPS", 2025, "182500.00"), ("FNA", 2026, "96000.50")),
      intervento("B.2.1", ("FNPS", 2025, "40000.00"))]


def budget(versione: int | None = 1, interventi: list[dict] = V1) -> Budget:
    b = Budget(tenant_id=TENANT, piano_id=uuid.uuid4(), anno_inizio=2025, anno_fine=2027)
    if versione is not None:
        assert b.recepisci(versione, f"{versione}/2025", interventi)
    return b


def test_the_approved_version_brings_its_lines_and_only_a_newer_one_replaces_them() -> None:
    b = budget(None)
    assert b.versione is None and b.righe == [] and b.quadro() == []
    assert b.recepisci(1, "1/2025", V1) is True
    assert (b.versione, b.deliberazione) == (1, "1/2025")
    assert [(r["intervento"], r["fondo"], r["anno"], r["importo"]) for r in b.righe] == [
        ("A.1.1", "FNPS", 2025, Decimal("182500.00")), ("A.1.1", "FNA", 2026, Decimal("96000.50")),
        ("B.2.1", "FNPS", 2025, Decimal("40000.00"))]
    assert b.righe[0]["comuni"] == ["065134", "065021"] and b.righe[0]["titolo"] == "Intervento A.1.1"
    assert [type(e).__name__ for e in b.collect_events()] == ["Aperto", "VersioneRecepita"]
    # the same version again (a redelivered message) and an older one change nothing
    v2 = [intervento("A.1.1", ("FNPS", 2025, "190000.00"))]
    for versione in (1, 0):
        assert b.recepisci(versione, "x", v2) is False
        assert b.collect_events() == [] and b.versione == 1 and len(b.righe) == 3
    assert b.recepisci(3, "7/2026", v2) is True  # a later one (versions may be skipped) replaces them
    assert (b.versione, b.deliberazione, [r["importo"] for r in b.righe]) == (3, "7/2026", [Decimal("190000.00")])
    assert b.recepisci(2, "x", V1) is False and b.versione == 3
    [recepita] = b.collect_events()
    assert recepita.versione == 3 and recepita.tenant_id == TENANT


def test_a_line_receives_up_to_what_is_planned_and_no_cent_more() -> None:
    b = budget()
    s1, s2 = uuid.uuid4(), uuid.uuid4()
    b.alloca("A.1.1", "FNPS", 2025, s1, Decimal("100000.00"), "a")
    b.alloca("A.1.1", "FNPS", 2025, s2, Decimal("82499.99"), "a")
    exc = refused("budget.capienza_linea", "importo",
                  lambda: b.alloca("A.1.1", "FNPS", 2025, s1, Decimal("0.02"), "a"), b)
    assert "182500.00" in str(exc) and "182499.99" in str(exc)
    b.alloca("A.1.1", "FNPS", 2025, s1, Decimal("0.01"), "a")
    refused("budget.capienza_linea", "importo", lambda: b.alloca("A.1.1", "FNPS", 2025, s1, Decimal("0.01"), "a"), b)
    # the other lines are untouched by the full one
    b.alloca("A.1.1", "FNA", 2026, uuid.uuid4(), Decimal("96000.50"), "a")
    b.alloca("B.2.1", "FNPS", 2025, uuid.uuid4(), Decimal("1.00"), "a")
    assert b.allocato == {chiave_linea("A.1.1", "FNPS", 2025): Decimal("182500.00"),
                          chiave_linea("A.1.1", "FNA", 2026): Decimal("96000.50"),
                          chiave_linea("B.2.1", "FNPS", 2025): Decimal("1.00")}
    events = b.collect_events()
    assert [type(e).__name__ for e in events].count("Allocato") == 5
    assert replay(events).allocato == b.allocato


@pytest.mark.parametrize(("intervento_", "fondo", "anno"), [
    ("Z.9.9", "FNPS", 2025),   # no such intervento
    ("A.1.1", "FNA", 2025),    # the intervento draws on FNA, but in 2026
    ("B.2.1", "FNA", 2026),    # FNA 2026 exists, on another intervento
    ("A.1.1", "QSFP", 2025),   # a fund the intervento does not draw on
])
def test_an_unknown_line_is_refused(intervento_: str, fondo: str, anno: int) -> None:
    b = budget()
    exc = refused("budget.linea_esistente", "intervento",
                  lambda: b.alloca(intervento_, fondo, anno, uuid.uuid4(), Decimal("1.00"), "a"), b)
    assert intervento_ in str(exc)


def test_before_any_approved_version_there_is_no_line() -> None:
    b = budget(None)
    refused("budget.linea_esistente", "intervento",
            lambda: b.alloca("A.1.1", "FNPS", 2025, uuid.uuid4(), Decimal("1.00"), "a"), b)


def test_the_quadro_reconciles_previsto_allocato_and_da_allocare() -> None:
    b = budget()
    b.alloca("A.1.1", "FNPS", 2025, uuid.uuid4(), Decimal("12345.67"), "a")
    b.alloca("A.1.1", "FNA", 2026, uuid.uuid4(), Decimal("96000.50"), "a")
    quadro = b.quadro()
    campi = ("intervento", "fondo", "anno", "importo", "allocato", "da_allocare")
    assert [tuple(q[k] for k in campi) for q in quadro] == [
        ("A.1.1", "FNPS", 2025, "182500.00", "12345.67", "170154.33"),
        ("A.1.1", "FNA", 2026, "96000.50", "96000.50", "0.00"),
        ("B.2.1", "FNPS", 2025, "40000.00", "0.00", "40000.00")]
    for q in quadro:
        assert Decimal(q["importo"]) == Decimal(q["allocato"]) + Decimal(q["da_allocare"])
        assert all(isinstance(q[k], str) for k in ("importo", "allocato", "da_allocare"))


@FAST
@given(st.lists(st.tuples(st.sampled_from([("A.1.1", "FNPS", 2025), ("A.1.1", "FNA", 2026), ("B.2.1", "FNPS", 2025)]),
                          st.integers(1, 8_000_000)), max_size=40))
def test_random_allocations_never_overfill_a_line_and_the_quadro_always_reconciles(
        richieste: list[tuple[tuple[str, str, int], int]]) -> None:
    b = budget()
    previsto = {(r["intervento"], r["fondo"], r["anno"]): r["importo"] for r in b.righe}
    accolto = dict.fromkeys(previsto, Decimal("0.00"))
    for linea, n in richieste:
        somma = Decimal(n).scaleb(-2)
        if accolto[linea] + somma <= previsto[linea]:
            b.alloca(*linea, uuid.uuid4(), somma, "a")
            accolto[linea] += somma
        else:
            refused("budget.capienza_linea", "importo", lambda: b.alloca(*linea, uuid.uuid4(), somma, "a"), b)
    for q in b.quadro():
        linea = (q["intervento"], q["fondo"], q["anno"])
        assert Decimal(q["allocato"]) == accolto[linea] <= previsto[linea]
        assert Decimal(q["importo"]) == Decimal(q["allocato"]) + Decimal(q["da_allocare"])
        assert Decimal(q["da_allocare"]) >= 0


@pytest.mark.parametrize("amount", ["0.00", "-10.00", "0.001"])
def test_funds_and_lines_refuse_zero_negative_and_sub_cent_amounts(amount: str) -> None:
    """Defence in depth: the aggregates check the amounts they record, however they were parsed
    (a negative allocation would hand money back to the fund without any act saying so)."""
    a, b = fnps("1000.00"), budget()
    d = Decimal(amount)
    refused("importo.positivo", "importo", lambda: a.alloca(uuid.uuid4(), d, "a"), a)
    refused("importo.positivo", "importo", lambda: a.integra(d, SECONDO, "a"), a)
    refused("importo.positivo", "importo", lambda: b.alloca("A.1.1", "FNPS", 2025, uuid.uuid4(), d, "a"), b)
    with pytest.raises(RuleViolation) as info:
        Assegnazione.registra(TENANT, "FNA", 2025, d, DECRETO, {}, "a")
    assert info.value.rule == "importo.positivo"
    assert (a.totale, a.allocato, b.allocato) == (Decimal("1000.00"), Decimal("0.00"), {})
