"""Fixtures of the end-to-end tier shared by several files."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from ambiti_kit.testing.fixtures import Platform

S09 = json.loads((Path(__file__).resolve().parents[1] / "shared" / "ambiti_cli" / "demo_s09.json").read_text())


#: the traceability scenarios' parties and codes (tests/test_finance_tracciabilita.py, the console's journey)
COOP, ALTRA = "00743110157", "02438750586"
CIG, CIG_ALTRA, CUP = "B1C2D3E4F5", "ZA12B3C4D5", "J51B21005460006"
DETERMINA = {"tipo": "determina", "numero": "31", "data": "2026-01-15"}


def aree_domiciliarita(secondo_fondo: str) -> list[dict[str, Any]]:
    """A Piano's one area with one intervento (A.1.1, home care of the elderly in every Comune of S09),
    budgeted for 2025 on FNPS € 200.000 and on ``secondo_fondo`` € 50.000."""
    return [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{"codice": "A.1", "titolo": "Restare a casa",
             "interventi": [{"codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
                             "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
                             "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 140,
                             "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "200000.00"},
                                              {"fondo": secondo_fondo, "anno": 2025, "importo": "50000.00"}]}]}]}]

class Client:
    """One service's HTTP API called as one person: every POST with a new Idempotency-Key, the status checked
    (``expect=None`` leaves it to the caller)."""

    def __init__(self, platform: Platform, service: str, headers: dict[str, str]) -> None:
        self.url, self.headers = platform.url(service), headers

    def __call__(self, method: str, path: str, expect: int | None = 200, **kw: Any) -> httpx.Response:
        headers = dict(self.headers)
        if method == "POST":
            headers["Idempotency-Key"] = f"test-{uuid.uuid4()}"
        r = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r


@pytest.fixture(scope="session")
def approva_piano(platform: Platform) -> Callable[..., dict[str, Any]]:
    """Register ``tenant`` with S09's 17 Comuni, draft a 2025–2027 Piano with ``aree`` and have the
    Comitato approve it unanimously (one head one vote), all over HTTP with real tokens.
    Returns ``{"piano_id", "deliberazione"}``."""
    url = platform.url("planning")

    def call(method: str, path: str, headers: dict[str, str], expect: int, **kw: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kw)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json()

    def approva(tenant: str, aree: list[dict]) -> dict[str, Any]:
        auth = platform.infra.auth
        coordinatore = auth(tenant, "coordinatore")
        call("PUT", "/ambito", coordinatore, 201, json={
            "nome": f"Ambito {tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
            "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
        call("PUT", "/comitato", coordinatore, 201, json={"regola": {"famiglia": "per_testa", "base": "presenti"}})
        piano = call("POST", "/piani", coordinatore, 201, json={
            "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})
        call("PUT", f"/piani/{piano['id']}/versioni/1/contenuto", coordinatore, 200, json={"aree": aree})
        proposta = call("POST", f"/piani/{piano['id']}/versioni/1/proposta", coordinatore, 201)["proposta_id"]
        prima = datetime.now(timezone.utc) - timedelta(minutes=1)
        seduta = call("POST", "/sedute", coordinatore, 201, json={
            "oggetto": "Approvazione del Piano", "luogo": "Sapri", "prima_convocazione": prima.isoformat(),
            "ordine_del_giorno": [proposta]})["id"]
        for c in S09["comuni"]:
            call("PUT", f"/sedute/{seduta}/presenze/{c['istat']}", coordinatore, 200, json={"presente": True})
        call("POST", f"/sedute/{seduta}/apertura", coordinatore, 200, json={"convocazione": 1})
        call("POST", f"/sedute/{seduta}/votazioni", coordinatore, 200, json={"proposta_id": proposta})
        for c in S09["comuni"]:
            call("POST", f"/sedute/{seduta}/votazioni/{proposta}/voti",
                 auth(tenant, "componente_comitato", comune=c["istat"]), 201,
                 json={"componente": c["istat"], "voto": "favorevole"})
        delibera = call("POST", f"/sedute/{seduta}/votazioni/{proposta}/chiusura", coordinatore, 200)
        assert delibera["stato"] == "approvata", delibera
        return {"piano_id": piano["id"], "deliberazione": delibera["numero"]}

    return approva
