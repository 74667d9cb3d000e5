"""Broker loss under a steady write load keeps per-key order (issue 11).

Three Ambiti keep writing (a Piano each, then its content again and again: many events per aggregate)
while the broker is SIGKILLed and a fresh, empty one takes its place a few seconds later. Afterwards a
new consumer reading the topic from the beginning must find every stored event exactly once, each
aggregate's events in notification order, and nothing from before the loss; readiness says "not ready"
while the broker is away and "ready" once the relay has caught up.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import replace
from typing import Any

import httpx
import pytest
from kafka import TopicPartition
from psycopg import sql

from ambiti_cli.infra import TansuBroker
from ambiti_kit import kafka
from ambiti_kit.testing.fixtures import Infra, Platform, free_port, start_platform, wait_until

from tests.conftest import S09

TENANTS = ("15-ORD1", "15-ORD2", "16-ORD3")


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Any:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def lossy(infra: Infra, broker: TansuBroker) -> Any:
    ns = replace(infra, namespace=f"{infra.namespace}ord_", kafka_bootstrap=broker.bootstrap)
    platform = start_platform(ns, names=("planning",), log_tag="broker-order", AMBITI_READY_MAX_LAG="0")
    yield platform
    platform.stop()


def read_topic(bootstrap: str, topic: str) -> list[tuple[str, int]]:
    """(key, ce_sequence) of every record, partition by partition, from the beginning."""
    consumer = kafka.consumer(bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        seen: dict[int, list[tuple[str, int]]] = defaultdict(list)
        idle = 0
        while idle < 6:
            batch = consumer.poll(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for tp, messages in batch.items():
                seen[tp.partition] += [(m.key.decode(), int(dict(m.headers)["ce_sequence"])) for m in messages]
        return [record for p in sorted(seen) for record in seen[p]]
    finally:
        consumer.close()


def test_a_broker_lost_under_load_leaves_each_aggregate_in_order_once(lossy: Platform, broker: TansuBroker) -> None:
    planning = lossy.url("planning")
    auth = {t: lossy.infra.auth(t, "coordinatore") for t in TENANTS}
    piani = {}
    for i, tenant in enumerate(TENANTS):
        r = httpx.put(f"{planning}/ambito", headers=auth[tenant], timeout=30, json={
            "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
            "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
        assert r.status_code == 201, r.text
        r = httpx.post(f"{planning}/piani", headers=auth[tenant], timeout=30,
                       json={"titolo": f"Piano {tenant}", "anno_inizio": 2025 + i, "anno_fine": 2027 + i})
        assert r.status_code == 201, r.text
        piani[tenant] = r.json()["id"]
    stop, failures, writes = threading.Event(), [], {"n": 0}

    def write() -> None:
        n = 0
        while not stop.is_set():
            for tenant in TENANTS:
                n += 1
                body = {"aree": [{"codice": "A", "titolo": f"Area rivista {n}", "obiettivi": []}]}
                r = httpx.put(f"{planning}/piani/{piani[tenant]}/versioni/1/contenuto", headers=auth[tenant],
                              json=body, timeout=30)
                if r.status_code != 200:
                    failures.append(r.text[:300])
                writes["n"] += 1
                stop.wait(0.33)  # about 3 commands a second across the three Ambiti

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        wait_until(lambda: writes["n"] >= 9, timeout=60, message="writes before the loss")
        assert httpx.get(f"{planning}/health/ready", timeout=10).status_code in (200, 503)
        broker.process.kill()  # SIGKILL: everything the broker held is gone
        broker.process.wait(10)
        before_restart = writes["n"]
        wait_until(lambda: writes["n"] >= before_restart + 9, timeout=60, message="writes while the broker is away")
        down = httpx.get(f"{planning}/health/ready", timeout=10)
        assert down.status_code == 503 and "il broker non risponde" in down.json()["motivi"]
        broker.start()  # an empty broker on the same address
        after_restart = writes["n"]
        wait_until(lambda: writes["n"] >= after_restart + 12, timeout=60, message="writes after the restart")
    finally:
        stop.set()
        writer.join(30)
    assert failures == [], failures[:3]  # the store took every write, broker or not

    wait_until(lambda: httpx.get(f"{planning}/health/ready", timeout=10).status_code == 200, timeout=120,
               interval=0.5, message="planning ready again (relay caught up, epoch complete)")
    ready = httpx.get(f"{planning}/health/ready", timeout=10).json()
    assert not ready["relay"]["epoch"].endswith("!")

    ns = lossy.infra.namespace
    with lossy.infra.connect() as conn:
        stored = [r[0] for r in conn.execute(sql.SQL("SELECT notification_id FROM {}.planning_events "
                                                     "ORDER BY notification_id").format(sql.Identifier(f"{ns}planning")))]
    records = read_topic(broker.bootstrap, f"{ns}planning.events.v1")
    sequences = [s for _, s in records]
    assert len(sequences) == len(set(sequences)), "no duplicate within the epoch"
    assert sorted(sequences) == stored, "no gap, and nothing from before the loss"
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, sequence in records:
        per_key[key].append(sequence)
    violations = [key for key, seq in per_key.items() if seq != sorted(seq)]
    assert violations == [], "each aggregate's events in notification order"
    assert len(stored) >= 3 + 30
