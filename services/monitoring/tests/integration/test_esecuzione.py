"""The execution read model on the real PostgreSQL, fed through the real broker.

finance's integration events (CloudEvents with the data finance's outbound mapper publishes,
keyed by assignment or allocation as finance keys them) and planning's are produced to the
run's Tansu broker, on two topics; monitoring's own tracked consumer polls both and applies
them to its RLS-protected read models; its HTTP API and the database as the unprivileged
role are then read back. Expected figures are computed by hand beside each event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from ambiti_kit.testing.readmodels import table_rows
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.main import build
from monitoring.projections import SCHEMA, TABLES, esecuzione

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc)
FINANCE_TABLES = tuple(esecuzione.TENANT_TABLES + esecuzione.REGIONAL_TABLES)


class Producer:
    """CloudEvents of one producing service, numbered as its notification log would."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.sequence = 0

    def event(self, type_: str, tenant: str, subject: uuid.UUID, **data: Any) -> CloudEvent:
        self.sequence += 1
        return CloudEvent(type=f"{self.service}.{type_}", source=f"/ambiti/{self.service}", subject=str(subject),
                          tenantid=tenant, sequence=self.sequence, time=T0 + timedelta(minutes=self.sequence),
                          dataschema=f"https://contracts.ambiti.example/{self.service}/{self.service}.{type_}"
                                     ".v1.schema.json",
                          data={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()})


