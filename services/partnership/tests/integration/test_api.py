"""The partnership HTTP API in its own process: roles, a referente's view, problem+json."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from ambiti_kit.auth import issue_token
from ambiti_kit.testing.fixtures import Infra, Platform, start_platform

T = "15-PAPI"
ATTO = {"tipo": "determina", "numero": "12", "data": "2026-03-02"}
ETS = {"tipo": "ets", "forma_giuridica": "cooperativa sociale",
       "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"}}


@pytest.fixture(scope="module")
def service(infra: Infra) -> Iterator[Platform]:
    platform = start_platform(infra, names=("partnership",), log_tag="partnership-api")
    try:
        yield platform
    finally:
        platform.stop()


def referente(infra: Infra, subject: str) -> dict[str, str]:
    token = issue_token(infra.platform_settings(), roles=["referente_ets"], tenant=T, subject=subject)
    return {"Authorization": f"Bearer {token}"}


def test_referenti_see_only_their_own_ente_tavoli_and_procedures(service: Platform) -> None:
    infra = service.infra
    c = httpx.Client(base_url=service.url("partnership"), headers=infra.auth(T, "coordinatore"), timeout=10)
    faro = c.post("/enti", json={"codice_fiscale": "00743110157", "denominazione": "Coop Il Faro", **ETS})
    assert faro.status_code == 201, faro.text
    alba = c.post("/enti", json={"codice_fiscale": "80012170157", "denominazione": "APS Alba", **ETS}).json()
    faro = faro.json()
    bad = c.post("/enti", json={"codice_fiscale": "00743110158", "denominazione": "Ente errato", **ETS})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["rule"] == "ente.codice_fiscale"
    assert c.post(f"/enti/{faro['id']}/referenti", json={"subject": "ref@faro"}).status_code == 200
    assert c.post(f"/enti/{alba['id']}/referenti", json={"subject": "ref@alba"}).status_code == 200
    rf, ra = referente(infra, "ref@faro"), referente(infra, "ref@alba")

    assert httpx.get(f"{service.url('partnership')}/enti/mio", headers=rf).json()["id"] == faro["id"]
    assert httpx.get(f"{service.url('partnership')}/enti/{alba['id']}", headers=rf).status_code == 404
    mio = httpx.get(f"{service.url('partnership')}/enti/{faro['id']}", headers=rf).json()
    assert mio["referenti"] is None and mio["storia"][0]["evento"] == "Registrato"

    tavolo = c.post("/tavoli", json={"tipo": "tematico", "nome": "Tavolo anziani", "area": "anziani"}).json()
    assert c.post(f"/tavoli/{tavolo['id']}/membri",
                  json={"tipo": "ente", "ente_id": faro["id"], "area": "anziani"}).status_code == 200
    assert httpx.get(f"{service.url('partnership')}/tavoli/{tavolo['id']}", headers=rf).status_code == 200
    assert httpx.get(f"{service.url('partnership')}/tavoli/{tavolo['id']}", headers=ra).status_code == 404
    proposta = c.post(f"/tavoli/{tavolo['id']}/proposte", json={
        "titolo": "Più SAD", "descrizione": "Estendere il SAD", "area": "anziani",
        "intervento": {"codice": "A1.2", "titolo": "SAD anziani",
                       "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}, "comuni": ["065134"],
                       "utenti_attesi": 40}})
    assert proposta.status_code == 201, proposta.text

    amm = httpx.Client(base_url=service.url("partnership"), headers=infra.auth(T, "amministrativo"), timeout=10)
    p = amm.post("/procedure", json={"tipo": "co_progettazione", "oggetto": "Co-progettazione SAD",
                                     "scadenza_manifestazioni": "2026-03-31", "atto": {**ATTO, "tipo": "avviso"}})
    assert p.status_code == 201, p.text
    pid = p.json()["id"]
    for headers in (rf, ra):  # each referente sends its own ente's expression of interest
        r = httpx.post(f"{service.url('partnership')}/procedure/{pid}/manifestazioni", headers=headers, json={
            "sintesi_documenti": "Domanda riservata", "ricevuta_il": "2026-03-10",
            "atto": {**ATTO, "tipo": "protocollo"}})
        assert r.status_code == 200, r.text
    vista = httpx.get(f"{service.url('partnership')}/procedure/{pid}", headers=rf).json()
    assert vista["manifestazioni"] is None and vista["mia"]["altre"] == []
    assert vista["mia"]["propria"]["codice_fiscale"] == "00743110157"
    assert len(amm.get(f"/procedure/{pid}").json()["manifestazioni"]) == 2
    fuori_ordine = amm.post(f"/procedure/{pid}/progetto", json={"titolo": "P", "sintesi": "S", "atto": ATTO})
    assert fuori_ordine.status_code in (409, 422)

    assert c.get(f"/enti/{faro['id']}", headers=infra.auth("15-OTHER", "coordinatore")).status_code == 404
    assert httpx.get(f"{service.url('partnership')}/enti/{faro['id']}",
                     headers=infra.auth(T, "assistente_sociale")).status_code == 403
    assert c.post("/enti", json={"codice_fiscale": "80012170157", "extra": 1, **ETS}).status_code == 422
