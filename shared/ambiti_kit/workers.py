"""Background workers of a service process: the elected relay, the own-log projector, the consumers.

The relay must run once per service (several instances share one event store), so it
runs only while its process holds a PostgreSQL session-level advisory lock on a
dedicated connection; the same connection LISTENs on the events table's channel (the
`eventsourcing` recorder NOTIFYs it on every insert) so an idle relay wakes at once.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from typing import Callable

import psycopg
from psycopg import sql

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.eventstore import events_table
from ambiti_kit.projector import OwnLogProjector
from ambiti_kit.relay import OutboxRelay

_log = logging.getLogger("ambiti.workers")


def close_quietly(conn: psycopg.Connection | None) -> None:
    """Close a dedicated connection that may already be broken; returns None (the caller's new value)."""
    if conn is not None:
        try:
            conn.close()
        except psycopg.Error:
            pass
    return None


def wait_for_notify(conn: psycopg.Connection, timeout: float) -> None:
    """Return after one NOTIFY on ``conn``'s LISTENed channels or after ``timeout`` seconds."""
    for _ in conn.notifies(timeout=timeout, stop_after=1):
        pass


class Listener:
    """A connection LISTENing on the events table's channel: wakes a worker when events are stored."""

    def __init__(self, database_url: str, service: str) -> None:
        self.database_url = database_url
        self.channel = events_table(service)
        self.conn: psycopg.Connection | None = None

    def wait(self, timeout: float) -> None:
        try:
            if self.conn is None:
                self.conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
                self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            wait_for_notify(self.conn, timeout)
        except psycopg.Error as exc:
            _log.warning("listener connection lost (%r)", exc)
            self.close()
            time.sleep(min(timeout, 1.0))

    def close(self) -> None:
        self.conn = close_quietly(self.conn)


class Leadership:
    """Holds the relay lock of one service schema while its connection lives."""

    def __init__(self, database_url: str, schema: str, service: str) -> None:
        self.database_url = database_url
        self.key = zlib.crc32(f"relay:{schema}".encode())
        self.channel = events_table(service)
        self.conn: psycopg.Connection | None = None
        self._checked_at = 0.0

    def acquire(self) -> bool:
        self.release()
        conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.conn = conn
            return True
        conn.close()
        return False

    def wait(self, timeout: float) -> None:
        """Return when new events were notified or after ``timeout`` seconds."""
        if self.conn is None:
            return
        try:
            wait_for_notify(self.conn, timeout)
        except psycopg.Error:
            _log.warning("relay lock connection lost")
            self.release()

    def held(self) -> bool:
        """Whether the lock is still ours: its session answers (checked at most once a second)."""
        if self.conn is None:
            return False
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            try:
                self.conn.execute("SELECT 1")
                self._checked_at = now
            except psycopg.Error:
                _log.warning("relay lock connection lost")
                self.release()
                return False
        return True

    def release(self) -> None:
        self.conn = close_quietly(self.conn)


def relay_forever(relay: OutboxRelay, leadership: Leadership, stop: threading.Event) -> None:
    """Campaign for the relay lock; relay while holding it; campaign again if it is lost."""
    while not stop.is_set():
        try:
            if not leadership.acquire():
                stop.wait(2.0)
                continue
            _log.info("relay lock acquired", extra={"topic": relay.topic})
            relay.forget()  # another instance may have relayed and chained while we waited
            relay.run(stop, wait=leadership.wait, leading=leadership.held)
        except psycopg.Error as exc:
            _log.warning("relay cannot reach PostgreSQL (%r)", exc)
            stop.wait(2.0)
        finally:
            leadership.release()


class Workers:
    """Threads of one service process, started and stopped by the app's lifespan."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def start_relay(self, relay: OutboxRelay, leadership: Leadership) -> None:
        self.start("relay", lambda stop: relay_forever(relay, leadership, stop))

    def start_projector(self, projector: OwnLogProjector, listener: Listener) -> None:
        def run(stop: threading.Event) -> None:
            try:
                projector.run(stop, wait=listener.wait)
            finally:
                listener.close()
        self.start("projector", run)

    def start_consumer(self, consumer: TrackedConsumer) -> None:
        self.start(f"consumer-{consumer.group_id}", consumer.run)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)
