"""The public contracts in contracts/ hold: statically, and for what the running services really produce.

(a) every JSON Schema is a valid 2020-12 schema and every example validates;
(b) every AsyncAPI document is AsyncAPI 3.0.0 and every reference resolves;
(c) an Ambito composition and a plan created over HTTP reach Kafka as messages that match the contracts:
    every message on the planning, finance and chain-head topics, read from the beginning, has the
    CloudEvents envelope and validates against the schema its ``ce_type`` selects;
(d) deploy/ agrees with itself, with the contracts and with the settings code.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from kafka import KafkaConsumer, TopicPartition

from ambiti_kit.audit import ChainHead
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.kafka import CONSUMER_DEFAULTS
from ambiti_kit.relay import head_event
from ambiti_kit.tenancy import tenant_uuid
from ambiti_kit.testing.fixtures import Platform, wait_until

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
SCHEMA_BASE = "https://contracts.ambiti.example/"
ENVELOPE = CONTRACTS / "envelope" / "cloudevents-kafka-headers.schema.json"
CHAIN_HEAD_TYPE = "audit.chain_head.aggiornata"
PRODUCERS = ("planning", "finance", "partnership", "monitoring")
#: ce_type -> (producing service, data schema file), from the schema files on disk: every
#: contracts/<service>/<ce_type>.v1.schema.json of a producing service. A message whose type has no
#: schema here fails the broker check below.
DOMAIN_EVENTS = {
    path.name.removesuffix(".v1.schema.json"): (service, path)
    for service in PRODUCERS
    for path in sorted((CONTRACTS / service).glob("*.v1.schema.json"))
}
#: The domain events that (c) itself causes and waits for (a composition, a plan, its budget). Other
#: types may be on the topics too (from other tests of the session) and must match their contracts.
CAUSED_BY_C = {"planning.ambito.composizione_registrata", "planning.piano_di_zona.creato", "finance.budget.aperto"}
CHAIN_HEAD_SCHEMA = CONTRACTS / "audit" / "audit.chain_head.aggiornata.v1.schema.json"
TENANT = "15-CTR1"
#: The documented (README, envelope schema) namespace of ce_id = uuid5(namespace, "<ce_source>/<ce_sequence>").
CE_ID_NAMESPACE = uuid.UUID("0b8f4c1e-4d0a-5e3e-8f53-3c8b1f2a9d77")


def documented_ce_id(source: str, sequence: str | int) -> str:
    return str(uuid.uuid5(CE_ID_NAMESPACE, f"{source}/{sequence}"))


class ContractViolation(Exception):
    """A produced message breaks its contract: fail at once (``wait_until`` retries assertions)."""


# jsonschema checks "date-time" only with an optional package; check RFC 3339 here so that the
# format is never silently skipped.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(load_json(path), format_checker=FORMATS)


def errors(v: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in v.iter_errors(instance)]


def schema_files() -> list[Path]:
    return sorted(CONTRACTS.rglob("*.schema.json"))


def example_files() -> list[Path]:
    return sorted(CONTRACTS.glob("*/examples/*.json"))


def asyncapi_files() -> list[Path]:
    return sorted(CONTRACTS.glob("*/asyncapi.yaml"))


# -- (a) schemas and examples ------------------------------------------------------------------

def test_format_checks_are_active() -> None:
    v = validator(DOMAIN_EVENTS["finance.budget.aperto"][1])
    good = load_json(CONTRACTS / "finance" / "examples" / "finance.budget.aperto.v1.json")["data"]
    assert errors(v, good) == []
    assert errors(v, {**good, "budget_id": "not-a-uuid"}), "uuid format is not checked"
    assert errors(v, {**good, "aperto_il": "2025-03-14 09:30"}), "date-time format is not checked"
    assert errors(v, {**good, "aperto_il": "2025-03-14T09:30:00"}), "a date-time without offset passed"
    assert errors(v, {**good, "ambito": "15-s09"}), "tenant pattern is not checked"
    assert errors(v, {**good, "extra": 1}) == [], "unknown fields must be allowed"
    v = validator(DOMAIN_EVENTS["planning.ambito.composizione_registrata"][1])
    good = load_json(CONTRACTS / "planning" / "examples" / "planning.ambito.composizione_registrata.v1.json")["data"]
    assert errors(v, good) == []
    assert errors(v, {**good, "popolazione_al": "01/01/2023"}), "date format is not checked"
    assert errors(v, {**good, "comuni": []}), "an Ambito without Comuni passed"
    assert errors(v, {**good, "comuni": [{**good["comuni"][0], "istat": "65134"}]}), "Comune ISTAT pattern is not checked"
    assert errors(v, {**good, "comuni": [{**good["comuni"][0], "fonte": "x"}]}) == [], "unknown fields must be allowed"


def test_every_schema_is_a_valid_2020_12_schema_with_its_published_id() -> None:
    files = schema_files()
    assert {p.relative_to(CONTRACTS).as_posix() for p in files} >= {
        "envelope/cloudevents-kafka-headers.schema.json",
        "planning/planning.piano_di_zona.creato.v1.schema.json",
        "planning/planning.ambito.composizione_registrata.v1.schema.json",
        "finance/finance.budget.aperto.v1.schema.json",
        "audit/audit.chain_head.aggiornata.v1.schema.json",
    }
    # Chain heads use the common envelope: no header schema of their own any more.
    assert not (CONTRACTS / "audit" / "chainhead-kafka-headers.schema.json").exists()
    for path in files:
        schema = load_json(path)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == SCHEMA_BASE + path.relative_to(CONTRACTS).as_posix(), path
        assert schema.get("type") == "object" and schema.get("description"), path
        for example in schema.get("examples", []):
            assert errors(validator(path), example) == [], path
    for ce_type, (_, path) in [*DOMAIN_EVENTS.items(), (CHAIN_HEAD_TYPE, ("audit", CHAIN_HEAD_SCHEMA))]:
        schema = load_json(path)
        assert path.name == f"{ce_type}.v1.schema.json"
        # consumers ignore unknown fields, but every produced field is listed and described
        assert schema["additionalProperties"] is True, path
        assert set(schema["required"]) <= set(schema["properties"]), path
        assert all(p.get("description") for p in schema["properties"].values()), path


def test_every_example_validates_against_its_schema_and_the_envelope() -> None:
    examples = example_files()
    assert {p.name for p in examples} == {f"{t}.v1.json" for t in [*DOMAIN_EVENTS, CHAIN_HEAD_TYPE]}
    envelope = validator(ENVELOPE)
    # The ce_id namespace is documented where integrators read it.
    assert str(CE_ID_NAMESPACE) in (CONTRACTS / "README.md").read_text(encoding="utf-8")
    assert str(CE_ID_NAMESPACE) in load_json(ENVELOPE)["properties"]["ce_id"]["description"]
    for path in examples:
        example = load_json(path)
        data = example["data"]
        if example["type"] == CHAIN_HEAD_TYPE:
            service, schema_path = "audit", CHAIN_HEAD_SCHEMA
            # The structured form is what the relay produces for this head (its time is the publication time).
            event = dataclasses.replace(head_event(ChainHead(**data)), time=datetime.fromisoformat(example["time"]))
            assert example["source"] == f"/ambiti/{data['service']}/audit", path
            assert example["subject"] == f"{data['service']}/{data['tenant_id']}", path
            assert example["sequence"] == str(data["notification_id"]), path
            assert example["tenantid"] == data["tenant_id"], path
        else:
            service, schema_path = DOMAIN_EVENTS[example["type"]]
            # The structured form is exactly what the platform's envelope produces (ids included).
            event = CloudEvent(type=example["type"], source=example["source"], subject=example["subject"],
                               tenantid=example["tenantid"], sequence=int(example["sequence"]),
                               time=datetime.fromisoformat(example["time"]), data=data,
                               dataschema=example["dataschema"])
            assert example["source"] == f"/ambiti/{service}", path
            assert example["tenantid"] == data["ambito"], path
        assert path.parent.parent.name == service
        assert errors(validator(schema_path), data) == [], path
        assert example["dataschema"] == load_json(schema_path)["$id"]
        assert event.as_structured() == example, path
        assert example["id"] == documented_ce_id(example["source"], example["sequence"]), path
        # Its binary Kafka form satisfies the header schema.
        key, value, headers = event.to_kafka()
        assert errors(envelope, {k: v.decode() for k, v in headers}) == [], path
        assert key.decode() == example["subject"] and json.loads(value) == data


# -- (b) AsyncAPI documents --------------------------------------------------------------------

def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for k, v in node.items() if k != "$ref" for r in _refs(v)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _pointer(document: Any, fragment: str) -> Any:
    node = document
    for part in [p for p in fragment.lstrip("/").split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _resolve(doc_path: Path, document: Any, ref: str) -> Any:
    target, _, fragment = ref.partition("#")
    if target:
        file = (doc_path.parent / target).resolve()
        assert file.is_file(), f"{doc_path}: $ref {ref!r} names a missing file"
        assert CONTRACTS.resolve() in file.parents, f"{doc_path}: $ref {ref!r} leaves contracts/"
        loaded = load_json(file) if file.suffix == ".json" else yaml.safe_load(file.read_text(encoding="utf-8"))
        return _pointer(loaded, fragment)
    return _pointer(document, fragment)


def _deref(doc_path: Path, document: Any, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(doc_path, document, node["$ref"])
    return node


def test_every_asyncapi_document_is_3_0_0_and_its_references_resolve() -> None:
    docs = asyncapi_files()
    assert {p.parent.name for p in docs} == set(PRODUCERS)
    for path in docs:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        service = path.parent.name
        assert doc["asyncapi"] == "3.0.0", path
        assert doc["info"]["title"] and doc["info"]["version"], path
        assert set(doc["servers"]) == {"development", "production"}, path
        assert all(s["protocol"] == "kafka" and s["host"] for s in doc["servers"].values()), path
        assert doc["servers"]["development"]["host"] == "127.0.0.1:19092"

        refs = _refs(doc)
        assert refs, path
        for ref in refs:
            assert _resolve(path, doc, ref) is not None, f"{path}: unresolved $ref {ref!r}"
        assert any(not r.startswith("#") for r in refs), f"{path}: no schema file referenced"

        addresses = {c["address"]: name for name, c in doc["channels"].items()}
        assert f"{service}.events.v1" in addresses and "audit.chainheads.v1" in addresses, path
        for name, channel in doc["channels"].items():
            kafka = channel["bindings"]["kafka"]
            assert kafka["bindingVersion"] == "0.5.0" and kafka["replicas"] == 3, (path, name)
            for message in channel["messages"].values():
                _check_message(path, doc, _deref(path, doc, message))
        for name, op in doc["operations"].items():
            assert op["action"] == "send", (path, name)
            channel_ref = op["channel"]["$ref"]
            assert channel_ref.startswith("#/channels/"), (path, name)
            for message in op["messages"]:
                assert message["$ref"].startswith(channel_ref + "/messages/"), (path, name)
        sent = {op["channel"]["$ref"].split("/")[-1] for op in doc["operations"].values()}
        assert addresses["audit.chainheads.v1"] in sent, f"{path}: chain heads are not documented as sent"


def _check_message(doc_path: Path, doc: Any, message: dict) -> None:
    """Payload and headers (through traits) name schema files; the inline examples satisfy them."""
    assert message["contentType"] == "application/json"
    payload = message["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=2020-12"
    payload_schema_path = (doc_path.parent / payload["schema"]["$ref"]).resolve()
    header_schema_path = None
    key_schema = None
    for trait in message["traits"]:
        trait = _deref(doc_path, doc, trait)
        header_schema_path = (doc_path.parent / trait["headers"]["schema"]["$ref"]).resolve()
        key_schema = trait["bindings"]["kafka"]["key"]
    assert header_schema_path is not None and key_schema is not None
    payload_schema = load_json(payload_schema_path)
    assert message["name"] == payload_schema["title"].split(" ")[0]
    # Domain events and chain heads share the CloudEvents envelope.
    assert header_schema_path == ENVELOPE.resolve()
    if message["name"] == CHAIN_HEAD_TYPE:
        assert payload_schema_path == CHAIN_HEAD_SCHEMA.resolve()
    else:
        assert DOMAIN_EVENTS[message["name"]][1].resolve() == payload_schema_path
    service = doc_path.parent.name
    assert message["examples"]
    for example in message["examples"]:
        headers, payload = example["headers"], example["payload"]
        assert errors(Draft202012Validator(payload_schema, format_checker=FORMATS), payload) == []
        assert errors(validator(header_schema_path), headers) == []
        assert headers["ce_type"] == message["name"]
        assert headers["ce_dataschema"] == payload_schema["$id"]
        assert errors(Draft202012Validator(key_schema, format_checker=FORMATS), headers["ce_subject"]) == []
        assert headers["ce_id"] == documented_ce_id(headers["ce_source"], headers["ce_sequence"])
        if message["name"] == CHAIN_HEAD_TYPE:
            assert payload["service"] == service
            assert headers["ce_source"] == f"/ambiti/{service}/audit"
            assert headers["ce_subject"] == f"{service}/{payload['tenant_id']}"
            assert headers["ce_sequence"] == str(payload["notification_id"])
            assert headers["ce_tenantid"] == payload["tenant_id"]
        else:
            assert headers["ce_source"] == f"/ambiti/{service}"
            assert headers["ce_tenantid"] == payload["ambito"]


# -- (c) what the running services produce -----------------------------------------------------

class TopicReader:
    """Reads every record of some topics from the beginning (no consumer group, manual assignment)."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        config = {k: v for k, v in CONSUMER_DEFAULTS.items() if k not in ("session_timeout_ms", "heartbeat_interval_ms")}
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                                      client_id="contracts-test", **config)
        self.topics = topics
        self.records: list[Any] = []
        self.last_new = time.monotonic()

    def assign_all(self) -> None:
        # Listing all topics never auto-creates one; only then ask for their partitions by name.
        wait_until(lambda: set(self.topics) <= self.consumer.topics(), timeout=30,
                   message=f"topics {self.topics} on the broker")
        partitions = [TopicPartition(t, p) for t in self.topics
                      for p in wait_until(lambda t=t: self.consumer.partitions_for_topic(t), timeout=30,
                                          message=f"partitions of {t}")]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)

    def poll(self) -> int:
        batch = self.consumer.poll(timeout_ms=300)
        new = [r for records in batch.values() for r in records]
        if new:
            self.records.extend(new)
            self.last_new = time.monotonic()
        return len(new)

    def quiet_for(self) -> float:
        return time.monotonic() - self.last_new

    def close(self) -> None:
        self.consumer.close()


