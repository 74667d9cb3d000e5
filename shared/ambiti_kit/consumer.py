"""The tracked, idempotent consumer of other services' integration events.

Exactly-once *effects* over an at-least-once broker: each message names its producer
(the topic) and its position in the producer's notification log (``ce_sequence``). A
handler records that position as an `eventsourcing` tracking record in the same
transaction as its effects; the tracking table's primary key makes a second recording
fail, so a redelivered, republished or rebalanced message is applied at most once, and
a crash before commit leaves neither effect nor record.

Kafka offsets are only a hint of where to resume: positions are committed after each
batch, every (re)assignment resumes from them (or from the beginning), and when a
producer's broker epoch changes (the broker lost its data, see ``ambiti_kit.kafka``)
the consumer re-seeks that topic to the beginning.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from typing import Any, Callable, Iterable

from eventsourcing.persistence import DataError, IntegrityError, InterfaceError, OperationalError, Tracking
from pydantic import ValidationError
from tenacity import before_sleep_log, retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from kafka import ConsumerRebalanceListener, TopicPartition
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.auth import TENANT_PATTERN, regione_of
from ambiti_kit.deadletters import DeadLetters, Letter, Replayer, envelope_of, event_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.settings import ServiceSettings

_log = logging.getLogger("ambiti.consumer")

Handler = Callable[[CloudEvent, Tracking], None]

class PoisonMessage(Exception):
    """A message this service can never apply (raised by handlers for data they refuse)."""


#: Errors that the same message will raise again however often it is retried: its data
#: breaks the consumer's model or a column type. Anything else (a lost connection, a bug
#: in a projection) is retried, so that fixing the cause resumes the flow by itself.
POISON = (DataError, ValidationError, PoisonMessage)
#: Errors worth retrying the same batch for at once (deadlocks between instances that
#: update the same rows, a dropped connection), without leaving the consumer group.
TRANSIENT = (OperationalError, InterfaceError)
RETRIES = 6
#: attempts of a message whose handler keeps losing version races before it is dead-lettered
CONFLICT_ATTEMPTS = 8


class Tracker:
    """Reads and writes the tracking records of one service's store."""

    def __init__(self, datastore: Any, schema: str, tracking_table: str) -> None:
        self.datastore = datastore
        self.schema = schema
        self.table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(tracking_table))
        self.dead_letters = sql.SQL("{}.dead_letters").format(sql.Identifier(schema))

    def processed(self, trackings: list[Tracking]) -> set[tuple[str, int]]:
        """Which of ``trackings`` are already recorded (one query for a whole batch)."""
        if not trackings:
            return set()
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT application_name, notification_id FROM {} "
                                 "WHERE (application_name, notification_id) IN "
                                 "(SELECT * FROM unnest(%s::text[], %s::bigint[]))").format(self.table),
                         ([t.application_name for t in trackings], [t.notification_id for t in trackings]))
            return {(r["application_name"], r["notification_id"]) for r in curs.fetchall()}

    def is_processed(self, tracking: Tracking) -> bool:
        return bool(self.processed([tracking]))

    def record(self, curs: Any, tracking: Tracking) -> None:
        """Insert in the caller's transaction; a duplicate raises ``IntegrityError``."""
        curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id) VALUES (%s, %s)")
                     .format(self.table), (tracking.application_name, tracking.notification_id))

    def dead_letter(self, event: CloudEvent, tracking: Tracking, error: Exception) -> None:
        """Record a message that cannot be applied, with its tracking: skipped once, never lost."""
        with self.datastore.transaction(commit=True) as curs:
            self.record(curs, tracking)
            curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id, ce_type, ce_id, tenant_id, "
                                 "error, data, envelope) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(
                self.dead_letters),
                (tracking.application_name, tracking.notification_id, event.type, event.id,
                 event.tenantid, f"{type(error).__name__}: {error}"[:2000],
                 json.dumps(event.data, ensure_ascii=False), envelope_of(event)))

    def undecodable(self, application_name: str, notification: Any, error: Exception) -> None:
        """Record a stored event that cannot be decoded or mapped (e.g. its class no longer exists), with an
        alert in the log: the log behind it goes on, and the event stays visible among the dead letters."""
        from ambiti_kit.audit import tenant_of_state  # the chain's own reading of an event's tenant

        _log.error("stored event cannot be decoded: dead-lettered, the log goes on: %s", error,
                   extra={"alert": "evento_non_decodificabile", "application": application_name,
                          "notification_id": notification.id, "topic": notification.topic})
        state = bytes(notification.state)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id, ce_type, ce_id, tenant_id, "
                                 "error, data) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING").format(
                self.dead_letters),
                (application_name, notification.id, str(notification.topic)[:300],
                 f"{application_name}:{notification.id}", tenant_of_state(state),
                 f"evento non decodificabile: {type(error).__name__}: {error}"[:2000],
                 state[:100_000].decode("utf-8", errors="replace")))

    def letters(self) -> DeadLetters:
        return DeadLetters(lambda: self.datastore.transaction(commit=True), self.schema)

    def replayer(self, applications: Iterable[str], worker: str,
                 apply: Callable[[Letter, dict[str, Any] | None], None]) -> Replayer:
        """Replays of the letters of ``applications`` (a tracked consumer's producers, or a projector's own log),
        each applied by ``apply`` with its tracking as normal delivery would."""
        return Replayer(self.letters(), applications, worker, apply=apply, refused=POISON,
                        tracking_table=self.table,
                        applied=lambda x: self.is_processed(Tracking(x.application_name, x.notification_id)))

    def count(self, application_name: str) -> int:
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE application_name = %s").format(self.table),
                         (application_name,))
            return curs.fetchone()["n"]


