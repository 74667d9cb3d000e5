"""Every error of a kit-built app is problem+json with the request's correlation id (no I/O)."""

from __future__ import annotations

from eventsourcing.persistence import OperationalError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from ambiti_kit.errors import PROBLEM_JSON, RuleViolation, install_problem_handlers
from ambiti_kit.logs import CorrelationIdMiddleware


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    anno: int


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

    return api


def test_an_unexpected_error_is_a_500_problem_naming_the_correlation_id_and_nothing_else() -> None:
    client = TestClient(app(), raise_server_exceptions=False)
    r = client.get("/bug", headers={"X-Correlation-ID": "abc123"})
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM_JSON
    assert r.headers["x-correlation-id"] == "abc123" and r.json()["correlation_id"] == "abc123"
    assert "internal detail" not in r.text


def test_a_database_that_does_not_answer_is_a_503_with_retry_after() -> None:
    r = TestClient(app()).get("/db")
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert r.headers["content-type"] == PROBLEM_JSON and r.json()["correlation_id"]


def test_validation_and_rule_errors_name_the_field_and_the_rule() -> None:
    client = TestClient(app())
    bad = client.post("/rule", json={"anno": "2025", "extra": 1})
    assert bad.status_code == 422
    assert {(e["field"], e["rule"]) for e in bad.json()["errors"]} == {("body.anno", "int_type"),
                                                                      ("body.extra", "extra_forbidden")}
    broken = client.post("/rule", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["errors"][0]["rule"] == "json_invalid"
    violated = client.post("/rule", json={"anno": 2025})
    assert violated.status_code == 422 and violated.json()["rule"] == "piano.periodo_triennale"
    assert violated.json()["errors"] == [{"field": "body.anno", "rule": "piano.periodo_triennale",
                                          "message": "Il periodo è triennale."}]
