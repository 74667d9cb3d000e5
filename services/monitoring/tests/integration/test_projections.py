"""monitoring's projections on the real PostgreSQL, fed through the real broker.

planning's integration events (CloudEvents with the data planning's outbound mapper
publishes) are produced to the run's Tansu broker; monitoring's own tracked consumer
polls them and applies them to its RLS-protected read models; its HTTP API (the real
FastAPI app, in process) and the database as the unprivileged role are then read back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from ambiti_kit.testing.readmodels import table_rows
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.main import build
from monitoring.projections import OWN, SCHEMA, TABLES

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
SOURCE = "/ambiti/planning"
STATI = ("bozza", "proposto", "approvato", "in_attuazione", "concluso")


def esito(approvata: bool) -> dict[str, Any]:
    """An outcome as ``regole_voto.Esito.come_dict`` writes it (doppia maggioranza, 3 Comuni present)."""
    favorevoli, contrari = ((2, 61000), (1, 9000)) if approvata else ((1, 9000), (2, 61000))
    return {"approvata": approvata, "famiglia": "doppia_maggioranza",
            "per_testa": {"favorevoli": favorevoli[0], "contrari": contrari[0], "astenuti": 0, "non_votanti": 0,
                          "base": 3, "maggioranza": approvata},
            "ponderato": {"favorevoli": favorevoli[1], "contrari": contrari[1], "astenuti": 0, "non_votanti": 0,
                          "base": 70000, "maggioranza": approvata},
            "motivazione": f"{'Approvata' if approvata else 'Respinta'}: componenti favorevoli {favorevoli[0]} su 3."}


class Planning:
    """planning's integration events, with the data fields of planning/integration/outbound.py."""

    def __init__(self) -> None:
        self.sequence = 0

    def event(self, type_: str, tenant: str, subject: uuid.UUID, **data: Any) -> CloudEvent:
        self.sequence += 1
        return CloudEvent(type=f"planning.{type_}", source=SOURCE, subject=str(subject), tenantid=tenant,
                          sequence=self.sequence, time=T0 + timedelta(minutes=self.sequence),
                          dataschema=f"https://contracts.ambiti.example/planning/planning.{type_}.v1.schema.json",
                          data={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()})

    # -- the plan ------------------------------------------------------------------------------
    def creato(self, tenant: str, piano: uuid.UUID, anno: int = 2025) -> CloudEvent:
        return self.event("piano_di_zona.creato", tenant, piano, piano_id=piano, ambito=tenant,
                          titolo=f"Piano Sociale di Zona {anno}–{anno + 2}", anno_inizio=anno, anno_fine=anno + 2,
                          stato="bozza", creato_da=f"coordinatore@{tenant}",
                          creato_il=(T0 + timedelta(minutes=self.sequence + 1)).isoformat())

    def contenuto(self, tenant: str, piano: uuid.UUID, versione: int) -> CloudEvent:
        return self.event("piano_di_zona.contenuto_aggiornato", tenant, piano, piano_id=piano, ambito=tenant,
                          versione=versione, interventi=1, aggiornato_da="x")

    def proposto(self, tenant: str, piano: uuid.UUID, versione: int) -> CloudEvent:
        return self.event("piano_di_zona.proposto", tenant, piano, piano_id=piano, ambito=tenant,
                          versione=versione, proposto_da="x")

    def approvato(self, tenant: str, piano: uuid.UUID, versione: int, deliberazione: uuid.UUID,
                  numero: str) -> CloudEvent:
        return self.event("piano_di_zona.versione_approvata", tenant, piano, piano_id=piano, ambito=tenant,
                          versione=versione, tipo="piano" if versione == 1 else "aggiornamento_annuale",
                          riferimento=None if versione == 1 else versione - 1, titolo="Piano",
                          deliberazione_id=deliberazione, deliberazione=numero, interventi=[])

    def respinto(self, tenant: str, piano: uuid.UUID, versione: int, deliberazione: uuid.UUID) -> CloudEvent:
        return self.event("piano_di_zona.proposta_respinta", tenant, piano, piano_id=piano, ambito=tenant,
                          versione=versione, deliberazione_id=deliberazione)

    def versione_aperta(self, tenant: str, piano: uuid.UUID, versione: int) -> CloudEvent:
        return self.event("piano_di_zona.versione_aperta", tenant, piano, piano_id=piano, ambito=tenant,
                          versione=versione, tipo="aggiornamento_annuale", riferimento=versione - 1,
                          titolo="Aggiornamento", aperta_da="x")

    def in_attuazione(self, tenant: str, piano: uuid.UUID) -> CloudEvent:
        return self.event("piano_di_zona.in_attuazione", tenant, piano, piano_id=piano, ambito=tenant,
                          accordo_id=uuid.uuid4(), data="2026-04-01")

    def concluso(self, tenant: str, piano: uuid.UUID) -> CloudEvent:
        return self.event("piano_di_zona.concluso", tenant, piano, piano_id=piano, ambito=tenant, concluso_da="x")

    # -- deliberations -------------------------------------------------------------------------
    def proposta(self, tenant: str, deliberazione: uuid.UUID, oggetto: str,
                 tipo: str = "approvazione_bilancio") -> CloudEvent:
        return self.event("deliberazione.proposta", tenant, deliberazione, deliberazione_id=deliberazione,
                          ambito=tenant, tipo=tipo, oggetto=oggetto, riferimenti={"anno": 2026}, proposta_da="x")

    def approvata(self, tenant: str, deliberazione: uuid.UUID, seduta: uuid.UUID, numero: str) -> CloudEvent:
        return self.event("deliberazione.approvata", tenant, deliberazione, deliberazione_id=deliberazione,
                          ambito=tenant, seduta_id=seduta, numero=numero, data="2026-03-02", esito=esito(True),
                          numero_legale={"raggiunto": True}, regola={"famiglia": "doppia_maggioranza"})

    def respinta(self, tenant: str, deliberazione: uuid.UUID, seduta: uuid.UUID) -> CloudEvent:
        return self.event("deliberazione.respinta", tenant, deliberazione, deliberazione_id=deliberazione,
                          ambito=tenant, seduta_id=seduta, data="2026-03-02", esito=esito(False),
                          numero_legale={"raggiunto": True}, regola={"famiglia": "doppia_maggioranza"})

    def composizione(self, tenant: str, nome: str) -> CloudEvent:
        return self.event("ambito.composizione_registrata", tenant, uuid.uuid4(), ambito=tenant, versione=1,
                          nome=nome, capofila_istat="065134", popolazione_al="2025-01-01",
                          comuni=[{"istat": "065134", "nome": "Sapri", "popolazione": 6373}])


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    topic: str
    producer: Any
    planning: Planning = field(default_factory=Planning)
    #: events a monitoring consumer tracks (the types it handles), published so far
    handled: int = 0
    published: list[CloudEvent] = field(default_factory=list)

    @property
    def consumer(self) -> Any:
        return self.runtime.consumers[0]

    def deliver(self, *events: CloudEvent) -> list[CloudEvent]:
        """Produce ``events`` to the broker and poll monitoring until it tracked them all."""
        for event in events:
            key, value, headers = event.to_kafka()
            self.producer.send(self.topic, key=key, value=value, headers=headers)
        self.producer.flush()
        self.published += events
        self.handled += sum(event.type in self.consumer.handlers for event in events)
        drain(self.consumer, self.runtime, self.handled)
        return list(events)

    def get(self, path: str, tenant: str | None = None, *roles: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.ns.auth(tenant, *roles, **kw))

    def ok(self, path: str, tenant: str | None = None, *roles: str, **kw: Any) -> Any:
        response = self.get(path, tenant, *roles, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def select(self, table: str, **scope: str | None) -> list[dict[str, Any]]:
        """``SELECT *`` with no WHERE, as the unprivileged role in ``scope`` (none: no tenant, no Region)."""
        with self.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
            enter_scope(curs, **scope)
            curs.execute(sql.SQL("SELECT * FROM {}").format(self.runtime.read_model.table(table)))
            return list(curs.fetchall())


def drain(consumer: Any, runtime: Runtime, expected: int) -> None:
    wait_until(lambda: consumer.poll_once(timeout_ms=200) >= 0 and runtime.tracker.count("planning") >= expected,
               timeout=60, interval=0, message=f"{expected} events tracked")


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, TABLES)


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}monproj_")
    settings = ns.settings("monitoring")
    topic = settings.topic("planning.events.v1")
    admin = kafka.admin(ns.kafka_bootstrap)
    kafka.ensure_topics(admin, {topic: 1}, configs=kafka.EVENTS_CONFIG)
    admin.close()
    producer = kafka.producer(ns.kafka_bootstrap)
    with TestClient(build(settings, run_workers=False)) as client:
        world = World(ns, client, client.app.state.runtime, topic, producer)
        try:
            yield world
        finally:
            world.consumer.close()
            producer.close()


