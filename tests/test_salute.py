"""Truthful health: liveness, readiness that follows the broker, and Prometheus metrics.

Runs its own broker (stopped on purpose) and its own planning and monitoring processes. While the
broker is away, planning keeps taking writes: readiness says why it is not ready, the relay's lag in
/metrics rises; once a broker is back and everything is republished, readiness is 200 and the lag
falls to 0.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
import pytest

from ambiti_cli.infra import TansuBroker
from ambiti_kit.testing.fixtures import Infra, Platform, free_port, start_platform, wait_until

TENANT = "15-HL1"


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Any:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def watched(infra: Infra, broker: TansuBroker) -> Any:
    ns = replace(infra, namespace=f"{infra.namespace}hl_", kafka_bootstrap=broker.bootstrap)
    platform = start_platform(ns, names=("planning", "monitoring"), log_tag="health",
                              AMBITI_READY_MAX_LAG="0")
    yield platform
    platform.stop()


def metric(platform: Platform, service: str, name: str, **labels: str) -> float | None:
    text = httpx.get(f"{platform.url(service)}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return None


def draft(platform: Platform, start: int) -> None:
    r = httpx.post(f"{platform.url('planning')}/piani", headers=platform.infra.auth(TENANT, "coordinatore"),
                   json={"titolo": f"Piano {start}", "anno_inizio": start, "anno_fine": start + 2}, timeout=30)
    assert r.status_code == 201, r.text


def test_readiness_follows_the_broker_and_metrics_show_the_lag_rise_and_fall(
        watched: Platform, broker: TansuBroker) -> None:
    planning = watched.url("planning")
    assert httpx.get(f"{planning}/health/live").json()["status"] == "vivo"
    draft(watched, 2025)
    ready = wait_until(lambda: (r := httpx.get(f"{planning}/health/ready", timeout=10)).status_code == 200 and r,
                       timeout=60, message="planning ready")
    body = ready.json()
    assert body["status"] == "pronto" and body["motivi"] == []
    assert body["broker"]["raggiungibile"] and body["database"]["raggiungibile"]
    assert body["store"]["head"] >= 1 and body["relay"]["lag"] == 0 and body["dead_letters"] == 0
    monitoring = httpx.get(f"{watched.url('monitoring')}/health/ready", timeout=10).json()
    assert monitoring["consumers"] and monitoring["consumers"][0]["lag"] == 0

    # Requests are measured per route template, never per raw path.
    httpx.get(f"{planning}/piani", headers=watched.infra.auth(TENANT, "coordinatore"))
    text = httpx.get(f"{planning}/metrics").text
    assert re.search(r'ambiti_http_request_duration_seconds_count\{[^}]*method="POST",route="/piani"', text)
    assert 'route="/piani/{piano_id}"' in text or "/piani/" not in re.sub(r'route="/piani"', "", text)
    assert metric(watched, "planning", "ambiti_relay_lag") == 0
    assert metric(watched, "planning", "ambiti_broker_reachable") == 1

    broker.stop()
    for year in (2028, 2031, 2034):
        draft(watched, year)  # the store takes writes while the broker is away
    not_ready = httpx.get(f"{planning}/health/ready", timeout=10)
    assert not_ready.status_code == 503
    assert "il broker non risponde" in not_ready.json()["motivi"]
    assert not_ready.json()["relay"]["lag"] >= 3
    assert metric(watched, "planning", "ambiti_relay_lag") >= 3
    assert metric(watched, "planning", "ambiti_broker_reachable") == 0
    assert httpx.get(f"{planning}/health/live").status_code == 200  # alive all along: no restart for this

    broker.start()  # an empty broker on the same address: everything is republished
    wait_until(lambda: httpx.get(f"{planning}/health/ready", timeout=10).status_code == 200, timeout=120,
               interval=0.5, message="planning ready again")
    wait_until(lambda: httpx.get(f"{watched.url('monitoring')}/health/ready", timeout=10).status_code == 200,
               timeout=120, interval=0.5, message="monitoring caught up")
    assert metric(watched, "planning", "ambiti_relay_lag") == 0
    assert metric(watched, "monitoring", "ambiti_consumer_lag") == 0