class Projecting:
    """A handler that applies ``project(cursor, event)`` to RLS-protected read models.

    Each event's tracking record and effects share one transaction; the transaction acts
    as the unprivileged role for the event's tenant and Region, so a projection can only
    write rows of the tenant the event belongs to. The consumer calls ``apply`` for a whole
    poll's events in one transaction (one commit per poll), or the handler itself for one.
    """

    def __init__(self, tracker: Tracker, project: Callable[[Any, CloudEvent], None]) -> None:
        self.tracker = tracker
        self.project = project

    def apply(self, curs: Any, event: CloudEvent, tracking: Tracking) -> None:
        try:
            regione = regione_of(event.tenantid)
        except ValueError as exc:
            raise PoisonMessage(str(exc)) from None
        enter_scope(curs, tenant=event.tenantid, regione=regione)
        self.tracker.record(curs, tracking)
        self.project(curs, event)

    def __call__(self, event: CloudEvent, tracking: Tracking) -> None:
        with self.tracker.datastore.transaction(commit=True) as curs:
            self.apply(curs, event, tracking)


def projecting(tracker: Tracker, project: Callable[[Any, CloudEvent], None]) -> Projecting:
    return Projecting(tracker, project)


class _Reseek(ConsumerRebalanceListener):
    def __init__(self, owner: "TrackedConsumer") -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.owner.assigned -= set(revoked)
        _log.info("partitions revoked", extra={"partitions": [str(p) for p in revoked]})

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        # Resume where this process got to, if it knows; otherwise the group's committed
        # offset or, on a broker without one, the beginning (auto_offset_reset=earliest).
        self.owner.assigned = set(assigned)
        for tp in assigned:
            offset = self.owner.next_offsets.get(tp)
            if tp.topic in self.owner.reseek:
                self.owner.client.seek_to_beginning(tp)
            elif offset is not None:
                self.owner.client.seek(tp, offset)
        self.owner.reseek -= {tp.topic for tp in assigned}


