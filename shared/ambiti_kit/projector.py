"""A service's own read models, fed from its own notification log in process.

Read-your-writes: a list must show what its own service has just stored, with or without
the broker. So a service does not read its own events back from Kafka; the projector
follows its notification log directly, as the relay does:

- each notification is mapped to its integration event (the relay's ``mapper``, or a local
  one that also maps internal events) and handed to the projection of its type;
- a batch of notifications is applied in one transaction, acting as the unprivileged role in
  each event's tenant (and Region) scope, and records one tracking row per notification
  (application = the service's name) in that same transaction: exactly once, and a crash
  before commit leaves neither effect nor record;
- the position is the highest tracking id; another replica that applied the same batch
  first makes ours fail on the tracking key, and we re-read the position and go on;
- a projection that refuses an event's data (``consumer.POISON``) dead-letters that one
  event, as a consumer does, instead of stopping every tenant's lists.

The service's HTTP layer brings the read models up to a successful write's own last event
before its response leaves (``ReadYourWrites`` and ``reach``: writers arriving together
share one batch), and a background worker catches up whenever the
events table is notified, for writes that came from elsewhere (consumers, other replicas).
A rebuild is the same routine on an empty schema: ``catch_up`` from position 0 in batches.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Mapping, Sequence

from eventsourcing.persistence import IntegrityError, Notification, Tracking
from psycopg import sql
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ambiti_kit.auth import regione_of
from ambiti_kit.consumer import POISON, PoisonMessage, Tracker
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.mapping import decoded
from ambiti_kit.readmodel import APP_ROLE, REGIONE_SETTING, TENANT_SETTING
from ambiti_kit.tenancy import WRITTEN

_log = logging.getLogger("ambiti.projector")

#: a projection of one event type: writes the event's effects with the given cursor
Project = Callable[[Any, CloudEvent], None]
Mapper = Callable[[Any, Notification], CloudEvent | None]


class OwnLogProjector:
    """Applies a service's own events to its read models, in notification order.

    ``app`` is the store whose notification log is read; ``tracker`` names the tracking table
    (and so the schema) the position is kept in. They are the same service's in a running
    service; a rebuild reads the live log into another schema.
    """

    def __init__(self, app: Any, tracker: Tracker, mapper: Mapper, projections: Mapping[str, Project], *,
                 batch_size: int = 1000) -> None:
        self.app = app
        self.tracker = tracker
        self.mapper = mapper
        self.projections = dict(projections)
        self.batch_size = batch_size
        self.name = app.name
        self.datastore = tracker.datastore
        self._lock = threading.Lock()
        self._position: int | None = None
        self.applied = 0
        self.rejected = 0
        #: replays an operator asked for (`ambiti dead-letters replay`): the event is read and mapped again
        self.replays = tracker.replayer([self.name], f"{self.name}:projector", self._replay)

    def _replay(self, letter: Any, envelope: Any) -> None:
        """Apply one of its own events again, read anew from the store (a fixed mapper or projection
        applies); raises ``PoisonMessage`` when it is refused again."""
        notifications = self.app.recorder.select_notifications(start=letter.notification_id, limit=1)
        if not notifications or notifications[0].id != letter.notification_id:
            raise PoisonMessage(f"la notifica {letter.notification_id} non è nel registro")
        try:
            event = self.mapper(self.app.mapper.to_domain_event(notifications[0]), notifications[0])
        except Exception as exc:  # noqa: BLE001 - still undecodable: refused again, with its reason
            raise PoisonMessage(f"evento ancora non decodificabile: {type(exc).__name__}: {exc}") from exc
        items = [(event, Tracking(self.name, letter.notification_id))] \
            if event is not None and event.type in self.projections else []
        with self._lock, self.datastore.transaction(commit=True) as curs:
            self._project(curs, items)
            self._record(curs, [letter.notification_id])
        self.applied += len(items)

    # -- position --------------------------------------------------------------------
    def position(self) -> int:
        """The last notification applied (by any replica), read from the tracking table."""
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT max(notification_id) AS n FROM {} WHERE application_name = %s").format(
                self.tracker.table), (self.name,))
            return curs.fetchone()["n"] or 0

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    # -- applying ----------------------------------------------------------------------
    def catch_up(self, *, until: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
        """Apply every notification not yet applied (up to ``until``); returns how many were read.

        Safe to call from any thread: calls are serialised in this process, and replicas
        are kept apart by the tracking table's key.
        """
        with self._lock:
            return self._catch_up(until, progress)

    def reach(self, notification_id: int) -> None:
        """Return once ``notification_id`` is applied (a write's own read-your-writes).

        Concurrent writers share the work: whoever holds the lock applies everything pending
        in batches, and a writer whose event was applied meanwhile returns without a query.
        """
        if self._position is not None and self._position >= notification_id:
            return
        with self._lock:
            if self._position is None or self._position < notification_id:
                self._catch_up(None, None)

    def _catch_up(self, until: int | None, progress: Callable[[int, int], None] | None) -> int:
        """``catch_up`` with the lock held."""
        total = 0
        while True:
            if self._position is None:
                self._position = self.position()
            if until is not None and self._position >= until:
                return total
            notifications = self.app.recorder.select_notifications(
                start=self._position + 1, limit=self.batch_size,
                stop=until)
            if not notifications:
                return total
            try:
                self._apply_batch(notifications)
            except IntegrityError:
                # another replica applied (part of) this batch first: start again from where it got to
                before, self._position = self._position, self.position()
                if self._position <= before:
                    raise  # nobody moved on: the conflict is in a projection's own writes
                continue
            self._position = notifications[-1].id
            total += len(notifications)
            if progress is not None:
                progress(self._position, total)

    def _events(self, notifications: Sequence[Notification]) -> list[tuple[CloudEvent, Tracking]]:
        items = []
        for notification in notifications:
            event = decoded(self.app, self.mapper, notification,
                            lambda n, exc: self.tracker.undecodable(self.name, n, exc))
            if event is not None and event.type in self.projections:
                items.append((event, Tracking(self.name, notification.id)))
        return items

    def _apply_batch(self, notifications: Sequence[Notification]) -> None:
        items = self._events(notifications)
        try:
            with self.datastore.transaction(commit=True) as curs:
                self._project(curs, items)
                self._record(curs, [n.id for n in notifications])
        except POISON:
            self._apply_one_by_one(notifications, items)
            return
        self.applied += len(items)

    def _apply_one_by_one(self, notifications: Sequence[Notification],
                          items: list[tuple[CloudEvent, Tracking]]) -> None:
        """A batch with an event its projection refuses: every other event applied, that one dead-lettered."""
        projected = {t.notification_id for _, t in items}
        for event, tracking in items:
            try:
                with self.datastore.transaction(commit=True) as curs:
                    self._project(curs, [(event, tracking)])
                    self._record(curs, [tracking.notification_id])
                self.applied += 1
            except POISON as exc:
                _log.error("event dead-lettered by the projector: %s", exc,
                           extra={"ce_id": event.id, "ce_type": event.type, "tenantid": event.tenantid})
                self.tracker.dead_letter(event, tracking, exc)
                self.rejected += 1
        rest = [n.id for n in notifications if n.id not in projected]
        if rest:
            with self.datastore.transaction(commit=True) as curs:
                self._record(curs, rest)

    def _project(self, curs: Any, items: list[tuple[CloudEvent, Tracking]]) -> None:
        if not items:
            return
        # Pipeline mode: statements go out without waiting for each answer (a projection that
        # reads a row waits for it as usual), which makes a batch, and so a rebuild, several
        # times faster than one round trip per statement.
        with curs.connection.pipeline():
            curs.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            scope = None
            for event, _ in items:
                if event.tenantid != scope:
                    try:
                        regione = regione_of(event.tenantid)
                    except ValueError as exc:
                        raise PoisonMessage(str(exc)) from None
                    curs.execute("SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                                 (TENANT_SETTING, event.tenantid, REGIONE_SETTING, regione))
                    scope = event.tenantid
                self.projections[event.type](curs, event)

    def _record(self, curs: Any, notification_ids: list[int]) -> None:
        """Tracking rows of a whole batch in one statement; a row already there raises ``IntegrityError``."""
        curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id) "
                             "SELECT %s, unnest(%s::bigint[])").format(self.tracker.table),
                     (self.name, notification_ids))

    # -- the background loop -----------------------------------------------------------------
    def run(self, stop: threading.Event, wait: Callable[[float], None] | None = None) -> None:
        """Catch up whenever new events may have been committed (``wait`` returns on a NOTIFY)."""
        wait = wait or stop.wait
        backoff = 0.2
        while not stop.is_set():
            try:
                self.catch_up()
                self.replays.run_once(time.monotonic())
                backoff = 0.2
                wait(1.0)
            except Exception as exc:  # noqa: BLE001 - the database may be away: retry, never die
                _log.warning("projector round failed (%r): retrying in %.1fs", exc, backoff, exc_info=True)
                self._position = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def status(self) -> dict[str, Any]:
        position, head = self.position(), self.head()
        return {"position": position, "head": head, "backlog": max(head - position, 0),
                "applied": self.applied, "rejected": self.rejected}


def rebuild(projector: OwnLogProjector, *, log_every: float = 2.0) -> int:
    """Apply the whole log (into an empty read model), logging progress; returns events read."""
    head = projector.head()
    started = last = time.monotonic()

    def progress(position: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= log_every or position >= head:
            rate = total / max(now - started, 1e-9)
            _log.info("rebuild %s: %d/%d (%.0f events/s)", projector.name, position, head, rate)
            last = now

    return projector.catch_up(until=head, progress=progress)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadYourWrites:
    """ASGI middleware: before a successful write's response starts, its own lists are caught up.

    ``projector(scope)`` returns the service's projector (or None before start-up). A failed
    catch-up is logged and does not fail the write: the background worker retries.
    """

    def __init__(self, app: ASGIApp, projector: Callable[[Scope], OwnLogProjector | None]) -> None:
        self.app = app
        self.projector = projector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        written: list[int] = []

        async def send_after_catch_up(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400 and written:
                projector = self.projector(scope)
                if projector is not None:
                    try:
                        await run_in_threadpool(projector.reach, max(written))
                    except Exception as exc:  # noqa: BLE001
                        _log.warning("read model catch-up after a write failed (%r)", exc)
            await send(message)

        token = WRITTEN.set(written)
        try:
            await self.app(scope, receive, send_after_catch_up)
        finally:
            WRITTEN.reset(token)
