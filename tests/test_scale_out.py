"""Scale-out: two instances of monitoring share one consumer group and split the partitions.

Each instance applies only what it is assigned; together they apply every event exactly
once, and the read model equals the one a single consumer builds.
"""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from ambiti_kit.eventstore import Schema
from ambiti_kit.service import build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import SCHEMA
from planning.application import Planning
from planning.integration.outbound import to_integration_event

TENANTS = ("15-SO1", "15-SO2", "16-SO3", "16-SO4")
PER_TENANT = 10


def test_two_instances_split_the_partitions_and_apply_each_event_once(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}so_")
    planning = build_runtime(ns.settings("planning"), Planning, Schema(), to_integration_event)
    planning.relay.run_once()  # creates the topic (4 partitions) and its epoch before anyone subscribes
    instances = [build_runtime(ns.settings("monitoring"), Monitoring, SCHEMA, no_events,
                               consumers=inbound.consumers) for _ in range(2)]
    consumers = [rt.consumers[0] for rt in instances]
    try:
        def both_assigned() -> bool:
            for consumer in consumers:
                consumer.poll_once(timeout_ms=100)
            parts = [c.client.assignment() for c in consumers]
            return all(parts) and not (parts[0] & parts[1]) and len(parts[0] | parts[1]) == 4
        wait_until(both_assigned, timeout=60, interval=0, message="the group split the partitions")

        for i in range(PER_TENANT):
            for tenant in TENANTS:
                planning.app.redigi_piano(tenant, f"Piano {i}", 2025 + 3 * i, 2027 + 3 * i, "test")
        wait_until(lambda: planning.relay.run_once() == 0 and planning.relay.position()[0] == 40,
                   message="published")

        def all_applied() -> bool:
            for consumer in consumers:
                consumer.poll_once(timeout_ms=100)
            return instances[0].tracker.count("planning") == 40
        wait_until(all_applied, timeout=60, interval=0, message="every event applied")
    finally:
        for consumer in consumers:
            consumer.close()
    assert all(c.applied > 0 for c in consumers), "both instances did part of the work"
    assert sum(c.applied for c in consumers) == 40
    with ns.connect() as conn:
        schema = sql.Identifier(f"{ns.namespace}monitoring")
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}.piani").format(schema)).fetchone()[0]
        regional = conn.execute(sql.SQL("SELECT tenant_id, piani FROM {}.regionale_piani ORDER BY 1")
                                .format(schema)).fetchall()
    assert rows == 40 and regional == [(t, PER_TENANT) for t in TENANTS]
    planning.relay.close()
    for runtime in (planning, *instances):
        runtime.app.close()
