"""Tenancy of aggregates: every aggregate belongs to one Ambito.

``TenantAggregate`` carries ``tenant_id``; ``TenantApplication.get_for_tenant`` is the only
way the services load aggregates for a request, and a wrong tenant is indistinguishable
from a missing aggregate (404), so ids of other Ambiti reveal nothing.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
import zlib
from datetime import date
from typing import Any, Callable, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, ProcessRecorder, Transcoding
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ambiti_kit.auth import TENANT_PATTERN
from ambiti_kit.errors import Conflict, NotFound

#: Set by the HTTP layer around a request: the notification ids the request's saves were given, so
#: that its own read models are brought up to the request's last write and no further (a mutable
#: list, because sync routes run in a worker thread with a copy of the context).
WRITTEN: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("ambiti_written", default=None)

#: Namespace of the platform's name-based (uuid5) aggregate ids.
PLATFORM_NAMESPACE = uuid.UUID("6f1d7a52-3f0e-5d8e-9a51-5a3b2f6c1e01")


def tenant_uuid(tenant_id: str, *natural_key: Any) -> uuid.UUID:
    """The id of an aggregate with a natural key inside one tenant, e.g. a plan's period."""
    return uuid.uuid5(PLATFORM_NAMESPACE, "/".join([tenant_id, *map(str, natural_key)]))


class DateAsISO(Transcoding):
    """Dates (reference dates of populations, acts) stored as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TenantAggregate(Aggregate):
    """Base of aggregates owned by one Ambito.

    Subclasses set ``tenant_id`` in their created event (``__init__``). Every event of a tenant
    aggregate carries ``tenant_id`` (the audit chain files each stored event under it, the relay
    stamps it on the integration event): the base ``Event`` declares the field and
    ``trigger_event`` fills it from the aggregate, so an event method declares only its own data.
    """

    tenant_id: str

    class Event(Aggregate.Event):
        tenant_id: str

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("tenant_id", self.tenant_id)
        super().trigger_event(event_class, **kwargs)


A = TypeVar("A", bound=TenantAggregate)
T = TypeVar("T")


class TenantApplication(Application):
    """An event-sourced application whose aggregates each belong to one tenant.

    Every service's store also records tracking (which upstream notifications it has
    processed) in the same transaction as its events, so it uses a process recorder.
    """

    #: attempts of a command that keeps losing optimistic-concurrency races
    attempts = 20

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Striped locks: commands on one aggregate queue in this process instead of racing in the database.
        self._stripes = [threading.Lock() for _ in range(64)]

    def retrying(self, command: Callable[[], T], *, message: str, rule: str, key: Any = None) -> T:
        """Run ``command`` (load, decide, save) until it does not lose a version race.

        Each attempt reloads its aggregates, so the rules are checked again against what the
        winner stored. Commands with the same ``key`` (the contended aggregate's id) are
        serialised within this process; between processes the jittered backoff spreads the
        retries. After ``attempts`` lost races: 409 with ``rule``.
        """
        lock = self._stripes[zlib.crc32(str(key).encode()) % len(self._stripes)] if key is not None else None
        retrying = Retrying(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(self.attempts),
                            wait=wait_random_exponential(multiplier=0.002, max=0.2), reraise=False)
        try:
            for attempt in retrying:
                with attempt:
                    if lock is None:
                        return command()
                    with lock:
                        return command()
        except RetryError:
            raise Conflict(message, rule=rule) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def _record(self, processing_event: ProcessingEvent) -> Any:
        """Refuse to store an event that does not name its tenant (the audit chain needs it)."""
        for domain_event in processing_event.events:
            tenant_id = getattr(domain_event, "tenant_id", None)
            if not (isinstance(tenant_id, str) and TENANT_PATTERN.fullmatch(tenant_id)):
                raise TypeError(f"{type(domain_event).__qualname__} has no valid tenant_id: declare it on the event")
        recordings = super()._record(processing_event)
        written = WRITTEN.get()
        if written is not None and recordings:
            written.append(max(r.notification.id for r in recordings))
        return recordings

    def get_for_tenant(self, tenant_id: str, aggregate_id: uuid.UUID, kind: type[A]) -> A:
        """Load an aggregate for ``tenant_id``; missing, of another kind or another tenant: 404."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{kind.__name__} {aggregate_id} non trovato.") from None
        if not isinstance(aggregate, kind) or aggregate.tenant_id != tenant_id:
            raise NotFound(f"{kind.__name__} {aggregate_id} non trovato.")
        return aggregate

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        return aggregate_id in self.repository
