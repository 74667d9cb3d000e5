"""The lists from partnership's own events, projected in process into the read model.

The real partnership app runs in process (real FastAPI, real tokens) on the run's PostgreSQL:
writes go through the HTTP API to the event store, and before each write's response leaves
the kit's projector has applied it to the RLS-protected tables; the list routes read them
back at once (no relay, no broker in between).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit.auth import issue_token
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra
from ambiti_kit.testing.lists import every_page
from ambiti_kit.testing.readmodels import published_events, table_rows
from partnership.application import Partnership
from partnership.integration.outbound import to_integration_event
from partnership.main import build as build_partnership
from partnership.projections import OWN, SCHEMA, elenchi

A, B = "15-PEL1", "15-PEL2"
FARO, ALBA, ASL = "00743110157", "80012170157", "01234567004"
ETS = {"tipo": "ets", "forma_giuridica": "cooperativa sociale",
       "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"}}
ATTO = {"tipo": "determina", "numero": "12", "data": "2026-03-02"}
PIANO, ALTRO_PIANO = "5b1f7c1e-0000-4000-8000-000000000001", "5b1f7c1e-0000-4000-8000-000000000002"


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime

    def post(self, path: str, tenant: str, body: dict, role: str = "coordinatore") -> dict:
        r = self.client.post(path, json=body, headers=self.ns.auth(tenant, role))
        assert r.status_code in (200, 201), r.text
        return r.json()

    def get(self, path: str, tenant: str, *roles: str, headers: dict | None = None, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=headers if headers is not None else self.ns.auth(tenant, *roles))

    def ok(self, path: str, tenant: str = A, role: str = "revisore", **params: Any) -> list[dict]:
        r = self.get(path, tenant, role, **params)
        assert r.status_code == 200, r.text
        return r.json()["elementi"]

    def referente(self, tenant: str, subject: str) -> dict[str, str]:
        token = issue_token(self.ns.platform_settings(), roles=["referente_ets"], tenant=tenant, subject=subject)
        return {"Authorization": f"Bearer {token}"}


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, elenchi.TENANT_TABLES)


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}elen_")
    with TestClient(build_partnership(ns.settings("partnership"), run_workers=False)) as client:
        w = World(ns, client, client.app.state.runtime)
        try:
            populate(w)
            yield w
        finally:
            w.runtime.relay.close()


def populate(w: World) -> None:
    faro = w.post("/enti", A, {"codice_fiscale": FARO, "denominazione": "Coop Il Faro", **ETS})
    alba = w.post("/enti", A, {"codice_fiscale": ALBA, "denominazione": "APS Alba", **ETS})
    w.post("/enti", A, {"codice_fiscale": ASL, "tipo": "pubblico", "denominazione": "ASL Salerno",
                        "categoria": "asl", "comune_sede": "065116"})
    w.client.put(f"/enti/{alba['id']}", json={"denominazione": "APS Alba Nuova", **ETS},
                 headers=w.ns.auth(A, "coordinatore")).raise_for_status()
    w.post(f"/enti/{faro['id']}/referenti", A, {"subject": "ref@faro"})
    w.post("/enti", B, {"codice_fiscale": FARO, "denominazione": "Faro di un altro Ambito", **ETS})

    t1 = w.post("/tavoli", A, {"tipo": "tematico", "nome": "Tavolo anziani", "area": "anziani"})
    w.post(f"/tavoli/{t1['id']}/membri", A, {"tipo": "ente", "ente_id": faro["id"], "area": "anziani"})
    w.post(f"/tavoli/{t1['id']}/membri", A, {"tipo": "comune", "istat": "065134", "ruolo": "assistente_sociale",
                                             "area": "anziani"})
    w.post(f"/tavoli/{t1['id']}/riunioni", A, {"data": "2026-05-12T10:00:00+02:00", "luogo": "Sala consiliare",
                                               "ordine_del_giorno": ["Avvio"]})
    w.post(f"/tavoli/{t1['id']}/proposte", A, {
        "titolo": "Più SAD", "descrizione": "Estendere il SAD", "area": "anziani",
        "intervento": {"codice": "A1.2", "titolo": "SAD anziani", "comuni": ["065134"], "utenti_attesi": 40,
                       "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}}})
    t2 = w.post("/tavoli", A, {"tipo": "tecnico", "nome": "Tavolo minori", "area": "famiglia_minori"})
    w.post(f"/tavoli/{t2['id']}/membri", A, {"tipo": "ente", "ente_id": alba["id"], "area": "famiglia_minori"})

    p1 = w.post("/procedure", A, {"tipo": "co_progettazione", "oggetto": "Co-progettazione SAD",
                                  "scadenza_manifestazioni": "2026-03-31", "piano_id": PIANO, "intervento": "A1.2",
                                  "atto": {**ATTO, "tipo": "avviso"}}, role="amministrativo")
    w.post(f"/procedure/{p1['id']}/manifestazioni", A, {
        "ente_id": faro["id"], "sintesi_documenti": "Domanda", "ricevuta_il": "2026-03-10",
        "atto": {**ATTO, "tipo": "protocollo"}})
    w.post(f"/procedure/{p1['id']}/ammissioni", A, {"codice_fiscale": FARO, "ammesso": True,
                                                    "motivazione": "Requisiti presenti", "atto": ATTO})
    w.post("/procedure", A, {"tipo": "co_programmazione", "oggetto": "Co-programmazione minori",
                             "scadenza_manifestazioni": "2026-06-30", "atto": {**ATTO, "tipo": "avviso"}})

    tariffe = [{"prestazione": "Assistenza domiciliare", "unita": "ora", "importo": "22.50"}]
    a1 = w.post("/accreditamenti", A, {"ente_id": faro["id"], "intervento": "A1.2", "valido_dal": "2026-01-01",
                                       "valido_al": "2026-12-31", "tariffe": tariffe, "atto": ATTO})
    w.post(f"/accreditamenti/{a1['id']}/rinnovo", A, {"valido_al": "2027-12-31", "atto": ATTO})
    a2 = w.post("/accreditamenti", A, {"ente_id": alba["id"], "intervento": "A1.2", "valido_dal": "2026-01-01",
                                       "valido_al": "2026-12-31", "tariffe": tariffe, "atto": ATTO})
    w.post(f"/accreditamenti/{a2['id']}/revoca", A, {"revocato_il": "2026-06-01", "motivo": "Requisiti venuti meno",
                                                      "atto": ATTO})
    for ente, piano, importo in ((faro, PIANO, "125000.00"), (alba, ALTRO_PIANO, "9000.5")):
        w.post("/affidamenti", A, {"ente_id": ente["id"], "piano_id": piano, "intervento": "A1.2",
                                   "importo": importo, "valido_dal": "2026-02-01", "valido_al": "2026-12-31",
                                   "modalita": "gara", "cig": "ZA12345678", "atto": ATTO})


def test_lists_and_filters(world: World) -> None:
    enti = world.ok("/enti")
    assert [e["denominazione"] for e in enti] == ["APS Alba Nuova", "ASL Salerno", "Coop Il Faro"]
    faro = enti[2]
    assert (faro["codice_fiscale"], faro["tipo"], faro["forma_giuridica"], faro["runts_sezione"],
            faro["runts_numero"], faro["categoria"]) == (FARO, "ets", "cooperativa sociale", "imprese_sociali",
                                                         "104578", None)
    assert enti[1]["categoria"] == "asl" and enti[1]["comune_sede"] == "065116" and enti[1]["runts_sezione"] is None
    assert "T" in faro["ultimo_evento"]
    assert [e["codice_fiscale"] for e in world.ok("/enti", tipo="pubblico")] == [ASL]
    assert [e["codice_fiscale"] for e in world.ok("/enti", q="aLbA nu")] == [ALBA]
    assert world.ok("/enti", q="%") == []  # no wildcards

    tavoli = world.ok("/tavoli")
    assert [(t["nome"], t["membri"], t["riunioni"], t["proposte"]) for t in tavoli] == [
        ("Tavolo anziani", 2, 1, 1), ("Tavolo minori", 1, 0, 0)]

    procedure = world.ok("/procedure", role="coordinatore")
    assert [(p["oggetto"], p["fase"], p["scadenza"], p["piano_id"], p["intervento"]) for p in procedure] == [
        ("Co-progettazione SAD", "ammissione", "2026-03-31", PIANO, "A1.2"),
        ("Co-programmazione minori", "avviso_pubblicato", "2026-06-30", None, None)]
    assert [p["oggetto"] for p in world.ok("/procedure", fase="avviso_pubblicato")] == ["Co-programmazione minori"]

    acc = world.ok("/accreditamenti", role="referente_asl")
    assert [(a["codice_fiscale"], a["valido_dal"], a["valido_al"], a["revocato_il"]) for a in acc] == [
        (ALBA, "2026-01-01", "2026-12-31", "2026-06-01"), (FARO, "2026-01-01", "2027-12-31", None)]
    assert [a["codice_fiscale"] for a in world.ok("/accreditamenti", validi_il="2026-05-31")] == [ALBA, FARO]
    assert [a["codice_fiscale"] for a in world.ok("/accreditamenti", validi_il="2026-06-01")] == [FARO]
    assert world.ok("/accreditamenti", validi_il="2028-01-01") == []
    assert [a["denominazione"] for a in world.ok("/accreditamenti", codice_fiscale=ALBA)] == ["APS Alba Nuova"]

    aff = world.ok("/affidamenti", role="amministrativo")
    assert sorted((a["codice_fiscale"], a["importo"], a["piano_id"]) for a in aff) == [
        (FARO, "125000.00", PIANO), (ALBA, "9000.50", ALTRO_PIANO)]
    solo = world.ok("/affidamenti", piano_id=PIANO)
    assert [(a["denominazione"], a["intervento"], a["valido_dal"], a["valido_al"]) for a in solo] == [
        ("Coop Il Faro", "A1.2", "2026-02-01", "2026-12-31")]


def test_roles_referente_and_bad_filters(world: World) -> None:
    rf = world.referente(A, "ref@faro")
    assert [e["codice_fiscale"] for e in world.get("/enti", A, headers=rf).json()["elementi"]] == [FARO]
    assert [t["nome"] for t in world.get("/tavoli", A, headers=rf).json()["elementi"]] == ["Tavolo anziani"]
    assert [p["oggetto"] for p in world.get("/procedure", A, headers=rf).json()["elementi"]] == ["Co-progettazione SAD"]
    assert [a["codice_fiscale"] for a in world.get("/accreditamenti", A, headers=rf).json()["elementi"]] == [FARO]
    assert [a["codice_fiscale"] for a in world.get("/affidamenti", A, headers=rf).json()["elementi"]] == [FARO]
    assert world.get("/accreditamenti", A, headers=rf, codice_fiscale=ALBA).json()["elementi"] == []
    nessuno = world.referente(A, "ref@nessuno")
    for path in ("/enti", "/tavoli", "/procedure", "/accreditamenti", "/affidamenti"):
        assert world.get(path, A, headers=nessuno).status_code == 403
        assert world.get(path, A, "assistente_sociale").status_code == 403
        assert world.get(path, None, headers={}).status_code == 401
    assert world.get("/enti", A, "revisore", tipo="altro").status_code == 422
    assert world.get("/procedure", A, "revisore", fase="chiusa").status_code == 422
    assert world.get("/accreditamenti", A, "revisore", validi_il="ieri").status_code == 422
    assert world.get("/accreditamenti", A, "revisore", codice_fiscale="123").status_code == 422
    assert world.get("/affidamenti", A, "revisore", piano_id="x").status_code == 422


def test_each_ambito_sees_its_own_rows_only(world: World) -> None:
    altro = world.ok("/enti", tenant=B)
    assert [(e["codice_fiscale"], e["denominazione"]) for e in altro] == [(FARO, "Faro di un altro Ambito")]
    for path in ("/tavoli", "/procedure", "/accreditamenti", "/affidamenti"):
        assert world.ok(path, tenant=B) == []
    # As the unprivileged role with no WHERE: one tenant's rows, none without a tenant.
    with world.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
        for table in elenchi.TENANT_TABLES:
            enter_scope(curs, tenant=B)
            curs.execute(sql.SQL("SELECT DISTINCT tenant_id FROM {}").format(world.runtime.read_model.table(table)))
            assert {r["tenant_id"] for r in curs.fetchall()} <= {B}
            enter_scope(curs)
            curs.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(world.runtime.read_model.table(table)))
            assert curs.fetchone()["n"] == 0


def test_pagination_is_stable_and_linked(world: World) -> None:
    every = world.ok("/enti")
    seen, pages = every_page(lambda params: world.get("/enti", A, "revisore", **params), limite=1)
    assert seen == every and pages == len(every) == 3
    # a filtered list pages within its filter
    first = world.get("/accreditamenti", A, "revisore", limite=1, validi_il="2026-05-31").json()
    rest = world.ok("/accreditamenti", validi_il="2026-05-31", dopo=first["successivo"])
    assert [a["codice_fiscale"] for a in first["elementi"] + rest] == [ALBA, FARO]
    # a cursor of another list, a forged one, a limit out of range: 4xx naming the parameter
    for params in ({"dopo": first["successivo"]}, {"dopo": "bm9u"}, {"dopo": "%%%"}, {"limite": 0},
                   {"limite": 201}):
        r = world.get("/enti", A, "revisore", **params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(params)) in r.json()["field"]


def test_applying_the_log_again_changes_nothing_and_a_rebuild_is_identical(world: World) -> None:
    before = tables(world.runtime)
    lists = {p: world.ok(p) for p in ("/enti", "/tavoli", "/procedure", "/accreditamenti", "/affidamenti")}
    events = published_events(world.runtime)
    head = world.runtime.app.recorder.max_notification_id()

    # Every notification is tracked once; catching up again finds nothing to apply.
    assert world.runtime.tracker.count("partnership") == head
    assert world.runtime.projector.catch_up() == 0

    # The projection itself is idempotent even without its tracking record, in any replay.
    project = elenchi.project_elenchi(world.runtime.settings.db_schema)
    with world.runtime.app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        for event in [*events, *events]:
            enter_scope(curs, tenant=event.tenantid, regione=event.tenantid[:2])
            project(curs, event)
    assert tables(world.runtime) == before

    # A rebuild into a new schema (the routine, in batches) equals the live read model.
    settings = world.ns.settings("partnership", AMBITI_DB_SCHEMA=f"{world.ns.namespace}rebuild_partnership",
                                 AMBITI_RELAY_BATCH="7")
    again = build_runtime(settings, Partnership, SCHEMA, to_integration_event)
    try:
        # the live store's log into the new schema's tables and tracking
        projector = OwnLogProjector(world.runtime.app, again.tracker, to_integration_event,
                                    OWN.projections(settings.db_schema), batch_size=7)
        assert rebuild(projector) == head
        assert table_rows(again, elenchi.TENANT_TABLES) == before
    finally:
        again.app.close()
    assert {p: world.ok(p) for p in lists} == lists


def test_main_wires_the_read_model_without_a_consumer_of_its_own_topic(world: World) -> None:
    runtime = world.runtime
    assert runtime.consumers == []
    assert set(runtime.projector.projections) == set(elenchi.TIPI)
    health = world.client.get("/health").json()
    assert health["projector"]["backlog"] == 0 and health["projector"]["position"] == health["projector"]["head"]