class Finance(Producer):
    """finance's events with the data fields of finance/integration/outbound.py."""

    ATTO = {"tipo": "decreto", "numero": "12", "data": "2025-06-30", "ente": "Regione Campania"}

    def __init__(self) -> None:
        super().__init__("finance")

    # -- assignments (key: the assignment) ------------------------------------------------------
    def registrata(self, tenant: str, assegnazione: uuid.UUID, fondo: str, annualita: int, importo: Any) -> CloudEvent:
        return self.event("assegnazione.registrata", tenant, assegnazione, assegnazione_id=assegnazione,
                          ambito=tenant, fondo=fondo, annualita=annualita, importo=importo, atto=self.ATTO,
                          vincoli={}, registrata_da=f"amministrativo@{tenant}")

    def integrata(self, tenant: str, assegnazione: uuid.UUID, importo: str) -> CloudEvent:
        return self.event("assegnazione.integrata", tenant, assegnazione, assegnazione_id=assegnazione,
                          ambito=tenant, importo=importo, atto={**self.ATTO, "numero": "13"},
                          registrata_da=f"amministrativo@{tenant}")

    # -- an allocation's ledger (key: the allocation) -------------------------------------------
    def _movimento(self, type_: str, tenant: str, stanziamento: uuid.UUID, importo: str, **data: Any) -> CloudEvent:
        return self.event(type_, tenant, stanziamento, stanziamento_id=stanziamento, ambito=tenant, importo=importo,
                          **data)

    def aperto(self, tenant: str, stanziamento: uuid.UUID, assegnazione: uuid.UUID, fondo: str, annualita: int,
               importo: str) -> CloudEvent:
        return self._movimento("stanziamento.aperto", tenant, stanziamento, importo, assegnazione_id=assegnazione,
                               fondo=fondo, annualita=annualita, piano_id=uuid.uuid4(), intervento="I1",
                               anno=annualita, aperto_da="x")

    def incrementato(self, tenant: str, stanziamento: uuid.UUID, importo: str) -> CloudEvent:
        return self._movimento("stanziamento.incrementato", tenant, stanziamento, importo, incrementato_da="x")

    def impegno(self, tenant: str, stanziamento: uuid.UUID, impegno: uuid.UUID, importo: str) -> CloudEvent:
        return self._movimento("impegno.assunto", tenant, stanziamento, importo, impegno_id=impegno,
                               beneficiario={"denominazione": "Cooperativa Riservata", "codice_fiscale": "01234567897"},
                               cig="A1B2C3D4E5", cup=None,
                               atto={"tipo": "determina", "numero": "7", "data": "2026-01-15"},
                               oggetto="Assistenza domiciliare", comune="065134", assunto_da="x",
                               assunto_il=T0.isoformat())

    def ridotto(self, tenant: str, stanziamento: uuid.UUID, impegno: uuid.UUID, importo: str) -> CloudEvent:
        return self._movimento("impegno.ridotto", tenant, stanziamento, importo, impegno_id=impegno, tipo="economia",
                               motivo="Minori ore", ridotto_da="x", ridotto_il=T0.isoformat())

    def liquidazione(self, tenant: str, stanziamento: uuid.UUID, impegno: uuid.UUID, liquidazione: uuid.UUID,
                     importo: str) -> CloudEvent:
        return self._movimento("liquidazione.disposta", tenant, stanziamento, importo, liquidazione_id=liquidazione,
                               impegno_id=impegno, fattura={"numero": "F-1", "data": "2026-03-01"}, disposta_da="x",
                               disposta_il=T0.isoformat())

    def mandato(self, tenant: str, stanziamento: uuid.UUID, impegno: uuid.UUID, liquidazione: uuid.UUID,
                importo: str) -> CloudEvent:
        return self._movimento("mandato.emesso", tenant, stanziamento, importo, mandato_id=uuid.uuid4(),
                               liquidazione_id=liquidazione, impegno_id=impegno, data="2026-03-10", emesso_da="x")

    def spesa(self, tenant: str, fondo: str, annualita: int, assegnato: str, stanziato: str, impegnato: str,
              pagato: str) -> list[CloudEvent]:
        """A fund's annualità assigned, allocated, committed, liquidated and paid in one step each."""
        a, s, i, liq = (uuid.uuid4() for _ in range(4))
        return [self.registrata(tenant, a, fondo, annualita, assegnato),
                self.aperto(tenant, s, a, fondo, annualita, stanziato), self.impegno(tenant, s, i, impegnato),
                self.liquidazione(tenant, s, i, liq, pagato), self.mandato(tenant, s, i, liq, pagato)]


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    topics: dict[str, str]  # producing service -> topic
    producer: Any
    finance: Finance = field(default_factory=Finance)
    planning: Producer = field(default_factory=lambda: Producer("planning"))
    #: per producer, the events a monitoring consumer tracks (the types it handles), published so far
    handled: dict[str, int] = field(default_factory=lambda: {"planning": 0, "finance": 0})
    published: list[CloudEvent] = field(default_factory=list)

    @property
    def consumer(self) -> Any:
        return self.runtime.consumers[0]

    def deliver(self, *events: CloudEvent) -> list[CloudEvent]:
        """Produce ``events`` to their topics and poll monitoring until it tracked them all."""
        for event in events:
            key, value, headers = event.to_kafka()
            self.producer.send(self.topics[event.type.split(".")[0]], key=key, value=value, headers=headers)
            self.handled[event.type.split(".")[0]] += event.type in self.consumer.handlers
        self.producer.flush()
        self.published += events
        drain(self.consumer, self.runtime, self.handled)
        return list(events)

    def composizione(self, tenant: str, nome: str) -> CloudEvent:
        return self.planning.event("ambito.composizione_registrata", tenant, uuid.uuid4(), ambito=tenant, versione=1,
                                   nome=nome, capofila_istat="065134", popolazione_al="2025-01-01",
                                   comuni=[{"istat": "065134", "nome": "Sapri", "popolazione": 6373}])

    def get(self, path: str, tenant: str | None = None, *roles: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.ns.auth(tenant, *roles, **kw))

    def ok(self, path: str, tenant: str | None = None, *roles: str, **kw: Any) -> Any:
        response = self.get(path, tenant, *roles, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def regione(self, regione: str, query: str = "") -> dict[str, Any]:
        return self.ok(f"/regione/esecuzione{query}", None, "regione", regione=regione)

    def select(self, table: str, **scope: str | None) -> list[dict[str, Any]]:
        """``SELECT *`` with no WHERE, as the unprivileged role in ``scope`` (none: no tenant, no Region)."""
        with self.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
            enter_scope(curs, **scope)
            curs.execute(sql.SQL("SELECT * FROM {}").format(self.runtime.read_model.table(table)))
            return list(curs.fetchall())

    def dead_letters(self) -> int:
        with self.ns.connect() as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}.dead_letters").format(
                sql.Identifier(self.runtime.settings.db_schema))).fetchone()[0]


