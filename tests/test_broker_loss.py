"""Broker loss: the broker dies and a fresh, empty one takes its place.

The relays must notice (no epoch marker), recreate their topics and republish from their
event stores; consumers must re-read and come out exactly as before, nothing applied
twice. Runs its own Tansu (it is killed on purpose) and its own service processes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from kafka import TopicPartition
from psycopg import sql

from ambiti_cli.infra import TansuBroker
from ambiti_kit import kafka
from ambiti_kit.testing.fixtures import Infra, Platform, free_port, start_platform, wait_until

TENANTS = ("15-BL1", "16-BL2")


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Any:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def lossy(infra: Infra, broker: TansuBroker) -> Any:
    ns = replace(infra, namespace=f"{infra.namespace}bl_", kafka_bootstrap=broker.bootstrap)
    platform = start_platform(ns, names=("planning", "finance", "monitoring"), log_tag="broker-loss")
    yield platform
    platform.stop()


def draft(platform: Platform, tenant: str, start: int) -> str:
    r = httpx.post(f"{platform.url('planning')}/piani", headers=platform.infra.auth(tenant, "coordinatore"),
                   json={"titolo": f"Piano {start}", "anno_inizio": start, "anno_fine": start + 2})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def snapshot(ns: Infra) -> dict[str, Any]:
    """Read models and stores as the database owner sees them."""
    p = ns.namespace
    queries = {
        "piani": f"SELECT tenant_id, piano_id, titolo, creato_il FROM {p}monitoring.piani ORDER BY 1, 2",
        "regionale": f"SELECT regione, tenant_id, piani, ultimo_evento FROM {p}monitoring.regionale_piani ORDER BY 1, 2",
        "monitoring_tracking": f"SELECT count(*) FROM {p}monitoring.monitoring_tracking WHERE application_name='planning'",
        "finance_tracking": f"SELECT count(*) FROM {p}finance.finance_tracking WHERE application_name='planning'",
        "budget_events": f"SELECT count(*) FROM {p}finance.finance_events",
    }
    with ns.connect() as conn:
        return {name: conn.execute(sql.SQL(q)).fetchall() for name, q in queries.items()}


def all_visible(platform: Platform, ids: dict[str, list[str]]) -> bool:
    for tenant, plan_ids in ids.items():
        listed = httpx.get(f"{platform.url('monitoring')}/piani",
                           headers=platform.infra.auth(tenant, "coordinatore")).json()["elementi"]
        if sorted(p["id"] for p in listed) != sorted(plan_ids):
            return False
        for plan_id in plan_ids:
            if httpx.get(f"{platform.url('finance')}/budget/{plan_id}",
                         headers=platform.infra.auth(tenant, "amministrativo")).status_code != 200:
                return False
    return True


def sequences_on_topic(bootstrap: str, topic: str) -> list[int]:
    consumer = kafka.consumer(bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        seen: list[int] = []
        idle = 0
        while idle < 4:
            batch = consumer.poll(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for messages in batch.values():
                seen += [int(dict(m.headers)["ce_sequence"]) for m in messages]
        return seen
    finally:
        consumer.close()


def test_fresh_empty_broker_gets_everything_republished_and_nothing_is_applied_twice(
        lossy: Platform, broker: TansuBroker) -> None:
    ns = lossy.infra
    ids = {t: [draft(lossy, t, 2025 + 3 * i) for i in range(3)] for t in TENANTS}
    wait_until(lambda: all_visible(lossy, ids), timeout=60, message="plans in monitoring and finance")
    before = snapshot(ns)
    epoch_before = httpx.get(f"{lossy.url('planning')}/health").json()["relay"]["epoch"]

    broker.stop()          # everything the broker held is gone...
    broker.start()         # ...and an empty broker answers on the same address

    # The relay notices the new broker and republishes its whole log into a new epoch.
    wait_until(lambda: httpx.get(f"{lossy.url('planning')}/health").json()["relay"]["epoch"] not in
               (epoch_before, "pending"), timeout=60, message="a new epoch")
    topic = f"{ns.namespace}planning.events.v1"
    wait_until(lambda: sorted(sequences_on_topic(broker.bootstrap, topic)) == list(range(1, 7)),
               timeout=60, message="the planning log republished")
    wait_until(lambda: snapshot(ns) == before, timeout=60, message="read models as before")

    # Life goes on after the loss: new plans flow through, each applied once.
    for t in TENANTS:
        ids[t].append(draft(lossy, t, 2034))
    wait_until(lambda: all_visible(lossy, ids), timeout=60, message="new plans after the loss")
    after = snapshot(ns)
    assert after["monitoring_tracking"] == after["finance_tracking"] == [(8,)]
    assert after["budget_events"] == [(8,)], "one budget per plan: none opened twice"
    assert [(r[0], r[1], r[2]) for r in after["regionale"]] == [("15", "15-BL1", 4), ("16", "16-BL2", 4)]
    assert set(before["piani"]) < set(after["piani"]) and len(after["piani"]) == 8
    for name in ("finance", "monitoring"):
        consumer = next(c for c in httpx.get(f"{lossy.url(name)}/health").json()["consumers"]
                        if c["group"].endswith(".main"))  # the one reading planning
        assert consumer["applied"] == 8 and consumer["rejected"] == 0