def piano_regionale(world: World, tenant: str, regione: str) -> dict[str, Any]:
    [row] = [a for a in world.ok("/regione/piani", None, "regione", regione=regione)["ambiti"]
             if a["ambito"] == tenant]
    return row


# -- plan states ------------------------------------------------------------------------------

def test_the_plan_s_state_version_in_force_and_freshness_follow_its_events(world: World) -> None:
    tenant, piano, altro = "15-MP1", uuid.uuid4(), uuid.uuid4()
    p = world.planning
    d1, d2, d3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def seen() -> dict[str, Any]:
        return world.ok(f"/piani/{piano}", tenant, "coordinatore")

    def counted() -> dict[str, int]:
        return piano_regionale(world, tenant, "15")["stati"]

    def only(stato: str, n: int = 1, **others: int) -> dict[str, int]:
        return {s: (n if s == stato else 0) + others.get(s, 0) for s in STATI}

    [creato] = world.deliver(p.creato(tenant, piano))
    plan = seen()
    assert (plan["stato"], plan["versione_vigente"], plan["deliberazione_vigente"]) == ("bozza", None, None)
    assert plan["deliberazione_vigente_id"] is None
    assert datetime.fromisoformat(plan["ultimo_evento"]) == creato.time
    assert counted() == only("bozza")

    world.deliver(p.contenuto(tenant, piano, 1), p.proposto(tenant, piano, 1))
    assert seen()["stato"] == "proposto" and counted() == only("proposto")

    world.deliver(p.respinto(tenant, piano, 1, d1))
    assert seen()["stato"] == "bozza" and counted() == only("bozza")

    world.deliver(p.proposto(tenant, piano, 1), p.approvato(tenant, piano, 1, d2, "1/2026"))
    plan = seen()
    assert (plan["stato"], plan["versione_vigente"], plan["deliberazione_vigente"]) == ("approvato", 1, "1/2026")
    assert plan["deliberazione_vigente_id"] == str(d2)
    assert counted() == only("approvato")

    world.deliver(p.in_attuazione(tenant, piano))
    assert seen()["stato"] == "in_attuazione" and counted() == only("in_attuazione")

    # An annual update is proposed and approved: the plan stays in attuazione, version 2 is in force.
    world.deliver(p.versione_aperta(tenant, piano, 2), p.proposto(tenant, piano, 2))
    assert (seen()["stato"], seen()["versione_vigente"]) == ("in_attuazione", 1)
    [_, approvato_v2] = world.deliver(p.contenuto(tenant, piano, 2), p.approvato(tenant, piano, 2, d3, "2/2026"))
    plan = seen()
    assert (plan["stato"], plan["versione_vigente"], plan["deliberazione_vigente"]) == (
        "in_attuazione", 2, "2/2026")
    assert datetime.fromisoformat(plan["ultimo_evento"]) == approvato_v2.time
    assert counted() == only("in_attuazione")

    [concluso, _] = world.deliver(p.concluso(tenant, piano), p.creato(tenant, altro, 2028))
    plan = seen()
    assert (plan["stato"], plan["versione_vigente"]) == ("concluso", 2)
    assert datetime.fromisoformat(plan["ultimo_evento"]) == concluso.time
    listed = world.ok("/piani", tenant, "revisore")["elementi"]
    assert [(x["id"], x["stato"]) for x in listed] == [(str(piano), "concluso"), (str(altro), "bozza")]
    regional = piano_regionale(world, tenant, "15")
    assert regional["piani"] == 2 and regional["stati"] == only("concluso", bozza=1)
    assert datetime.fromisoformat(regional["ultimo_evento"]) > concluso.time