def drain(consumer: Any, runtime: Runtime, expected: dict[str, int]) -> None:
    def caught_up() -> bool:
        consumer.poll_once(timeout_ms=200)
        return all(runtime.tracker.count(producer) >= n for producer, n in expected.items())
    wait_until(caught_up, timeout=60, interval=0, message=f"{expected} events tracked")


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, TABLES)


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}monexe_")
    settings = ns.settings("monitoring")
    topics = {"planning": settings.topic("planning.events.v1"), "finance": settings.topic("finance.events.v1")}
    admin = kafka.admin(ns.kafka_bootstrap)
    # finance's topic with several partitions: an assignment's and an allocation's events keep
    # their order by key, while different keys interleave (the figures must not depend on it).
    kafka.ensure_topics(admin, {topics["planning"]: 1}, configs=kafka.EVENTS_CONFIG)
    kafka.ensure_topics(admin, {topics["finance"]: 3}, configs=kafka.EVENTS_CONFIG)
    admin.close()
    producer = kafka.producer(ns.kafka_bootstrap)
    with TestClient(build(settings, run_workers=False)) as client:
        world = World(ns, client, client.app.state.runtime, topics, producer)
        try:
            yield world
        finally:
            world.consumer.close()
            producer.close()


def ambito(view: dict[str, Any], tenant: str) -> dict[str, Any]:
    [row] = [a for a in view["ambiti"] if a["ambito"] == tenant]
    return row


# -- figures ----------------------------------------------------------------------------------

