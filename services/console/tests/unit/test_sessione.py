"""The console's session and forms, in process (no service is called by these pages)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from console.main import build
from console.settings import ConsoleSettings


@pytest.fixture
def client() -> TestClient:
    with TestClient(build(ConsoleSettings(AMBITI_ENVIRONMENT="test")), follow_redirects=False) as c:
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_il_cookie_di_sessione_e_firmato_httponly_e_samesite(client) -> None:
    cookie = client.get("/accesso").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    client.cookies.set("ambiti_console", "manomesso." + cookie.split("=", 1)[1].split(".", 1)[1])
    assert client.get("/").headers["location"] == "/accesso"  # a tampered cookie is no session


def test_senza_token_csrf_un_modulo_e_rifiutato_e_nessuna_sessione_si_apre(client) -> None:
    client.get("/accesso")
    risposta = client.post("/accesso", data={"ruolo": "coordinatore", "ambito": "15-S09"})
    assert risposta.status_code == 403 and "Richiesta non valida" in risposta.text
    risposta = client.post("/accesso", data={"ruolo": "coordinatore", "ambito": "15-S09", "csrf_token": "altro"})
    assert risposta.status_code == 403
    assert client.get("/").headers["location"] == "/accesso"


def test_l_accesso_rinnova_il_token_csrf_e_torna_dove_si_era(client) -> None:
    prima = _csrf(client.get("/accesso").text)
    risposta = client.post("/accesso", data={"ruolo": "revisore", "ambito": "15-S09", "csrf_token": prima,
                                             "torna": "/revisione?x=1"})
    assert risposta.status_code == 303 and risposta.headers["location"] == "/revisione?x=1"
    # the token seen before logging in no longer opens a form
    assert client.post("/uscita", data={"csrf_token": prima}).status_code == 403


@pytest.mark.parametrize("torna", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_nessun_rinvio_verso_un_altro_sito(client, torna) -> None:
    token = _csrf(client.get("/accesso").text)
    risposta = client.post("/accesso", data={"ruolo": "coordinatore", "ambito": "15-S09", "csrf_token": token,
                                             "torna": torna})
    assert risposta.headers["location"] == "/ambito"


def test_una_richiesta_htmx_senza_sessione_va_all_accesso_senza_ricaricare(client) -> None:
    risposta = client.get("/ambito", headers={"HX-Request": "true"})
    assert risposta.status_code == 204 and risposta.headers["HX-Redirect"] == "/accesso?torna=%2Fambito"


def test_pagine_in_italiano_per_un_indirizzo_inesistente(client) -> None:
    risposta = client.get("/non-esiste")
    assert risposta.status_code == 404 and "Non trovato" in risposta.text and 'lang="it"' in risposta.text
