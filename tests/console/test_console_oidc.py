"""Production login of the console: authorization code with PKCE at an OpenID Connect issuer.

A real issuer runs on localhost (it logs in one configured person); planning trusts it
(``AMBITI_OIDC_ISSUER``) and a console configured for it sends the browser there and back. The
access token the console keeps is the one planning verifies with the issuer's keys on every call.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator

import httpx
import pytest

from ambiti_cli.main import start_console, stop_processes
from ambiti_kit.testing.fixtures import ROOT, Infra, free_port, start_platform
from ambiti_kit.testing.oidc import LocalIssuer

from tests.console.conftest import CHROMIUM_ARGS, SCREENSHOTS, Visita  # noqa: F401

TENANT = "15-OIDC1"


@pytest.fixture(scope="module")
def con_identita(infra: Infra) -> Iterator[dict[str, Any]]:
    issuer = LocalIssuer()
    issuer.add_key("k1")
    issuer.persona = {"sub": "anna.bianchi", "roles": ["coordinatore"], "tenant": TENANT}
    port = free_port()
    console_url = f"http://127.0.0.1:{port}"
    issuer.clients["ambiti-console"] = {f"{console_url}/accesso/ritorno"}
    ns = replace(infra, namespace=f"{infra.namespace}oidc_")
    platform = start_platform(ns, names=("planning",), log_tag="oidc", AMBITI_OIDC_ISSUER=issuer.url)
    log_dir = ROOT / "var" / "test" / "log" / f"{ns.namespace.rstrip('_')}-oidc"
    log_dir.mkdir(parents=True, exist_ok=True)
    planning = platform.url("planning")
    _, console = start_console(ns.env(AMBITI_OIDC_ISSUER=issuer.url),
                               {name: planning for name in ("planning", "finance", "partnership", "monitoring")},
                               port=port, log_dir=log_dir)
    try:
        yield {"issuer": issuer, "console": console_url, "planning": planning}
    finally:
        stop_processes([console])
        platform.stop()
        issuer.stop()


def test_la_coordinatrice_accede_con_l_identita_dell_ente(browser: Any, con_identita: dict[str, Any]) -> None:
    contesto = browser.new_context(base_url=con_identita["console"], locale="it-IT", bypass_csp=True,
                                   viewport={"width": 1280, "height": 900})
    try:
        page = contesto.new_page()
        visita = Visita(page, SCREENSHOTS / "test_la_coordinatrice_accede_con_l_identita_dell_ente" / "coordinatore")
        page.goto("/piani")
        page.wait_for_url(re.compile(r".*/accesso\?torna=%2Fpiani$"))
        assert page.get_by_role("combobox", name="Ruolo").count() == 1  # test environment: the developer's form too
        visita.passo("accesso con l'identità dell'ente")
        page.get_by_role("link", name="Accedi con l'identità dell'Ente").click()
        page.wait_for_url("**/piani")  # to the issuer and back, then where she was going
        assert "anna.bianchi" in page.get_by_test_id("utente").inner_text()
        assert page.get_by_role("heading", level=1).inner_text() == "Piano di Zona"
        visita.passo("i piani dopo l'accesso")

        # The token the console keeps is the issuer's, and planning accepts it: a Piano created in the console.
        page.get_by_role("link", name=re.compile("Nuovo Piano")).first.click()
        page.get_by_label("Titolo").fill("Piano Sociale di Zona 2025–2027")
        page.get_by_label(re.compile("^Primo anno")).fill("2025")
        page.get_by_label(re.compile("^Ultimo anno")).fill("2027")
        page.get_by_role("button", name=re.compile("Crea")).click()
        page.wait_for_url(re.compile(r".*/piani/[0-9a-f-]{36}.*"))
        visita.passo("piano creato con il token del fornitore di identità")
        issuer = con_identita["issuer"]
        piani = httpx.get(f"{con_identita['planning']}/piani",
                          headers={"Authorization": f"Bearer {issuer.token()}"}).json()["elementi"]
        assert [p["titolo"] for p in piani] == ["Piano Sociale di Zona 2025–2027"]
    finally:
        contesto.close()


def test_un_ritorno_che_non_viene_da_questa_console_e_rifiutato(con_identita: dict[str, Any]) -> None:
    with httpx.Client(base_url=con_identita["console"], follow_redirects=False) as client:
        risposta = client.get("/accesso/ritorno", params={"code": "rubato", "state": "altro"})
        assert risposta.status_code == 401 and "non è stato completato da questa console" in risposta.text
        # a genuine round trip, then its code replayed: the issuer grants a code once
        avvio = client.get("/accesso/oidc")
        assert avvio.status_code == 303
        ritorno = httpx.get(avvio.headers["location"], follow_redirects=False).headers["location"]
        assert client.get(ritorno.replace(con_identita["console"], "")).status_code == 303
        client.get("/accesso/oidc")  # a new login attempt in the same session
        assert client.get(ritorno.replace(con_identita["console"], "")).status_code == 401