class TrackedConsumer:
    """Consumes ``topics`` (topic -> producing application's name) with one handler per type."""

    def __init__(self, settings: ServiceSettings, *, tracker: Tracker, topics: dict[str, str],
                 handlers: dict[str, Handler], group: str = "main", epoch_check_seconds: float = 1.0) -> None:
        self.settings = settings
        self.tracker = tracker
        self.topics = topics
        self.handlers = handlers
        self.group_id = settings.consumer_group(group)
        self.epoch_check_seconds = epoch_check_seconds
        self.client: Any = None
        self._admin: Any = None
        self.next_offsets: dict[TopicPartition, int] = {}
        self.assigned: set[TopicPartition] = set()  # as the group last assigned them
        self.reseek: set[str] = set()  # topics to re-read from the start at the next assignment
        self._epochs: dict[str, str | None] = {}
        self._epochs_seen_at = 0.0
        self.applied = 0
        self.duplicates = 0
        self.rejected = 0
        #: messages on the assigned partitions not yet applied (None until the broker told us its highwaters)
        self.lag: int | None = None
        #: when the last poll returned (time.time()); a stuck consumer stops moving it
        self.polled_at: float | None = None
        self.last_error: str | None = None
        #: replays of this consumer's dead letters that an operator asked for (`ambiti dead-letters replay`)
        self.replays = tracker.replayer(set(topics.values()), self.group_id, self._replay)

    def _replay(self, letter: Letter, envelope: dict[str, Any] | None) -> None:
        """Apply a dead letter again as it arrived; raises ``PoisonMessage`` when it is refused again."""
        if envelope is None:
            raise PoisonMessage("il messaggio non fu conservato (lettera registrata prima che lo si conservasse): "
                                "si può solo scartare")
        event = event_of(envelope)
        handler = self.handlers.get(event.type)
        if handler is None or not TENANT_PATTERN.fullmatch(event.tenantid or ""):
            raise PoisonMessage(f"nessun gestore per {event.type!r} o ce_tenantid non valido")
        tracking = Tracking(letter.application_name, letter.notification_id)
        try:
            handler(event, tracking)
        except IntegrityError:
            if not self.tracker.is_processed(tracking):
                raise PoisonMessage("conflitto di scrittura ripetuto") from None
        self.applied += 1

    def _measure_lag(self) -> None:
        """Highwater minus position over the assigned partitions, as the broker last reported them
        (no network call: positions of partitions not fetched yet are left out)."""
        total, known = 0, False
        for tp in self.client.assignment():
            high = self.client.highwater(tp)
            state = self.client._subscription.assignment.get(tp)  # the fetch position, without a round trip
            position = getattr(getattr(state, "position", None), "offset", None)
            if high is None or position is None:
                continue
            total += max(high - position, 0)
            known = True
        self.lag = total if known else (0 if not self.client.assignment() else self.lag)

    # -- broker epoch -------------------------------------------------------------------
    def _check_epochs(self) -> None:
        now = time.monotonic()
        if now - self._epochs_seen_at < self.epoch_check_seconds:
            return
        if self._admin is None:
            self._admin = kafka.admin(self.settings.kafka_bootstrap_servers)
        names = set(self._admin.list_topics())
        for topic in self.topics:
            epoch = kafka.epoch_of(names, topic)
            if topic in self._epochs and epoch is not None and epoch != self._epochs[topic]:
                partitions = [tp for tp in self.client.assignment() if tp.topic == topic]
                _log.warning("epoch of %s changed: re-reading it from the beginning", topic)
                for tp in list(self.next_offsets):
                    if tp.topic == topic:
                        del self.next_offsets[tp]
                if partitions:
                    self.client.seek_to_beginning(*partitions)
                else:  # mid-rebalance: seek when the group assigns them
                    self.reseek.add(topic)
            self._epochs[topic] = epoch
        self._epochs_seen_at = now

    # -- processing -----------------------------------------------------------------------
    def _parse(self, topic: str, headers: list[tuple[str, bytes]], value: bytes,
               key: bytes | None) -> tuple[CloudEvent, Tracking] | None:
        try:
            event = CloudEvent.from_kafka(headers, value, key)
        except ValueError as exc:
            self.rejected += 1
            _log.error("message rejected: %s", exc, extra={"topic": topic})
            return None
        if event.type not in self.handlers:
            return None  # not a type this service reads: ignored by design
        return event, Tracking(event.producer_log(self.topics[topic]), event.sequence)

    def _apply_one(self, event: CloudEvent, tracking: Tracking, attempt: int = 1) -> None:
        if not TENANT_PATTERN.fullmatch(event.tenantid or ""):
            # every effect is filed under the event's tenant: without a valid one it can never apply
            self._dead_letter(event, tracking, PoisonMessage(f"ce_tenantid non valido: {event.tenantid!r}"))
            return
        try:
            self.handlers[event.type](event, tracking)
            self.applied += 1
        except IntegrityError as exc:
            if self.tracker.is_processed(tracking):
                self.duplicates += 1  # recorded concurrently by another instance
            elif attempt < CONFLICT_ATTEMPTS:
                # a concurrent write to the same aggregate (e.g. an HTTP command): decide again on the new state
                time.sleep(random.uniform(0, 0.02 * attempt))
                self._apply_one(event, tracking, attempt + 1)
            else:
                self._dead_letter(event, tracking, exc)
        except POISON as exc:
            self._dead_letter(event, tracking, exc)

    def _dead_letter(self, event: CloudEvent, tracking: Tracking, exc: Exception) -> None:
        _log.error("message dead-lettered: %s", exc, extra={"ce_id": event.id, "ce_type": event.type,
                                                            "tenantid": event.tenantid})
        self.tracker.dead_letter(event, tracking, exc)
        self.rejected += 1

    def process_batch(self, items: list[tuple[CloudEvent, Tracking]]) -> None:
        """Apply a poll's worth of events, each at most once.

        Already-tracked events are skipped after one query. Consecutive projection events
        share one transaction; if it fails on a duplicate (another instance got there
        first) it is rolled back whole and its events are applied one by one.
        """
        done = self.tracker.processed([t for _, t in items])
        pending = [(e, t) for e, t in items if (t.application_name, t.notification_id) not in done]
        self.duplicates += len(items) - len(pending)
        run: list[tuple[CloudEvent, Tracking]] = []
        for event, tracking in pending + [(None, None)]:  # type: ignore[list-item]
            handler = self.handlers.get(event.type) if event is not None else None
            if isinstance(handler, Projecting):
                run.append((event, tracking))
                continue
            self._apply_run(run)
            run = []
            if event is not None:
                self._apply_one(event, tracking)

    def _apply_run(self, run: list[tuple[CloudEvent, Tracking]]) -> None:
        if not run:
            return
        try:
            with self.tracker.datastore.transaction(commit=True) as curs:
                for event, tracking in run:
                    self.handlers[event.type].apply(curs, event, tracking)  # type: ignore[union-attr]
            self.applied += len(run)
        except (IntegrityError, *POISON):
            for event, tracking in run:  # find the culprit: one transaction per event
                self._apply_one(event, tracking)

    def process(self, topic: str, headers: list[tuple[str, bytes]], value: bytes, key: bytes | None) -> None:
        """Apply one message (what a poll does for each of its messages, in one batch)."""
        parsed = self._parse(topic, headers, value, key)
        if parsed:
            self.process_batch([parsed])

    def poll_once(self, timeout_ms: int = 500) -> int:
        if self.client is None:
            self.client = kafka.consumer(self.settings.kafka_bootstrap_servers, self.group_id,
                                         client_id=f"{self.group_id}")
            self.client.subscribe(list(self.topics), listener=_Reseek(self))
        batches = self.client.poll(timeout_ms=timeout_ms)
        items, offsets, count = [], {}, 0
        for tp, messages in batches.items():
            for message in messages:
                parsed = self._parse(tp.topic, list(message.headers or []), message.value, message.key)
                if parsed:
                    items.append(parsed)
                offsets[tp] = message.offset + 1
                count += 1
        if items:
            self._process_with_retries(items)
        self.next_offsets.update(offsets)  # only once the batch is applied: a crash re-reads it
        if count:
            self.client.commit_async()
        self._check_epochs()
        self.replays.run_once(time.monotonic())
        self._measure_lag()
        self.polled_at, self.last_error = time.time(), None
        return count

    @retry(retry=retry_if_exception_type(TRANSIENT), stop=stop_after_attempt(RETRIES), reraise=True,
           wait=wait_random_exponential(multiplier=0.05, max=2), before_sleep=before_sleep_log(_log, logging.WARNING))
    def _process_with_retries(self, items: list[tuple[CloudEvent, Tracking]]) -> None:
        self.process_batch(items)  # idempotent: a retry skips what an earlier attempt committed

    def close(self) -> None:
        for client in (self.client, self._admin):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001
                    pass
        self.client = self._admin = None
        self.assigned = set()

    def run(self, stop: threading.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                self.poll_once()
                backoff = 0.2
            except Exception as exc:  # noqa: BLE001 - a consumer must outlive broker and database trouble
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning("consumer round failed (%r): restarting in %.1fs", exc, backoff, exc_info=True)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()
