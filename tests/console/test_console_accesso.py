"""Logging in and out of the console, as a person does, and what protects the session."""

from __future__ import annotations

import re

import httpx

from tests.console.conftest import Console, Visita  # noqa: F401  (types only)


def test_accesso_con_errori_poi_accesso_e_uscita(persona, nuovo_ambito) -> None:
    visita = persona(nome="coordinatore")
    page = visita.page
    page.goto("/")
    page.wait_for_url("**/accesso")
    visita.passo("pagina di accesso")

    # An Ambito code typed wrong: the message is beside the field, and in the summary announced at the top.
    page.get_by_role("combobox", name="Ruolo").select_option("coordinatore")
    page.get_by_label("Ambito (es. 15-S09)").fill("S09")
    page.get_by_role("button", name="Accedi").click()
    errore = page.locator("#campo-ambito-errore")
    assert "codice ISTAT della Regione" in errore.inner_text()
    assert page.get_by_label("Ambito (es. 15-S09)").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").first.is_visible()
    visita.passo("errore sul codice dell'Ambito")

    ambito = nuovo_ambito()
    page.get_by_label("Ambito (es. 15-S09)").fill(ambito)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/ambito")
    assert f"Ambito {ambito}" in page.locator("header").inner_text()
    assert "Coordinatore dell'Ufficio di Piano" in page.get_by_test_id("utente").inner_text()

    cookie = next(c for c in page.context.cookies() if c["name"] == "ambiti_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Esci").click()
    page.wait_for_url("**/accesso")
    page.goto("/ambito")
    page.wait_for_url(re.compile(r".*/accesso\?torna=%2Fambito$"))
    visita.passo("dopo l'uscita si torna all'accesso")


def test_un_modulo_senza_il_token_csrf_della_sessione_e_rifiutato(console: Console) -> None:
    with httpx.Client(base_url=console.url) as client:
        client.get("/accesso")
        risposta = client.post("/accesso", data={"ruolo": "coordinatore", "ambito": "15-S09"})
    assert risposta.status_code == 403
    assert "Richiesta non valida" in risposta.text
    assert "ambiti_console" not in risposta.headers.get("set-cookie", "") or "utente" not in risposta.text


def test_le_pagine_della_console_hanno_una_politica_dei_contenuti(console: Console) -> None:
    risposta = httpx.get(f"{console.url}/accesso")
    assert "script-src 'self'" in risposta.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in risposta.headers["content-security-policy"]
    assert risposta.headers["cache-control"] == "no-store"