def _headers(record: Any) -> dict[str, str]:
    names = [k for k, _ in record.headers]
    assert len(names) == len(set(names)), f"duplicate headers in {record.topic}@{record.offset}: {names}"
    return {k: v.decode("utf-8") for k, v in record.headers}


def check_domain_event(record: Any, service: str, envelope: Draft202012Validator,
                       data_validators: dict[str, Draft202012Validator]) -> tuple[str, dict[str, str], dict]:
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    headers = _headers(record)
    assert not (problems := errors(envelope, headers)), f"{where}: headers {problems}"
    ce_type = headers["ce_type"]
    assert ce_type in DOMAIN_EVENTS, f"{where}: unknown ce_type {ce_type!r} (no contract)"
    producer, _ = DOMAIN_EVENTS[ce_type]
    assert producer == service and headers["ce_source"] == f"/ambiti/{service}", where
    schema = data_validators[ce_type]
    assert headers["ce_dataschema"] == schema.schema["$id"], where
    data = json.loads(record.value.decode("utf-8"))
    assert not (problems := errors(schema, data)), f"{where}: {ce_type} data {problems}"
    assert headers["ce_tenantid"] == data["ambito"], where
    assert record.key is not None and record.key.decode("utf-8") == headers["ce_subject"], where
    # ce_id is the documented dedupe key: uuid5 of source/sequence, stable across republication.
    assert headers["ce_id"] == documented_ce_id(headers["ce_source"], headers["ce_sequence"]), where
    return ce_type, headers, data


