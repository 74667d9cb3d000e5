"""Tenant isolation across the four services, end to end.

An Ambito never sees another Ambito's plans: reads by id answer 404, lists and the
regional view leave them out, and the monitoring read model itself (PostgreSQL row-level
security, read through the kit's ``enter_scope``) returns only the scoped tenant's rows.
A rule-based hypothesis test then interleaves random commands of three tenants (plans,
partners in the registry) with reads by id and of every list of every service: no list
ever holds another Ambito's id, and the own-service lists hold exactly the tenant's own
items as soon as the write returned.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from psycopg import sql
from psycopg.rows import dict_row
from stdnum import luhn

from ambiti_kit.auth import regione_of
from ambiti_kit.readmodel import APP_ROLE, enter_scope
from ambiti_kit.testing.fixtures import Infra, Platform, wait_until
from ambiti_kit.testing.lists import every_page

# Fixed scenario: A and B share Region 15, C is in Region 16.
A, B, C = "15-ISOA", "15-ISOB", "16-ISOC"
# Rule-based scenario: two Ambiti of Region 15 and one of Region 16; Region 17 has none of them.
D, E, F = "15-ISOD", "15-ISOE", "16-ISOF"
MACHINE_TENANTS = (D, E, F)
ALL_TENANTS = (A, B, C, D, E, F)
REGIONS = ("15", "16", "17")
SERVICES = ("planning", "monitoring", "finance")
#: Roles each service admits to read a plan (one is drawn per read).
READERS = {"planning": ("coordinatore", "revisore", "assistente_sociale"),
           "monitoring": ("coordinatore", "revisore", "assistente_sociale"),
           "finance": ("coordinatore", "amministrativo", "revisore")}
#: Where each service answers a read of one plan by its id.
READ_PATH = {"planning": "/piani/{}", "monitoring": "/piani/{}", "finance": "/budget/{}"}
#: every list of every service (the machine reads any of them as a revisore)
LISTS = (("planning", "/piani"), ("planning", "/sedute"), ("planning", "/deliberazioni"),
         ("planning", "/proposte-tavoli"), ("finance", "/assegnazioni"), ("finance", "/stanziamenti"),
         ("finance", "/impegni"), ("finance", "/liquidazioni"), ("finance", "/mandati"), ("finance", "/riparti"),
         ("finance", "/dati-riferimento"), ("finance", "/contributi"), ("partnership", "/enti"),
         ("partnership", "/tavoli"), ("partnership", "/procedure"), ("partnership", "/accreditamenti"),
         ("partnership", "/affidamenti"), ("monitoring", "/piani"), ("monitoring", "/deliberazioni"),
         ("monitoring", "/prestazioni"), ("monitoring", "/personale"))
LISTS_READ: list[tuple[str, str]] = []
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Leak(Exception):
    """A response carried data of another tenant (not an AssertionError: polling must not retry it)."""


@dataclass
class World:
    """The plans this module created, per tenant and first year; it outlives hypothesis examples, as the
    platform's data does."""

    plans: dict[str, dict[int, str]] = field(default_factory=lambda: {t: {} for t in ALL_TENANTS})
    enti: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in ALL_TENANTS})

    def ids_of(self, tenant: str) -> set[str]:
        return set(self.plans[tenant].values())

    def own_ids(self, tenant: str) -> set[str]:
        """Everything the tenant created (plans and partners)."""
        return self.ids_of(tenant) | self.enti[tenant]

    def all_ids(self) -> set[str]:
        return {pid for tenant in self.plans for pid in self.plans[tenant].values()} | {
            e for tenant in self.enti for e in self.enti[tenant]}

    def owned(self, tenants: tuple[str, ...]) -> list[tuple[str, str]]:
        return sorted((t, pid) for t in tenants for pid in self.plans[t].values())


WORLD = World()


@dataclass(frozen=True)
class Actor:
    """Who calls: an Ambito with one role, or a Region."""

    tenant: str | None = None
    role: str = "coordinatore"
    regione: str | None = None

    def forbidden(self) -> set[str]:
        """Strings that must never appear in this actor's responses."""
        if self.tenant:
            return {t for t in ALL_TENANTS if t != self.tenant} | (WORLD.all_ids() - WORLD.own_ids(self.tenant))
        # the Region: no individual plan at all, no Ambito of another Region
        return {t for t in ALL_TENANTS if regione_of(t) != self.regione} | WORLD.all_ids()


