"""The example consumer for trusted parties (contracts/kafka/consumatore_esempio.py) follows the recovery
protocol: run as its own process on planning's topic, across a broker wipe, it applies every event once,
each Piano's events in order — what the feed (`GET /eventi`) says was published."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from ambiti_cli.infra import TansuBroker
from ambiti_kit import kafka
from ambiti_kit.testing.fixtures import ROOT, Infra, free_port, start_platform, wait_until
from tests.conftest import S09

EXAMPLE = ROOT / "contracts" / "kafka" / "consumatore_esempio.py"
TENANTS = ("15-DWH1", "16-DWH2")


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Any:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


def test_the_example_consumer_applies_each_event_once_across_a_broker_wipe(infra: Infra, broker: TansuBroker,
                                                                           tmp_path: Path) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}dwh_", kafka_bootstrap=broker.bootstrap)
    platform = start_platform(ns, names=("planning",), log_tag="consumatore")
    output = tmp_path / "eventi.jsonl"
    command = [sys.executable, str(EXAMPLE), "--bootstrap", broker.bootstrap, "--topic",
               f"{ns.namespace}planning.events.v1", "--gruppo", f"{ns.namespace}dwh", "--stato",
               str(tmp_path / "stato.sqlite"), "--uscita", str(output)]
    consumer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = platform.url("planning")

        def write(tenant: str, anno: int) -> None:
            r = httpx.post(f"{url}/piani", headers=ns.auth(tenant, "coordinatore"), timeout=30,
                           json={"titolo": f"Piano {anno}", "anno_inizio": anno, "anno_fine": anno + 2})
            assert r.status_code == 201, r.text

        def published() -> set[str]:
            return {e["id"] for t in TENANTS for e in httpx.get(f"{url}/eventi", headers=ns.auth(t, "integratore"),
                                                                  params={"quanti": 500}).json()["eventi"]}

        def applied() -> list[dict]:
            return [json.loads(line) for line in output.read_text().splitlines()] if output.exists() else []

        for tenant in TENANTS:
            r = httpx.put(f"{url}/ambito", headers=ns.auth(tenant, "coordinatore"), timeout=30, json={
                "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
                "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
            assert r.status_code in (200, 201), r.text
            for anno in (2025, 2028):
                write(tenant, anno)
        wait_until(lambda: len(published()) == 6 and {e["ce_id"] for e in applied()} == published(), timeout=60,
                   message="the example consumer to apply the first events")

        broker.stop()  # the broker loses everything; planning republishes in a new epoch
        broker.start()
        for tenant in TENANTS:
            write(tenant, 2031)
        wait_until(lambda: len(published()) == 8 and {e["ce_id"] for e in applied()} == published(), timeout=90,
                   message="the example consumer to apply what came after the wipe")
        topic = f"{ns.namespace}planning.events.v1"

        def caught_up_with_the_new_epoch() -> bool:  # what the example records once it re-read the new epoch
            admin = kafka.admin(broker.bootstrap)
            try:
                current = kafka.epoch_of(set(admin.list_topics()), topic)
            finally:
                admin.close()
            with sqlite3.connect(tmp_path / "stato.sqlite") as db:
                row = db.execute("SELECT epoca FROM epoche WHERE topic = ?", (topic,)).fetchone()
            return current is not None and row is not None and row[0] == current
        wait_until(caught_up_with_the_new_epoch, timeout=60, message="the example consumer to follow the new epoch")
    finally:
        consumer.send_signal(signal.SIGTERM)
        out, err = consumer.communicate(timeout=30)
        platform.stop()
    events = applied()
    assert len(events) == len({e["ce_id"] for e in events}) == 8  # each once
    by_subject: dict[str, list[int]] = {}
    for event in events:
        by_subject.setdefault(event["subject"], []).append(event["sequence"])
    assert all(seqs == sorted(seqs) for seqs in by_subject.values())  # each aggregate in order
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["applicati"] == 8 and stats["riletture"] >= 1 and stats["consegnati"] >= 8, (stats, err[-2000:])