def test_the_ambito_reads_its_execution_per_fund_and_annualita(world: World) -> None:
    tenant = "07-ME1"
    f = world.finance
    fnps25, fna25, fnps26 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    s1, s2, i1, i2, liq = (uuid.uuid4() for _ in range(5))
    world.deliver(world.composizione(tenant, "Ambito ME1"))
    world.deliver(
        f.registrata(tenant, fnps25, "FNPS", 2025, "1000.00"), f.integrata(tenant, fnps25, "200.00"),
        f.aperto(tenant, s1, fnps25, "FNPS", 2025, "800.00"), f.incrementato(tenant, s1, "100.00"),
        f.impegno(tenant, s1, i1, "500.00"), f.impegno(tenant, s1, i2, "0.10"),
        f.ridotto(tenant, s1, i1, "50.00"), f.ridotto(tenant, s1, i2, "0.10"),
        f.liquidazione(tenant, s1, i1, liq, "300.00"), f.mandato(tenant, s1, i1, liq, "250.00"),
        f.registrata(tenant, fna25, "FNA", 2025, "400.00"), f.aperto(tenant, s2, fna25, "FNA", 2025, "400.00"))
    [ultimo] = world.deliver(f.registrata(tenant, fnps26, "FNPS", 2026, "300.00"))

    view = world.ok("/esecuzione", tenant, "amministrativo")
    fondi = {(r.pop("fondo"), r.pop("annualita")): r for r in view.pop("fondi")}
    times = {key: datetime.fromisoformat(r.pop("ultimo_evento")) for key, r in fondi.items()}
    assert fondi == {
        # FNA 2025: assigned and allocated, nothing committed
        ("FNA", 2025): {"assegnato": "400.00", "stanziato": "400.00", "impegnato": "0.00", "liquidato": "0.00",
                        "pagato": "0.00", "tasso_impegno": "0.0000", "tasso_pagamento": None},
        # FNPS 2025: 1000 + 200 assigned; 800 + 100 allocated; 500 + 0.10 - 50 - 0.10 = 450 committed;
        # 450 / 1200 = 0.375; 250 / 450 = 0.5555…
        ("FNPS", 2025): {"assegnato": "1200.00", "stanziato": "900.00", "impegnato": "450.00",
                         "liquidato": "300.00", "pagato": "250.00", "tasso_impegno": "0.3750",
                         "tasso_pagamento": "0.5556"},
        ("FNPS", 2026): {"assegnato": "300.00", "stanziato": "0.00", "impegnato": "0.00", "liquidato": "0.00",
                         "pagato": "0.00", "tasso_impegno": "0.0000", "tasso_pagamento": None},
    }
    assert list(fondi) == [("FNA", 2025), ("FNPS", 2025), ("FNPS", 2026)]  # ordered by fund, annualità
    assert times[("FNPS", 2026)] == ultimo.time
    assert datetime.fromisoformat(view.pop("aggiornato_al")) == ultimo.time
    # totals: 400 + 1200 + 300 = 1900 assigned; 450 / 1900 = 0.23684…
    assert view == {"ambito": tenant, "annualita": None, "totale": {
        "assegnato": "1900.00", "stanziato": "1300.00", "impegnato": "450.00", "liquidato": "300.00",
        "pagato": "250.00", "tasso_impegno": "0.2368", "tasso_pagamento": "0.5556"}}

    one_year = world.ok("/esecuzione?annualita=2026", tenant, "coordinatore")
    assert [(r["fondo"], r["annualita"]) for r in one_year["fondi"]] == [("FNPS", 2026)]
    assert (one_year["annualita"], one_year["totale"]["assegnato"]) == (2026, "300.00")

    # The Region: per Ambito and per fund (all annualità), with the Ambito's name and freshness.
    row = ambito(world.regione("07"), tenant)
    assert row.pop("fondi") == [
        {"fondo": "FNA", "assegnato": "400.00", "impegnato": "0.00", "liquidato": "0.00", "pagato": "0.00",
         "tasso_impegno": "0.0000", "tasso_pagamento": None},
        # 1200 + 300 = 1500 assigned; 450 / 1500 = 0.3
        {"fondo": "FNPS", "assegnato": "1500.00", "impegnato": "450.00", "liquidato": "300.00", "pagato": "250.00",
         "tasso_impegno": "0.3000", "tasso_pagamento": "0.5556"}]
    assert datetime.fromisoformat(row.pop("ultimo_evento")) == ultimo.time
    assert row == {"ambito": tenant, "nome": "Ambito ME1", "popolazione": 6373, "assegnato": "1900.00",
                   "impegnato": "450.00", "liquidato": "300.00", "pagato": "250.00", "tasso_impegno": "0.2368",
                   "tasso_pagamento": "0.5556"}
    # 2025 only: 400 + 1200 = 1600 assigned; 450 / 1600 = 0.28125, half up
    row = ambito(world.regione("07", "?annualita=2025"), tenant)
    assert (row["assegnato"], row["tasso_impegno"], [x["fondo"] for x in row["fondi"]]) == (
        "1600.00", "0.2813", ["FNA", "FNPS"])
    assert world.dead_letters() == 0


def test_planning_and_finance_positions_are_tracked_apart(world: World) -> None:
    # Both producers number their notifications from 1: the same ids, tracked under two names.
    with world.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
        curs.execute(sql.SQL("SELECT application_name, notification_id FROM {}").format(world.runtime.tracker.table))
        tracked = {(r["application_name"], r["notification_id"]) for r in curs.fetchall()}
    assert ("planning", 1) in tracked and ("finance", 1) in tracked
    assert world.runtime.tracker.count("finance") == world.handled["finance"] == world.finance.sequence
    assert world.runtime.tracker.count("planning") == world.handled["planning"]


# -- isolation ----------------------------------------------------------------------------------