def test_an_event_of_a_plan_or_proposal_the_read_model_does_not_hold_is_applied_without_effect(
        world: World) -> None:
    tenant, ignoto = "15-MP2", uuid.uuid4()
    p = world.planning
    rejected = world.consumer.rejected
    before = tables(world.runtime)
    world.deliver(p.proposto(tenant, ignoto, 1), p.approvato(tenant, ignoto, 1, uuid.uuid4(), "9/2026"),
                  p.approvata(tenant, uuid.uuid4(), uuid.uuid4(), "9/2026"))
    assert world.consumer.rejected == rejected  # tracked, not dead-lettered, and the consumer goes on
    assert tables(world.runtime) == before
    assert world.get(f"/piani/{ignoto}", tenant, "coordinatore").status_code == 404
    assert world.ok("/deliberazioni", tenant, "coordinatore")["elementi"] == []


# -- deliberations ----------------------------------------------------------------------------

def test_the_ambito_reads_its_own_deliberations_with_number_date_and_vote_figures(world: World) -> None:
    a, b, c = "15-MD1", "15-MD2", "03-MD3"
    p = world.planning
    d1, d2, d3, d4, d5 = (uuid.uuid4() for _ in range(5))
    seduta = uuid.uuid4()
    world.deliver(
        p.composizione(a, "Ambito MD1"),
        p.proposta(a, d1, "Bilancio 2026"), p.respinta(a, d1, seduta),
        p.proposta(a, d2, "Bilancio 2026 (riproposto)"), p.approvata(a, d2, seduta, "1/2026"),
        p.proposta(a, d3, "Criteri di riparto 2027", tipo="criteri_riparto_costi"),
        p.proposta(b, d4, "Nomina del coordinatore", tipo="nomina_coordinatore"),
        p.proposta(c, d5, "Bilancio 2026"), p.approvata(c, d5, uuid.uuid4(), "1/2026"))

    listed = world.ok("/deliberazioni", a, "coordinatore")["elementi"]
    assert [(x["id"], x["stato"], x["numero"]) for x in listed] == [
        (str(d1), "respinta", None), (str(d2), "approvata", "1/2026"), (str(d3), "proposta", None)]
    respinta, approvata, proposta = listed
    assert approvata == {
        "id": str(d2), "ambito": a, "tipo": "approvazione_bilancio", "oggetto": "Bilancio 2026 (riproposto)",
        "stato": "approvata", "numero": "1/2026", "data": "2026-03-02", "seduta_id": str(seduta),
        "esito": {"famiglia": "doppia_maggioranza", "motivazione": "Approvata: componenti favorevoli 2 su 3.",
                  "per_testa": {"favorevoli": 2, "contrari": 1, "astenuti": 0, "base": 3},
                  "ponderato": {"favorevoli": 61000, "contrari": 9000, "astenuti": 0, "base": 70000}},
        "proposta_il": approvata["proposta_il"], "ultimo_evento": approvata["ultimo_evento"]}
    assert datetime.fromisoformat(approvata["ultimo_evento"]) > datetime.fromisoformat(approvata["proposta_il"])
    assert respinta["esito"]["per_testa"]["contrari"] == 2 and respinta["data"] == "2026-03-02"
    assert (proposta["tipo"], proposta["esito"], proposta["data"], proposta["seduta_id"]) == (
        "criteri_riparto_costi", None, None, None)
    assert [x["id"] for x in world.ok("/deliberazioni?stato=approvata", a, "revisore")["elementi"]] == [str(d2)]
    assert world.ok(f"/deliberazioni/{d2}", a, "componente_comitato") == approvata

    # Other Ambiti (same Region or not) see theirs only, and get 404 on a's.
    assert [x["id"] for x in world.ok("/deliberazioni", b, "coordinatore")["elementi"]] == [str(d4)]
    assert [x["id"] for x in world.ok("/deliberazioni", c, "coordinatore")["elementi"]] == [str(d5)]
    for other in (b, c):
        response = world.get(f"/deliberazioni/{d2}", other, "coordinatore")
        assert response.status_code == 404 and response.headers["content-type"].startswith(
            "application/problem+json")
    # Roles: a Region reads aggregates, not registers; an ETS has no access to the register.
    assert world.get("/deliberazioni", None, "regione", regione="15").status_code == 403
    assert world.get("/deliberazioni", a, "referente_ets").status_code == 403
    assert world.get("/deliberazioni?stato=iscritta", a, "coordinatore").status_code == 422

    # Straight from PostgreSQL as the unprivileged role: RLS scopes every row.
    assert {r["deliberazione_id"] for r in world.select("deliberazioni", tenant=b)} == {d4}
    assert world.select("deliberazioni", regione="15") == []
    assert world.select("deliberazioni") == []

    # The Region: counts per Ambito of its own Region only.
    campania = world.ok("/regione/deliberazioni", None, "regione", regione="15")
    counts = {x["ambito"]: {k: x[k] for k in ("nome", "proposte", "approvate", "respinte")}
              for x in campania["ambiti"]}
    assert counts[a] == {"nome": "Ambito MD1", "proposte": 1, "approvate": 1, "respinte": 1}
    assert counts[b] == {"nome": None, "proposte": 1, "approvate": 0, "respinte": 0}
    assert c not in counts and all(x.startswith("15-") for x in counts)
    assert campania["regione"] == "15" and campania["aggiornato_al"] is not None
    lombardia = world.ok("/regione/deliberazioni", None, "regione", regione="03")
    assert [(x["ambito"], x["approvate"]) for x in lombardia["ambiti"]] == [(c, 1)]
    assert world.get("/regione/deliberazioni", a, "coordinatore").status_code == 403


