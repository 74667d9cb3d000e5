"""One Ambito's events over HTTP: ``GET /eventi``, read from the store, not from the broker.

An Ambito's integrator (its accounting system, a Comune's software, a provider) may be given that
Ambito's events and nothing else; on Kafka every Ambito shares a topic. The feed reads the service's
notification log joined with the audit chain, which indexes each event's tenant: only events already
in the tamper-evident chain appear, each in the same CloudEvents envelope as on Kafka (structured mode).

The cursor (``dopo``) is the position in the store, not a Kafka offset: it stays valid across a broker
loss and a service restart. After a restore from a backup it names the store's incarnation, and a
reader past the restore point resumes from it (``Incarnations.resume_after``).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, Callable

from eventsourcing.persistence import Notification
from fastapi import APIRouter, Depends, Query, Request
from psycopg import sql
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.errors import RuleViolation
from ambiti_kit.eventstore import events_table
from ambiti_kit.incarnations import Incarnations
from ambiti_kit.mapping import decoded

CURSOR = re.compile(r"^(0|[1-9][0-9]{0,17})(~[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$")
TYPE = r"^[a-z][a-z_]*(\.[a-z][a-z_]*){2,3}$"
MAX_BATCH = 500
MAX_WAIT = 30


@dataclass(frozen=True)
class Page:
    events: list[CloudEvent]
    cursor: str
    at_head: bool


class Feed:
    """Reads one tenant's public events after a position, in notification order."""

    def __init__(self, app: Any, mapper: Callable[[Any, Notification], CloudEvent | None], schema: str,
                 incarnations: Incarnations) -> None:
        self.app = app
        self.mapper = mapper
        self.datastore = app.recorder.datastore
        self.incarnations = incarnations
        self._select = sql.SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state "
            "FROM {chain} c JOIN {events} e ON e.notification_id = c.notification_id "
            "WHERE c.tenant_id = %s AND c.notification_id > %s ORDER BY c.notification_id LIMIT %s").format(
            chain=sql.SQL("{}.audit_chain").format(sql.Identifier(schema)),
            events=sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(events_table(app.name))))

    def parse_cursor(self, cursor: str | None) -> int:
        """The position to read after; raises ``RuleViolation`` (Italian, naming ``dopo``) if malformed."""
        if cursor is None or cursor == "":
            return 0
        match = CURSOR.match(cursor)
        if match is None:
            raise RuleViolation("dopo: cursore non valido; usare il valore «cursore» di una risposta precedente "
                                "(o nessuno per cominciare dall'inizio).", rule="cursore.formato", field="dopo")
        position, incarnation = int(match.group(1)), (match.group(2) or "")[1:] or None
        self.incarnations.refresh()  # a restore may have begun one since (noticed by the relay)
        return self.incarnations.resume_after(position, incarnation)

    def read(self, tenant: str, after: int, types: set[str] | None, limit: int) -> Page:
        """Up to ``limit`` events of ``tenant`` after ``after`` (of ``types`` if given). The cursor moves past
        every event read, shown or not, so a filtered reader never reads the same rows twice."""
        events: list[CloudEvent] = []
        position, at_head = after, False
        while len(events) < limit and not at_head:
            with self.datastore.transaction() as curs:
                curs.execute(self._select, (tenant, position, max(limit, 100)))
                rows = curs.fetchall()
            at_head = len(rows) < max(limit, 100)
            for row in rows:
                notification = Notification(originator_id=row["originator_id"],
                                            originator_version=row["originator_version"], topic=row["topic"],
                                            state=bytes(row["state"]), id=row["notification_id"])
                event = self.incarnations.stamp(decoded(self.app, self.mapper, notification, _skip),
                                                notification.id)
                position = notification.id
                if event is not None and (types is None or event.type in types):
                    events.append(event)
                    if len(events) == limit:
                        at_head = at_head and row is rows[-1]
                        break
        return Page(events, self.incarnations.cursor(position) if position else "0", at_head)


