"""The kit's own-log projector on the real PostgreSQL store, with a toy aggregate and read model of its own.

Read-your-writes through the HTTP middleware; batches tracked exactly once; two replicas
catching up at the same time apply each event once; an event its projection refuses is
dead-lettered while the others are applied; a rebuild into another schema equals the live
read model; the position survives a restart.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from typing import Any, Iterator

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import Notification
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit.consumer import PoisonMessage, Tracker
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema, open_event_store, tracking_table
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.service import OwnReadModels, RuntimeDep, create_service
from ambiti_kit.tenancy import TenantAggregate, TenantApplication
from ambiti_kit.testing.fixtures import Infra

A, B = "15-PRJ1", "16-PRJ2"


class Nota(TenantAggregate):
    @event("Scritta")
    def __init__(self, tenant_id: str, testo: str) -> None:
        self.tenant_id = tenant_id
        self.testo = testo

    @event("Corretta")
    def correggi(self, testo: str) -> None:
        self.testo = testo


class Note(TenantApplication):
    name = "noteprova"


def to_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    kind = {Nota.Scritta: "note.scritta", Nota.Corretta: "note.corretta"}.get(type(domain_event))
    if kind is None:
        return None
    return CloudEvent.of(domain_event, notification, type=kind, source="/prova", schemas="urn:prova",
                         data={"id": str(domain_event.originator_id), "testo": domain_event.testo})


SCHEMA = Schema(ddl=["""CREATE TABLE IF NOT EXISTS {schema}.note (
    tenant_id text NOT NULL, id uuid NOT NULL, testo text NOT NULL, versioni int NOT NULL,
    PRIMARY KEY (tenant_id, id))"""], tenant_tables=["note"])


def projections(schema: str) -> dict:
    table = sql.SQL("{}.note").format(sql.Identifier(schema))

    def scritta(curs: Any, e: CloudEvent) -> None:
        if e.data["testo"] == "VELENO":
            raise PoisonMessage("testo rifiutato dalla proiezione")
        curs.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, 1) ON CONFLICT DO NOTHING").format(table),
                     (e.tenantid, e.data["id"], e.data["testo"]))

    def corretta(curs: Any, e: CloudEvent) -> None:
        curs.execute(sql.SQL("UPDATE {} SET testo = %s, versioni = versioni + 1 WHERE tenant_id = %s AND id = %s")
                     .format(table), (e.data["testo"], e.tenantid, e.data["id"]))

    return {"note.scritta": scritta, "note.corretta": corretta}


router = APIRouter()


@router.post("/note/{tenant}", status_code=201)
def scrivi(tenant: str, body: dict, runtime: RuntimeDep) -> dict:
    nota = Nota(tenant_id=tenant, testo=body["testo"])
    runtime.app.save(nota)
    return {"id": str(nota.id)}


@router.get("/note/{tenant}")
def elenca(tenant: str, request: Request, runtime: RuntimeDep) -> list[str]:
    rows = runtime.read_model.fetch_all(sql.SQL("SELECT id FROM {}").format(runtime.read_model.table("note")),
                                        tenant=tenant)
    return [str(r["id"]) for r in rows]


@pytest.fixture
def ns(infra: Infra) -> Infra:
    return replace(infra, namespace=f"{infra.namespace}prj{uuid.uuid4().hex[:4]}_")


def _rows(runtime_or_app: Any, schema: str) -> list[tuple]:
    with runtime_or_app.recorder.datastore.transaction() as curs:
        curs.execute(sql.SQL("SELECT tenant_id, id, testo, versioni FROM {}.note ORDER BY id").format(
            sql.Identifier(schema)))
        return [tuple(r.values()) for r in curs.fetchall()]


def _projector(app: Any, schema: str, batch_size: int = 1000) -> OwnLogProjector:
    tracker = Tracker(app.recorder.datastore, schema, tracking_table(app.name))
    return OwnLogProjector(app, tracker, to_event, projections(schema), batch_size=batch_size)


def test_a_write_is_listed_when_its_response_returns_with_no_broker(ns: Infra) -> None:
    settings = ns.settings("noteprova", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")  # nothing listens there
    app = create_service(settings, application=Note, schema=SCHEMA, mapper=to_event, routers=[router],
                         own=OwnReadModels(projections=projections), title="t", description="t", run_workers=False)
    with TestClient(app) as client:
        misses = 0
        for i in range(100):
            nota = client.post(f"/note/{A}", json={"testo": f"nota {i}"}).json()["id"]
            misses += nota not in client.get(f"/note/{A}").json()
        assert misses == 0
        assert client.get(f"/note/{B}").json() == []
        status = client.get("/health").json()["projector"]
        assert status["backlog"] == 0 and status["applied"] == 100


def test_replicas_apply_each_event_once_and_a_refused_event_is_dead_lettered(ns: Infra) -> None:
    settings = ns.settings("noteprova")
    app = open_event_store(settings, Note, SCHEMA)
    other = open_event_store(settings, Note, SCHEMA)  # a second replica: its own pool
    try:
        note = [Nota(tenant_id=(A, B)[i % 2], testo=f"n{i}") for i in range(300)]
        note[150] = Nota(tenant_id=A, testo="VELENO")
        for i, nota in enumerate(note):
            if i % 3 == 0:
                nota.correggi(f"n{i} corretta")
        app.save(*note[:200])
        app.save(*note[200:])
        head = app.recorder.max_notification_id()

        one, two = _projector(app, settings.db_schema, 7), _projector(other, settings.db_schema, 11)
        threads = [threading.Thread(target=p.catch_up) for p in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        one.catch_up(), two.catch_up()
        assert one.position() == two.position() == head

        rows = _rows(app, settings.db_schema)
        assert len(rows) == 299  # every note but the refused one, each once
        corrette = [r for r in rows if r[2].endswith("corretta")]
        assert corrette and all(r[3] == 2 for r in corrette)  # each correction applied exactly once
        assert {r[0] for r in rows} == {A, B}
        with app.recorder.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT tenant_id, error FROM {}.dead_letters").format(
                sql.Identifier(settings.db_schema)))
            dead = curs.fetchall()
            curs.execute(sql.SQL("SELECT count(*) AS n, count(DISTINCT notification_id) AS d FROM {}.{} "
                                 "WHERE application_name = %s").format(
                sql.Identifier(settings.db_schema), sql.Identifier(tracking_table("noteprova"))), ("noteprova",))
            tracked = curs.fetchone()
        assert [(d["tenant_id"], "rifiutato" in d["error"]) for d in dead] == [(A, True)]
        assert tracked["n"] == tracked["d"] == head  # one tracking row per notification

        # a restarted process resumes from the tracking table: nothing applied twice
        again = _projector(app, settings.db_schema)
        assert again.catch_up() == 0

        # a rebuild into another schema, in small batches, equals the live read model
        rebuilt = ns.settings("noteprova", AMBITI_DB_SCHEMA=f"{ns.namespace}rebuild_note")
        target = open_event_store(rebuilt, Note, SCHEMA)
        try:
            projector = OwnLogProjector(app, Tracker(target.recorder.datastore, rebuilt.db_schema,
                                                     tracking_table("noteprova")),
                                        to_event, projections(rebuilt.db_schema), batch_size=13)
            assert rebuild(projector) == head
            assert _rows(app, rebuilt.db_schema) == rows
        finally:
            target.close()
    finally:
        app.close()
        other.close()
