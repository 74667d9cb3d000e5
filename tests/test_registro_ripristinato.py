"""A store restored from a backup reuses notification ids: consumers must not drop its new events as duplicates.

planning publishes five Piani; monitoring applies them. planning's store is then put back to a backup taken
after the third (the events, chain, positions and the id sequence as they were), as a restore does. At its
next start the relay sees its published chain heads reach further than the store, begins a new incarnation
after the store's head and republishes in a new epoch. The two Piani written next get the reused ids 4 and
5, carry ``ce_incarnation`` and ``ce_id``s of their own, and monitoring applies them — once each.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

from kafka import TopicPartition
from psycopg import sql

from ambiti_kit import kafka
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import SCHEMA as MONITORING_SCHEMA
from planning.application import Planning
from planning.integration.outbound import to_integration_event
from planning.projections import SCHEMA


def events_on(bootstrap: str, topic: str) -> list[CloudEvent]:
    consumer = kafka.consumer(bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        seen, idle = defaultdict(list), 0
        while idle < 6:
            batch = consumer.poll(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for tp, messages in batch.items():
                seen[tp.partition] += [CloudEvent.from_kafka(list(m.headers), m.value, m.key) for m in messages]
        return sorted((e for p in seen.values() for e in p), key=lambda e: e.sequence)
    finally:
        consumer.close()


def relay_caught_up(planning: Runtime) -> None:
    relay = planning.relay
    head = planning.app.recorder.max_notification_id()
    wait_until(lambda: relay.run_once() >= 0 and relay.position()[0] >= head
               and not relay.position()[1].endswith("!") and relay.position()[1] != "pending",
               timeout=60, interval=0.1, message="the relay to publish the whole store")


def test_a_restored_store_begins_a_new_incarnation_and_nothing_new_is_dropped(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}ripr_")
    topic = f"{ns.namespace}planning.events.v1"
    schema = sql.Identifier(f"{ns.namespace}planning")
    planning = build_runtime(ns.settings("planning"), Planning, SCHEMA, to_integration_event)
    for n in range(1, 6):
        planning.app.redigi_piano(f"15-RP{n}", f"Piano {n}", 2025, 2027, "prova")
    assert planning.app.recorder.max_notification_id() == 5
    relay_caught_up(planning)
    before = {e.sequence: e.id for e in events_on(ns.kafka_bootstrap, topic)}
    assert sorted(before) == [1, 2, 3, 4, 5]

    monitoring = build_runtime(ns.settings("monitoring"), Monitoring, MONITORING_SCHEMA, no_events,
                               consumers=inbound.consumers)
    consumer = monitoring.consumers[0]

    def piani() -> list[str]:
        with ns.connect() as conn:
            return [r[0] for r in conn.execute(sql.SQL("SELECT tenant_id FROM {}.piani ORDER BY 1").format(
                sql.Identifier(f"{ns.namespace}monitoring"))).fetchall()]
    try:
        wait_until(lambda: consumer.poll_once(timeout_ms=200) >= 0 and len(piani()) == 5, timeout=60, interval=0,
                   message="monitoring to apply the five Piani")
        planning.relay.close()
        planning.app.close()

        # The restore: planning's store as the backup taken after the third event left it.
        with ns.connect() as conn:
            for table in ("planning_events", "audit_chain"):
                conn.execute(sql.SQL("ALTER TABLE {}.{} DISABLE TRIGGER ALL").format(schema, sql.Identifier(table)))
            conn.execute(sql.SQL("DELETE FROM {}.planning_events WHERE notification_id > 3").format(schema))
            conn.execute(sql.SQL("DELETE FROM {}.audit_chain WHERE notification_id > 3").format(schema))
            conn.execute(sql.SQL("DELETE FROM {}.planning_tracking WHERE notification_id > 3").format(schema))
            conn.execute(sql.SQL("UPDATE {}.relay_position SET notification_id = 3").format(schema))
            conn.execute("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), 3)",
                         (f'"{ns.namespace}planning".planning_events',))
            for table in ("planning_events", "audit_chain"):
                conn.execute(sql.SQL("ALTER TABLE {}.{} ENABLE TRIGGER ALL").format(schema, sql.Identifier(table)))

        planning = build_runtime(ns.settings("planning"), Planning, SCHEMA, to_integration_event)
        relay_caught_up(planning)
        with ns.connect() as conn:
            incarnations = conn.execute(sql.SQL("SELECT incarnation::text, starts_after, witness FROM "
                                                "{}.store_incarnations ORDER BY created_at").format(schema)).fetchall()
        assert [(after, witness) for _, after, witness in incarnations] == [(0, None), (3, 5)]
        incarnation = incarnations[1][0]

        nuovi = [planning.app.redigi_piano(f"15-RP{n}", f"Piano {n}", 2025, 2027, "prova").id for n in (6, 7)]
        with ns.connect() as conn:
            reused = conn.execute(sql.SQL("SELECT notification_id FROM {}.planning_events WHERE originator_id = "
                                          "ANY(%s) ORDER BY 1").format(schema), (nuovi,)).fetchall()
        assert [r[0] for r in reused] == [4, 5]  # the ids the lost events had
        relay_caught_up(planning)

        after = events_on(ns.kafka_bootstrap, topic)
        assert [e.sequence for e in after] == [1, 2, 3, 4, 5]  # the new epoch holds the store, nothing lost in it
        assert [e.id for e in after[:3]] == [before[s] for s in (1, 2, 3)]  # the first incarnation's ids kept
        assert all(e.extensions.get("incarnation") == incarnation for e in after[3:])
        assert all(e.id != before[e.sequence] for e in after[3:])  # an integrator deduping on ce_id keeps them
        assert {e.tenantid for e in after[3:]} == {"15-RP6", "15-RP7"}

        wait_until(lambda: consumer.poll_once(timeout_ms=200) >= 0 and len(piani()) == 7, timeout=60, interval=0,
                   message="monitoring to apply the Piani written after the restore")
        time.sleep(1)
        consumer.poll_once(timeout_ms=500)
        assert piani() == [f"15-RP{n}" for n in range(1, 8)]  # each once: the republished 1–3 were duplicates
        assert monitoring.tracker.count(f"planning@{incarnation}") == 2

        # a later start finds nothing to do: no further incarnation
        planning.relay.close()
        planning.app.close()
        planning = build_runtime(ns.settings("planning"), Planning, SCHEMA, to_integration_event)
        relay_caught_up(planning)
        with ns.connect() as conn:
            assert conn.execute(sql.SQL("SELECT count(*) FROM {}.store_incarnations").format(schema)).fetchone()[0] == 2
    finally:
        consumer.close()
        monitoring.app.close()
        planning.relay.close()
        planning.app.close()