def check_chain_head(record: Any, envelope: Draft202012Validator, data_schema: Draft202012Validator) -> dict:
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    headers = _headers(record)
    assert not (problems := errors(envelope, headers)), f"{where}: headers {problems}"
    assert headers["ce_type"] == CHAIN_HEAD_TYPE, f"{where}: unknown ce_type {headers['ce_type']!r}"
    assert headers["ce_dataschema"] == data_schema.schema["$id"], where
    data = json.loads(record.value.decode("utf-8"))
    assert not (problems := errors(data_schema, data)), f"{where}: chain head {problems}"
    assert headers["ce_source"] == f"/ambiti/{data['service']}/audit", where
    assert headers["ce_subject"] == f"{data['service']}/{data['tenant_id']}", where
    assert record.key is not None and record.key.decode("utf-8") == headers["ce_subject"], where
    assert headers["ce_sequence"] == str(data["notification_id"]), where
    assert headers["ce_tenantid"] == data["tenant_id"], where
    # Heads dedupe by ce_id like domain events (a republished head keeps its id).
    assert headers["ce_id"] == documented_ce_id(headers["ce_source"], headers["ce_sequence"]), where
    return data


COMPOSIZIONE = {
    "nome": "Ambito Territoriale Sociale CTR1 (contratti)",
    "capofila_istat": "065134",
    "popolazione_al": "2023-01-01",
    "comuni": [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
               {"istat": "065148", "nome": "Torraca", "popolazione": 1195},
               {"istat": "065156", "nome": "Vibonati", "popolazione": 3204}],
}


