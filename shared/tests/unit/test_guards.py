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
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert (body["field"], body["rule"], body["title"]) == (field, "carattere_di_controllo", "Dati non validi")
        assert "carattere di controllo" in body["detail"]


def test_ordinary_text_passes() -> None:
    c = client()
    assert c.get("/enti/a", params={"q": "Cooperativa «Il Faro» – 100%"}).json() == {
        "ente": "a", "q": "Cooperativa «Il Faro» – 100%"}


def sized_client(max_body: int = 1024) -> TestClient:
    from ambiti_kit.guards import LimitRequestSize

    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(LimitRequestSize, max_body=max_body)

    @app.post("/note")
    def nota(body: dict) -> dict:
        return {"chiavi": len(body)}

    return TestClient(app)


def test_a_body_over_the_limit_is_413_declared_or_streamed_and_not_echoed() -> None:
    c = sized_client()
    assert c.post("/note", json={"a": "x" * 900}).json() == {"chiavi": 1}
    big = '{"a": "' + "Z" * 5000 + '"}'
    r = c.post("/note", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["rule"] == "richiesta.dimensione" and "ZZZZ" not in r.text
    streamed = c.post("/note", content=iter([big[:600].encode(), big[600:].encode()]),
                      headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["title"] == "Richiesta troppo grande"


def test_headers_over_16_kib_are_431() -> None:
    c = sized_client()
    r = c.post("/note", json={}, headers={"Authorization": "Bearer " + "a" * 20_000})
    assert r.status_code == 431 and r.json()["rule"] == "richiesta.dimensione" and "aaaa" not in r.text
