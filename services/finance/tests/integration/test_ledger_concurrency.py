"""Concurrent money on the real PostgreSQL store: two ``Finance`` instances (two pools, as two
service replicas would have) race from threads on the same allocation.

However the requests interleave, the ledger never commits more than the allocation holds,
liquidates more than a commitment or pays more than a liquidation: a request that loses the
optimistic-concurrency race is decided again on the winner's balances. The accepted requests
are serialisable (their reported balances are the running totals of one order), the same
``Idempotency-Key`` sent at once through both replicas moves the money once, and the final
balances equal a recomputation from the events stored in PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest
from eventsourcing.persistence import Tracking

from ambiti_kit.errors import Conflict, DomainError, RuleViolation
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.idempotency import Once
from ambiti_kit.testing.fixtures import Infra
from finance.application import Finance
from finance.domain.comandi import NuovaAllocazione, NuovaLiquidazione, NuovoImpegno, NuovoMandato, RiduzioneImpegno

ZERO = Decimal("0.00")
AUTORE = "amministrativo@15-FCONC"
COOP = {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": "00743110157"}
DETERMINA = {"tipo": "determina", "numero": "12/2026", "data": date(2026, 2, 3)}
DECRETO = {"tipo": "decreto", "numero": "312", "data": date(2024, 11, 14), "ente": "Ministero del Lavoro"}
_planning_notifications = itertools.count(1)  # the upstream notification ids finance tracks
_tenants = itertools.count(1)


@pytest.fixture(scope="module")
def apps(infra: Infra) -> Iterator[tuple[Finance, Finance]]:
    settings = replace(infra, namespace=f"{infra.namespace}fconc_").settings("finance")
    one, two = open_event_store(settings, Finance), open_event_store(settings, Finance)
    yield one, two
    one.close()
    two.close()


@dataclass
class Registro:
    """One allocation of its own (a tenant per test, so that tests never share a ledger)."""

    tenant: str
    stanziamento_id: uuid.UUID


def tracking() -> Tracking:
    return Tracking("planning", next(_planning_notifications))


def stanziamento(app: Finance, importo: str) -> Registro:
    """An approved plan's line funded by FNPS 2025 with ``importo``: the ledger the test races on."""
    tenant = f"15-FCONC{next(_tenants)}"
    piano_id = uuid.uuid4()
    app.apri_budget_del_piano(tenant, piano_id, 2025, 2027, tracking())
    app.recepisci_versione(tenant, piano_id, 1, "1/2025", [{
        "codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
        "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}, "comuni": ["065134"],
        "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": importo}]}], tracking())
    app.registra_assegnazione(tenant, "FNPS", 2025, Decimal(importo), DECRETO, {}, AUTORE)
    risultato, _ = app.alloca(Once(tenant, AUTORE, f"alloca-{uuid.uuid4()}"),
                              NuovaAllocazione(piano_id, "A.1.1", "FNPS", 2025, 2025, Decimal(importo)))
    return Registro(tenant, uuid.UUID(risultato["id"]))


def impegna(app: Finance, r: Registro, importo: Decimal, chiave: str | None = None,
            oggetto: str = "Servizio di assistenza domiciliare") -> tuple[dict, bool]:
    return app.impegna(Once(r.tenant, AUTORE, chiave or f"imp-{uuid.uuid4()}"),
                       NuovoImpegno(r.stanziamento_id, importo, COOP, None, None, DETERMINA, oggetto, None))


def liquida(app: Finance, r: Registro, impegno_id: str, importo: Decimal, numero: str) -> tuple[dict, bool]:
    fattura = {"numero": numero, "data": date(2026, 3, 1)}
    return app.liquida(Once(r.tenant, AUTORE, f"liq-{uuid.uuid4()}"),
                       NuovaLiquidazione(r.stanziamento_id, uuid.UUID(impegno_id), fattura, importo))


def paga(app: Finance, r: Registro, liquidazione_id: str, importo: Decimal) -> tuple[dict, bool]:
    return app.paga(Once(r.tenant, AUTORE, f"man-{uuid.uuid4()}"),
                    NuovoMandato(r.stanziamento_id, uuid.UUID(liquidazione_id), importo, date(2026, 3, 15)))


