"""`GET /eventi`: one Ambito's events over HTTP, for its integrator, with a cursor that outlives the broker.

planning runs as a process on a broker of its own, which the test wipes (stopped and started empty);
then planning itself is restarted. The cursor read before both goes on with no gap and no duplicate.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ambiti_cli.infra import TansuBroker
from ambiti_kit.testing.fixtures import Infra, free_port, start_platform, wait_until

A, B = "15-FED1", "16-FED2"
CREATO = "planning.piano_di_zona.creato"
CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Any:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


def piano(url: str, auth: dict, anno: int) -> str:
    r = httpx.post(f"{url}/piani", headers=auth, timeout=30,
                   json={"titolo": f"Piano {anno}", "anno_inizio": anno, "anno_fine": anno + 2})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def read_all(url: str, auth: dict, cursor: str | None = None, **params: Any) -> tuple[list[dict], str]:
    events = []
    while True:
        r = httpx.get(f"{url}/eventi", headers=auth, timeout=30,
                      params={**({"dopo": cursor} if cursor else {}), **params})
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["eventi"]
        cursor = page["cursore"]
        if page["in_pari"]:
            return events, cursor


def test_the_feed_gives_one_ambito_its_events_across_a_broker_wipe_and_a_restart(infra: Infra,
                                                                                   broker: TansuBroker) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}feed_", kafka_bootstrap=broker.bootstrap)
    platform = start_platform(ns, names=("planning",), log_tag="feed")
    try:
        url = platform.url("planning")
        coord_a, coord_b = ns.auth(A, "coordinatore"), ns.auth(B, "coordinatore")
        integr_a, integr_b = ns.auth(A, "integratore"), ns.auth(B, "integratore")
        mine = [piano(url, coord_a, anno) for anno in (2025, 2028, 2031)]
        theirs = [piano(url, coord_b, anno) for anno in (2025, 2028)]
        wait_until(lambda: len(read_all(url, integr_a, tipo=CREATO)[0]) == 3, timeout=60,
                   message="A's three Piani in the feed")

        one_by_one, cursor = [], None
        for _ in range(3):
            page = httpx.get(f"{url}/eventi", headers=integr_a, params={"quanti": 1, "tipo": CREATO,
                                                                        **({"dopo": cursor} if cursor else {})}).json()
            one_by_one += page["eventi"]
            cursor = page["cursore"]
        assert [e["subject"] for e in one_by_one] == mine
        everything, cursor = read_all(url, integr_a)
        assert {e["tenantid"] for e in everything} == {A} and not {e["subject"] for e in everything} & set(theirs)
        sequences = [int(e["sequence"]) for e in everything]
        assert sequences == sorted(set(sequences))
        schema = json.loads((CONTRACTS / "planning" / f"{CREATO}.v1.schema.json").read_text())
        for event in one_by_one:  # the envelope of Kafka, in structured form, with the contract's data
            assert event["specversion"] == "1.0" and event["type"] == CREATO and event["source"] == "/ambiti/planning"
            assert event["dataschema"] == schema["$id"]
            jsonschema.validate(event["data"], schema)
        assert {e["subject"] for e in read_all(url, integr_b, tipo=CREATO)[0]} == set(theirs)

        # bad requests: named parameter, Italian, nothing else returned
        for params, field in (({"dopo": "abc"}, "dopo"), ({"quanti": 0}, "quanti"), ({"tipo": "x"}, "tipo"),
                              ({"attesa": 31}, "attesa")):
            r = httpx.get(f"{url}/eventi", headers=integr_a, params=params)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
            assert field in r.text, r.text
        assert httpx.get(f"{url}/eventi", headers=ns.auth(A, "assistente_sociale")).status_code == 403
        assert httpx.get(f"{url}/eventi", headers=ns.auth(None, "regione", regione="15")).status_code == 403
        assert httpx.get(f"{url}/eventi").status_code == 401

        # long polling: the answer comes as soon as an event is there
        answer: dict[str, Any] = {}

        def wait_for_next() -> None:
            started = time.monotonic()
            answer["page"] = httpx.get(f"{url}/eventi", headers=integr_a, timeout=40,
                                       params={"dopo": cursor, "attesa": 20}).json()
            answer["seconds"] = time.monotonic() - started
        waiting = threading.Thread(target=wait_for_next)
        waiting.start()
        time.sleep(1.5)
        mine.append(piano(url, coord_a, 2034))
        waiting.join(40)
        assert [e["subject"] for e in answer["page"]["eventi"] if e["type"] == CREATO] == [mine[-1]]
        assert 1.0 < answer["seconds"] < 15
        cursor = answer["page"]["cursore"]

        # the broker is wiped: the cursor goes on, with no gap and no duplicate
        broker.stop()
        broker.start()
        mine.append(piano(url, coord_a, 2037))
        wait_until(lambda: read_all(url, integr_a, cursor)[0], timeout=60, message="the Piano written after the wipe")
        after_wipe, cursor = read_all(url, integr_a, cursor)
        assert [e["subject"] for e in after_wipe if e["type"] == CREATO] == [mine[-1]]

        # and so does a restart of the service
        platform.stop()
        platform = start_platform(ns, names=("planning",), log_tag="feed-restart")
        url = platform.url("planning")
        assert read_all(url, integr_a, cursor)[0] == []
        mine.append(piano(url, coord_a, 2040))
        wait_until(lambda: read_all(url, integr_a, cursor)[0], timeout=60, message="the Piano written after restart")
        after_restart, _ = read_all(url, integr_a, cursor)
        assert [e["subject"] for e in after_restart if e["type"] == CREATO] == [mine[-1]]
        total = read_all(url, integr_a, tipo=CREATO)[0]
        assert [e["subject"] for e in total] == mine  # from the start: each once, in order
    finally:
        platform.stop()