class Harness:
    """HTTP clients of the services and a superuser connection; every response is checked for leaks."""

    def __init__(self, platform: Platform) -> None:
        self.infra: Infra = platform.infra
        self.clients = {name: platform.services[name].client() for name in (*SERVICES, "partnership")}
        self._codici = 0
        self.db = psycopg.connect(self.infra.database_url, autocommit=True, row_factory=dict_row)
        self._tokens: dict[Actor, dict[str, str]] = {}

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.db.close()

    def headers(self, actor: Actor) -> dict[str, str]:
        if actor not in self._tokens:
            self._tokens[actor] = (self.infra.auth(actor.tenant, actor.role) if actor.tenant
                                   else self.infra.auth(None, "regione", regione=actor.regione))
        return self._tokens[actor]

    def call(self, actor: Actor, service: str, method: str, path: str, *, echoed: str | None = None,
             **kw: Any) -> httpx.Response:
        """One request as ``actor``; ``echoed`` is the id the caller itself put in the URL."""
        response = self.clients[service].request(method, path, headers=self.headers(actor), **kw)
        assert response.status_code < 500, response.text
        leaked = sorted(s for s in actor.forbidden() - {echoed} if s in response.text)
        if leaked:
            raise Leak(f"{actor} got {leaked} from {method} {service}{path}: {response.text}")
        return response

    def create(self, tenant: str, anno_inizio: int) -> httpx.Response:
        """Draft a plan and record it in WORLD; a triennium already drafted must answer 409."""
        response = self.call(Actor(tenant), "planning", "POST", "/piani", json={
            "titolo": f"Piano di Zona {tenant} {anno_inizio}", "anno_inizio": anno_inizio,
            "anno_fine": anno_inizio + 2})
        if anno_inizio in WORLD.plans[tenant]:
            assert_problem(response, 409)
            assert response.json()["rule"] == "piano.unico_per_triennio"
        else:
            assert response.status_code == 201, response.text
            assert response.json()["ambito"] == tenant
            WORLD.plans[tenant][anno_inizio] = response.json()["id"]
        return response

    def register_ente(self, tenant: str) -> None:
        """Register a partner (an ETS with a valid codice fiscale) in the tenant's registry."""
        self._codici += 1
        body = f"{7_000_000 + self._codici:010d}"
        codice = body + luhn.calc_check_digit(body)
        response = self.call(Actor(tenant), "partnership", "POST", "/enti", json={
            "codice_fiscale": codice, "tipo": "ets", "denominazione": f"Cooperativa {codice}",
            "forma_giuridica": "cooperativa sociale",
            "runts": {"sezione": "imprese_sociali", "numero_repertorio": str(self._codici)}})
        assert response.status_code == 201, response.text
        WORLD.enti[tenant].add(response.json()["id"])

    def list_every_page(self, actor: Actor, service: str, path: str) -> list[dict[str, Any]]:
        """A whole list, page after page (``call`` checks every page for another tenant's data)."""
        return every_page(lambda params: self.call(actor, service, "GET", path, params=params), limite=50)[0]

    def read_own(self, actor: Actor, service: str, piano_id: str) -> dict[str, Any]:
        """The owner's read of a plan, waiting for the consumers of monitoring and finance."""
        path = READ_PATH[service].format(piano_id)
        body = wait_until(lambda: (r := self.call(actor, service, "GET", path, echoed=piano_id)).status_code == 200
                          and r.json(), timeout=20, message=f"{piano_id} readable in {service}")
        assert body["ambito"] == actor.tenant
        assert body["piano_id" if service == "finance" else "id"] == piano_id
        return body

    def read_others(self, actor: Actor, service: str, piano_id: str) -> None:
        """Another Ambito's plan (or an unknown id): 404 problem+json, nothing of the plan."""
        response = self.call(actor, service, "GET", READ_PATH[service].format(piano_id), echoed=piano_id)
        assert_problem(response, 404)

    def monitoring_list(self, actor: Actor) -> list[dict[str, Any]]:
        """The actor's monitoring list, once it holds exactly the actor's plans."""
        expected = WORLD.ids_of(actor.tenant)
        listed = wait_until(lambda: (r := self.call(actor, "monitoring", "GET", "/piani")).status_code == 200
                            and {p["id"] for p in r.json()["elementi"]} == expected and [r.json()["elementi"]],
                            timeout=20,
                            message=f"monitoring list of {actor.tenant}")[0]
        assert {p["ambito"] for p in listed} <= {actor.tenant}
        return listed

    def regional_view(self, regione: str, tenants: tuple[str, ...]) -> dict[str, Any]:
        """The Region's view, once its counts for ``tenants`` of this Region match WORLD."""
        expected = {t: len(WORLD.plans[t]) for t in tenants if regione_of(t) == regione and WORLD.plans[t]}
        actor = Actor(regione=regione)

        def caught_up() -> dict[str, Any] | None:
            view = self.call(actor, "monitoring", "GET", "/regione/piani").json()
            counts = {a["ambito"]: a["piani"] for a in view["ambiti"] if a["ambito"] in tenants}
            return view if counts == expected else None

        view = wait_until(caught_up, timeout=20, message=f"regional view of {regione}")
        assert view["regione"] == regione
        assert all(regione_of(a["ambito"]) == regione for a in view["ambiti"]), view
        return view

    # -- the read model, straight from PostgreSQL --------------------------------------------
    def _select_all(self, table: str, scope: dict[str, str] | None) -> list[dict[str, Any]]:
        """``SELECT *`` with no WHERE, as ``ambiti_app`` in ``scope`` (None: the role, no scope)."""
        query = sql.SQL("SELECT * FROM {}.{}").format(
            sql.Identifier(f"{self.infra.namespace}monitoring"), sql.Identifier(table))
        with self.db.transaction(), self.db.cursor() as curs:
            if scope is None:
                curs.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            else:
                enter_scope(curs, **scope)
            curs.execute(query)
            return curs.fetchall()

    def piani_rows(self, tenant: str) -> list[dict[str, Any]]:
        return self._select_all("piani", {"tenant": tenant})

    def assert_read_model_scoped(self, tenants: tuple[str, ...]) -> None:
        """Once monitoring caught up with WORLD: each scope sees its own rows only; no scope sees none."""
        wait_until(lambda: all({str(r["piano_id"]) for r in self.piani_rows(t)} == WORLD.ids_of(t)
                               for t in tenants), timeout=20, message="monitoring read model caught up")
        for tenant in tenants:
            assert {r["tenant_id"] for r in self.piani_rows(tenant)} <= {tenant}
        for regione in REGIONS:
            rows = self._select_all("regionale_piani", {"regione": regione})
            assert {r["regione"] for r in rows} <= {regione}, rows
            assert self._select_all("piani", {"regione": regione}) == []
        assert self._select_all("piani", None) == []
        assert self._select_all("regionale_piani", None) == []


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.fixture(scope="module")
def harness(platform: Platform) -> Iterator[Harness]:
    harness = Harness(platform)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture(scope="module")