def ricalcolo(app: Finance, r: Registro) -> dict[str, Any]:
    """The ledger recomputed from the events stored in PostgreSQL (their fields only)."""
    stanziato, impegni, liquidazioni, pagato = ZERO, {}, {}, ZERO
    for e in app.events.get(r.stanziamento_id):
        kind = type(e).__name__
        if kind in ("Aperto", "Incrementato"):
            stanziato += e.importo
        elif kind == "ImpegnoAssunto":
            impegni[str(e.impegno_id)] = {"importo": e.importo, "ridotto": ZERO, "liquidato": ZERO}
        elif kind == "ImpegnoRidotto":
            impegni[str(e.impegno_id)]["ridotto"] += e.importo
        elif kind == "LiquidazioneDisposta":
            impegni[str(e.impegno_id)]["liquidato"] += e.importo
            liquidazioni[str(e.liquidazione_id)] = {"importo": e.importo, "pagato": ZERO}
        elif kind == "MandatoEmesso":
            liquidazioni[str(e.liquidazione_id)]["pagato"] += e.importo
            pagato += e.importo
    impegnato = sum((i["importo"] - i["ridotto"] for i in impegni.values()), ZERO)
    liquidato = sum((i["liquidato"] for i in impegni.values()), ZERO)
    return {"stanziato": stanziato, "impegnato": impegnato, "liquidato": liquidato, "pagato": pagato,
            "disponibile": stanziato - impegnato, "impegni": impegni, "liquidazioni": liquidazioni}


def assert_ledger_consistent(one: Finance, two: Finance, r: Registro) -> dict[str, Any]:
    """Both replicas read the same ledger; it keeps every invariant and equals the stored events."""
    calcolo = ricalcolo(one, r)
    for app in (one, two):
        s = app.stanziamento(r.tenant, r.stanziamento_id)
        assert (s.stanziato, s.impegnato, s.liquidato, s.pagato, s.disponibile) == tuple(
            calcolo[k] for k in ("stanziato", "impegnato", "liquidato", "pagato", "disponibile"))
        assert ZERO <= s.impegnato <= s.stanziato and s.disponibile >= 0
        for impegno_id, i in s.impegni.items():
            assert i["liquidato"] <= i["importo"] - i["ridotto"], impegno_id
            assert (i["importo"], i["ridotto"], i["liquidato"]) == tuple(
                calcolo["impegni"][impegno_id][k] for k in ("importo", "ridotto", "liquidato"))
        for liquidazione_id, liq in s.liquidazioni.items():
            assert liq["pagato"] <= liq["importo"], liquidazione_id
            assert (liq["importo"], liq["pagato"]) == tuple(calcolo["liquidazioni"][liquidazione_id].values())
    return calcolo


def race(one: Finance, two: Finance, amounts: list[Decimal],
         command: Callable[[Finance, int, Decimal], tuple[dict, bool]]) -> tuple[list, list, list]:
    """Run ``command`` for each amount from 8 threads through both replicas; (accepted, refused, conflicts)."""
    def attempt(i: int) -> tuple[str, Any]:
        app = (one, two)[i % 2]
        try:
            return "ok", command(app, i, amounts[i])
        except Conflict as exc:
            return "conflict", exc
        except RuleViolation as exc:
            return "refused", exc

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(len(amounts))))
    assert all(o[1][1] is False for o in outcomes if o[0] == "ok"), "a fresh key was answered as a replay"
    accepted = [(amounts[i], o[1][0]) for i, o in enumerate(outcomes) if o[0] == "ok"]
    refused = [(amounts[i], o[1]) for i, o in enumerate(outcomes) if o[0] == "refused"]
    conflicts = [o[1] for o in outcomes if o[0] == "conflict"]
    return accepted, refused, conflicts


def assert_serialisable(accepted: list[tuple[Decimal, dict]], figure: str, start: Decimal) -> None:
    """The balances each accepted request reported are the running totals of one order of them."""
    ordered = sorted(accepted, key=lambda a: Decimal(a[1][figure]))
    running = start
    for amount, result in ordered:
        running += amount
        assert Decimal(result[figure]) == running, (figure, result, running)


def amounts(seed: int, n: int, low: int, high: int) -> list[Decimal]:
    rnd = random.Random(seed)
    return [Decimal(rnd.randint(low, high)).scaleb(-2) for _ in range(n)]


def test_concurrent_commitments_on_one_allocation_never_exceed_it(apps) -> None:
    one, two = apps
    r = stanziamento(one, "1000.00")
    richieste = amounts(1, 48, 2_000, 9_000)  # 48 × 20–90 €: well over the 1,000 € available
    assert sum(richieste) > Decimal("1500.00")
    accepted, refused, conflicts = race(one, two, richieste, lambda app, i, x: impegna(app, r, x))
    assert not conflicts, conflicts
    calcolo = assert_ledger_consistent(one, two, r)
    totale = sum((a for a, _ in accepted), ZERO)
    assert totale == calcolo["impegnato"] <= Decimal("1000.00")
    assert refused and all(exc.rule == "impegno.disponibilita" for _, exc in refused)
    # availability only went down: every refusal was right, even on the final balance
    assert all(amount > calcolo["disponibile"] for amount, _ in refused)
    assert sorted(result["impegno_id"] for _, result in accepted) == sorted(calcolo["impegni"])
    assert_serialisable(accepted, "impegnato", ZERO)


