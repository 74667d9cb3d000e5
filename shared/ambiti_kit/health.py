"""Truthful health: liveness, readiness with the figures that decide it, and Prometheus metrics.

- ``GET /health/live``: the process serves requests (nothing else is checked: a liveness probe
  that failed on a database outage would restart every replica for nothing).
- ``GET /health/ready`` (and ``GET /health``, as before): 200 only when the database and the broker
  answer and the relay, the own-log projector and every consumer are within
  ``AMBITI_READY_MAX_LAG`` events of their heads; otherwise 503 with the reasons, in Italian. The
  body shows the store head, the relay position and lag, the projector backlog, the broker, each
  consumer group's lag and when it last polled, and the dead letters.
- ``GET /metrics``: Prometheus text (prometheus-client): request latency per route, and at each
  scrape the store head, relay position and lag, projector backlog, consumer lag, dead letters,
  broker reachability and the audit chain's head.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from psycopg import sql
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from ambiti_kit.service import Runtime

#: a consumer whose last poll is older than this is stuck (a poll returns at least every half second)
CONSUMER_STALE_SECONDS = 30.0


def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """Whether any bootstrap server accepts a TCP connection."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
            return True
        except (OSError, ValueError):
            continue
    return False


def database_answers(url: str, timeout: int = 2) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=timeout, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@dataclass
class Readiness:
    ready: bool
    reasons: list[str] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)


def readiness(runtime: "Runtime") -> Readiness:
    s = runtime.settings
    reasons: list[str] = []
    body: dict[str, Any] = {"service": s.service, "max_lag": s.ready_max_lag}
    db_ok = database_answers(s.service_database_url)
    broker_ok = broker_reachable(s.kafka_bootstrap_servers)
    body["database"] = {"raggiungibile": db_ok}
    body["broker"] = {"raggiungibile": broker_ok, "bootstrap": s.kafka_bootstrap_servers}
    if not db_ok:
        reasons.append("il database non risponde")
    if not broker_ok:
        reasons.append("il broker non risponde")
    if db_ok:
        head = runtime.app.recorder.max_notification_id() or 0
        position, epoch = runtime.relay.position()
        relay_lag = max(head - position, 0)
        body["store"] = {"head": head}
        body["relay"] = {"topic": runtime.relay.topic, "position": position, "epoch": epoch, "lag": relay_lag,
                         "published": runtime.relay.published}
        if relay_lag > s.ready_max_lag:
            reasons.append(f"la relay è indietro di {relay_lag} eventi")
        if runtime.projector is not None:
            status = runtime.projector.status()
            body["projector"] = status
            if status["backlog"] > s.ready_max_lag:
                reasons.append(f"i modelli di lettura propri sono indietro di {status['backlog']} eventi")
        body["dead_letters"] = dead_letters(runtime)
    now = time.time()
    consumers = []
    for c in runtime.consumers:
        stale = c.polled_at is None or now - c.polled_at > CONSUMER_STALE_SECONDS
        consumers.append({"group": c.group_id, "lag": c.lag, "applied": c.applied, "duplicates": c.duplicates,
                          "rejected": c.rejected, "last_poll_seconds_ago": None if c.polled_at is None
                          else round(now - c.polled_at, 1), "last_error": c.last_error,
                          "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in c.assigned)})
        if stale:
            reasons.append(f"il consumatore {c.group_id} non legge dal broker")
        elif c.lag is not None and c.lag > s.ready_max_lag:
            reasons.append(f"il consumatore {c.group_id} è indietro di {c.lag} messaggi")
    body["consumers"] = consumers
    body["status"] = "pronto" if not reasons else "non pronto"
    body["motivi"] = reasons
    return Readiness(not reasons, reasons, body)


def dead_letters(runtime: "Runtime") -> int:
    """Dead letters still open (neither replayed nor discarded)."""
    return runtime.tracker.letters().count_open()


def chain_head(runtime: "Runtime") -> int:
    with runtime.read_model.datastore.transaction() as curs:
        curs.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS n FROM {}.audit_chain").format(
            sql.Identifier(runtime.settings.db_schema)))
        return curs.fetchone()["n"]


