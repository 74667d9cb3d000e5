"""Benchmarks of the read side (issue 9): list latency on a large Ambito, and the rebuild routine.

- lists: an Ambito with N_LIST commitments (finance) and N_LIST deliberations (planning); p50/p99 of
  the first page, a filtered page and a page deep in the list (by cursor), against the same page read
  by a plain SQL SELECT on the same table in the same run;
- rebuild: finance's own read models (ledger + lists) rebuilt from its notification log by the kit's
  projector, events/s, against a raw replay of the same log (``select_notifications`` in batches
  and decoding each to its domain event) in the same run.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit.listing import decode_cursor
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.service import build_runtime
from ambiti_kit.testing.fixtures import Infra

N_LIST = int(os.environ.get("BENCH_LIST_ROWS", 10_000))
N_CALLS = int(os.environ.get("BENCH_LIST_CALLS", 200))
TENANT = "15-LIST"


def _stats(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"samples": len(samples), "p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(samples[int(0.99 * (len(samples) - 1))], 2)}


def _time(call: Callable[[], Any], n: int = N_CALLS) -> dict:
    call()  # warm
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return _stats(samples)


def _raw_page(runtime: Any, table: str, order: str, where: str = "", params: tuple = ()) -> Callable[[], list]:
    query = sql.SQL("SELECT * FROM {} WHERE tenant_id = %s {} ORDER BY {} LIMIT 50").format(
        runtime.read_model.table(table), sql.SQL(where), sql.SQL(order))

    def call() -> list:
        with runtime.app.recorder.datastore.transaction() as curs:
            curs.execute(query, (TENANT, *params))
            return curs.fetchall()
    return call


def _pages(client: TestClient, path: str, headers: dict, params: dict, depth: int) -> dict:
    """The cursor of page ``depth`` of a list."""
    cursor = None
    for _ in range(depth):
        body = client.get(path, params={**params, **({"dopo": cursor} if cursor else {})}, headers=headers).json()
        cursor = body["successivo"]
    return {**params, "dopo": cursor}


def _list_case(client: TestClient, path: str, headers: dict, params: dict, raw: Callable[[], list]) -> dict:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one log line per timed request

    def api() -> None:
        r = client.get(path, params=params, headers=headers)
        assert r.status_code == 200 and len(r.json()["elementi"]) == params.get("limite", 50), r.text[:500]
    api_stats, raw_stats = _time(api), _time(raw)
    return {"api": api_stats, "raw_sql": raw_stats,
            "ratio_p99_to_raw_sql": round(api_stats["p99_ms"] / raw_stats["p99_ms"], 1)}


def _deep_case(client: TestClient, runtime: Any, headers: dict, order: str) -> dict:
    """Page 100 by cursor, against the same keyset condition in plain SQL."""
    params = _pages(client, "/impegni", headers, {"limite": 50}, 99)
    keys = decode_cursor(params["dopo"])
    raw = _raw_page(runtime, "impegni", order, "AND (assunto_il, sequenza) < (%s, %s)", tuple(keys))
    return _list_case(client, "/impegni", headers, params, raw)


def bench_finance_lists_and_rebuild(infra: Infra) -> dict:
    from ambiti_kit.idempotency import Once
    from finance.application import Finance
    from finance.domain.comandi import NuovaAllocazione
    from finance.domain.fondi import atto
    from finance.integration.outbound import to_integration_event
    from finance.main import build
    from finance.projections import OWN, SCHEMA

    ns = replace(infra, namespace=f"{infra.namespace}lists_")
    settings = ns.settings("finance")
    with TestClient(build(settings, run_workers=False)) as client:
        runtime = client.app.state.runtime
        app: Finance = runtime.app
        try:
            # an allocation with N_LIST commitments to 10 beneficiaries, written as the domain writes them
            app.registra_assegnazione(TENANT, "FNPS", 2025, Decimal("90000000.00"),
                                      atto("decreto", "1", date(2025, 1, 10), "Regione"), {}, "bench")
            piano = uuid.uuid4()
            app.apri_budget_del_piano(TENANT, piano, 2025, 2027, Tracking("planning", 1))
            app.recepisci_versione(TENANT, piano, 1, "1/2025", [{
                "codice": "SAD", "titolo": "SAD", "comuni": ["065134"], "nomenclatura": None,
                "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "90000000.00"}]}], Tracking("planning", 2))
            result, _ = app.alloca(Once(TENANT, "bench", "bench-alloca-0001"),
                                   NuovaAllocazione(piano, "SAD", "FNPS", 2025, 2025, Decimal("90000000.00")))
            stanziamento = app.stanziamento(TENANT, uuid.UUID(result["id"]))
            cfs = ["00743110157", "80012170157", "01234567004", "02345678007", "03456789002", "04567890007",
                   "05678901004", "06789012009", "07890123004", "08901234009"]
            for i in range(N_LIST):
                stanziamento.impegna(uuid.uuid4(), Decimal("100.00"),
                                     {"denominazione": f"Ente {i % 10}", "codice_fiscale": cfs[i % 10]},
                                     f"B{i:09d}", None, {"tipo": "determina", "numero": f"{i}/2025",
                                                          "data": date(2025, 2, 1)},
                                     "Servizio", None, "bench")
                if i % 1000 == 999:
                    app.save(stanziamento)
            app.save(stanziamento)
            head = app.recorder.max_notification_id()

            # raw replay of the log: read in batches and decode each notification to its domain event
            t0 = time.perf_counter()
            position, decoded = 0, 0
            while True:
                batch = app.recorder.select_notifications(start=position + 1, limit=1000)
                if not batch:
                    break
                for n in batch:
                    app.mapper.to_domain_event(n)
                decoded += len(batch)
                position = batch[-1].id
            raw_seconds = time.perf_counter() - t0

            # the live projector catching up from nothing, then a rebuild into a new schema
            t0 = time.perf_counter()
            runtime.projector.catch_up()
            live_seconds = time.perf_counter() - t0
            again_settings = ns.settings("finance", AMBITI_DB_SCHEMA=f"{ns.namespace}rebuild_finance")
            again = build_runtime(again_settings, Finance, SCHEMA, to_integration_event)
            projector = OwnLogProjector(app, again.tracker, to_integration_event,
                                        OWN.projections(again_settings.db_schema), batch_size=1000)
            t0 = time.perf_counter()
            assert rebuild(projector) == head
            rebuild_seconds = time.perf_counter() - t0
            again.app.close()
            raw_rate = decoded / raw_seconds
            rebuild_figures = {
                "events": head, "raw_replay_events_per_s": round(raw_rate),
                "live_catch_up_events_per_s": round(head / live_seconds),
                "rebuild_events_per_s": round(head / rebuild_seconds),
                "ratio_rebuild_to_raw_replay": round(head / rebuild_seconds / raw_rate, 2)}

            headers = ns.auth(TENANT, "revisore")
            impegni_order = "assunto_il DESC, sequenza DESC"
            lists = {
                "impegni_first_page": _list_case(client, "/impegni", headers, {"limite": 50},
                                                 _raw_page(runtime, "impegni", impegni_order)),
                "impegni_by_beneficiary": _list_case(
                    client, "/impegni", headers, {"limite": 50, "beneficiario": cfs[3]},
                    _raw_page(runtime, "impegni", impegni_order, "AND beneficiario_cf = %s", (cfs[3],))),
                "impegni_page_100": _deep_case(client, runtime, headers, impegni_order),
            }
            return {"rows": N_LIST, "lists": lists, "rebuild": rebuild_figures}
        finally:
            runtime.relay.close()


def bench_planning_lists(infra: Infra) -> dict:
    """The register of an Ambito with N_LIST deliberations (half approved with their number, half proposals)."""
    from planning.domain.deliberazione import Deliberazione
    from planning.main import build

    ns = replace(infra, namespace=f"{infra.namespace}plists_")
    with TestClient(build(ns.settings("planning"), run_workers=False)) as client:
        runtime = client.app.state.runtime
        try:
            seduta = uuid.uuid4()
            batch = []
            for i in range(N_LIST):
                d = Deliberazione.proponi(TENANT, "approvazione_bilancio", f"Bilancio {i}", "Testo", {"anno": 2020 + i % 6}, "bench")
                if i % 2:
                    d.iscrivi(seduta)
                    d.approva(seduta, i // 2 + 1, 2020 + i % 6, date(2020 + i % 6, 3, 1), {"approvata": True}, {},
                              {})
                batch.append(d)
                if len(batch) == 500:
                    runtime.app.save(*batch)
                    batch = []
            if batch:
                runtime.app.save(*batch)
            runtime.projector.catch_up()
            headers = ns.auth(TENANT, "revisore")
            order = "anno DESC, coalesce(progressivo, 2147483647) DESC, proposta_il DESC, id DESC"
            return {"rows": N_LIST, "lists": {
                "deliberazioni_first_page": _list_case(client, "/deliberazioni", headers, {"limite": 50},
                                                       _raw_page(runtime, "deliberazioni", order)),
                "deliberazioni_approved_2023": _list_case(
                    client, "/deliberazioni", headers, {"limite": 50, "anno": 2023, "stato": "approvata"},
                    _raw_page(runtime, "deliberazioni", order, "AND anno = 2023 AND stato = 'approvata'")),
            }}
        finally:
            runtime.relay.close()
