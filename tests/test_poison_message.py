"""One message that can never be applied must not stop monitoring for every other Ambito.

A message whose data breaks the consumer's rules (here a title with a NUL character, which
PostgreSQL cannot store, and one missing a required field) is recorded as a dead letter with
its tracking, counted as rejected, and the messages after it are applied.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import SCHEMA


def piano_creato(sequence: int, tenant: str, **data: object) -> CloudEvent:
    body = {"piano_id": f"00000000-0000-4000-8000-{sequence:012d}", "ambito": tenant, "titolo": "Piano",
            "anno_inizio": 2025, "anno_fine": 2027, "stato": "bozza", "creato_da": "x",
            "creato_il": "2026-01-01T00:00:00+00:00", **data}
    return CloudEvent(type="planning.piano_di_zona.creato", source="/ambiti/planning", subject=body["piano_id"],
                      tenantid=tenant, sequence=sequence, time=datetime(2026, 1, 1, tzinfo=timezone.utc),
                      dataschema="x", data={k: v for k, v in body.items() if v is not None})


def test_poison_messages_are_dead_lettered_and_the_others_applied(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}poison_")
    topic = f"{ns.namespace}planning.events.v1"
    admin = kafka.admin(ns.kafka_bootstrap)
    kafka.ensure_topics(admin, {topic: 1})
    admin.close()
    producer = kafka.producer(ns.kafka_bootstrap)
    messages = [piano_creato(1, "15-PX1", titolo="Piano\x00nullo"), piano_creato(2, "16-PX2", anno_fine=None),
                piano_creato(3, "16-PX3"), piano_creato(4, "15-PX1")]
    for event in messages:
        key, value, headers = event.to_kafka()
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()

    monitoring = build_runtime(ns.settings("monitoring"), Monitoring, SCHEMA, no_events,
                               consumers=inbound.consumers)
    consumer = monitoring.consumers[0]
    try:
        wait_until(lambda: consumer.poll_once(timeout_ms=200) >= 0 and monitoring.tracker.count("planning") == 4,
                   timeout=60, interval=0, message="all four messages tracked")
    finally:
        consumer.close()
    assert (consumer.applied, consumer.rejected) == (2, 2)
    with ns.connect() as conn:
        schema = sql.Identifier(f"{ns.namespace}monitoring")
        piani = conn.execute(sql.SQL("SELECT tenant_id FROM {}.piani ORDER BY 1").format(schema)).fetchall()
        dead = conn.execute(sql.SQL("SELECT notification_id, tenant_id, error FROM {}.dead_letters ORDER BY 1")
                            .format(schema)).fetchall()
    assert piani == [("15-PX1",), ("16-PX3",)]
    assert [(n, t) for n, t, _ in dead] == [(1, "15-PX1"), (2, "16-PX2")]
    assert "DataError" in dead[0][2] and "ValidationError" in dead[1][2]
    monitoring.app.close()