class RuntimeCollector:
    """Reads the figures at each scrape (a scrape is rare; the request path pays nothing)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runtime: "Runtime | None" = getattr(self.app.state, "runtime", None)
        if runtime is None:
            return
        s = runtime.settings
        labels = ["service"]

        def gauge(name: str, doc: str, value: float | None, extra: dict[str, str] | None = None) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc, labels=labels + list(extra or {}))
            if value is not None:
                g.add_metric([s.service, *(extra or {}).values()], value)
            return g

        yield gauge("ambiti_broker_reachable", "1 if a bootstrap server accepts a connection",
                    float(broker_reachable(s.kafka_bootstrap_servers, timeout=0.5)))
        try:
            head = runtime.app.recorder.max_notification_id() or 0
            position, _ = runtime.relay.position()
            yield gauge("ambiti_store_head", "highest notification id in the event store", head)
            yield gauge("ambiti_relay_position", "last notification published by the relay", position)
            yield gauge("ambiti_relay_lag", "events stored but not yet published", max(head - position, 0))
            if runtime.projector is not None:
                yield gauge("ambiti_projector_backlog", "own events not yet in the read models",
                            runtime.projector.status()["backlog"])
            yield gauge("ambiti_dead_letters", "messages no consumer or projection could apply", dead_letters(runtime))
            yield gauge("ambiti_chain_head", "highest notification id linked in the audit chain", chain_head(runtime))
            if runtime.webhooks is not None:
                subs = GaugeMetricFamily("ambiti_webhook_subscriptions", "webhook subscriptions by state",
                                         labels=["service", "stato"])
                for stato, n in runtime.webhooks.states().items():
                    subs.add_metric([s.service, stato], n)
                yield subs
                for name, doc, value in (
                        ("ambiti_webhook_deliveries", "webhook deliveries accepted by receivers (this process)",
                         runtime.webhooks.delivered),
                        ("ambiti_webhook_failures", "webhook delivery attempts that failed (this process)",
                         runtime.webhooks.failed)):
                    counter = CounterMetricFamily(name, doc, labels=labels)
                    counter.add_metric([s.service], value)
                    yield counter
            yield gauge("ambiti_database_up", "1 if the database answered this scrape", 1.0)
        except Exception:  # noqa: BLE001 - a scrape during a database outage says so instead of failing
            yield gauge("ambiti_database_up", "1 if the database answered this scrape", 0.0)
        lag = GaugeMetricFamily("ambiti_consumer_lag", "messages on the assigned partitions not yet applied",
                                labels=["service", "group"])
        for c in runtime.consumers:
            if c.lag is not None:
                lag.add_metric([s.service, c.group_id], c.lag)
        yield lag


class Metrics:
    """One registry per app: the request histogram (an ASGI middleware) and the runtime collector."""

    def __init__(self, app: Any, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self.requests = Histogram(
            "ambiti_http_request_duration_seconds", "time to answer a request, per route",
            ["service", "method", "route", "status"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.registry.register(RuntimeCollector(app))

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MeasureRequests:
    """ASGI middleware: observes each answered request under its route's template (never its raw path,
    so that ids do not explode the label set); unknown paths are counted under ``<none>``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<none>"
            if template not in ("/metrics",):
                self.metrics.requests.labels(self.metrics.service, scope["method"], template,
                                             str(status["code"])).observe(time.perf_counter() - started)


def health_router() -> APIRouter:
    router = APIRouter(tags=["piattaforma"])
    ready_responses = {503: {"description": "Non pronto: il corpo elenca i motivi (stesso schema del 200)"}}

    @router.get("/health/live", summary="Il processo risponde")
    def live(request: Request) -> dict[str, str]:
        return {"service": request.app.state.settings.service, "status": "vivo"}

    def _ready(request: Request) -> JSONResponse:
        result = readiness(request.app.state.runtime)
        return JSONResponse(result.body, status_code=200 if result.ready else 503)

    router.add_api_route("/health/ready", _ready, methods=["GET"], responses=ready_responses,
                         summary="Pronto a servire: database e broker raggiungibili, relay e consumatori in pari")
    router.add_api_route("/health", _ready, methods=["GET"], responses=ready_responses,
                         summary="Come /health/ready")

    @router.get("/metrics", summary="Metriche Prometheus", response_class=Response,
                responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    def metrics(request: Request) -> Response:
        return request.app.state.metrics.exposition()

    return router
