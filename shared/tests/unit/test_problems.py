"""Every error of a kit-built app is problem+json with the request's correlation id (no I/O).

Validation problems speak Italian, name the field and where it was sent, and never echo a
client's input; framework errors (unknown route, wrong method) too.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import pytest
from eventsourcing.persistence import OperationalError
from fastapi import FastAPI, Query, Response
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ambiti_kit.errors import MAX_DETAIL, PROBLEM_JSON, RuleViolation, install_problem_handlers, italian_message
from ambiti_kit import fields
from ambiti_kit.idempotency import HEADER, IDEMPOTENT_RESPONSES, IdempotencyKey, idempotent_answer
from ambiti_kit.logs import CorrelationIdMiddleware

#: what pydantic, FastAPI and Starlette say in English: none of it may reach a person
ENGLISH = ("Field required", "Input should", "JSON decode", "String should", "Value error", "Extra inputs",
           "Method Not Allowed", "Not Found", "There was an error", "valid integer", "List should")


class Atto(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    tipo: Literal["decreto", "determina"]
    data: date = Field(strict=False)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    anno: int


def _maiuscola(value: str) -> str:
    if value != value.upper():
        raise PydanticCustomError("sigla.maiuscola", "La sigla si scrive in maiuscolo.")
    return value


class Ricco(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    titolo: fields.testo(3, 20)
    anno: int = Field(ge=2000, le=2100)
    attivo: bool = True
    atto: Atto | None = None
    livelli: list[Literal["1", "2", "3"]] = Field(default_factory=list, max_length=2)
    codice: str = Field("AB12", pattern=r"^[A-Z]{2}\d{2}$")
    sigla: Annotated[str, AfterValidator(_maiuscola)] = "SA"

    @field_validator("codice")
    @classmethod
    def _non_zz(cls, v: str) -> str:
        if v.startswith("ZZ"):
            raise ValueError("Il codice ZZ è riservato.")
        return v


def app() -> FastAPI:
    api = FastAPI()
    api.add_middleware(CorrelationIdMiddleware)
    install_problem_handlers(api)

    @api.get("/bug")
    def bug() -> None:
        raise ZeroDivisionError("internal detail that must not leak")

    @api.get("/db")
    def db() -> None:
        raise OperationalError("pool timeout")

    @api.post("/rule")
    def rule(body: Body) -> None:
        raise RuleViolation("Il periodo è triennale.", rule="piano.periodo_triennale", field="anno")

    @api.post("/ricco")
    def ricco(body: Ricco) -> dict:
        return {}

    @api.get("/ricco")
    def elenco(limite: Annotated[int, Query(ge=1, le=200)] = 50, dopo: str | None = None) -> dict:
        if dopo == "rotto":
            raise RuleViolation("Il cursore non è valido.", rule="elenco.cursore", field="dopo")
        return {}

    @api.get("/ricco/{voce_id}")
    def voce(voce_id: uuid.UUID) -> dict:
        return {}

    @api.post("/soldi/{voce_id}", status_code=201, responses=IDEMPOTENT_RESPONSES)
    def soldi(voce_id: uuid.UUID, body: Body, chiave: IdempotencyKey, response: Response) -> dict:
        if chiave == "gia-usata-01":
            raise RuleViolation("Chiave usata per altro.", rule="idempotenza.corpo_diverso", field=HEADER)
        return idempotent_answer(response, ({"anno": body.anno}, chiave == "ripetuta-01"))

    return api


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app(), raise_server_exceptions=False)


def italian_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    for phrase in ENGLISH:
        assert phrase not in response.text, (phrase, response.text)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def findings(body: dict) -> dict[str, tuple[str, str]]:
    return {e["field"]: (e["rule"], e["message"]) for e in body["errors"]}


def test_an_unexpected_error_is_a_500_problem_naming_the_correlation_id_and_nothing_else(client) -> None:
    r = client.get("/bug", headers={"X-Correlation-ID": "abc123"})
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM_JSON
    assert r.headers["x-correlation-id"] == "abc123" and r.json()["correlation_id"] == "abc123"
    assert "internal detail" not in r.text


def test_a_database_that_does_not_answer_is_a_503_with_retry_after(client) -> None:
    r = client.get("/db")
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert r.headers["content-type"] == PROBLEM_JSON and r.json()["correlation_id"]


def test_validation_and_rule_errors_name_the_field_and_the_rule(client) -> None:
    bad = client.post("/rule", json={"anno": "2025", "extra": 1})
    body = italian_problem(bad, 422)
    assert findings(body) == {"body.anno": ("int_type", "Il campo «anno» deve essere un numero intero."),
                              "body.extra": ("extra_forbidden", "Il campo «extra» non è previsto.")}
    assert (body["field"], body["rule"]) == ("body.anno", "int_type")
    assert body["detail"] == ("body.anno: Il campo «anno» deve essere un numero intero; "
                              "body.extra: Il campo «extra» non è previsto.")
    violated = client.post("/rule", json={"anno": 2025})
    assert violated.status_code == 422 and violated.json()["rule"] == "piano.periodo_triennale"
    assert violated.json()["errors"] == [{"field": "body.anno", "rule": "piano.periodo_triennale",
                                          "message": "Il periodo è triennale."}]


@pytest.mark.parametrize(("payload", "field", "rule", "message"), [
    ({"titolo": ...}, "body.titolo", "missing", "Il campo «titolo» è obbligatorio."),
    ({"titolo": 7}, "body.titolo", "string_type", "Il campo «titolo» deve essere una stringa di testo."),
    ({"titolo": "ab"}, "body.titolo", "string_too_short", "Il campo «titolo» deve avere almeno 3 caratteri."),
    ({"titolo": "x" * 21}, "body.titolo", "string_too_long", "Il campo «titolo» deve avere al più 20 caratteri."),
    ({"titolo": "a\nb c"}, "body.titolo", "string_pattern_mismatch",
     "Il campo «titolo» non può contenere caratteri di controllo (a capo, tabulazioni e simili)."),
    ({"anno": 1999}, "body.anno", "greater_than_equal", "Il campo «anno» deve essere almeno 2000."),
    ({"anno": 2101}, "body.anno", "less_than_equal", "Il campo «anno» deve essere al più 2100."),
    ({"anno": 2025.5}, "body.anno", "int_type", "Il campo «anno» deve essere un numero intero."),
    ({"attivo": "sì"}, "body.attivo", "bool_type", "Il campo «attivo» deve essere true o false."),
    ({"atto": [1]}, "body.atto", "model_attributes_type", "Il campo «atto» deve essere un oggetto JSON ({…})."),
    ({"atto": {"tipo": "legge", "data": "2026-01-01"}}, "body.atto.tipo", "literal_error",
     "Il campo «atto.tipo» deve essere uno tra: 'decreto' o 'determina'."),
    ({"atto": {"tipo": "decreto", "data": "2026-02-30"}}, "body.atto.data", "date_from_datetime_parsing",
     "Il campo «atto.data» deve essere una data valida nel formato AAAA-MM-GG (es. 2026-03-02)."),
    ({"atto": {"tipo": "decreto"}}, "body.atto.data", "missing", "Il campo «atto.data» è obbligatorio."),
    ({"livelli": "1"}, "body.livelli", "list_type", "Il campo «livelli» deve essere una lista JSON ([…])."),
    ({"livelli": ["1", "2", "3"]}, "body.livelli", "too_long", "Il campo «livelli» deve avere al più 2 elementi."),
    ({"livelli": ["1", "9"]}, "body.livelli.1", "literal_error",
     "Il campo «livelli[1]» deve essere uno tra: '1', '2' o '3'."),
    ({"codice": "ab12"}, "body.codice", "string_pattern_mismatch",
     "Il campo «codice» non ha il formato richiesto (espressione regolare ^[A-Z]{2}\\d{2}$)."),
    ({"codice": "ZZ12"}, "body.codice", "value_error", "Il campo «codice»: Il codice ZZ è riservato."),
    ({"sigla": "sa"}, "body.sigla", "sigla.maiuscola", "Il campo «sigla»: La sigla si scrive in maiuscolo."),
    ({"sconosciuto": 1}, "body.sconosciuto", "extra_forbidden", "Il campo «sconosciuto» non è previsto."),
], ids=lambda v: v if isinstance(v, str) and v.startswith("body") else None)
def test_each_pydantic_error_is_an_italian_sentence_naming_the_field(client, payload: dict, field: str, rule: str,
                                                                      message: str) -> None:
    sent = {k: v for k, v in {"titolo": "Piano", "anno": 2025, **payload}.items() if v is not ...}
    body = italian_problem(client.post("/ricco", json=sent), 422)
    assert findings(body)[field] == (rule, message), body
    assert f"{field}: {message.rstrip('.')}" in body["detail"]


def test_a_body_that_is_not_an_object_or_missing_names_the_body(client) -> None:
    listed = italian_problem(client.post("/ricco", json=[{"titolo": "Piano", "anno": 2025}]), 422)
    assert findings(listed) == {"body": ("model_attributes_type",
                                         "Il corpo della richiesta deve essere un oggetto JSON ({…}).")}
    empty = italian_problem(client.post("/ricco", content=b"", headers={"content-type": "application/json"}), 422)
    assert findings(empty) == {"body": ("missing", "Il corpo della richiesta è obbligatorio.")}


def test_query_path_and_header_errors_say_where_the_parameter_is(client) -> None:
    query = italian_problem(client.get("/ricco", params={"limite": 500}), 422)
    assert findings(query) == {"query.limite": ("less_than_equal", "Il parametro di query «limite» deve essere al "
                                                                   "più 200.")}
    assert query["field"] == "query.limite"
    not_int = italian_problem(client.get("/ricco", params={"limite": "tanti"}), 422)
    assert findings(not_int)["query.limite"][0] == "int_parsing"
    path = italian_problem(client.get("/ricco/non-un-uuid"), 422)
    assert findings(path) == {"path.voce_id": ("uuid_parsing", "Il parametro di percorso «voce_id» deve essere un "
                                                               "UUID (es. 8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11).")}
    # a domain error about a query parameter or a header is not labelled body.*
    cursor = italian_problem(client.get("/ricco", params={"dopo": "rotto"}), 422)
    assert cursor["errors"] == [{"field": "query.dopo", "rule": "elenco.cursore",
                                 "message": "Il cursore non è valido."}]
    used = italian_problem(client.post(f"/soldi/{uuid.uuid4()}", json={"anno": 1}, headers={HEADER: "gia-usata-01"}),
                           422)
    assert used["errors"][0]["field"] == "header.Idempotency-Key" and used["field"] == HEADER


def test_malformed_json_is_a_400_naming_line_and_column(client) -> None:
    broken = italian_problem(client.post("/rule", content=b'{\n  "anno": 2025,\n  "x" 1\n}',
                                         headers={"content-type": "application/json"}), 400)
    assert broken["title"] == "JSON non valido" and broken["rule"] == "json_invalid" and broken["field"] == "body"
    assert broken["detail"] == "Il corpo della richiesta non è JSON valido alla riga 3, colonna 7: attesi i due punti."
    assert broken["errors"] == [{"field": "body", "rule": "json_invalid", "message": broken["detail"]}]
    for raw in (b"{not json", b"", b"[1,]"):
        if raw:
            r = italian_problem(client.post("/rule", content=raw, headers={"content-type": "application/json"}), 400)
            assert r["errors"][0]["rule"] == "json_invalid"
    undecodable = italian_problem(client.post("/rule", content=b"\xff\xfe{}",
                                              headers={"content-type": "application/json"}), 400)
    assert undecodable["rule"] == "json_invalid"


def test_a_body_that_is_not_json_is_a_415_in_italian(client) -> None:
    plain = italian_problem(client.post("/rule", content=b'{"anno": 2025}', headers={"content-type": "text/plain"}),
                            415)
    assert "application/json" in plain["detail"] and "text/plain" in plain["detail"]
    assert plain["field"] == "header.Content-Type"
    form = italian_problem(client.post("/rule", data={"anno": "2025"}), 415)
    assert "application/x-www-form-urlencoded" in form["detail"]


def test_long_input_is_never_echoed(client) -> None:
    huge = "Z" * 5_000_000
    r = client.post("/ricco", json={"titolo": huge, "anno": 2025, "codice": huge, huge: 1})
    body = italian_problem(r, 422)
    assert len(r.content) < 10_000 and "Z" * 201 not in r.text  # an unknown key is a name: quoted, capped
    assert len(body["detail"]) <= MAX_DETAIL
    many = italian_problem(client.post("/ricco", json={"titolo": "Piano", "anno": 2025,
                                                       **{f"k{i}": i for i in range(500)}}), 422)
    assert len(many["errors"]) == 50 and "(e altri 450 errori)" in many["detail"]
    assert len(many["detail"]) <= MAX_DETAIL


def test_a_long_domain_message_is_capped(client) -> None:
    api = app()

    @api.post("/lungo")
    def lungo(body: Body) -> None:
        raise RuleViolation(f"Fondo sconosciuto: {'X' * 5_000_000!r}.", rule="fondo.noto", field="fondo")

    r = TestClient(api).post("/lungo", json={"anno": 1})
    assert r.status_code == 422 and len(r.content) < 5_000
    assert r.json()["errors"][0]["field"] == "body.fondo" and r.json()["detail"].endswith("…")


def test_unknown_route_and_wrong_method_are_italian_with_allow(client) -> None:
    missing = italian_problem(client.get("/inesistente"), 404)
    assert missing["title"] == "Risorsa non trovata"
    assert missing["detail"] == "Risorsa inesistente: nessuna risorsa di questo servizio risponde a GET /inesistente."
    wrong = client.delete("/ricco")
    body = italian_problem(wrong, 405)
    assert body["title"] == "Metodo non consentito"
    assert wrong.headers["allow"] == "GET, POST"  # both routes of the path, not only the first
    assert body["detail"] == "Metodo non consentito: questa risorsa (/ricco) accetta GET, POST, non DELETE."


def test_a_missing_idempotency_key_is_a_428_and_a_malformed_one_a_422(client) -> None:
    sid = uuid.uuid4()
    missing = italian_problem(client.post(f"/soldi/{sid}", json={"anno": 1}), 428)
    assert (missing["rule"], missing["field"]) == ("idempotenza.chiave_richiesta", "Idempotency-Key")
    assert missing["errors"][0]["field"] == "header.Idempotency-Key"
    assert "Idempotency-Key" in missing["title"] and "Idempotency-Key" in missing["detail"]
    # the precondition comes first, as when the dependency raised it: even with a bad body
    assert client.post(f"/soldi/{sid}", json={"anno": "x"}).status_code == 428
    short = italian_problem(client.post(f"/soldi/{sid}", json={"anno": 1}, headers={HEADER: "corta"}), 422)
    assert (short["rule"], short["field"]) == ("idempotenza.formato", "Idempotency-Key")  # as the 428 names it
    assert short["errors"] == [{"field": "header.Idempotency-Key", "rule": "idempotenza.formato",
                                "message": "La chiave di idempotenza ha da 8 a 128 caratteri tra lettere, cifre e "
                                           ". _ : -."}]
    first = client.post(f"/soldi/{sid}", json={"anno": 1}, headers={HEADER: "nuova-chiave-01"})
    again = client.post(f"/soldi/{sid}", json={"anno": 1}, headers={HEADER: "ripetuta-01"})
    assert (first.status_code, first.headers["idempotent-replayed"]) == (201, "false")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")


def test_the_openapi_declares_the_key_required_and_the_idempotent_answers(client) -> None:
    operation = client.app.openapi()["paths"]["/soldi/{voce_id}"]["post"]
    key = next(p for p in operation["parameters"] if p["name"] == HEADER)
    assert key["in"] == "header" and key["required"] is True and key["description"]
    assert key["schema"]["pattern"] == "^[A-Za-z0-9._:-]{8,128}$" and key["schema"]["examples"]
    responses = operation["responses"]
    assert {"200", "201", "428"} <= set(responses)
    assert "Idempotent-Replayed" in responses["200"]["headers"] and "Idempotent-Replayed" in responses["201"]["headers"]
    assert PROBLEM_JSON in responses["428"]["content"]


@pytest.mark.parametrize("error_type", ["frozen_field", "is_instance_of", "callable_type", "assertion_error"])
def test_an_untranslated_type_falls_back_to_an_italian_sentence_naming_the_field(error_type: str) -> None:
    assert italian_message(error_type, ("query", "stato")) == "Valore non valido per il parametro di query «stato»."
    assert italian_message(error_type, ("header", "X-Tenant")) == "Valore non valido per l'intestazione «X-Tenant»."