def plan_of_a(harness: Harness) -> str:
    """A's plan for 2025–2027, once planning, monitoring and finance all serve it to A."""
    assert harness.create(A, 2025).status_code == 201
    piano_id = WORLD.plans[A][2025]
    for service in SERVICES:
        harness.read_own(Actor(A, READERS[service][0]), service, piano_id)
    return piano_id


# -- the fixed scenario ----------------------------------------------------------------------

@pytest.mark.parametrize("other", [B, C], ids=["same_region", "other_region"])
@pytest.mark.parametrize("service", SERVICES)
def test_other_tenant_gets_404_on_a_plan_by_id(harness: Harness, plan_of_a: str, service: str, other: str) -> None:
    """B (same Region) and C (another Region) get 404 problem+json for A's plan, with every reader role."""
    for role in READERS[service]:
        harness.read_others(Actor(other, role), service, plan_of_a)
    # the owner still reads it: the 404 is isolation, not a missing plan
    harness.read_own(Actor(A, READERS[service][0]), service, plan_of_a)


def test_an_unknown_id_looks_like_another_tenants_id(harness: Harness, plan_of_a: str) -> None:
    """A foreign id and a never-created one get the same answer, so ids reveal nothing."""
    unknown = str(uuid.uuid4())
    for service in SERVICES:
        path = READ_PATH[service]
        actor = Actor(B, READERS[service][0])
        foreign = harness.call(actor, service, "GET", path.format(plan_of_a), echoed=plan_of_a).json()
        missing = harness.call(actor, service, "GET", path.format(unknown), echoed=unknown).json()
        masked = {"instance": "", "correlation_id": ""}
        assert {**foreign, **masked, "detail": UUID.sub("<id>", foreign["detail"])} == \
            {**missing, **masked, "detail": UUID.sub("<id>", missing["detail"])}


def test_monitoring_list_holds_only_own_plans(harness: Harness, plan_of_a: str) -> None:
    """B's list has B's plan and not A's; A's has A's and not B's."""
    harness.create(B, 2028)
    listed_b = harness.monitoring_list(Actor(B, "assistente_sociale"))
    assert [p["id"] for p in listed_b] == [WORLD.plans[B][2028]]
    listed_a = harness.monitoring_list(Actor(A))
    assert plan_of_a in {p["id"] for p in listed_a} and WORLD.plans[B][2028] not in {p["id"] for p in listed_a}
    assert harness.monitoring_list(Actor(C)) == []


def test_region_sees_only_its_own_ambiti(harness: Harness, plan_of_a: str) -> None:
    """Region 15 counts A's plans; Region 16 (C's) and 17 see nothing of A."""
    campania = harness.regional_view("15", (A,))
    assert {"ambito": A, "piani": len(WORLD.plans[A])} in [{k: a[k] for k in ("ambito", "piani")}
                                                            for a in campania["ambiti"]]
    for regione in ("16", "17"):
        view = harness.regional_view(regione, (A, C))
        assert A not in {a["ambito"] for a in view["ambiti"]}


