"""Composition of a service process: one call builds the FastAPI app of a service.

``create_service`` wires what every service has alike — settings, JSON logs and
correlation ids, problem+json errors, the event store (append-only), the audit chain
with ``GET /audit/verify``, the elected outbox relay, the projector of the service's own
read models (read-your-writes), the service's consumers of other services' events, and
``GET /health/live``, ``/health/ready`` and ``/metrics`` (ambiti_kit.health) — around the service's
own routers. Nothing here knows any service.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, AsyncIterator, Callable, Mapping, Sequence

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from ambiti_kit.audit import AuditChain, external_witness, signer
from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.consumer import Tracker, TrackedConsumer
from ambiti_kit.errors import PROBLEM_RESPONSES, install_problem_handlers
from ambiti_kit.eventstore import Schema, open_event_store, tracking_table
from ambiti_kit.contracts import contracts_router
from ambiti_kit.feed import Feed, feed_router
from ambiti_kit.webhooks import Webhooks, webhooks_router
from ambiti_kit.guards import LimitRequestSize, RejectControlCharacters
from ambiti_kit.health import MeasureRequests, Metrics, health_router
from ambiti_kit.logs import CorrelationIdMiddleware, configure_logging
from ambiti_kit.projector import OwnLogProjector, Project, ReadYourWrites
from ambiti_kit.readmodel import ReadModel
from ambiti_kit.relay import Mapper, OutboxRelay
from ambiti_kit.settings import ServiceSettings
from ambiti_kit.tenancy import TenantApplication
from ambiti_kit.workers import Leadership, Listener, Workers

_log = logging.getLogger("ambiti.service")


@dataclass
class Runtime:
    """What a running service holds; routers reach it as ``request.app.state.runtime``."""

    settings: ServiceSettings
    app: TenantApplication
    read_model: ReadModel
    tracker: Tracker
    chain: AuditChain
    relay: OutboxRelay
    projector: OwnLogProjector | None = None
    consumers: list[TrackedConsumer] = field(default_factory=list)
    workers: Workers = field(default_factory=Workers)
    feed: Feed | None = None
    webhooks: Webhooks | None = None


ConsumersFactory = Callable[[Runtime], Sequence[TrackedConsumer]]


@dataclass(frozen=True)
class OwnReadModels:
    """What a service projects from its own log: a projection per event type, and how events are mapped.

    ``mapper`` defaults to the relay's (the public integration events); a service whose lists
    also need internal events passes one that maps those too.
    """

    projections: Callable[[str], Mapping[str, Project]]  # db schema -> {event type: projection}
    mapper: Mapper | None = None


def build_runtime(settings: ServiceSettings, application: type[TenantApplication], schema: Schema,
                  mapper: Mapper, consumers: ConsumersFactory | None = None,
                  own: OwnReadModels | None = None) -> Runtime:
    """Open the store and construct (without starting) the relay, projector and consumers."""
    app = open_event_store(settings, application, schema)
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    relay = OutboxRelay(settings, app, mapper)
    tracker = Tracker(datastore, settings.db_schema, tracking_table(app.name))
    runtime = Runtime(
        settings=settings, app=app,
        read_model=ReadModel(datastore, settings.db_schema),
        tracker=tracker,
        chain=relay.chain,
        relay=relay,
        projector=OwnLogProjector(app, tracker, own.mapper or mapper, own.projections(settings.db_schema),
                                  batch_size=settings.relay_batch_size) if own else None,
    )
    runtime.consumers = list(consumers(runtime)) if consumers else []
    runtime.feed = Feed(app, mapper, settings.db_schema, relay.incarnations)
    runtime.webhooks = Webhooks(datastore, settings.db_schema, runtime.feed, settings)
    return runtime


def start_workers(runtime: Runtime) -> None:
    s = runtime.settings
    runtime.workers.start_relay(runtime.relay, Leadership(s.service_database_url, s.db_schema, s.service))
    if runtime.projector is not None:
        runtime.workers.start_projector(runtime.projector, Listener(s.service_database_url, s.service))
    for consumer in runtime.consumers:
        runtime.workers.start_consumer(consumer)
    runtime.workers.start("webhooks", runtime.webhooks.run)


def _projector_of(scope: Any) -> OwnLogProjector | None:
    runtime = getattr(scope["app"].state, "runtime", None)
    return runtime.projector if runtime is not None else None


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Auditor = Annotated[Principal, Depends(require_roles("revisore", "coordinatore"))]


def _platform_router() -> APIRouter:
    router = APIRouter()

    @router.get("/audit/verify", tags=["audit"])
    def verify(runtime: RuntimeDep, principal: Auditor,
               testimone: bool = Query(True, description="Confronta anche con l'ultima testa della catena "
                                       "pubblicata su Kafka (testimone esterno al database): rivela una catena "
                                       "accorciata insieme ai suoi eventi.")) -> dict[str, Any]:
        """Recompute this Ambito's audit hash chain and name any tampered event; say what it was compared with."""
        tenant = tenant_of(principal)
        witness, esterno = None, {"fonte": "kafka", "confrontato": False, "motivo": "non richiesto"}
        if testimone:
            witness, esterno = external_witness(runtime.settings, tenant)
        report = runtime.chain.verify(tenant, witness).as_dict()
        report["testimone"] = esterno
        if esterno.get("teste_con_firma_non_valida"):
            report["ok"] = False
            report["problems"].append({"notification_id": None, "originator_id": None, "originator_version": None,
                                       "problem": f"{esterno['teste_con_firma_non_valida']} teste pubblicate con firma "
                                                  "non valida: qualcuno ha pubblicato teste false della catena"})
        return report

    @router.get("/audit/chiave", tags=["audit"])
    def chiave(runtime: RuntimeDep) -> dict[str, Any]:
        """La chiave pubblica (Ed25519) con cui verificare le teste della catena pubblicate su Kafka."""
        firme = signer(runtime.settings)
        return {"servizio": runtime.settings.service, "algoritmo": "Ed25519" if firme else None,
                "chiave_pubblica": firme.public_key_b64() if firme else None}

    return router


