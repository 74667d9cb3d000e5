"""Test helpers for read models: their tables as the owner sees them, and redelivery of a
service's own published events (the checks every projection's idempotency test makes)."""

from __future__ import annotations

from typing import Any, Iterable

from psycopg import sql

from ambiti_kit.consumer import TrackedConsumer
from ambiti_kit.envelope import CloudEvent


def table_rows(runtime: Any, tables: Iterable[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables`` (all tenants and Regions: the owner bypasses RLS), whole rows sorted,
    so two read models compare equal exactly when they hold the same rows."""
    out = {}
    with runtime.app.recorder.datastore.transaction() as curs:
        for table in tables:
            curs.execute(sql.SQL("SELECT * FROM {}").format(runtime.read_model.table(table)))
            out[table] = sorted((tuple(row.values()) for row in curs.fetchall()), key=repr)
    return out


def published_events(runtime: Any, limit: int = 10_000) -> list[CloudEvent]:
    """The integration events the service's relay publishes, rebuilt from its notification log."""
    app = runtime.app
    return [e for n in app.recorder.select_notifications(start=1, limit=limit)
            if (e := runtime.relay.mapper(app.mapper.to_domain_event(n), n)) is not None]


def redeliver(consumer: TrackedConsumer, topic: str, events: Iterable[CloudEvent]) -> int:
    """Hand ``events`` to ``consumer`` again, one message at a time; returns how many it saw as duplicates."""
    before = consumer.duplicates
    for event in events:
        key, value, headers = event.to_kafka()
        consumer.process(topic, headers, value, key)
    return consumer.duplicates - before