def test_read_model_rows_are_filtered_by_row_level_security(harness: Harness, plan_of_a: str) -> None:
    """SELECT * without WHERE, through the kit's scope: only the scoped tenant's rows; unscoped: none."""
    harness.assert_read_model_scoped((A, B, C))
    assert {str(r["piano_id"]) for r in harness.piani_rows(A)} == WORLD.ids_of(A)
    # the rows are there: only the superuser, who bypasses RLS, sees them all
    with harness.db.cursor() as curs:
        curs.execute(sql.SQL("SELECT DISTINCT tenant_id FROM {}.piani").format(
            sql.Identifier(f"{harness.infra.namespace}monitoring")))
        assert {A, B} <= {r["tenant_id"] for r in curs.fetchall()}


# -- random interleavings ----------------------------------------------------------------------

class IsolationMachine(RuleBasedStateMachine):
    """Random commands of D, E (Region 15) and F (Region 16); WORLD is the model of what exists."""

    def __init__(self, harness: Harness) -> None:
        super().__init__()
        self.h = harness

    @initialize(tenant=st.sampled_from(MACHINE_TENANTS), k=st.integers(0, 7))
    def first_plan(self, tenant: str, k: int) -> None:
        """Every run starts with a command (hypothesis's swarm testing may leave a run without creates)."""
        self.h.create(tenant, 2025 + 3 * k)

    @rule(tenant=st.sampled_from(MACHINE_TENANTS), k=st.integers(0, 7))
    def create_plan(self, tenant: str, k: int) -> None:
        self.h.create(tenant, 2025 + 3 * k)

    @rule(actor=st.sampled_from(MACHINE_TENANTS), service=st.sampled_from(SERVICES), data=st.data())
    def read_plan_by_id(self, actor: str, service: str, data: st.DataObject) -> None:
        owned = WORLD.owned(MACHINE_TENANTS)
        # The draws must not depend on how many plans earlier examples left behind (hypothesis replays
        # draws and refuses strategies whose shape changes): a fixed-range index picks among them.
        pick = data.draw(st.integers(min_value=0, max_value=2**16), label="plan index")
        unknown = data.draw(st.uuids(), label="unknown plan")
        if owned and pick % 4:  # mostly plans that exist, sometimes an id nobody has
            owner, piano_id = owned[pick % len(owned)]
        else:
            owner, piano_id = None, str(unknown)
        reader = Actor(actor, data.draw(st.sampled_from(READERS[service]), label="role"))
        if owner == actor:
            self.h.read_own(reader, service, piano_id)
            return
        if owner is not None:  # make sure the plan is there for its owner: the 404 is not lag
            self.h.read_own(Actor(owner, READERS[service][0]), service, piano_id)
        self.h.read_others(reader, service, piano_id)

    @rule(tenant=st.sampled_from(MACHINE_TENANTS))
    def register_ente(self, tenant: str) -> None:
        self.h.register_ente(tenant)

    @rule(actor=st.sampled_from(MACHINE_TENANTS))
    def list_monitoring_plans(self, actor: str) -> None:
        self.h.monitoring_list(Actor(actor, "revisore"))

    @rule(actor=st.sampled_from(MACHINE_TENANTS), listed=st.sampled_from(LISTS))
    def list_own_service(self, actor: str, listed: tuple[str, str]) -> None:
        """Any list of any service: nothing of another Ambito; planning's plans and partnership's registry
        hold exactly the tenant's own, without waiting (read-your-writes)."""
        service, path = listed
        LISTS_READ.append(listed)
        items = self.h.list_every_page(Actor(actor, "revisore"), service, path)
        if (service, path) == ("planning", "/piani"):
            assert {p["id"] for p in items} == WORLD.ids_of(actor)
        elif (service, path) == ("partnership", "/enti"):
            assert {e["id"] for e in items} == WORLD.enti[actor]

    @rule(regione=st.sampled_from(REGIONS))
    def read_regional_view(self, regione: str) -> None:
        self.h.regional_view(regione, MACHINE_TENANTS)

    @invariant()
    def read_model_is_scoped(self) -> None:
        self.h.assert_read_model_scoped(MACHINE_TENANTS)


def test_random_interleavings_never_cross_tenants(harness: Harness) -> None:
    """Random sequences of creates and reads by three tenants never show one tenant another's data."""
    run_state_machine_as_test(lambda: IsolationMachine(harness), settings=settings(
        max_examples=20, stateful_step_count=10, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow]))
    # the machine did run commands: at least one tenant drafted plans, and lists were read
    assert WORLD.owned(MACHINE_TENANTS) and LISTS_READ