def create_service(settings: ServiceSettings, *, application: type[TenantApplication], schema: Schema,
                   mapper: Mapper, routers: Sequence[APIRouter], title: str, description: str,
                   consumers: ConsumersFactory | None = None, own: OwnReadModels | None = None,
                   run_workers: bool = True) -> FastAPI:
    """The FastAPI app of one service; the store opens and workers start in its lifespan."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service, settings.log_level)
        runtime = build_runtime(settings, application, schema, mapper, consumers, own)
        api.state.runtime = runtime
        if run_workers:
            start_workers(runtime)
        _log.info("service started", extra={"schema": settings.db_schema, "topic": settings.events_topic})
        try:
            yield
        finally:
            runtime.workers.shutdown()
            runtime.app.close()

    api = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  responses=PROBLEM_RESPONSES)
    api.state.settings = settings
    api.state.store = (application, schema)  # what `python -m ambiti_kit.migrate` migrates
    api.state.metrics = Metrics(api, settings.service)
    api.add_middleware(ReadYourWrites, projector=_projector_of)
    api.add_middleware(RejectControlCharacters)
    api.add_middleware(LimitRequestSize, max_body=settings.max_body_bytes)
    api.add_middleware(CorrelationIdMiddleware)
    if settings.metrics:
        api.add_middleware(MeasureRequests, metrics=api.state.metrics)
    install_problem_handlers(api)
    api.include_router(health_router())
    api.include_router(_platform_router())
    api.include_router(feed_router(lambda request: request.app.state.runtime.feed))
    api.include_router(webhooks_router(lambda request: request.app.state.runtime.webhooks))
    api.include_router(contracts_router())
    for router in routers:
        api.include_router(router)
    return api