def test_regional_tables_hold_aggregates_only_and_each_region_sees_its_own(world: World) -> None:
    p = world.planning
    lazio, abruzzo = "12-MR1", "13-MR2"
    world.deliver(p.creato(lazio, uuid.uuid4()), p.proposta(lazio, uuid.uuid4(), "Testo riservato dell'oggetto"),
                  p.creato(abruzzo, uuid.uuid4()))
    with world.ns.connect() as conn:
        columns = {table: {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (world.runtime.settings.db_schema, table))}
            for table in ("regionale_piani", "regionale_deliberazioni")}
    assert columns["regionale_piani"] == {"regione", "tenant_id", "piani", "ultimo_evento", *STATI}
    assert columns["regionale_deliberazioni"] == {"regione", "tenant_id", "proposte", "approvate", "respinte",
                                                   "ultimo_evento"}
    for table in ("regionale_piani", "regionale_deliberazioni"):
        rows = world.select(table, regione="12")
        assert {r["regione"] for r in rows} == {"12"} and {r["tenant_id"] for r in rows} == {lazio}
        assert world.select(table, tenant=lazio) == [] and world.select(table) == []
    assert "Testo riservato" not in str(world.select("regionale_deliberazioni", regione="12"))
    view = world.ok("/regione/piani", None, "regione", regione="13")
    assert [(x["ambito"], x["piani"], x["stati"]["bozza"]) for x in view["ambiti"]] == [(abruzzo, 1, 1)]
    assert world.ok("/regione/deliberazioni", None, "regione", regione="13")["ambiti"] == []


