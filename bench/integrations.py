"""Benchmarks of the integrators' side (issue 13): webhooks and the per-Ambito feed.

planning runs as its own process (as in production); commands go over HTTP.

- Webhooks: 50 subscriptions across 10 Ambiti (5 each), one receiver process-side server that verifies
  every delivery with the reference library ``standardwebhooks``; ``N_PIANI`` Piani created per Ambito by
  8 client threads. Figures: deliveries/s (accepted by the receiver, from the first command to the last
  delivery) and the command -> receiver latency p50/p99 (from the moment the command was sent to the
  moment its event arrived, for every subscription).
- Feed: one Ambito with ``N_FEED`` events read whole through ``GET /eventi`` (500 per page), events/s,
  against a raw read of the same rows (the same SQL join of audit chain and events table, without
  decoding, mapping or HTTP), and the ratio.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from psycopg import sql
from standardwebhooks import Webhook

from ambiti_kit.testing.fixtures import ROOT, Infra, free_port, start_platform, wait_until

S09 = json.loads((ROOT / "shared" / "ambiti_cli" / "demo_s09.json").read_text())

N_AMBITI = 10
SUBS_PER_AMBITO = 5
N_PIANI = int(os.environ.get("BENCH_WEBHOOK_PIANI", 20))
N_FEED = int(os.environ.get("BENCH_FEED_EVENTS", 3000))


def _ms(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"samples": len(samples), "p50_ms": round(samples[len(samples) // 2], 1),
            "p99_ms": round(samples[int(0.99 * (len(samples) - 1))], 1), "max_ms": round(samples[-1], 1)}


class Receiver:
    """Records when each (subscription, event) first arrived; verifies every signature."""

    def __init__(self) -> None:
        self.secrets: dict[str, Webhook] = {}
        self.arrivals: dict[tuple[str, str], tuple[float, str]] = {}
        self.refused = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                at = time.perf_counter()
                sub = self.path.rsplit("/", 1)[-1]
                try:
                    event = receiver.secrets[sub].verify(body, dict(self.headers.items()))
                except Exception:  # noqa: BLE001
                    receiver.refused += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.arrivals.setdefault((sub, self.headers["webhook-id"]), (at, event["subject"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"


def bench_integrations(infra: Infra) -> dict:
    ns = replace(infra, namespace=f"{infra.namespace}integr_")
    platform = start_platform(ns, names=("planning",), log_tag="bench-integrations",
                              AMBITI_WEBHOOK_BACKOFF_BASE="0.2", AMBITI_WEBHOOK_BACKOFF_MAX="2")
    try:
        return {"webhooks": _webhooks(ns, platform.url("planning")), "feed": _feed(ns, platform.url("planning"))}
    finally:
        platform.stop()


def _webhooks(ns: Infra, url: str) -> dict:
    receiver = Receiver()
    tenants = [f"15-WB{i:02d}" for i in range(N_AMBITI)]
    http = httpx.Client(timeout=30)
    for tenant in tenants:
        for n in range(SUBS_PER_AMBITO):
            r = http.post(f"{url}/webhook/sottoscrizioni", headers=ns.auth(tenant, "integratore"),
                          json={"url": receiver.url(f"{tenant}-{n}"), "tipi": ["planning.piano_di_zona.creato"]})
            assert r.status_code == 201, r.text
            receiver.secrets[f"{tenant}-{n}"] = Webhook(r.json()["segreto"])
    sent: dict[str, float] = {}

    def create(job: tuple[str, int]) -> None:
        tenant, i = job
        started = time.perf_counter()
        r = httpx.post(f"{url}/piani", headers=ns.auth(tenant, "coordinatore"), timeout=30,
                       json={"titolo": f"Piano {i}", "anno_inizio": 2025 + 3 * i, "anno_fine": 2027 + 3 * i})
        assert r.status_code == 201, r.text
        sent[r.json()["id"]] = started
    jobs = [(tenant, i) for i in range(N_PIANI) for tenant in tenants]
    first = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, jobs))
    expected = len(jobs) * SUBS_PER_AMBITO
    wait_until(lambda: len(receiver.arrivals) >= expected, timeout=300, interval=0.2,
               message=f"{expected} webhook deliveries")
    last = max(at for at, _ in receiver.arrivals.values())
    latencies = [(at - sent[subject]) * 1000 for at, subject in receiver.arrivals.values()]
    receiver.server.shutdown()
    assert receiver.refused == 0, f"{receiver.refused} deliveries failed verification"
    return {"subscriptions": N_AMBITI * SUBS_PER_AMBITO, "ambiti": N_AMBITI, "commands": len(jobs),
            "deliveries": expected, "deliveries_per_s": round(expected / (last - first), 1),
            "command_to_receiver": _ms(latencies)}


def _feed(ns: Infra, url: str) -> dict:
    tenant, schema = "15-FEED", f"{ns.namespace}planning"
    coord, integr = ns.auth(tenant, "coordinatore"), ns.auth(tenant, "integratore")

    r = httpx.put(f"{url}/ambito", headers=coord, timeout=30, json={
        "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
        "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
    assert r.status_code in (200, 201), r.text
    piani = []
    for i in range(8):
        r = httpx.post(f"{url}/piani", headers=coord, timeout=30,
                       json={"titolo": f"Piano {i}", "anno_inizio": 2025 + 3 * i, "anno_fine": 2027 + 3 * i})
        assert r.status_code == 201, r.text
        piani.append(r.json()["id"])

    def revise(piano: str) -> None:  # one writer per Piano: each PUT is one event of the Ambito
        with httpx.Client(timeout=30, headers=coord) as client:
            for n in range(N_FEED // len(piani)):
                r = client.put(f"{url}/piani/{piano}/versioni/1/contenuto",
                               json={"aree": [{"codice": "A", "titolo": f"Area {n}", "obiettivi": []}]})
                assert r.status_code == 200, r.text
    with ThreadPoolExecutor(len(piani)) as pool:
        list(pool.map(revise, piani))
    wait_until(lambda: _chained(ns, schema, tenant) >= N_FEED, timeout=300, message="every event chained")

    def read_all() -> int:
        n, cursor = 0, None
        with httpx.Client(timeout=60) as client:
            while True:
                page = client.get(f"{url}/eventi", headers=integr,
                                  params={"quanti": 500, **({"dopo": cursor} if cursor else {})}).json()
                n += len(page["eventi"])
                cursor = page["cursore"]
                if page["in_pari"]:
                    return n

    def raw() -> int:
        with ns.connect() as conn:
            rows = conn.execute(sql.SQL(
                "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state "
                "FROM {s}.audit_chain c JOIN {s}.planning_events e ON e.notification_id = c.notification_id "
                "WHERE c.tenant_id = %s ORDER BY c.notification_id").format(s=sql.Identifier(schema)),
                (tenant,)).fetchall()
        return len(rows)
    read_all()  # warm
    timings = {}
    for name, fn in (("feed", read_all), ("raw", raw)):
        started = time.perf_counter()
        n = fn()
        timings[name] = (n, time.perf_counter() - started)
    (n_feed, t_feed), (n_raw, t_raw) = timings["feed"], timings["raw"]
    assert n_feed == n_raw >= N_FEED, (n_feed, n_raw)
    return {"events": n_feed, "feed_events_per_s": round(n_feed / t_feed, 1),
            "raw_rows_per_s": round(n_raw / t_raw, 1), "ratio_to_raw": round((n_feed / t_feed) / (n_raw / t_raw), 3)}


def _chained(ns: Infra, schema: str, tenant: str) -> int:
    with ns.connect() as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}.audit_chain WHERE tenant_id = %s").format(
            sql.Identifier(schema)), (tenant,)).fetchone()[0]


if __name__ == "__main__":  # `python bench/integrations.py`: this benchmark alone
    import sys

    from servers import bench_infra

    with bench_infra() as infra:
        print(json.dumps(bench_integrations(infra), indent=2))
    sys.exit(0)
