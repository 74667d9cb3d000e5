"""The outbox relay: from a service's notification log to its Kafka topic, in order.

The events table is the outbox. One relay per service is active at a time (a
PostgreSQL advisory lock elects it; other instances wait). In each round it

1. extends the audit chain over newly committed events and publishes changed chain heads;
2. checks the broker epoch (see ``ambiti_kit.kafka``): no marker means the broker lost its
   data, so it recreates the topic, marks a new epoch, and restarts from notification 0;
3. reads the next notifications after its recorded position, maps each domain event to
   its integration event (``mapper``; events without a public form are passed over),
   produces them with key = aggregate id, waits for the broker's acknowledgement, and
   only then records the new position (at-least-once; consumers dedupe).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from kafka.errors import KafkaError
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.audit import AuditChain, ChainHead, HeadSigner, published_heads, signer
from ambiti_kit.consumer import PoisonMessage, Tracker
from ambiti_kit.deadletters import RELAY_SUFFIX, Replayer
from ambiti_kit.envelope import CANONICAL_CONTRACTS, CloudEvent, contracts_base
from ambiti_kit.incarnations import Incarnations
from ambiti_kit.mapping import decoded
from ambiti_kit.settings import ServiceSettings

_log = logging.getLogger("ambiti.relay")

#: domain event + its notification -> integration event (or None: not published)
Mapper = Callable[[Any, Notification], CloudEvent | None]


HEADS_SCHEMA = "https://contracts.ambiti.example/audit/audit.chain_head.aggiornata.v1.schema.json"


def head_event(head: ChainHead, firme: HeadSigner | None = None) -> CloudEvent:
    """A chain head as a CloudEvent (key ``<service>/<tenant>``; ``ce_sequence`` = the head's position).

    Its source is the service's ``/audit`` so that its ``ce_id`` never equals that of the
    domain event at the same notification id.
    """
    return CloudEvent(type="audit.chain_head.aggiornata", source=f"/ambiti/{head.service}/audit",
                      subject=f"{head.service}/{head.tenant_id}", tenantid=head.tenant_id,
                      sequence=head.notification_id, time=datetime.now(timezone.utc),
                      dataschema=HEADS_SCHEMA.replace(CANONICAL_CONTRACTS, contracts_base()),
                      data=firme.sign(head.as_message()) if firme else head.as_message())


class OutboxRelay:
    def __init__(self, settings: ServiceSettings, app: Application, mapper: Mapper,
                 *, epoch_check_seconds: float = 1.0) -> None:
        self.settings = settings
        self.app = app
        self.mapper = mapper
        self.topic = settings.events_topic
        self.datastore = app.recorder.datastore  # type: ignore[attr-defined]
        self.chain = AuditChain(self.datastore, settings.db_schema, settings.service)
        self._signer = signer(settings)  # the key is in the environment, never in the database
        #: where an event the relay cannot decode is recorded (the tracking table is not used)
        self._dead_letters = Tracker(self.datastore, settings.db_schema, "unused")
        #: replays an operator asked for: an event that decodes now makes the whole log republish, in order
        self._replays = Replayer(self._dead_letters.letters(), [f"{app.name}{RELAY_SUFFIX}"],
                                 f"{settings.service}{RELAY_SUFFIX}", apply=self._replay, refused=(PoisonMessage,),
                                 tracking_table=None, applied=lambda letter: False,
                                 every_seconds=epoch_check_seconds)
        self.epoch_check_seconds = epoch_check_seconds
        self._position_table = sql.SQL("{}.relay_position").format(sql.Identifier(settings.db_schema))
        self._producer = None
        self._admin = None
        self._epoch: str | None = None
        self._epoch_checked_at = 0.0
        #: while this process republishes a new epoch: the store's head when it began (None otherwise)
        self._republish_until: int | None = None
        self._heads_dirty: dict[str, ChainHead] = {}
        self._position: int | None = None  # cached while this process is the only writer
        self._republish_heads = True  # queue every tenant's head at the next round
        self.incarnations = Incarnations(self.datastore, settings.db_schema)
        self._incarnation_checked = False  # once per process: a restore happens while it is down
        self.published = 0

    # -- position ------------------------------------------------------------------
    def position(self) -> tuple[int, str | None]:
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT notification_id, epoch FROM {} WHERE topic = %s").format(
                self._position_table), (self.topic,))
            row = curs.fetchone()
        return (row["notification_id"], row["epoch"]) if row else (0, None)

    def _save_position(self, notification_id: int, epoch: str) -> None:
        self._position = None
        with self.datastore.transaction(commit=True) as curs:
            # A position lost in a crash only means republishing a few events (consumers
            # dedupe), so the relay does not wait for the disk on every batch.
            curs.execute("SET LOCAL synchronous_commit = off")
            curs.execute(sql.SQL(
                "INSERT INTO {} (topic, notification_id, epoch) VALUES (%s, %s, %s) "
                "ON CONFLICT (topic) DO UPDATE SET notification_id = excluded.notification_id, "
                "epoch = excluded.epoch, updated_at = now()").format(self._position_table),
                (self.topic, notification_id, epoch))
        self._position = notification_id

    def forget(self) -> None:
        """Drop what this process remembers and read it again: position, chain tail, epoch.

        Called whenever this process (re)gains the relay lock and after any failed round.
        Every tenant's current head is queued for publication again (a crash may have
        come between chaining and publishing).
        """
        self._position = None
        self._epoch, self._epoch_checked_at = None, 0.0
        self._republish_until = None  # a republish cut short is started again, from an empty topic
        self.incarnations.forget()
        self.chain.forget()
        self._republish_heads = True

    # -- broker ----------------------------------------------------------------------
    def _clients(self):
        if self._admin is None:
            self._admin = kafka.admin(self.settings.kafka_bootstrap_servers)
        if self._producer is None:
            self._producer = kafka.producer(self.settings.kafka_bootstrap_servers,
                                            client_id=f"{self.settings.service}-relay")
        return self._admin, self._producer

    def _reset_clients(self) -> None:
        for client in (self._producer, self._admin):
            if client is not None:
                try:
                    # timeout=0 drops what the producer still holds: sent later, to a broker that lost
                    # its data, it would land ahead of the republish.
                    client.close(timeout=0) if client is self._producer else client.close()
                except Exception:  # noqa: BLE001 - closing a broken client must not stop the relay
                    pass
        self._producer = self._admin = None
        self._epoch_checked_at = 0.0

    def _check_epoch(self) -> None:
        """Notice a broker that lost its data (no epoch marker), or an epoch whose republish did not end
        (its recorded epoch still carries the ``!`` of an unfinished republish, or is another one):
        start a new epoch on an emptied topic and republish from the first notification, in order,
        before anything new. While it republishes, the position is recorded as ``<epoch>!``."""
        now = time.monotonic()
        if now - self._epoch_checked_at < self.epoch_check_seconds:
            return
        admin, _ = self._clients()
        self._check_incarnation()
        current = kafka.epoch_of(set(admin.list_topics()), self.topic)
        position, recorded = self.position()
        republishing = self._republish_until is not None and recorded == f"{current}!"
        if current is None or (recorded != current and not republishing):
            reason = "no epoch on the broker" if current is None else f"epoch {recorded} not complete on {current}"
            _log.warning("%s for %s: emptying it and republishing from the start", reason, self.topic)
            self._save_position(0, "pending")  # first: a crash from here on starts again
            kafka.ensure_topics(admin, {self.settings.chain_heads_topic: self.settings.kafka_partitions},
                                self.settings.kafka_replication, kafka.COMPACTED_CONFIG)
            current = kafka.start_epoch(admin, self.topic, self.settings.kafka_partitions,
                                        self.settings.kafka_replication)
            self._republish_until = self.app.recorder.max_notification_id() or 0
            self._save_position(0, f"{current}!")
            self._republish_heads = True
            position = 0
        if self._republish_until is not None and position >= self._republish_until:
            _log.info("epoch %s of %s republished up to %s", current, self.topic, position)
            self._republish_until = None
            self._save_position(position, current)
        self._epoch = f"{current}!" if self._republish_until is not None else current
        self._epoch_checked_at = now

    # -- incarnation ---------------------------------------------------------------------
    def _check_incarnation(self) -> None:
        """Notice a store restored from a backup: the chain heads this service last published (the witness
        outside the database, signed) reach further than the store now does. Then a new incarnation begins
        after the store's head — events from there on name it (``ce_incarnation``, and ``ce_id``s of their
        own), so consumers never take a reused position for one they applied — and the topic is emptied and
        republished in a new epoch, so it no longer holds events the store has lost."""
        if self._incarnation_checked:
            return
        heads = published_heads(self.settings.kafka_bootstrap_servers, self.settings.chain_heads_topic,
                                self.settings.service, timeout=5.0, last_written=True,
                                accept=self._signer.valid if self._signer else None)
        published = max((h["notification_id"] for h in heads.values() if h.get("notification_id")), default=0)
        head = self.app.recorder.max_notification_id() or 0
        restored = False
        with self.datastore.transaction(commit=True) as curs:
            # equal to the latest incarnation's witness: begun already, its heads not republished yet
            if published > head and self.incarnations.latest_witness(curs) != published:
                self.incarnations.record(curs, head, published, f"ripristino: il registro arriva a {head}, le teste "
                                                               f"pubblicate a {published}")
                restored = True
        if restored:
            _log.error("store behind its published chain heads (%s < %s): restored from a backup? a new "
                       "incarnation begins after %s, and %s is republished in a new epoch", head, published, head,
                       self.topic, extra={"alert": "registro_ripristinato", "head": head, "published": published})
            self._save_position(0, "pending")
        self._incarnation_checked = True

    # -- one round -------------------------------------------------------------------
    def run_once(self) -> int:
        """Chain, check the epoch, publish one batch. Returns how many were published."""
        if self._republish_heads:
            self._heads_dirty.update({h.tenant_id: h for h in self.chain.all_heads()})
            self._republish_heads = False
        for head in self.chain.advance():
            self._heads_dirty[head.tenant_id] = head
        self._replays.run_once(time.monotonic())
        self._check_epoch()
        _, producer = self._clients()
        if self._position is None:
            self._position, _ = self.position()
        position = self._position
        notifications = self.app.recorder.select_notifications(
            start=position + 1, limit=self.settings.relay_batch_size)
        futures = []
        for notification in notifications:
            event = self.incarnations.stamp(decoded(self.app, self.mapper, notification, self._undecodable),
                                            notification.id)
            if event is not None:
                key, value, headers = event.to_kafka()
                futures.append(producer.send(self.topic, key=key, value=value, headers=headers))
        heads = list(self._heads_dirty.values())
        for head in heads:
            key, value, headers = head_event(head, self._signer).to_kafka()
            futures.append(producer.send(self.settings.chain_heads_topic, key=key, value=value, headers=headers))
        if not futures:
            return 0
        producer.flush(timeout=15)
        for future in futures:
            future.get(timeout=0)  # raises the broker's error, if any: position is not saved
        if notifications:
            last = notifications[-1].id
            if self._republish_until is not None and last >= self._republish_until:
                self._republish_until = None  # the whole log is in the new epoch: it is complete
                self._epoch = (self._epoch or "").rstrip("!")
            self._save_position(last, self._epoch or "")
        for head in heads:
            if self._heads_dirty.get(head.tenant_id) is head:
                del self._heads_dirty[head.tenant_id]
        published = len(futures) - len(heads)
        self.published += published
        return published

    def _replay(self, letter: Any, envelope: Any) -> None:
        """An event the relay could not decode, asked to be replayed: if it decodes now, the log is republished
        from the start in a new epoch (as after a broker loss), so that it takes its place in each aggregate's
        order instead of arriving late; otherwise ``PoisonMessage`` with the new error."""
        notifications = self.app.recorder.select_notifications(start=letter.notification_id, limit=1)
        if not notifications or notifications[0].id != letter.notification_id:
            raise PoisonMessage(f"la notifica {letter.notification_id} non è nel registro")
        try:
            self.mapper(self.app.mapper.to_domain_event(notifications[0]), notifications[0])
        except Exception as exc:  # noqa: BLE001 - still undecodable: refused again, with its reason
            raise PoisonMessage(f"evento ancora non decodificabile: {type(exc).__name__}: {exc}") from exc
        _log.warning("dead-lettered event %s decodes now: republishing %s from the start in a new epoch",
                     letter.notification_id, self.topic)
        self._save_position(0, "pending")  # as after a broker loss: the next epoch check starts a new epoch
        self._republish_until, self._epoch_checked_at = None, 0.0

    def _undecodable(self, notification: Any, error: Exception) -> None:
        self._dead_letters.undecodable(f"{self.app.name}:relay", notification, error)

    def close(self) -> None:
        self._reset_clients()

    # -- the loop ----------------------------------------------------------------------
    def run(self, stop: threading.Event, wait: Callable[[float], None] | None = None,
            leading: Callable[[], bool] = lambda: True) -> None:
        """Run rounds until ``stop`` is set or ``leading()`` turns false (the relay lock was
        lost); back off and reconnect on broker or database errors.

        ``wait(seconds)`` returns early when new events may have been committed (the
        worker passes a LISTEN on the events table's channel); without it, it sleeps.
        """
        wait = wait or stop.wait
        backoff = 0.2
        while not stop.is_set() and leading():
            try:
                if self.run_once() == 0:
                    wait(self.epoch_check_seconds)
                backoff = 0.2
            except Exception as exc:  # noqa: BLE001 - broker or database trouble: retry, never die
                level = logging.WARNING if isinstance(exc, (KafkaError, TimeoutError, OSError)) else logging.ERROR
                _log.log(level, "relay round failed (%r): reconnecting in %.1fs", exc, backoff,
                         exc_info=level == logging.ERROR)
                self._reset_clients()
                self.forget()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()