# -- redelivery and rebuild ------------------------------------------------------------------

def test_redelivery_changes_nothing_and_a_rebuild_from_the_topic_is_identical(world: World) -> None:
    tenant, piano, deliberazione = "15-MX1", uuid.uuid4(), uuid.uuid4()
    p = world.planning
    world.deliver(p.creato(tenant, piano), p.proposto(tenant, piano, 1),
                  p.proposta(tenant, deliberazione, "Approvazione del Piano", tipo="approvazione_piano"),
                  p.approvata(tenant, deliberazione, uuid.uuid4(), "1/2026"),
                  p.approvato(tenant, piano, 1, deliberazione, "1/2026"))
    before = tables(world.runtime)
    assert any(row[1] == piano for row in before["piani"])

    # The same messages again, one by one (a retry of the same batch)...
    for event in world.published[-5:]:
        key, value, headers = event.to_kafka()
        world.consumer.process(world.topic, headers, value, key)
    # ...and the whole topic again through a new consumer group (a rebalance from scratch).
    again = build_runtime(world.runtime.settings, Monitoring, SCHEMA, no_events,
                          consumers=lambda rt: inbound.consumers(rt, group="redelivery"))
    redelivery = again.consumers[0]
    try:
        wait_until(lambda: redelivery.poll_once(timeout_ms=200) >= 0 and redelivery.duplicates >= world.handled,
                   timeout=60, interval=0, message="every message redelivered")
    finally:
        redelivery.close()
        again.app.close()
    assert (redelivery.applied, redelivery.rejected) == (0, 0)
    assert world.runtime.tracker.count("planning") == world.handled
    assert tables(world.runtime) == before

    # A rebuild (new schema, new group, from the beginning of the topic; monitoring's own log, here
    # without events, by the projector's routine) equals the live read model.
    settings = world.ns.settings("monitoring", AMBITI_DB_SCHEMA=f"{world.ns.namespace}rebuild_monitoring")
    rebuilt = build_runtime(settings, Monitoring, SCHEMA, no_events,
                          consumers=lambda rt: inbound.consumers(rt, group="rebuild"))
    try:
        assert rebuild(OwnLogProjector(world.runtime.app, rebuilt.tracker, no_events,
                                       OWN.projections(settings.db_schema))) == 0
        drain(rebuilt.consumers[0], rebuilt, world.handled)
        assert tables(rebuilt) == before
    finally:
        rebuilt.consumers[0].close()
        rebuilt.app.close()
    with world.ns.connect() as conn:
        dead = conn.execute(sql.SQL("SELECT count(*) FROM {}.dead_letters").format(
            sql.Identifier(world.runtime.settings.db_schema))).fetchone()[0]
    assert dead == 0