def test_messages_on_the_broker_match_the_contracts(platform: Platform) -> None:
    infra = platform.infra
    coordinatore = infra.auth(TENANT, "coordinatore")
    registered = httpx.put(f"{platform.url('planning')}/ambito", headers=coordinatore, timeout=10, json=COMPOSIZIONE)
    assert registered.status_code == 201, registered.text
    assert registered.json()["versione"] == 1
    created = httpx.post(f"{platform.url('planning')}/piani", headers=coordinatore, timeout=10, json={
        "titolo": "Piano Sociale di Zona 2025–2027 (contratti)", "anno_inizio": 2025, "anno_fine": 2027})
    assert created.status_code == 201, created.text
    piano_id = created.json()["id"]

    amministrativo = infra.auth(TENANT, "amministrativo")
    budget = wait_until(lambda: (r := httpx.get(f"{platform.url('finance')}/budget/{piano_id}",
                                                headers=amministrativo, timeout=10)).status_code == 200 and r.json(),
                        timeout=60, message="budget opened in finance")
    assert budget["piano_id"] == piano_id

    # The audit heads a third party should end up holding: what each service's verifier says, once
    # every event of ours is chained (planning: composition and plan; finance: its copy of the
    # composition, which it does not publish, and the budget).
    our_events = {"planning": 2, "finance": 2}

    def verified_head(service: str) -> str | None:
        result = httpx.get(f"{platform.url(service)}/audit/verify", headers=coordinatore, timeout=10).json()
        return result["head"] if result["ok"] and result["events_verified"] >= our_events[service] else None

    expected_heads = {s: wait_until(lambda s=s: verified_head(s), timeout=30, message=f"audit chain of {s}")
                      for s in our_events}

    topics = {infra.namespace + f"{s}.events.v1": s for s in ("planning", "finance")}
    heads_topic = infra.namespace + "audit.chainheads.v1"
    envelope = validator(ENVELOPE)
    data_validators = {t: validator(p) for t, (_, p) in DOMAIN_EVENTS.items()}
    head_data = validator(CHAIN_HEAD_SCHEMA)

    reader = TopicReader(infra.kafka_bootstrap, [*topics, heads_topic])
    seen_types: dict[str, int] = {}
    ours: dict[str, tuple[dict[str, str], dict]] = {}
    latest_heads: dict[tuple[str, str], dict] = {}
    checked = 0
    try:
        reader.assign_all()

        def classify(record: Any) -> None:
            if record.topic == heads_topic:
                data = check_chain_head(record, envelope, head_data)
                seen_types[CHAIN_HEAD_TYPE] = seen_types.get(CHAIN_HEAD_TYPE, 0) + 1
                key = (data["service"], data["tenant_id"])
                if key not in latest_heads or data["length"] >= latest_heads[key]["length"]:
                    latest_heads[key] = data
            else:
                ce_type, headers, data = check_domain_event(record, topics[record.topic], envelope, data_validators)
                seen_types[ce_type] = seen_types.get(ce_type, 0) + 1
                if data.get("piano_id") == piano_id or (
                        ce_type == "planning.ambito.composizione_registrata" and data["ambito"] == TENANT):
                    ours[ce_type] = (headers, data)

        def drained() -> bool:
            nonlocal checked
            reader.poll()
            for record in reader.records[checked:]:
                try:
                    classify(record)
                except AssertionError as exc:
                    raise ContractViolation(str(exc)) from exc
                checked += 1
            complete = (set(ours) == CAUSED_BY_C
                        and all(latest_heads.get((s, TENANT), {}).get("head") == h for s, h in expected_heads.items()))
            return complete and reader.quiet_for() >= 2.0

        wait_until(drained, timeout=60, interval=0.05,
                   message="every message read, with our events and chain heads among them")
    finally:
        reader.close()

    assert {*CAUSED_BY_C, CHAIN_HEAD_TYPE} <= set(seen_types) <= {*DOMAIN_EVENTS, CHAIN_HEAD_TYPE}, seen_types
    assert checked == len(reader.records) >= 5
    composizione_headers, composizione = ours["planning.ambito.composizione_registrata"]
    assert composizione == {"ambito": TENANT, "versione": 1, **COMPOSIZIONE}
    # Keyed by the Ambito aggregate's id (one per tenant), so all its compositions stay in order.
    assert composizione_headers["ce_subject"] == str(tenant_uuid(TENANT, "ambito"))
    _, piano = ours["planning.piano_di_zona.creato"]
    assert (piano["ambito"], piano["titolo"], piano["anno_inizio"], piano["anno_fine"], piano["stato"]) == (
        TENANT, "Piano Sociale di Zona 2025–2027 (contratti)", 2025, 2027, "bozza")
    _, aperto = ours["finance.budget.aperto"]
    assert (aperto["ambito"], aperto["anno_inizio"], aperto["anno_fine"]) == (TENANT, 2025, 2027)
    for service, count in our_events.items():
        head = latest_heads[(service, TENANT)]
        assert head["length"] == count and head["head"] == expected_heads[service]


