"""Services delivered, staff, indicators, the regional view and open data on the real PostgreSQL and broker.

Entries go in over HTTP with real tokens and are stored as monitoring's own events, which the
kit's projector applies to the read models in process before each response leaves (no relay,
no broker in between: what is read right after a write includes it); planning's composition
and finance's spend are produced to their topics and read by monitoring's tracked consumer.
The read models are then read through the API and as the unprivileged role, and rebuilt: own
events from the notification log by the projector's routine, the others from the topics.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, replace
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
from monitoring.integration.outbound import to_integration_event
from monitoring.main import build
from monitoring.projections import OWN, SCHEMA, TABLES

T0 = datetime(2026, 1, 20, 9, 0, tzinfo=timezone.utc)
A, B, C = "15-MA1", "15-MA2", "07-MA3"
TESTA = "intervento,comune,mese,area,utenti_0_17,utenti_18_64,utenti_65_piu,accessi,ore,costo,note\n"


class Producer:
    def __init__(self, service: str) -> None:
        self.service, self.sequence = service, 0

    def event(self, type_: str, tenant: str, subject: uuid.UUID, **data: Any) -> CloudEvent:
        self.sequence += 1
        return CloudEvent(type=f"{self.service}.{type_}", source=f"/ambiti/{self.service}", subject=str(subject),
                          tenantid=tenant, sequence=self.sequence, time=T0 + timedelta(minutes=self.sequence),
                          dataschema="x", data={k: (str(v) if isinstance(v, uuid.UUID) else v)
                                                for k, v in data.items()})


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    topics: dict[str, str]
    producer: Any
    planning: Producer
    finance: Producer
    expected: dict[str, int]

    @property
    def consumer(self) -> Any:
        return self.runtime.consumers[0]

    def deliver(self, *events: CloudEvent) -> None:
        for e in events:
            key, value, headers = e.to_kafka()
            self.producer.send(self.topics[e.type.split(".")[0]], key=key, value=value, headers=headers)
            self.expected[e.type.split(".")[0]] += 1
        self.producer.flush()
        self.sync()

    def sync(self) -> None:
        """Poll until every event of planning and finance produced so far is tracked."""
        drain(self.consumer, self.runtime, self.expected)

    def composizione(self, tenant: str, versione: int, comuni: list[tuple[str, str, int]]) -> CloudEvent:
        return self.planning.event("ambito.composizione_registrata", tenant, uuid.uuid4(), ambito=tenant,
                                   versione=versione, nome=f"Ambito {tenant}", capofila_istat=comuni[0][0],
                                   popolazione_al="2025-01-01",
                                   comuni=[{"istat": i, "nome": n, "popolazione": p} for i, n, p in comuni])

    def spesa(self, tenant: str, comune: str, assegnato: str, impegnato: str, pagato: str) -> list[CloudEvent]:
        f, a, s, i, liq = self.finance, *(uuid.uuid4() for _ in range(4))
        mov = {"stanziamento_id": s, "ambito": tenant}
        return [
            f.event("assegnazione.registrata", tenant, a, assegnazione_id=a, ambito=tenant, fondo="FNPS",
                    annualita=2026, importo=assegnato, atto={"numero": "1", "data": "2026-01-02"}, vincoli={},
                    registrata_da="x"),
            f.event("stanziamento.aperto", tenant, s, **mov, importo=assegnato, assegnazione_id=a, fondo="FNPS",
                    annualita=2026, piano_id=uuid.uuid4(), intervento="SAD", anno=2026, aperto_da="x"),
            f.event("impegno.assunto", tenant, s, **mov, importo=impegnato, impegno_id=i,
                    beneficiario={"denominazione": "Cooperativa Sole", "codice_fiscale": "01234567897"},
                    cig="A1B2C3D4E5", cup=None, atto={"tipo": "determina", "numero": "7", "data": "2026-01-15"},
                    oggetto="Assistenza domiciliare anziani", comune=comune, assunto_da="x"),
            f.event("liquidazione.disposta", tenant, s, **mov, importo=pagato, liquidazione_id=liq, impegno_id=i,
                    fattura={"numero": "F1", "data": "2026-02-01"}, disposta_da="x"),
            f.event("mandato.emesso", tenant, s, **mov, importo=pagato, mandato_id=uuid.uuid4(),
                    liquidazione_id=liq, impegno_id=i, data="2026-02-10", emesso_da="x")]

    def call(self, method: str, path: str, tenant: str | None, *roles: str, **kw: Any) -> Any:
        headers = self.ns.auth(tenant, *roles, **{k: kw.pop(k) for k in ("comune", "regione") if k in kw})
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kw)

    def select(self, table: str, **scope: str | None) -> list[dict]:
        with self.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
            enter_scope(curs, **scope)
            curs.execute(sql.SQL("SELECT * FROM {}").format(self.runtime.read_model.table(table)))
            return list(curs.fetchall())

    def stored_events(self) -> int:
        return self.runtime.app.recorder.max_notification_id() or 0


def drain(consumer: Any, runtime: Runtime, expected: dict[str, int]) -> None:
    def caught_up() -> bool:
        consumer.poll_once(timeout_ms=200)
        return all(runtime.tracker.count(p) >= n for p, n in expected.items())
    wait_until(caught_up, timeout=60, interval=0, message=f"{expected} events tracked")


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, TABLES)


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}monprest_")
    settings = ns.settings("monitoring")
    topics = {s: settings.topic(f"{s}.events.v1") for s in ("planning", "finance")}
    admin = kafka.admin(ns.kafka_bootstrap)
    kafka.ensure_topics(admin, {topics["planning"]: 1}, configs=kafka.EVENTS_CONFIG)
    kafka.ensure_topics(admin, {topics["finance"]: 3}, configs=kafka.EVENTS_CONFIG)
    admin.close()
    producer = kafka.producer(ns.kafka_bootstrap)
    with TestClient(build(settings, run_workers=False)) as client:
        w = World(ns, client, client.app.state.runtime, topics, producer, Producer("planning"), Producer("finance"),
                  {"planning": 0, "finance": 0})
        w.deliver(w.composizione(A, 1, [("065134", "Sapri", 6000), ("065001", "Acerno", 3000),
                                        ("065002", "Agropoli", 1000)]),
                  w.composizione(B, 1, [("065003", "Albanella", 5000)]),
                  w.composizione(C, 1, [("083001", "Alcara", 2000)]))
        try:
            yield w
        finally:
            w.consumer.close()
            w.runtime.relay.close()
            producer.close()


def test_entry_import_indicators_region_isolation_and_rebuild(world: World) -> None:
    w = world
    record = {"intervento": "SAD", "comune": "065134", "mese": "2026-01",
              "utenti": {"anziani": {"65+": 20}, "disabilita": {"18-64": 4}}, "accessi": 300, "ore": "450.00",
              "costo": "9000.00", "note": "servizio regolare"}
    # -- entry: the assistente sociale of Sapri, for Sapri only ----------------------------------
    r = w.call("POST", "/prestazioni", A, "assistente_sociale", comune="065134", json=record)
    assert r.status_code == 201, r.text
    assert r.json()["versione"] == 1
    r = w.call("POST", "/prestazioni", A, "assistente_sociale", comune="065134", json={**record, "comune": "065001"})
    assert (r.status_code, r.json()["rule"]) == (422, "prestazione.comune_dell_operatore")
    r = w.call("POST", "/prestazioni", A, "assistente_sociale", comune="065134", json=record)
    assert (r.status_code, r.json()["rule"]) == (409, "prestazione.esistente")
    for bad, rule in [({"mese": "2099-01"}, "prestazione.mese_futuro"),
                      ({"comune": "065003"}, "prestazione.comune_fuori_ambito"),
                      ({"utenti": {"anziani": {"65+": -2}}}, "prestazione.conteggio_negativo"),
                      ({"codice_fiscale": "RSSMRA80A01H703X"}, "dati_personali.campo"),
                      ({"note": "RSSMRA80A01H703X"}, "dati_personali.codice_fiscale"),
                      ({"note": "accompagnato Mario Rossi"}, "dati_personali.nome")]:
        r = w.call("POST", "/prestazioni", A, "coordinatore", json={**record, "mese": "2026-02", **bad})
        assert (r.status_code, r.json()["rule"]) == (422, rule), r.text
    assert w.call("POST", "/prestazioni", A, "revisore", json=record).status_code == 403
    # correction with a reason: 24 -> 26 users
    r = w.call("PUT", "/prestazioni", A, "coordinatore",
               json={**record, "utenti": {"anziani": {"65+": 22}, "disabilita": {"18-64": 4}}, "motivo": "rettifica"})
    assert (r.status_code, r.json()["versione"]) == (200, 2), r.text
    assert w.call("PUT", "/prestazioni", A, "coordinatore", json=record).json()["rule"] == \
        "prestazione.motivo_correzione"

    # -- CSV import: all or nothing ------------------------------------------------------------------
    before = w.stored_events()
    bad = TESTA + ("SAD,065001,2026-01,anziani,0,1,9,50,80.00,1500.00,\n"
                   "SAD,065002,2026-02,anziani,0,-1,0,5,5,50.00,\n"
                   "ADI,065099,2026-01,anziani,0,0,1,5,5,50.00,\n")
    r = w.call("POST", "/prestazioni/import", A, "coordinatore", content=bad, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert [(e["row"], e["rule"]) for e in r.json()["errors"]] == [
        (3, "prestazione.conteggio_negativo"), (4, "prestazione.comune_fuori_ambito")]  # file lines
    r = w.call("POST", "/prestazioni/import", A, "coordinatore",
               json={"csv": "intervento,comune,mese,nome\nSAD,065001,2026-01,Anna\n"})
    assert r.status_code == 422 and "dati_personali.campo" in {e["rule"] for e in r.json()["errors"]}
    assert w.stored_events() == before  # nothing stored
    good = TESTA + ("SAD,065001,2026-01,anziani,0,1,9,50,80.00,1500.00,\n"
                    "ADI,065001,2026-01,disabilita,0,5,0,20,30.00,600.00,\n"
                    "SAD,065001,2026-02,anziani,0,0,10,60,90.00,1600.00,\n")
    r = w.call("POST", "/prestazioni/import", A, "coordinatore", json={"csv": good})
    assert (r.status_code, r.json()) == (201, {"registrate": 3, "corrette": 0}), r.text
    r = w.call("POST", "/prestazioni/import", A, "coordinatore", content=good, headers={"Content-Type": "text/csv"})
    assert r.json()["rule"] == "prestazione.esistente"
    assert w.call("POST", "/prestazioni", B, "coordinatore",
                  json={**record, "comune": "065003", "utenti": {"poverta": {"18-64": 10}}}).status_code == 201

    # -- staff ----------------------------------------------------------------------------------------
    for comune, fte in (("065134", "1.00"), ("065001", "0.50")):
        r = w.call("PUT", "/personale", A, "coordinatore", json={
            "comune": comune, "profilo": "assistente_sociale", "area": "multiutenza", "fte": fte,
            "ore_settimanali_piano": "18"})
        assert r.status_code == 200 and r.json()["nuova"], r.text
    r = w.call("PUT", "/personale", A, "coordinatore", json={
        "comune": "065134", "profilo": "assistente_sociale", "area": "multiutenza", "fte": "1.50",
        "ore_settimanali_piano": "36", "motivo": "nuova assunzione"})
    assert (r.status_code, r.json()["nuova"]) == (200, False)

    # -- finance spend --------------------------------------------------------------------------------
    w.deliver(*w.spesa(A, "065134", "40000.00", "30000.00", "12000.00"))

    # -- the Ambito's indicators (hand-computed) ----------------------------------------------------------
    view = w.call("GET", "/indicatori?anno=2026", A, "coordinatore").json()
    amb = view["ambito_indicatori"]
    # residents 6000 + 3000 + 1000 = 10 000; users 26 + 10 + 5 + 10 = 51 -> 5.10 per 1,000
    assert (amb["residenti"], amb["utenze_mensili"], amb["utenze_mensili_per_mille"]) == (10000, 51, "5.10")
    assert (amb["utenti"], amb["utenti_per_mille"]) == (51, "5.10")  # the deprecated names, same figures
    # 12 000 / 10 000 = 1.20 paid, 30 000 / 10 000 = 3.00 committed; 30/40 = 0.75, 12/30 = 0.4
    assert (amb["spesa_pro_capite_pagato"], amb["spesa_pro_capite_impegnato"]) == ("1.20", "3.00")
    assert (amb["tasso_impegno"], amb["tasso_pagamento"]) == ("0.7500", "0.4000")
    # FTE 1.50 + 0.50 = 2.00: 5000 residents each, threshold and target met
    assert amb["leps"]["fte_assistenti_sociali"] == "2.00" and amb["leps"]["residenti_per_assistente"] == "5000.00"
    assert amb["leps"]["soglia_1_6500_raggiunta"] and amb["leps"]["leps_1_5000_raggiunto"]
    # exactly 1:5,000: 2.00 − 10 000/6 500 = 0.4615… FTE in band a (40,000 € each), nothing in band b
    assert amb["leps"]["contributo_statale"]["totale"] == "18461.54"
    # SAD in Sapri and Acerno (2 of 3), ADI in Acerno (1 of 3)
    assert amb["copertura"] == {"ADI": "0.3333", "SAD": "0.6667"}
    sapri = next(c for c in view["comuni"] if c["istat"] == "065134")
    assert (sapri["utenze_mensili"], sapri["utenze_mensili_per_mille"], sapri["spesa_pro_capite_pagato"]) == (
        26, "4.33", "2.00")
    assert "leps" not in sapri and "utenti" not in sapri  # no LEPS per Comune; no misleading name per Comune
    assert sapri["copertura"] == {"ADI": "0.0000", "SAD": "1.0000"}
    assert view["aggiornato_al"] is not None

    # CSV per indicator
    r = w.call("GET", "/indicatori/utenti_per_mille.csv?anno=2026", A, "revisore")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert (rows[0]["livello"], rows[0]["utenze_mensili_per_mille"]) == ("ambito", "5.10") and len(rows) == 4
    leps_csv = list(csv.DictReader(io.StringIO(w.call("GET", "/indicatori/leps.csv", A, "revisore").text)))
    assert [r["livello"] for r in leps_csv] == ["ambito"]  # the LEPS is the Ambito's, never a Comune's
    assert w.call("GET", "/indicatori/nessuno.csv", A, "revisore").status_code == 404

    # -- the Region: aggregates per Ambito, its own Ambiti only -----------------------------------------
    reg = w.call("GET", "/regione/indicatori?anno=2026", None, "regione", regione="15").json()
    row = next(a for a in reg["ambiti"] if a["ambito"] == A)
    assert (row["utenti"], row["utenti_per_mille"], row["spesa_pro_capite_pagato"]) == (51, "5.10", "1.20")
    assert row["copertura"] == {"ADI": "0.3333", "SAD": "0.6667"}
    assert row["leps"]["fte_assistenti_sociali"] == "2.00"
    assert {a["ambito"] for a in reg["ambiti"]} == {A, B} and reg["aggiornato_al"] is not None
    other = w.call("GET", "/regione/indicatori", None, "regione", regione="07").json()
    assert [a["ambito"] for a in other["ambiti"]] == [C]
    assert "065134" not in str(reg) and "Cooperativa" not in str(reg)
    assert w.call("GET", "/regione/indicatori", A, "coordinatore").status_code == 403

    # -- RLS: another tenant and another Region see nothing ----------------------------------------------
    for table in ("prestazioni", "copertura", "personale", "appartenenze", "opendata_impegni"):
        assert {r["tenant_id"] for r in w.select(table, tenant=A)} == {A}
        assert all(r["tenant_id"] != A for r in w.select(table, tenant=B))
        assert w.select(table, regione="15") == [] and w.select(table) == []
    for table in ("regionale_prestazioni", "regionale_copertura", "regionale_personale"):
        assert A in {r["tenant_id"] for r in w.select(table, regione="15")}
        assert w.select(table, regione="07") == [] or A not in {r["tenant_id"] for r in w.select(table, regione="07")}
        assert w.select(table, tenant=A) == []
    assert [p["comune"] for p in w.call("GET", "/prestazioni", B, "coordinatore").json()["elementi"]] == ["065003"]

    # -- open data --------------------------------------------------------------------------------------
    o = w.call("GET", "/opendata/ocds.json", A, "coordinatore").json()
    [release] = o["releases"]
    assert release["awards"][0]["suppliers"][0]["name"] == "Cooperativa Sole"
    assert release["contracts"][0]["value"] == {"amount": 30000.0, "currency": "EUR"}
    assert [t["value"]["amount"] for t in release["contracts"][0]["implementation"]["transactions"]] == [12000.0]
    assert w.call("GET", "/opendata/ocds.json", B, "coordinatore").json()["releases"] == []
    g = list(csv.DictReader(io.StringIO(w.call("GET", "/opendata/360giving.csv", A, "coordinatore").text)))
    assert (g[0]["Amount Awarded"], g[0]["Recipient Org:Identifier"], g[0]["Award Date"]) == (
        "30000.00", "IT-CF-01234567897", "2026-01-15")

    # -- membership with validity dates: Agropoli moves from A to B ---------------------------------------
    w.deliver(w.composizione(A, 2, [("065134", "Sapri", 6000), ("065001", "Acerno", 3000)]),
              w.composizione(B, 2, [("065003", "Albanella", 5000), ("065002", "Agropoli", 1000)]))
    periods = {(r["tenant_id"], r["istat"]): (r["dal"], r["al"]) for r in
               w.select("appartenenze", tenant=A) + w.select("appartenenze", tenant=B)}
    moved = periods[(A, "065002")][1]
    assert periods[(B, "065002")][0] == moved  # closed in A the day it opened in B
    # months of Agropoli before the move belong to A: A may still enter them, B may not.
    r = w.call("POST", "/prestazioni", B, "coordinatore",
               json={**record, "comune": "065002", "mese": "2025-12", "utenti": {"anziani": {"65+": 1}}})
    assert r.json()["rule"] == "prestazione.comune_fuori_ambito"
    assert w.call("POST", "/prestazioni", A, "coordinatore",
                  json={**record, "comune": "065002", "mese": "2025-12"}).status_code == 201

    # -- rebuild from all events equals the live tables --------------------------------------------------
    live = tables(w.runtime)
    assert all(live[t] for t in ("prestazioni", "copertura", "personale", "appartenenze", "opendata_impegni",
                                 "opendata_pagamenti", "regionale_prestazioni", "regionale_copertura",
                                 "regionale_personale"))
    # monitoring's own events: every notification tracked once under "monitoring", none left to apply
    head = w.stored_events()
    assert w.runtime.tracker.count("monitoring") == head and w.runtime.projector.catch_up() == 0
    settings = w.ns.settings("monitoring", AMBITI_DB_SCHEMA=f"{w.ns.namespace}rebuild_monitoring")
    rebuilt = build_runtime(settings, Monitoring, SCHEMA, to_integration_event,
                            consumers=lambda rt: inbound.consumers(rt, group="rebuild"))
    try:
        # the live store's log into the new schema's tables (in batches), then both topics from the start
        projector = OwnLogProjector(w.runtime.app, rebuilt.tracker, to_integration_event,
                                    OWN.projections(settings.db_schema), batch_size=7)
        assert rebuild(projector) == head
        drain(rebuilt.consumers[0], rebuilt, w.expected)
        assert tables(rebuilt) == live
        assert rebuilt.tracker.count("monitoring") == head
    finally:
        rebuilt.consumers[0].close()
        rebuilt.app.close()
