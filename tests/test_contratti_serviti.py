"""The contracts resolve where their `$id`s and the events' `dataschema` say.

planning runs with AMBITI_CONTRACTS_BASE_URL set to its own `/contratti`: every schema in contracts/ is
fetched at its `$id` and names that URL; the AsyncAPI documents and the examples are served; a Piano's
event (read from `GET /eventi`) names a `dataschema` that resolves and validates its data; the page for
people lists every event type.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import jsonschema
import yaml

from ambiti_cli.main import start_services, stop_processes
from ambiti_kit.envelope import CANONICAL_CONTRACTS
from ambiti_kit.testing.fixtures import ROOT, Infra, free_port, wait_until

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"


def test_every_schema_is_served_at_its_id_and_events_name_it(infra: Infra) -> None:
    ns = replace(infra, namespace=f"{infra.namespace}ctr_")
    port = free_port()
    base = f"http://127.0.0.1:{port}/contratti"
    log_dir = ROOT / "var" / "test" / "log" / f"{ns.namespace.rstrip('_')}-contratti"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = start_services(ns.env(AMBITI_CONTRACTS_BASE_URL=base), ports={"planning": port}, log_dir=log_dir)
    try:
        url = started["planning"][0]
        schemas = sorted(CONTRACTS.rglob("*.schema.json"))
        assert len(schemas) > 40
        with httpx.Client(timeout=10) as client:
            for path in schemas:
                canonical = json.loads(path.read_text())["$id"]
                served_at = canonical.replace(CANONICAL_CONTRACTS, base)
                r = client.get(served_at)
                assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json", served_at
                assert r.json()["$id"] == served_at  # a URL equal to its $id
                jsonschema.Draft202012Validator.check_schema(r.json())
            for service in ("planning", "finance", "partnership", "monitoring"):
                document = yaml.safe_load(client.get(f"{base}/{service}/asyncapi.yaml").text)
                assert document["asyncapi"] == "3.0.0" and CANONICAL_CONTRACTS not in json.dumps(document)
            example = client.get(f"{base}/planning/examples/planning.piano_di_zona.creato.v1.json")
            assert example.status_code == 200 and example.json()["type"] == "planning.piano_di_zona.creato"
            page = client.get(f"{url}/contratti")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            for path in schemas:
                assert path.name.removesuffix(".schema.json") in page.text or path.parent.name == "envelope"
            for bad in ("planning/../../README.md", "planning/nessuno.v1.schema.json", "segreti.txt"):
                r = client.get(f"{base}/{bad}")
                assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", bad

            coord, integr = ns.auth("15-CTR1", "coordinatore"), ns.auth("15-CTR1", "integratore")
            r = client.post(f"{url}/piani", headers=coord, json={"titolo": "Piano", "anno_inizio": 2025,
                                                                 "anno_fine": 2027})
            assert r.status_code == 201, r.text
            wait_until(lambda: client.get(f"{url}/eventi", headers=integr).json()["eventi"], timeout=60,
                       message="the Piano in the feed")
            (event,) = client.get(f"{url}/eventi", headers=integr).json()["eventi"]
            assert event["dataschema"] == f"{base}/planning/planning.piano_di_zona.creato.v1.schema.json"
            jsonschema.validate(event["data"], client.get(event["dataschema"]).json())
    finally:
        stop_processes([process for _, process in started.values()])