def test_concurrent_liquidations_on_one_commitment_never_exceed_it(apps) -> None:
    one, two = apps
    r = stanziamento(one, "1000.00")
    impegno, _ = impegna(one, r, Decimal("700.00"))
    richieste = amounts(2, 48, 1_000, 6_000)
    accepted, refused, conflicts = race(
        one, two, richieste, lambda app, i, x: liquida(app, r, impegno["impegno_id"], x, f"FT-{i}"))
    assert not conflicts, conflicts
    calcolo = assert_ledger_consistent(one, two, r)
    i = calcolo["impegni"][impegno["impegno_id"]]
    totale = sum((a for a, _ in accepted), ZERO)
    assert totale == i["liquidato"] == calcolo["liquidato"] <= Decimal("700.00")
    assert refused and all(exc.rule == "liquidazione.residuo_impegno" for _, exc in refused)
    assert all(amount > Decimal("700.00") - totale for amount, _ in refused)
    assert sorted(result["liquidazione_id"] for _, result in accepted) == sorted(calcolo["liquidazioni"])
    assert_serialisable(accepted, "liquidato", ZERO)
    assert calcolo["impegnato"] == Decimal("700.00")  # liquidations do not touch the commitment


def test_concurrent_payments_on_one_liquidation_never_exceed_it(apps) -> None:
    one, two = apps
    r = stanziamento(one, "1000.00")
    impegno, _ = impegna(one, r, Decimal("700.00"))
    liquidazione, _ = liquida(one, r, impegno["impegno_id"], Decimal("500.00"), "FT-1")
    richieste = amounts(3, 48, 500, 4_000)
    accepted, refused, conflicts = race(
        one, two, richieste, lambda app, i, x: paga(app, r, liquidazione["liquidazione_id"], x))
    assert not conflicts, conflicts
    calcolo = assert_ledger_consistent(one, two, r)
    totale = sum((a for a, _ in accepted), ZERO)
    assert totale == calcolo["pagato"] == calcolo["liquidazioni"][liquidazione["liquidazione_id"]]["pagato"]
    assert totale <= Decimal("500.00")
    assert refused and all(exc.rule == "mandato.residuo_liquidazione" for _, exc in refused)
    assert all(amount > Decimal("500.00") - totale for amount, _ in refused)
    assert_serialisable(accepted, "pagato", ZERO)


def test_the_same_idempotency_key_through_both_replicas_at_once_moves_money_once(apps) -> None:
    one, two = apps
    r = stanziamento(one, "1000.00")
    for n in range(12):
        chiave = f"doppio-click-{n}-{uuid.uuid4().hex[:8]}"
        barrier = threading.Barrier(2)

        def send(app: Finance) -> tuple[dict, bool]:
            barrier.wait()
            return impegna(app, r, Decimal("10.00"), chiave=chiave)

        with ThreadPoolExecutor(2) as pool:
            (a, replayed_a), (b, replayed_b) = pool.map(send, (one, two))
        assert sorted([replayed_a, replayed_b]) == [False, True], (n, replayed_a, replayed_b)
        assert a == b  # the replay is the first answer, saldi included
        assert Decimal(a["impegnato"]) == Decimal("10.00") * (n + 1)
        # and again, later, from either replica: still the first answer
        assert impegna(two, r, Decimal("10.00"), chiave=chiave) == (a, True)
    calcolo = assert_ledger_consistent(one, two, r)
    assert len(calcolo["impegni"]) == 12 and calcolo["impegnato"] == Decimal("120.00")


def test_the_same_key_with_two_different_bodies_at_once_acts_once_and_refuses_the_other(apps) -> None:
    one, two = apps
    r = stanziamento(one, "1000.00")
    for n in range(8):
        chiave = f"stessa-chiave-{n}-{uuid.uuid4().hex[:8]}"
        barrier = threading.Barrier(2)

        def send(args: tuple[Finance, Decimal]) -> Any:
            app, importo = args
            barrier.wait()
            try:
                return impegna(app, r, importo, chiave=chiave)
            except DomainError as exc:
                return exc.rule

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(send, [(one, Decimal("10.00")), (two, Decimal("20.00"))]))
        assert outcomes.count("idempotenza.corpo_diverso") == 1, outcomes
        [(result, replayed)] = [o for o in outcomes if isinstance(o, tuple)]
        assert replayed is False
    calcolo = assert_ledger_consistent(one, two, r)
    assert len(calcolo["impegni"]) == 8


