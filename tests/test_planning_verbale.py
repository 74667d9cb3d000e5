"""Acts and minutes end to end, over HTTP with real tokens, on the real platform (issue 12, planning).

The convocation of a seduta is a document whose SHA-256, recorded when the seduta is convened, is the
hash of the bytes downloaded; the verbale of a closed seduta is approved at the next seduta by a vote
of the Comitato under its rule, and the approval names the deliberation that decided it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform

TENANT = "15-VRB"
COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065156", "nome": "Vibonati", "popolazione": 3204},
          {"istat": "065149", "nome": "Torre Orsaia", "popolazione": 1985}]


def test_the_convocation_hash_and_a_verbale_approved_by_vote_at_the_next_seduta(platform: Platform) -> None:
    base, infra = platform.url("planning"), platform.infra
    coordinatore = infra.auth(TENANT, "coordinatore")

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None,
             expect: int = 200) -> Any:
        r = httpx.request(method, f"{base}{path}", json=body, headers=headers or coordinatore, timeout=30)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r.json()

    def proponi(tipo: str, oggetto: str, **riferimenti: Any) -> str:
        return call("POST", "/deliberazioni", {"tipo": tipo, "oggetto": oggetto, "testo": "Il Comitato delibera.",
                                               "riferimenti": riferimenti}, expect=201)["id"]

    def seduta(prima: datetime, *proposte: str) -> dict:
        s = call("POST", "/sedute", {"oggetto": "Seduta del Comitato", "luogo": "Sala consiliare, Sapri",
                                     "prima_convocazione": prima.isoformat(), "ordine_del_giorno": list(proposte)},
                 expect=201)
        for c in COMUNI:
            call("PUT", f"/sedute/{s['id']}/presenze/{c['istat']}", {"presente": True})
        call("POST", f"/sedute/{s['id']}/apertura", {"convocazione": 1})
        return s

    def vota(seduta_id: str, proposta: str, voti: list[str]) -> dict:
        call("POST", f"/sedute/{seduta_id}/votazioni", {"proposta_id": proposta})
        for c, voto in zip(COMUNI, voti):
            call("POST", f"/sedute/{seduta_id}/votazioni/{proposta}/voti", {"componente": c["istat"], "voto": voto},
                 headers=infra.auth(TENANT, "componente_comitato", comune=c["istat"]), expect=201)
        return call("POST", f"/sedute/{seduta_id}/votazioni/{proposta}/chiusura")

    call("PUT", "/ambito", {"nome": "Ambito di prova dei verbali", "capofila_istat": "065134",
                            "popolazione_al": "2023-01-01", "comuni": COMUNI}, expect=201)
    call("PUT", "/comitato", {"regola": {"famiglia": "per_testa"}}, expect=201)

    # seduta 1: convened with its document, a deliberation voted, closed: its verbale's hash recorded
    adesso = datetime.now(timezone.utc)
    bilancio = proponi("approvazione_bilancio", "Bilancio di previsione 2026", anno=2026)
    s1 = seduta(adesso - timedelta(minutes=10), bilancio)
    documento = httpx.get(f"{base}/sedute/{s1['id']}/convocazione/documento", headers=coordinatore, timeout=30)
    assert documento.status_code == 200 and documento.headers["content-type"].startswith("text/markdown")
    assert s1["convocazione_sha256"] == hashlib.sha256(documento.content).hexdigest()
    assert "Bilancio di previsione 2026" in documento.content.decode()
    altro = httpx.get(f"{base}/sedute/{s1['id']}/convocazione/documento",
                      headers=infra.auth("15-VRC", "coordinatore"), timeout=30)
    assert altro.status_code == 404
    assert vota(s1["id"], bilancio, ["favorevole"] * 3)["stato"] == "approvata"
    chiusa = call("POST", f"/sedute/{s1['id']}/chiusura")
    verbale = call("GET", f"/sedute/{s1['id']}/verbale")
    assert verbale["sha256"] == chiusa["verbale_sha256"] == hashlib.sha256(verbale["testo"].encode()).hexdigest()

    # seduta 2, the next one: the approval of the verbale is on its agenda and voted under the rule
    approvazione = proponi("approvazione_verbale", "Approvazione del verbale della seduta precedente",
                           seduta_id=s1["id"], sha256=verbale["sha256"])
    s2 = seduta(adesso - timedelta(minutes=5), approvazione)
    convocazione = call("GET", f"/sedute/{s2['id']}/convocazione")["testo"]
    assert "### 1. Approvazione del verbale della seduta precedente" in convocazione
    assert f"- sha256: {verbale['sha256']}" in convocazione and f"- seduta_id: {s1['id']}" in convocazione
    deliberazione = vota(s2["id"], approvazione, ["favorevole", "favorevole", "contrario"])
    assert deliberazione["stato"] == "approvata" and deliberazione["esito"]["approvata"] is True
    assert call("GET", f"/sedute/{s1['id']}")["verbale_approvato"] == {
        "nella_seduta": s2["id"], "sha256": verbale["sha256"], "deliberazione_id": approvazione,
        "deliberazione": deliberazione["numero"]}
    assert call("GET", f"/sedute/{s1['id']}/verbale")["approvato"]["deliberazione"] == deliberazione["numero"]
    call("POST", f"/sedute/{s2['id']}/chiusura")
    assert f"approva il verbale della seduta {s1['id']}" in call("GET", f"/sedute/{s2['id']}/verbale")["testo"]