# -- deploy/ agrees with itself, with the contracts and with the settings code ------------------

DEPLOY = ROOT / "deploy"


def _yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def test_deploy_topics_match_the_kafka_resources_and_the_asyncapi_bindings() -> None:
    topics = {t["name"]: t for t in yaml.safe_load((DEPLOY / "kafka" / "topics.yaml").read_text())["topics"]}
    assert set(topics) == {f"{s}.events.v1" for s in PRODUCERS} | {"audit.chainheads.v1"}
    for name, topic in topics.items():
        cfg = topic["config"]
        assert topic["replicationFactor"] == 3 and cfg["min.insync.replicas"] == 2, name
        if name.endswith(".events.v1"):
            assert topic["partitions"] == 12 and cfg["cleanup.policy"] == "delete" and cfg["retention.ms"] == -1, name
        else:
            assert cfg["cleanup.policy"] == "compact", name
    resources = {d["spec"]["topicName"]: d for d in _yaml_docs(DEPLOY / "k8s" / "kafka" / "topics.yaml")}
    assert set(resources) == set(topics)
    for name, resource in resources.items():
        assert resource["kind"] == "KafkaTopic" and resource["metadata"]["labels"]["strimzi.io/cluster"] == "ambiti"
        assert (resource["spec"]["partitions"], resource["spec"]["replicas"], resource["spec"]["config"]) == (
            topics[name]["partitions"], topics[name]["replicationFactor"], topics[name]["config"]), name
    for path in asyncapi_files():
        for channel in yaml.safe_load(path.read_text(encoding="utf-8"))["channels"].values():
            kafka, topic = channel["bindings"]["kafka"], topics[channel["address"]]
            assert (kafka["partitions"], kafka["replicas"]) == (topic["partitions"], topic["replicationFactor"]), path
            assert kafka["topicConfiguration"]["cleanup.policy"] == [topic["config"]["cleanup.policy"]], path
            assert kafka["topicConfiguration"]["min.insync.replicas"] == topic["config"]["min.insync.replicas"]