def _skip(notification: Notification, error: Exception) -> None:
    """An event that cannot be decoded is the relay's to dead-letter (with an alert); the feed passes it over."""


class EventoFeed(BaseModel):
    """An event in the CloudEvents 1.0 structured form: the same attributes as the headers on Kafka."""

    model_config = {"extra": "allow"}

    specversion: str = Field(examples=["1.0"])
    id: str = Field(description="Identificativo dell'evento (UUID v5): chiave di deduplicazione.")
    type: str = Field(examples=["planning.piano_di_zona.creato"])
    source: str = Field(examples=["/ambiti/planning"])
    subject: str = Field(description="L'aggregato (UUID): gli eventi di uno stesso aggregato sono in ordine.")
    time: str
    dataschema: str = Field(description="Lo JSON Schema del campo data (contracts/).")
    datacontenttype: str = Field(examples=["application/json"])
    tenantid: str = Field(examples=["15-S09"])
    sequence: str = Field(description="Posizione nel registro del servizio produttore.")
    data: dict[str, Any]


class PaginaFeed(BaseModel):
    eventi: list[EventoFeed]
    cursore: str = Field(description="Da passare come `dopo` alla richiesta seguente: vale anche dopo una "
                                     "perdita del broker o un riavvio del servizio.", examples=["1842"])
    in_pari: bool = Field(description="Vero se non ci sono altri eventi per ora (il lettore è in pari).")


Lettore = Annotated[Principal, Depends(require_roles("integratore", "coordinatore"))]


def feed_router(feed_of: Callable[[Any], Feed]) -> APIRouter:
    """``GET /eventi`` for the service whose runtime ``feed_of(request)`` returns the feed of."""
    router = APIRouter(tags=["eventi"])

    @router.get("/eventi", response_model=PaginaFeed, responses={
        422: {"description": "Parametro non valido (cursore, tipo, quanti o attesa): il problema nomina il "
                             "parametro e la regola."}})
    async def eventi(request: Request, principal: Lettore,
                     dopo: str | None = Query(None, max_length=60, description="Il `cursore` dell'ultima risposta; "
                                              "assente per cominciare dal primo evento dell'Ambito."),
                     tipo: list[str] | None = Query(None, max_length=40, description="Solo eventi di questi tipi "
                                                    "(ripetibile), ad esempio `planning.piano_di_zona.creato`."),
                     quanti: int = Query(100, ge=1, le=MAX_BATCH, description="Quanti eventi al massimo."),
                     attesa: int = Query(0, ge=0, le=MAX_WAIT, description="Secondi di attesa se non ci sono eventi "
                                         "nuovi (long polling): la risposta arriva appena ce n'è uno; il servizio "
                                         "attende al più quanto dice la sua configurazione (30 s predefiniti).")) -> dict:
        """Gli eventi dell'Ambito del token, in ordine, dopo un cursore (con attesa facoltativa)."""
        tenant = tenant_of(principal)
        feed = feed_of(request)
        for i, value in enumerate(tipo or []):
            if not re.match(TYPE, value):
                raise RuleViolation(f"tipo: «{value[:60]}» non è un tipo di evento (es. planning.piano_di_zona."
                                    "creato).", rule="tipo.formato", field=f"tipo[{i}]")
        after = feed.parse_cursor(dopo)
        types = set(tipo) if tipo else None
        deadline = time.monotonic() + min(attesa, request.app.state.settings.feed_max_wait)
        while True:
            page = await run_in_threadpool(feed.read, tenant, after, types, quanti)
            if page.events or time.monotonic() >= deadline:
                break
            after = feed.parse_cursor(page.cursor)
            await asyncio.sleep(min(0.25, max(deadline - time.monotonic(), 0)))
        return {"eventi": [e.as_structured() for e in page.events], "cursore": page.cursor, "in_pari": page.at_head}

    return router
