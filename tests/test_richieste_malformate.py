"""Malformed requests to each of the four services: an Italian problem+json naming the field, never English.

Each service's real FastAPI app runs in process on the run's PostgreSQL and broker (its event
store opened by its lifespan, workers off), with real tokens. To a POST (or PUT) route of each
it sends malformed JSON, a JSON array, a missing field, a wrong type, an over-long string, an
unknown field, a body that is not JSON, the wrong method; to its read routes a bad query and a
bad path parameter; to finance a money move without ``Idempotency-Key``. Every answer is
``application/problem+json`` with an Italian title and detail, ``field`` says which field or
parameter and where it was sent (``body.``, ``query.``, ``path.``, ``header.``), and no phrase
of pydantic, FastAPI or Starlette's English reaches the client.
"""

from __future__ import annotations

import re
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from ambiti_kit.testing.fixtures import Infra
from finance.main import build as build_finance
from monitoring.main import build as build_monitoring
from partnership.main import build as build_partnership
from planning.main import build as build_planning

pytestmark = pytest.mark.e2e

TENANT = "15-MALF"
SOME_ID = "8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11"
PROBLEM_JSON = "application/problem+json"
#: what pydantic, FastAPI and Starlette say in English: none of it may reach a person
ENGLISH = ("Field required", "Input should", "Method Not Allowed", "JSON decode", "String should", "Not Found",
           "Value error", "Extra inputs", "There was an error", "List should", "valid integer", "Unprocessable")
#: a few words every Italian sentence of ours has one of
ITALIAN = re.compile(r"\b(il|la|lo|gli|l'|un|una|di|del|della|per|non|deve|è|campo|parametro|corpo|intestazione|"
                     r"risorsa|metodo|manca|dati|sconosciuto|indicare)\b", re.IGNORECASE)
TITLES = {"JSON non valido", "Dati non validi", "Regola violata", "Metodo non consentito", "Risorsa non trovata",
          "Tipo di contenuto non supportato", "Manca l'intestazione Idempotency-Key"}

PIANO = {"titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027}
ASSEGNAZIONE = {"fondo": "FNPS", "annualita": 2024, "importo": "125000.00",
                "atto": {"tipo": "decreto", "numero": "312", "data": "2024-11-14", "ente": "Ministero del Lavoro"}}
IMPEGNO = {"importo": "100.00",
           "beneficiario": {"denominazione": "Cooperativa Il Faro", "codice_fiscale": "00743110157"},
           "atto": {"tipo": "determina", "numero": "12/2026", "data": "2026-03-02"}, "oggetto": "Servizio SAD"}
ENTE = {"tipo": "ets", "denominazione": "Cooperativa sociale Il Faro", "codice_fiscale": "00743110157",
        "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"}}
DOTAZIONE = {"comune": "065134", "profilo": "assistente_sociale", "area": "poverta", "fte": "1.0",
             "ore_settimanali_piano": "36"}