def test_a_random_mix_of_movements_from_both_replicas_keeps_every_invariant(apps) -> None:
    one, two = apps
    r = stanziamento(one, "5000.00")
    rnd = random.Random(4)
    seed_impegni = [impegna(one, r, Decimal("400.00"))[0]["impegno_id"] for _ in range(4)]
    seed_liquidazioni = [liquida(one, r, i, Decimal("150.00"), "FT-0")[0]["liquidazione_id"] for i in seed_impegni]
    plan = [(rnd.choice(["impegna", "riduci", "liquida", "liquida", "paga", "paga"]),
             Decimal(rnd.randint(100, 25_000)).scaleb(-2), rnd.randrange(4)) for _ in range(80)]
    lock = threading.Lock()
    impegni, liquidazioni = list(seed_impegni), list(seed_liquidazioni)

    def step(i: int) -> str:
        app = (one, two)[i % 2]
        op, importo, k = plan[i]
        with lock:
            impegno, liq = impegni[k % len(impegni)], liquidazioni[k % len(liquidazioni)]
        try:
            if op == "impegna":
                result, _ = impegna(app, r, importo)
                with lock:
                    impegni.append(result["impegno_id"])
            elif op == "riduci":
                app.riduci_impegno(Once(r.tenant, AUTORE, f"rid-{uuid.uuid4()}"), RiduzioneImpegno(
                    r.stanziamento_id, uuid.UUID(impegno), importo, "economia", "Ribasso d'asta"))
            elif op == "liquida":
                result, _ = liquida(app, r, impegno, importo, f"FT-{i + 1}")
                with lock:
                    liquidazioni.append(result["liquidazione_id"])
            else:
                paga(app, r, liq, importo)
            return "ok"
        except Conflict as exc:
            return f"conflict:{exc.rule}"
        except RuleViolation as exc:
            return exc.rule or "?"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(step, range(len(plan))))
    assert not [o for o in outcomes if o.startswith("conflict")], outcomes
    assert outcomes.count("ok") >= 10 and len(set(outcomes)) > 2, outcomes
    calcolo = assert_ledger_consistent(one, two, r)
    assert calcolo["pagato"] <= calcolo["liquidato"] <= calcolo["impegnato"] <= calcolo["stanziato"]
    stored = list(one.events.get(r.stanziamento_id))
    assert [e.originator_version for e in stored] == list(range(1, len(stored) + 1))  # no gap, no duplicate
    assert len(stored) == two.stanziamento(r.tenant, r.stanziamento_id).version


#: One replica as its own OS process: commits ``n`` impegni of ``importo`` on one ledger, prints the outcomes.
RACER = """
import json, sys, uuid
from decimal import Decimal
from datetime import date
from ambiti_kit.errors import DomainError
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.idempotency import Once
from ambiti_kit.settings import ServiceSettings
from finance.application import Finance
from finance.domain.comandi import NuovoImpegno

tenant, sid, n, importo = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3]), Decimal(sys.argv[4])
app = open_event_store(ServiceSettings(service="finance"), Finance)
esiti = []
for i in range(n):
    try:
        app.impegna(Once(tenant, "amministrativo", f"proc-{uuid.uuid4()}"), NuovoImpegno(
            sid, importo, {"denominazione": "Coop", "codice_fiscale": "00743110157"}, None, None,
            {"tipo": "determina", "numero": "1", "data": date(2026, 1, 1)}, "Servizio", None))
        esiti.append("ok")
    except DomainError as exc:
        esiti.append(exc.rule)
app.close()
print(json.dumps(esiti))
"""


def test_two_processes_committing_on_one_allocation_never_exceed_it(apps, infra: Infra) -> None:
    """Two OS processes (as two finance replicas) each try 40 commitments of 30.00 on 1,000.00: 33 fit."""
    one, _ = apps
    r = stanziamento(one, "1000.00")
    env = replace(infra, namespace=f"{infra.namespace}fconc_").env()
    racers = [subprocess.Popen([sys.executable, "-c", RACER, r.tenant, str(r.stanziamento_id), "40", "30.00"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    esiti = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err[-3000:]
        esiti += json.loads(out.strip().splitlines()[-1])
    assert esiti.count("ok") == 33 and set(esiti) == {"ok", "impegno.disponibilita"}, esiti
    finale = one.stanziamento(r.tenant, r.stanziamento_id)
    assert finale.impegnato == Decimal("990.00") and finale.disponibile == Decimal("10.00")
    impegni = [e for e in one.events.get(r.stanziamento_id) if type(e).__name__ == "ImpegnoAssunto"]
    assert sum(e.importo for e in impegni) == Decimal("990.00") and len(impegni) == 33
