"""`make bench`: throughput and latency of the platform, as ratios to a baseline of the same run.

Everything runs against one PostgreSQL and one broker (embedded unless DATABASE_URL and
KAFKA_BOOTSTRAP_SERVERS are set), in a namespace of its own. Figures:

- baseline: raw `eventsourcing` Application.save() of one new aggregate, events/s;
- commands/s through the planning HTTP API (several client threads), and its ratio to the baseline;
- relay events/s from the notification log to Kafka;
- consumer events/s into monitoring's read model (tracking + RLS projection per event);
- end-to-end latency, command accepted -> visible in monitoring, p50/p99;
- rebuild of monitoring's read model from 100k events, events/s.

Results are printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ambiti_cli.infra import EmbeddedPostgres, TansuBroker, ensure_database, wipe
from ambiti_kit.eventstore import Schema, create_schema
from ambiti_kit.service import build_runtime
from ambiti_kit.testing.fixtures import Infra, free_port, start_platform, wait_until
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import SCHEMA as MONITORING_SCHEMA
from planning.application import Planning
from planning.domain.piano import PianoDiZona
from planning.integration.outbound import to_integration_event

ROOT = Path(__file__).resolve().parents[1]
N_RAW = int(os.environ.get("BENCH_RAW", 3000))
N_API = int(os.environ.get("BENCH_API", 3000))
N_LATENCY = int(os.environ.get("BENCH_LATENCY", 300))
N_REBUILD = int(os.environ.get("BENCH_REBUILD", 100_000))


class Pratica(Aggregate):
    @event("Aperta")
    def __init__(self, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int, creato_da: str) -> None:
        self.tenant_id = tenant_id


class Raw(Application):
    name = "rawbench"


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def bench_raw(infra: Infra) -> dict:
    settings = infra.settings("rawbench")
    create_schema(settings)
    app = Raw(env=settings.eventsourcing_env)
    start = time.perf_counter()
    for i in range(N_RAW):
        app.save(Pratica(tenant_id="15-RAW", titolo=f"p{i}", anno_inizio=2025, anno_fine=2027, creato_da="b"))
    seconds = time.perf_counter() - start
    app.close()
    return {"events": N_RAW, "seconds": round(seconds, 2), "events_per_s": rate(N_RAW, seconds)}


def bench_api(infra: Infra) -> tuple[dict, dict]:
    platform = start_platform(infra, names=("planning", "monitoring"), log_tag="bench")
    try:
        tenants = [f"15-B{i}" for i in range(N_API // 25 + 1)]
        headers = {t: infra.auth(t, "coordinatore") for t in tenants}
        url = f"{platform.url('planning')}/piani"
        jobs = [(tenants[i // 25], 2025 + 3 * (i % 25)) for i in range(N_API)]  # years stay <= 2100

        http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=8))  # thread-safe, kept alive

        def post(job: tuple[str, int]) -> int:
            tenant, start = job
            return http.post(url, headers=headers[tenant], json={
                "titolo": "Piano", "anno_inizio": start, "anno_fine": start + 2}).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(post, jobs))
        http.close()
        seconds = time.perf_counter() - start
        assert codes.count(201) == N_API, {c: codes.count(c) for c in set(codes)}
        api = {"commands": N_API, "client_threads": 8, "seconds": round(seconds, 2),
               "commands_per_s": rate(N_API, seconds)}

        # Let monitoring catch up, then measure one command at a time.
        wait_until(lambda: httpx.get(f"{platform.url('monitoring')}/health").json()["consumers"][0]["applied"]
                   >= N_API, timeout=300, message="monitoring caught up")
        latencies = []
        with httpx.Client(timeout=30) as http:
            for i in range(N_LATENCY):
                t0 = time.perf_counter()
                auth = infra.auth(f"15-LAT{i // 25}", "coordinatore")
                r = http.post(url, headers=auth, json={"titolo": "Latenza", "anno_inizio": 2025 + 3 * (i % 25),
                                                         "anno_fine": 2027 + 3 * (i % 25)})
                assert r.status_code == 201, r.text
                piano = f"{platform.url('monitoring')}/piani/{r.json()['id']}"
                while http.get(piano, headers=auth).status_code != 200:
                    time.sleep(0.002)
                latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        latency = {"samples": N_LATENCY, "p50_ms": round(statistics.median(latencies), 1),
                   "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1),
                   "max_ms": round(latencies[-1], 1)}
        return api, latency
    finally:
        platform.stop()


def bench_pipeline(infra: Infra) -> dict:
    """Relay and consumer rates, and the rebuild of a read model from N_REBUILD events."""
    ns = replace(infra, namespace=f"{infra.namespace}pipe_")
    planning = build_runtime(ns.settings("planning", AMBITI_RELAY_BATCH="5000"), Planning, Schema(),
                             to_integration_event)
    batch = []
    for i in range(N_REBUILD):
        batch.append(PianoDiZona.redigi(f"{10 + i % 10}-R{i // 10}", "Piano", 2025, 2027, "bench"))
        if len(batch) == 1000:
            planning.app.save(*batch)
            batch = []
    if batch:
        planning.app.save(*batch)
    start = time.perf_counter()
    while planning.relay.run_once():
        pass
    relay_seconds = time.perf_counter() - start
    assert planning.relay.position()[0] == N_REBUILD

    rebuild = build_runtime(ns.settings("monitoring"), Monitoring, MONITORING_SCHEMA, no_events,
                            consumers=lambda rt: inbound.consumers(rt, group="rebuild"))
    consumer = rebuild.consumers[0]
    start = time.perf_counter()
    while rebuild.tracker.count("planning") < N_REBUILD:
        consumer.poll_once(timeout_ms=500)
        if time.perf_counter() - start > 1800:
            raise TimeoutError("rebuild did not finish in 30 minutes")
    rebuild_seconds = time.perf_counter() - start
    consumer.close()
    with rebuild.app.recorder.datastore.transaction() as curs:
        curs.execute(f'SELECT count(*) AS n FROM "{ns.namespace}monitoring".piani')
        assert curs.fetchone()["n"] == N_REBUILD
    planning.relay.close()
    return {
        "events": N_REBUILD,
        "relay": {"seconds": round(relay_seconds, 2), "events_per_s": rate(N_REBUILD, relay_seconds)},
        "rebuild_consumer": {"seconds": round(rebuild_seconds, 2), "events_per_s": rate(N_REBUILD, rebuild_seconds)},
    }


def main() -> int:
    cleanups = []
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    if not database_url:
        pg = EmbeddedPostgres(var / f"pg-{uuid.uuid4().hex[:6]}", port=free_port())
        pg.start()
        cleanups.append(lambda: (pg.stop(), wipe(pg.data_dir)))
        database_url = ensure_database(pg.url, "ambiti_bench")
    if not bootstrap:
        broker = TansuBroker(port=free_port(), log_file=var / "tansu.log")
        broker.start()
        cleanups.append(broker.stop)
        bootstrap = broker.bootstrap
    infra = Infra(database_url, bootstrap, f"b{uuid.uuid4().hex[:6]}_")
    try:
        results: dict = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count()}
        results["baseline_raw_save"] = bench_raw(infra)
        print("baseline", results["baseline_raw_save"], flush=True)
        results["api"], results["e2e_latency"] = bench_api(infra)
        results["api"]["ratio_to_raw_save"] = round(
            results["api"]["commands_per_s"] / results["baseline_raw_save"]["events_per_s"], 3)
        print("api", results["api"], "\nlatency", results["e2e_latency"], flush=True)
        results["pipeline"] = bench_pipeline(infra)
        for part in ("relay", "rebuild_consumer"):
            results["pipeline"][part]["ratio_to_raw_save"] = round(
                results["pipeline"][part]["events_per_s"] / results["baseline_raw_save"]["events_per_s"], 2)
        print("pipeline", results["pipeline"], flush=True)
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "latest.json").write_text(json.dumps(results, indent=2))
        print(json.dumps(results, indent=2))
        return 0
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