@dataclass
class Services:
    ns: Infra
    clients: dict[str, TestClient]

    def send(self, service: str, method: str, path: str, *, role: str = "coordinatore",
             headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return self.clients[service].request(method, path, headers={**self.ns.auth(TENANT, role), **(headers or {})},
                                             **kw)


@pytest.fixture(scope="module")
def services(infra: Infra) -> Iterator[Services]:
    ns = replace(infra, namespace=f"{infra.namespace}malf_")
    builders = {"planning": build_planning, "finance": build_finance, "partnership": build_partnership,
                "monitoring": build_monitoring}
    with ExitStack() as stack:
        clients = {name: stack.enter_context(TestClient(build(ns.settings(name), run_workers=False)))
                   for name, build in builders.items()}
        yield Services(ns, clients)


def problem(response: httpx.Response, status: int, field: str | None = None, rule: str | None = None) -> dict:
    """An Italian problem+json with ``status`` whose findings name ``field`` (with ``rule``)."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    for phrase in ENGLISH:
        assert phrase not in response.text, (phrase, response.text[:2000])
    body = response.json()
    assert body["status"] == status
    assert body["title"] in TITLES, body
    assert ITALIAN.search(body["detail"]), body
    if field is not None:
        named = [(body.get("field"), body.get("rule"))] + [(e["field"], e["rule"]) for e in body.get("errors") or []]
        assert field in [f for f, _ in named], (field, body)
        if rule is not None:
            assert (field, rule) in named, (field, rule, body)
        for e in body.get("errors") or []:
            assert e["message"] and ITALIAN.search(e["message"]), e
    return body


#: service -> (method, path, role, a valid body) of a write route with a JSON model
WRITES = {
    "planning": ("POST", "/piani", "coordinatore", PIANO),
    "finance": ("POST", "/assegnazioni", "amministrativo", ASSEGNAZIONE),
    "partnership": ("POST", "/enti", "coordinatore", ENTE),
    "monitoring": ("PUT", "/personale", "coordinatore", DOTAZIONE),
}
#: service -> (a text field, its limit) for the over-long value
LIMITED = {"planning": ("titolo", 200), "finance": ("fondo", 40), "partnership": ("denominazione", 200),
           "monitoring": ("fte", 12)}
#: every service refuses an unknown field
STRICT = ("planning", "finance", "partnership", "monitoring")


@pytest.mark.parametrize("service", list(WRITES))
def test_malformed_json_is_400_naming_line_and_column(services: Services, service: str) -> None:
    method, path, role, _ = WRITES[service]
    r = services.send(service, method, path, role=role, content=b'{\n  "a": 1,\n  "b" 2\n}',
                      headers={"content-type": "application/json"})
    body = problem(r, 400, "body", "json_invalid")
    assert body["title"] == "JSON non valido" and "riga 3, colonna 7" in body["detail"], body


@pytest.mark.parametrize("service", list(WRITES))
def test_a_json_array_is_422_on_the_body(services: Services, service: str) -> None:
    method, path, role, valid = WRITES[service]
    body = problem(services.send(service, method, path, role=role, json=[valid]), 422, "body")
    assert "oggetto JSON" in body["detail"]


@pytest.mark.parametrize("service", list(WRITES))
def test_a_missing_field_is_422_naming_it(services: Services, service: str) -> None:
    method, path, role, valid = WRITES[service]
    missing = next(iter(valid))
    payload = {k: v for k, v in valid.items() if k != missing}
    body = problem(services.send(service, method, path, role=role, json=payload), 422, f"body.{missing}", "missing")
    assert f"«{missing}» è obbligatorio" in body["detail"]


@pytest.mark.parametrize(("service", "field", "value", "rule"), [
    ("planning", "anno_inizio", "2025", "int_type"),
    ("finance", "annualita", "2024", "int_type"),
    ("finance", "importo", 10.5, "tipo.stringa"),
    ("partnership", "denominazione", 123, "string_type"),
    ("partnership", "tipo", "azienda", "literal_error"),
    ("monitoring", "fte", ["1.0"], "string_type"),
])
def test_a_wrong_type_is_422_naming_the_field(services: Services, service: str, field: str, value: Any,
                                              rule: str) -> None:
    method, path, role, valid = WRITES[service]
    r = services.send(service, method, path, role=role, json={**valid, field: value})
    problem(r, 422, f"body.{field}", rule)


@pytest.mark.parametrize("service", list(LIMITED))
def test_an_over_long_string_is_422_and_is_not_echoed(services: Services, service: str) -> None:
    method, path, role, valid = WRITES[service]
    field, limit = LIMITED[service]
    r = services.send(service, method, path, role=role, json={**valid, field: "x" * (limit + 1)})
    body = problem(r, 422, f"body.{field}", "string_too_long")
    assert f"al più {limit} caratteri" in body["detail"]
    huge = services.send(service, method, path, role=role, json={**valid, field: "Z" * 5_000_000})
    problem(huge, 422, f"body.{field}", "string_too_long")
    assert len(huge.content) < 5_000 and "ZZZZZZZZZZ" not in huge.text


@pytest.mark.parametrize("service", STRICT)
def test_an_unknown_field_is_422_naming_it(services: Services, service: str) -> None:
    method, path, role, valid = WRITES[service]
    body = problem(services.send(service, method, path, role=role, json={**valid, "ambito": "15-ALTRO"}), 422,
                   "body.ambito", "extra_forbidden")
    assert "«ambito» non è previsto" in body["detail"]


def test_monitoring_refuses_an_unknown_field_of_a_service_record(services: Services) -> None:
    r = services.send("monitoring", "POST", "/prestazioni", json={"intervento": "SAD", "comune": "065134",
                                                                   "mese": "2026-01", "sconosciuto": 1})
    problem(r, 422, "sconosciuto", "prestazione.campo_sconosciuto")


@pytest.mark.parametrize("service", list(WRITES))
def test_a_body_that_is_not_json_is_415(services: Services, service: str) -> None:
    method, path, role, _ = WRITES[service]
    r = services.send(service, method, path, role=role, content=b"titolo=Piano",
                      headers={"content-type": "application/x-www-form-urlencoded"})
    body = problem(r, 415, "header.Content-Type")
    assert "application/json" in body["detail"]


@pytest.mark.parametrize(("service", "path", "accepted"), [
    ("planning", "/piani", "POST"),
    ("finance", "/assegnazioni", "POST"),
    ("partnership", "/enti", "POST"),
    ("monitoring", "/prestazioni", "POST"),
])
def test_a_wrong_method_is_405_with_allow(services: Services, service: str, path: str, accepted: str) -> None:
    r = services.send(service, "DELETE", path)
    body = problem(r, 405)
    assert body["title"] == "Metodo non consentito"
    allowed = [m.strip() for m in r.headers["allow"].split(",")]
    assert accepted in allowed and "DELETE" not in allowed
    assert body["detail"].startswith("Metodo non consentito: questa risorsa") and accepted in body["detail"]


@pytest.mark.parametrize("service", list(WRITES))
def test_an_unknown_route_is_404_in_italian(services: Services, service: str) -> None:
    body = problem(services.send(service, "GET", "/inesistente"), 404)
    assert body["detail"].startswith("Risorsa inesistente")


@pytest.mark.parametrize(("service", "path", "field", "rule"), [
    ("planning", f"/piani/{SOME_ID}/differenze?da=0&a=2", "query.da", "greater_than_equal"),
    ("planning", f"/piani/{SOME_ID}/differenze?da=1&a=ultima", "query.a", "int_parsing"),
    ("finance", "/rendicontazione?annualita=1999", "query.annualita", "greater_than_equal"),
    ("finance", "/rendicontazione?fondo=INVENTATO", "query.fondo", "fondo.noto"),
    ("partnership", "/enti?tipo=xxx", "query.tipo", "literal_error"),
    ("partnership", "/enti?limite=0", "query.limite", "greater_than_equal"),
    ("monitoring", "/prestazioni?anno=duemila", "query.anno", "int_parsing"),
])
def test_a_bad_query_parameter_is_422_naming_the_parameter(services: Services, service: str, path: str, field: str,
                                                           rule: str) -> None:
    body = problem(services.send(service, "GET", path), 422, field, rule)
    assert not any(e["field"].startswith("body") for e in body["errors"]), body
    if rule != "fondo.noto":
        assert f"parametro di query «{field.split('.', 1)[1]}»" in body["detail"], body


@pytest.mark.parametrize(("service", "path", "field", "rule"), [
    ("planning", "/piani/non-un-uuid", "path.piano_id", "uuid_parsing"),
    ("finance", "/budget/non-un-uuid", "path.piano_id", "uuid_parsing"),
    ("finance", "/assegnazioni/FNPS/1999", "path.annualita", "greater_than_equal"),
    ("finance", "/assegnazioni/INVENTATO/2024", "path.fondo", "fondo.noto"),
    ("partnership", "/enti/non-un-uuid", "path.ente_id", "uuid_parsing"),
    ("monitoring", "/piani/non-un-uuid", "path.piano_id", "uuid_parsing"),
])
def test_a_bad_path_parameter_is_422_naming_the_parameter(services: Services, service: str, path: str, field: str,
                                                          rule: str) -> None:
    body = problem(services.send(service, "GET", path), 422, field, rule)
    assert not any(e["field"].startswith("body") for e in body["errors"]), body


def test_a_money_move_without_idempotency_key_is_428(services: Services) -> None:
    path = f"/stanziamenti/{uuid.uuid4()}/impegni"
    body = problem(services.send("finance", "POST", path, role="amministrativo", json=IMPEGNO), 428,
                   "Idempotency-Key", "idempotenza.chiave_richiesta")
    assert body["errors"][0]["field"] == "header.Idempotency-Key"
    # the missing precondition is named first, even when the body is bad too
    bad_body = services.send("finance", "POST", path, role="amministrativo", json={**IMPEGNO, "importo": 1})
    problem(bad_body, 428, "Idempotency-Key", "idempotenza.chiave_richiesta")
    # a malformed key is bad data; a bad path parameter too
    short = services.send("finance", "POST", path, role="amministrativo", json=IMPEGNO,
                          headers={"Idempotency-Key": "corta"})
    problem(short, 422, "header.Idempotency-Key", "idempotenza.formato")
    bad_id = services.send("finance", "POST", "/stanziamenti/non-un-uuid/impegni", role="amministrativo",
                           json=IMPEGNO, headers={"Idempotency-Key": f"malf-{uuid.uuid4()}"})
    problem(bad_id, 422, "path.stanziamento_id", "uuid_parsing")


def test_finance_openapi_declares_the_key_and_both_answers_of_an_assignment(services: Services) -> None:
    openapi = services.clients["finance"].get("/openapi.json").json()
    impegni = openapi["paths"]["/stanziamenti/{stanziamento_id}/impegni"]["post"]
    key = next(p for p in impegni["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True and key["description"]
    assegnazioni = openapi["paths"]["/assegnazioni"]["post"]
    assert {"200", "201"} <= set(assegnazioni["responses"])
    body = assegnazioni["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = openapi["components"]["schemas"][body]
    assert schema["examples"] and "FNPS" in schema["properties"]["fondo"]["enum"]
    assert schema["properties"]["fondo"]["maxLength"] == 40


@pytest.mark.parametrize("service", list(WRITES))
def test_a_body_over_the_limit_is_413_before_it_is_parsed(services: Services, service: str) -> None:
    method, path, role, valid = WRITES[service]
    r = services.send(service, method, path, role=role, content=b'{"x": "' + b"Z" * (6 * 1024 * 1024) + b'"}',
                      headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text[:300]
    body = r.json()
    assert (body["title"], body["rule"]) == ("Richiesta troppo grande", "richiesta.dimensione")
    assert len(r.content) < 2_000