def test_each_ambito_and_each_region_sees_only_its_own_figures(world: World) -> None:
    a, b, c = "13-MI1", "13-MI2", "03-MI3"
    f = world.finance
    world.deliver(*f.spesa(a, "FNPS", 2025, "1000.00", "1000.00", "800.00", "200.00"),
                  *f.spesa(b, "FNA", 2025, "500.00", "500.00", "500.00", "500.00"),
                  *f.spesa(c, "FNPS", 2025, "90.00", "90.00", "30.00", "10.00"))

    # The Ambito: its own rows only, through the API and straight from PostgreSQL.
    assert [(r["fondo"], r["impegnato"]) for r in world.ok("/esecuzione", b, "revisore")["fondi"]] == [
        ("FNA", "500.00")]
    assert {r["tenant_id"] for r in world.select("esecuzione", tenant=a)} == {a}
    for table in ("esecuzione", "stanziamenti", "assegnazioni"):
        assert {r["tenant_id"] for r in world.select(table, tenant=b)} == {b}
        assert world.select(table, regione="13") == [] and world.select(table) == []

    # The Region: every Ambito of its own, none of another Region's.
    abruzzo = world.regione("13")
    assert abruzzo["regione"] == "13" and abruzzo["annualita"] is None
    assert [(x["ambito"], x["tasso_impegno"], x["tasso_pagamento"]) for x in abruzzo["ambiti"]] == [
        (a, "0.8000", "0.2500"), (b, "1.0000", "1.0000")]  # 800/1000, 200/800; 500/500, 500/500
    assert datetime.fromisoformat(abruzzo["aggiornato_al"]) == max(
        datetime.fromisoformat(x["ultimo_evento"]) for x in abruzzo["ambiti"])
    lombardia = world.regione("03")
    assert [(x["ambito"], x["nome"], x["assegnato"]) for x in lombardia["ambiti"]] == [(c, None, "90.00")]
    assert world.regione("19") == {"regione": "19", "annualita": None, "aggiornato_al": None, "ambiti": []}
    rows = world.select("regionale_esecuzione", regione="13")
    assert {r["tenant_id"] for r in rows} == {a, b} and {r["regione"] for r in rows} == {"13"}
    assert world.select("regionale_esecuzione", tenant=a) == [] and world.select("regionale_esecuzione") == []

    # Aggregates only: no commitment, beneficiary or act crosses into the Region's table.
    with world.ns.connect() as conn:
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (world.runtime.settings.db_schema, "regionale_esecuzione"))}
    assert columns == {"regione", "tenant_id", "fondo", "annualita", "assegnato", "impegnato", "liquidato",
                       "pagato", "ultimo_evento"}
    assert "Cooperativa" not in str(world.select("regionale_esecuzione", regione="13"))
    assert "Cooperativa" not in str(abruzzo)

    # Roles: a Region reads aggregates, not an Ambito's ledger; Ambito roles do not read the Region's view.
    assert world.get("/esecuzione", None, "regione", regione="13").status_code == 403
    assert world.get("/esecuzione", a, "referente_ets").status_code == 403
    assert world.get("/regione/esecuzione", a, "coordinatore").status_code == 403
    assert world.get("/regione/esecuzione", a, "amministrativo").status_code == 403
    assert world.get("/esecuzione?annualita=duemila", a, "coordinatore").status_code == 422
    for role in ("coordinatore", "amministrativo", "assistente_sociale", "componente_comitato", "referente_asl",
                 "revisore"):
        assert world.get("/esecuzione", a, role).status_code == 200, role


# -- events the read model cannot use ----------------------------------------------------------

def test_a_movement_of_an_unknown_allocation_is_ignored_and_a_float_amount_dead_lettered(world: World) -> None:
    tenant = "13-MI1"
    f = world.finance
    before = tables(world.runtime)
    rejected = world.consumer.rejected
    # Neither the allocation nor the assignment were ever opened here: tracked, without effect.
    world.deliver(f.impegno(tenant, uuid.uuid4(), uuid.uuid4(), "10.00"), f.integrata(tenant, uuid.uuid4(), "5.00"))
    assert world.consumer.rejected == rejected and tables(world.runtime) == before
    # A JSON number is not an amount of this platform: dead-lettered, never a float in the figures.
    world.deliver(f.registrata(tenant, uuid.uuid4(), "FNPS", 2027, 12.5))
    assert world.consumer.rejected == rejected + 1 and world.dead_letters() == 1
    assert tables(world.runtime) == before


