"""Scale-out: two instances of monitoring share one consumer group and split the partitions.

Each instance applies only what it is assigned; together they apply every event exactly
once, and the read model equals the one a single consumer builds.
"""

from __future__ import annotations

import threading
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
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in consumers]
    for thread in threads:  # each instance polls in its own thread, as in its own process
        thread.start()
    try:
        def split() -> bool:
            # the group also reads finance's topic: count the partitions of the planning topic under test
            a, b = ({tp for tp in c.assigned if tp.topic == planning.relay.topic} for c in consumers)
            return bool(a) and bool(b) and not (a & b) and len(a | b) == 4
        wait_until(split, timeout=120, interval=0.2, message="the group split the partitions")

        for i in range(PER_TENANT):
            for tenant in TENANTS:
                planning.app.redigi_piano(tenant, f"Piano {i}", 2025 + 3 * i, 2027 + 3 * i, "test")
        wait_until(lambda: planning.relay.run_once() == 0 and planning.relay.position()[0] == 40,
                   message="published")
        wait_until(lambda: instances[0].tracker.count("planning") == 40, timeout=120, interval=0.2,
                   message="every event applied")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
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