def test_deploy_services_kafka_and_image_are_consistent() -> None:
    from psycopg.conninfo import conninfo_to_dict

    from ambiti_kit.settings import ServiceSettings

    kafka = {d["kind"]: d for d in _yaml_docs(DEPLOY / "k8s" / "kafka" / "kafka.yaml")}
    cluster = kafka["Kafka"]
    assert cluster["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["KafkaNodePool"]["spec"]["replicas"] == 3
    assert set(kafka["KafkaNodePool"]["spec"]["roles"]) == {"controller", "broker"}
    listener = cluster["spec"]["kafka"]["listeners"][0]
    bootstrap = f"{cluster['metadata']['name']}-kafka-bootstrap.{cluster['metadata']['namespace']}.svc:{listener['port']}"
    partitions = str(yaml.safe_load((DEPLOY / "kafka" / "topics.yaml").read_text())["topics"][0]["partitions"])
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    listed = {(DEPLOY / "k8s" / r).resolve() for r in kustomization["resources"]}
    assert all(p.is_file() for p in listed)
    assert listed == {p.resolve() for p in (DEPLOY / "k8s").rglob("*.yaml")
                      if p.name not in ("kustomization.yaml", "secrets.example.yaml")}
    secrets = {d["metadata"]["name"]: d for d in _yaml_docs(DEPLOY / "k8s" / "secrets.example.yaml")}
    (identity,) = _yaml_docs(DEPLOY / "k8s" / "identity.yaml")

    for service in PRODUCERS:
        docs = {d["kind"]: d for d in _yaml_docs(DEPLOY / "k8s" / "services" / f"{service}.yaml")}
        deployment, svc = docs["Deployment"], docs["Service"]
        assert deployment["spec"]["replicas"] == 2
        pod = deployment["spec"]["template"]
        assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == "ambiti"  # admitted by Kafka's policy
        (container,) = pod["spec"]["containers"]
        assert container["image"] == f"ghcr.io/ambiti/{service}:1.0.0"
        assert container["command"] == ["uvicorn", f"{service}.main:app", "--host", "0.0.0.0", "--port", "8000"]
        assert container["ports"][0]["containerPort"] == 8000
        # Liveness never depends on the database or the broker (an outage must not restart every replica);
        # readiness does, and takes the replica out of the Service until it has caught up.
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", service
        for probe in ("livenessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["path"] == "/health/live", (service, probe)
        annotations = pod["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
        env = {e["name"]: e for e in container["env"]}
        assert env["AMBITI_ENVIRONMENT"]["value"] == "production"
        assert env["KAFKA_BOOTSTRAP_SERVERS"]["value"] == bootstrap
        assert env["AMBITI_KAFKA_PARTITIONS"]["value"] == partitions and env["AMBITI_KAFKA_REPLICATION"]["value"] == "3"
        db_ref = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert db_ref["name"] == f"{service}-database" and db_ref["key"] in secrets[db_ref["name"]]["stringData"]
        assert secrets[db_ref["name"]]["stringData"][db_ref["key"]].endswith(f"/{service}")  # its own database
        # Owner and runtime roles: the init container migrates as the owner; the service runs with rows only.
        (init,) = pod["spec"]["initContainers"]
        assert init["image"] == container["image"]
        assert init["command"] == ["python", "-m", "ambiti_kit.migrate", f"{service}.main:app"]
        init_env = {e["name"]: e for e in init["env"]}
        owner_ref = init_env["AMBITI_DATABASE_OWNER_URL"]["valueFrom"]["secretKeyRef"]
        assert owner_ref["name"] == f"{service}-database-owner"
        assert init_env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == db_ref
        owner_url = conninfo_to_dict(secrets[owner_ref["name"]]["stringData"][owner_ref["key"]])
        runtime_url = conninfo_to_dict(secrets[db_ref["name"]]["stringData"][db_ref["key"]])
        assert (owner_url["user"], runtime_url["user"]) == (f"{service}_owner", service)
        assert owner_url["dbname"] == runtime_url["dbname"] == service
        assert env["AMBITI_DB_MIGRATIONS"]["value"] == "external" and "AMBITI_DATABASE_OWNER_URL" not in env
        # identity: the OpenID Connect issuer of the ConfigMap, no shared secret in production
        assert "AMBITI_JWT_SECRET" not in env
        for name, key in (("AMBITI_OIDC_ISSUER", "issuer"), ("AMBITI_OIDC_AUDIENCE", "audience")):
            ref = env[name]["valueFrom"]["configMapKeyRef"]
            assert ref["name"] == identity["metadata"]["name"] and ref["key"] == key

        # The settings code accepts this environment with a real key, and refuses the placeholder.
        values = {name: e.get("value", "x") for name, e in env.items()}
        chain_ref = env["AMBITI_CHAIN_SIGNING_KEY"]["valueFrom"]["secretKeyRef"]
        assert chain_ref["name"] == f"{service}-chain-key" and chain_ref["key"] in secrets[chain_ref["name"]]["stringData"]
        values.update(DATABASE_URL=secrets[db_ref["name"]]["stringData"]["url"],
                      AMBITI_OIDC_ISSUER=identity["data"]["issuer"], AMBITI_OIDC_AUDIENCE=identity["data"]["audience"],
                      AMBITI_CHAIN_SIGNING_KEY="q7Vd2mXp9LrWk4Tz8Hn3Bc6Yf1Gs5JaQ0eRtUiOpAsD=")
        settings = ServiceSettings(service=service, **values)
        assert settings.environment == "production" and settings.kafka_partitions == int(partitions)
        assert settings.events_topic == f"{service}.events.v1"
        assert settings.oidc_issuer == identity["data"]["issuer"] and not settings.accepts_hs256
        without_issuer = {k: v for k, v in values.items() if not k.startswith("AMBITI_OIDC_")}
        with pytest.raises(ValueError):  # production with neither an issuer nor a real secret does not start
            ServiceSettings(service=service, **without_issuer)
        with pytest.raises(ValueError, match="AMBITI_CHAIN_SIGNING_KEY"):  # nor with the placeholder key
            ServiceSettings(service=service, **{**values, "AMBITI_CHAIN_SIGNING_KEY": "CHANGE-ME"})

    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile and "ARG SERVICE" in dockerfile
    assert "pip install -r requirements.txt -c requirements.lock" in dockerfile
    # Runtime dependencies only: the development and test ones (requirements-dev.txt) stay out of the image.
    assert "requirements-dev" not in dockerfile
    assert "requirements-dev" not in (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text()
    assert "requirements-dev" not in (ROOT / "requirements.txt").read_text()
    assert "./shared" in dockerfile and '"./services/${SERVICE}"' in dockerfile
    assert 'uvicorn \\"${SERVICE}.main:app\\" --host 0.0.0.0 --port 8000' in dockerfile


def test_deploy_console_calls_the_services_by_their_kubernetes_names_and_holds_no_platform_secret() -> None:
    from console.settings import ConsoleSettings

    docs = {d["kind"]: d for d in _yaml_docs(DEPLOY / "k8s" / "services" / "console.yaml")}
    deployment, svc = docs["Deployment"], docs["Service"]
    pod = deployment["spec"]["template"]
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "ghcr.io/ambiti/console:1.0.0"
    assert container["command"][:2] == ["uvicorn", "console.main:app"]
    env = {e["name"]: e for e in container["env"]}
    assert not {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AMBITI_JWT_SECRET"} & env.keys()
    for service in PRODUCERS:
        target = {d["kind"]: d for d in _yaml_docs(DEPLOY / "k8s" / "services" / f"{service}.yaml")}["Service"]
        assert env[f"AMBITI_{service.upper()}_URL"]["value"] == \
            f"http://{target['metadata']['name']}.{target['metadata']['namespace']}.svc"
    secrets = {d["metadata"]["name"]: d for d in _yaml_docs(DEPLOY / "k8s" / "secrets.example.yaml")}
    ref = env["AMBITI_CONSOLE_SECRET"]["valueFrom"]["secretKeyRef"]
    placeholder = secrets[ref["name"]]["stringData"][ref["key"]]
    (identity,) = _yaml_docs(DEPLOY / "k8s" / "identity.yaml")
    values = {name: e["value"] if "value" in e else identity["data"][e["valueFrom"]["configMapKeyRef"]["key"]]
              if "configMapKeyRef" in e["valueFrom"] else "x" for name, e in env.items()}
    settings = ConsoleSettings(**{**values, "AMBITI_CONSOLE_SECRET": "q7Vd-2mXp9Lr_Wk4Tz8Hn3Bc6Yf1Gs5J"})
    assert settings.environment == "production" and settings.secure_cookies
    assert settings.oidc_issuer == identity["data"]["issuer"] and settings.public_url.startswith("https://")
    with pytest.raises(ValueError):
        ConsoleSettings(**{**values, "AMBITI_CONSOLE_SECRET": placeholder})