# -- redelivery and rebuild ------------------------------------------------------------------

def test_redelivery_changes_nothing_and_a_rebuild_from_both_topics_is_identical(world: World) -> None:
    tenant = "15-MX2"
    f = world.finance
    world.deliver(world.composizione(tenant, "Ambito MX2"),
                  *f.spesa(tenant, "QSFP", 2025, "700.00", "600.00", "450.50", "120.25"))
    before = tables(world.runtime)
    assert any(row[0] == tenant for row in before["esecuzione"])

    # The same messages again, one by one (a retry of the same batch)...
    for event in world.published[-6:]:
        key, value, headers = event.to_kafka()
        world.consumer.process(world.topics[event.type.split(".")[0]], headers, value, key)
    # ...and both topics again through a new consumer group (a rebalance from scratch).
    again = build_runtime(world.runtime.settings, Monitoring, SCHEMA, no_events,
                          consumers=lambda rt: inbound.consumers(rt, group="redelivery"))
    redelivery = again.consumers[0]
    total = sum(world.handled.values())
    try:
        wait_until(lambda: redelivery.poll_once(timeout_ms=200) >= 0 and redelivery.duplicates >= total,
                   timeout=60, interval=0, message="every message redelivered")
    finally:
        redelivery.close()
        again.app.close()
    assert (redelivery.applied, redelivery.rejected) == (0, 0)
    assert {p: world.runtime.tracker.count(p) for p in world.handled} == world.handled
    assert tables(world.runtime) == before

    # A rebuild (new schema, new group, from the beginning of both topics) equals the live read model.
    settings = world.ns.settings("monitoring", AMBITI_DB_SCHEMA=f"{world.ns.namespace}rebuild_monitoring")
    rebuild = build_runtime(settings, Monitoring, SCHEMA, no_events,
                            consumers=lambda rt: inbound.consumers(rt, group="rebuild"))
    try:
        drain(rebuild.consumers[0], rebuild, world.handled)
        rebuilt = tables(rebuild)
    finally:
        rebuild.consumers[0].close()
        rebuild.app.close()
    assert rebuilt == before
    assert all(before[table] for table in FINANCE_TABLES)  # the comparison covered the new tables


def test_a_commitment_to_a_person_counts_and_is_published_without_who(world: World) -> None:
    """finance publishes a commitment to a person (16-character codice fiscale) under its own type: it moves
    the Ambito's figures as any commitment, and open data shows it without name or codice fiscale."""
    tenant = "07-ME9"
    f = world.finance
    a, s, i, liq = (uuid.uuid4() for _ in range(4))
    persona = f.impegno(tenant, s, i, "1200.00")
    persona = replace(persona, type="finance.impegno.assunto_persona", data={
        **persona.data, "beneficiario": {"denominazione": "Mario Rossi", "codice_fiscale": "RSSMRA85T10A562S"}})
    world.deliver(world.composizione(tenant, "Ambito ME9"))
    world.deliver(f.registrata(tenant, a, "FNPS", 2025, "5000.00"), f.aperto(tenant, s, a, "FNPS", 2025, "5000.00"),
                  persona, f.liquidazione(tenant, s, i, liq, "1200.00"), f.mandato(tenant, s, i, liq, "1200.00"))

    [fondo] = world.ok("/esecuzione", tenant, "amministrativo")["fondi"]
    assert (fondo["impegnato"], fondo["pagato"]) == ("1200.00", "1200.00")
    releases = world.ok("/opendata/ocds.json", tenant, "coordinatore")["releases"]
    published = json.dumps(releases)
    assert "RSSMRA85T10A562S" not in published and "Mario Rossi" not in published
    assert "Persona fisica" in published and "1200" in published
