"""A control character in a path or query parameter is answered at the door, naming the parameter."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ambiti_kit.errors import install_problem_handlers
from ambiti_kit.guards import RejectControlCharacters


def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RejectControlCharacters)

    @app.get("/enti/{ente}")
    def ente(ente: str, q: str | None = None) -> dict:
        return {"ente": ente, "q": q}

    return TestClient(app)


def test_nul_and_control_characters_are_refused_with_the_parameter_named() -> None:
    c = client()
    for url, field in (("/enti/a?q=%00", "query.q"), ("/enti/a?q=ab%04cd&x=1", "query.q"),
                       ("/enti/a%00b", "path"), ("/enti/a?q=ok&limite=%7F", "query.limite")):
        r = c.get(url)
        assert r.status_code == 400, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert (body["field"], body["rule"], body["title"]) == (field, "carattere_di_controllo", "Richiesta non valida")
        assert "carattere di controllo" in body["detail"]


def test_ordinary_text_passes() -> None:
    c = client()
    assert c.get("/enti/a", params={"q": "Cooperativa «Il Faro» – 100%"}).json() == {
        "ente": "a", "q": "Cooperativa «Il Faro» – 100%"}