# -- schema upgrade ------------------------------------------------------------------------

FIRST_RELEASE_DDL = [
    """CREATE TABLE {s}.piani (tenant_id text NOT NULL, piano_id uuid NOT NULL, titolo text NOT NULL,
        anno_inizio int NOT NULL, anno_fine int NOT NULL, stato text NOT NULL, creato_il timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, piano_id))""",
    """CREATE TABLE {s}.regionale_piani (regione text NOT NULL, tenant_id text NOT NULL, piani int NOT NULL,
        ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id))""",
]


def test_the_ddl_upgrades_a_first_release_database_and_re_runs_harmlessly(world: World) -> None:
    schema = f"{world.ns.namespace}upgrade_monitoring"
    tenant, piano = "15-MU1", uuid.uuid4()
    with world.ns.connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for statement in FIRST_RELEASE_DDL:
            conn.execute(statement.format(s=sql.Identifier(schema).as_string(conn)))
        conn.execute(sql.SQL("INSERT INTO {}.piani VALUES (%s, %s, 'Piano', 2025, 2027, 'bozza', %s)").format(
            sql.Identifier(schema)), (tenant, piano, T0))
        conn.execute(sql.SQL("INSERT INTO {}.regionale_piani VALUES ('15', %s, 1, %s)").format(
            sql.Identifier(schema)), (tenant, T0))
    settings = world.ns.settings("monitoring", AMBITI_DB_SCHEMA=schema)
    for _ in range(2):  # a second start re-runs every statement
        build_runtime(settings, Monitoring, SCHEMA, no_events).app.close()
    with TestClient(build(settings, run_workers=False)) as client:
        auth = world.ns.auth(tenant, "coordinatore")
        [plan] = client.get("/piani", headers=auth).json()["elementi"]
        regional = client.get("/regione/piani", headers=world.ns.auth(None, "regione", regione="15")).json()
    assert (plan["id"], plan["stato"], plan["versione_vigente"]) == (str(piano), "bozza", None)
    assert datetime.fromisoformat(plan["ultimo_evento"]) == T0  # falls back to creato_il
    [row] = regional["ambiti"]
    assert (row["piani"], row["stati"]) == (1, {"bozza": 1, "proposto": 0, "approvato": 0, "in_attuazione": 0,
                                                "concluso": 0})
    with world.ns.connect() as conn:  # row-level security is forced again after the backfill
        forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                              (f"{sql.Identifier(schema).as_string(conn)}.regionale_piani",)).fetchone()[0]
    assert forced
