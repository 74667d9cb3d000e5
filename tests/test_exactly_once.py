"""Exactly-once effects of the monitoring projection over a real broker and PostgreSQL.

planning's relay publishes real events; monitoring's tracked consumer crashes in the
middle of a batch (after applying an event's effects, before its transaction commits),
restarts, and must end with read models equal to a rebuild from scratch; redelivering
every message again changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.eventstore import Schema
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra, wait_until
from ambiti_kit.testing.readmodels import table_rows
from monitoring.application import Monitoring
from monitoring.integration import inbound
from monitoring.integration.outbound import to_integration_event as no_events
from monitoring.projections import TABLES, SCHEMA, piani
from planning.application import Planning
from planning.integration.outbound import to_integration_event

TENANTS = ("15-EO1", "15-EO2", "03-EO3")
PLANS_PER_TENANT = 8
TOTAL = len(TENANTS) * PLANS_PER_TENANT
CRASH_AT = 11


class Crash(RuntimeError):
    """The consumer process dying between an effect and its commit."""


@pytest.fixture(scope="module")
def ns(infra: Infra) -> Infra:
    return replace(infra, namespace=f"{infra.namespace}eo_")


@pytest.fixture(scope="module")
def published(ns: Infra) -> Runtime:
    """TOTAL plans drafted in planning and relayed to the broker."""
    planning = build_runtime(ns.settings("planning"), Planning, Schema(), to_integration_event)
    for i in range(PLANS_PER_TENANT):
        for tenant in TENANTS:
            planning.app.redigi_piano(tenant, f"Piano {tenant} n.{i}", 2025 + 3 * i, 2027 + 3 * i, "test")
    wait_until(lambda: planning.relay.run_once() == 0 and planning.relay.position()[0] == TOTAL,
               message="relay published every plan")
    yield planning
    planning.relay.close()
    planning.app.close()


def monitoring(ns: Infra, schema_suffix: str = "", group: str = "main") -> Runtime:
    overrides = {"AMBITI_DB_SCHEMA": f"{ns.namespace}{schema_suffix}monitoring"} if schema_suffix else {}
    return build_runtime(ns.settings("monitoring", **overrides), Monitoring, SCHEMA, no_events,
                         consumers=lambda rt: inbound.consumers(rt, group=group))


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, TABLES)


def drain(consumer: TrackedConsumer, runtime: Runtime, expected: int) -> None:
    def caught_up() -> bool:
        consumer.poll_once(timeout_ms=200)
        return runtime.tracker.count("planning") >= expected
    wait_until(caught_up, timeout=60, interval=0, message=f"{expected} events tracked")


def test_crash_mid_batch_then_restart_equals_rebuild_and_redelivery_changes_nothing(
        ns: Infra, published: Runtime) -> None:
    live = monitoring(ns)
    [consumer] = live.consumers
    applied = {"n": 0}
    project = piani.project_piano_creato(live.settings.db_schema)

    def crashing(curs: Any, event: Any) -> None:
        project(curs, event)  # the effects are written in the open transaction...
        applied["n"] += 1
        if applied["n"] == CRASH_AT:
            raise Crash("killed before commit")  # ...and never committed

    consumer.handlers = {"planning.piano_di_zona.creato": projecting(live.tracker, crashing)}
    with pytest.raises(Crash):
        wait_until(lambda: consumer.poll_once(timeout_ms=200) and False, timeout=60, interval=0,
                   message="the crash")
    consumer.close()

    # Effects and tracking are committed together or not at all: the crashed batch left
    # neither (each poll's events share one transaction), earlier batches left both.
    committed = live.tracker.count("planning")
    assert committed < CRASH_AT
    assert len(tables(live)["piani"]) == committed
    assert sum(row[2] for row in tables(live)["regionale_piani"]) == committed

    # Restart (same group, fresh process state) and catch up.
    restart = monitoring(ns)
    drain(restart.consumers[0], live, TOTAL)
    restart.consumers[0].close()
    after_restart = tables(live)
    assert len(after_restart["piani"]) == TOTAL
    assert sorted((r[1], r[2]) for r in after_restart["regionale_piani"]) == sorted(
        (t, PLANS_PER_TENANT) for t in TENANTS)

    # A rebuild from scratch (new schema, new group, from the beginning of the topic) is identical.
    rebuild = monitoring(ns, schema_suffix="rebuild_", group="rebuild")
    drain(rebuild.consumers[0], rebuild, TOTAL)
    rebuild.consumers[0].close()
    assert tables(rebuild) == after_restart

    # Redelivering every message (a new group reads the topic again) changes nothing.
    again = monitoring(ns, group="redelivery")
    redelivery = again.consumers[0]
    wait_until(lambda: redelivery.poll_once(timeout_ms=200) >= 0 and redelivery.duplicates >= TOTAL,
               timeout=60, interval=0, message="every message redelivered")
    redelivery.close()
    assert redelivery.applied == 0
    assert live.tracker.count("planning") == TOTAL
    assert tables(live) == after_restart
    for runtime in (live, restart, rebuild, again):
        runtime.app.close()
