"""A Region's riparto among its Ambiti, end to end over HTTP with real tokens and the real broker.

Two Ambiti of Region 19 register their Comuni in planning; finance learns them from Kafka. The Region
(a ``regione`` token) previews and stores a riparto of its FNPS 2025 among its Ambiti — 80% by the
population of their member Comuni at a date, 20% in equal parts, largest remainder — and approves it
with its act under an Idempotency-Key. Each Ambito then finds the assegnazione in its own finance
(``GET /assegnazioni/FNPS/2025``), with the Region's act, once: repeating the approval moves nothing.
An Ambito of another Region cannot be a recipient, and another Region cannot read the riparto.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09

REGIONE = "19"
A, B, ESTRANEO = "19-RRA", "19-RRB", "16-RRC"
ATTO = {"tipo": "delibera_giunta_regionale", "numero": "412", "data": "2025-06-30", "ente": "Regione di prova"}


def test_un_riparto_regionale_approvato_diventa_le_assegnazioni_degli_ambiti(platform: Platform) -> None:
    planning, finance = platform.url("planning"), platform.url("finance")
    auth = platform.infra.auth
    regione = auth(None, "regione", regione=REGIONE)

    def call(url: str, method: str, path: str, headers: dict, expect: int, **kw: Any) -> httpx.Response:
        r = httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r

    # Two Ambiti of Region 19 (S09's Comuni split in two), one of Region 16. The second Ambito's last Comune
    # joins legally only in 2026: at the riparto's date it is not a member.
    comuni = S09["comuni"]
    composizioni = {A: comuni[:8], B: [*comuni[8:16], {**comuni[16], "aderente_dal": "2026-01-01"}],
                    ESTRANEO: comuni[:3]}
    for tenant, elenco in composizioni.items():
        call(planning, "PUT", "/ambito", auth(tenant, "coordinatore"), 201, json={
            "nome": f"Ambito {tenant}", "capofila_istat": elenco[0]["istat"], "popolazione_al": "2025-01-01",
            "comuni": elenco})
    popolazione = {A: sum(c["popolazione"] for c in comuni[:8]), B: sum(c["popolazione"] for c in comuni[8:16])}

    corpo = {"oggetto": "Riparto FNPS 2025 tra gli Ambiti: 80% popolazione, 20% in parti uguali", "fondo": "FNPS",
             "annualita": 2025, "totale": "1000000.00", "ambiti_al": "2025-06-30",
             "quote": [{"nome": "popolazione", "peso": "4/5", "criteri": [{"indicatore": "popolazione", "peso": "1"}],
                        "arrotondamento": {"metodo": "resto_maggiore"}},
                       {"nome": "parti_uguali", "peso": "1/5", "criteri": [{"indicatore": "parti_uguali", "peso": "1"}],
                        "arrotondamento": {"metodo": "resto_maggiore"}}]}

    def anteprima() -> dict | None:
        r = httpx.post(f"{finance}/regione/riparti/anteprima", headers=regione, json=corpo, timeout=30)
        return r.json() if r.status_code == 200 and len(r.json()["risultato"]["assegnazioni"]) == 2 else None

    preview = wait_until(anteprima, timeout=60, message="finance knows the Region's two Ambiti")
    assert preview["risultato"]["totali"] == {
        "totale": "1000000.00", "da_ripartire": "1000000.00", "ripartito": "1000000.00", "integrazioni": "0.00",
        "prelievi": "0.00", "economie": "0.00", "residuo": "0.00"}
    indicatori = {d["id"]: d["indicatori"] for d in preview["input"]["destinatari"]}
    assert indicatori[A]["popolazione"] == str(popolazione[A])
    assert indicatori[B] == {"popolazione": str(popolazione[B]), "parti_uguali": "1", "comuni": "8"}
    quote = {a["id"]: Decimal(a["importo"]) for a in preview["risultato"]["assegnazioni"]}
    esatto = Decimal(800000) * popolazione[A] / (popolazione[A] + popolazione[B]) + Decimal(100000)
    assert abs(quote[A] - esatto) < Decimal("0.01") and sum(quote.values()) == Decimal("1000000.00")

    # Another Region's Ambito cannot be a recipient, and Ambiti unknown to finance neither.
    estraneo = {**corpo, "ambiti_al": None, "destinatari": [
        {"id": A, "indicatori": {"popolazione": "1", "parti_uguali": "1"}},
        {"id": ESTRANEO, "indicatori": {"popolazione": "1", "parti_uguali": "1"}}]}
    problema = call(finance, "POST", "/regione/riparti", regione, 422, json=estraneo).json()
    assert problema["rule"] == "riparto.ambito_della_regione" and problema["field"] == "destinatari.1.id"
    assert "application/problem+json" in httpx.post(f"{finance}/regione/riparti", headers=regione, json=estraneo,
                                                    timeout=30).headers["content-type"]
    # An Ambito's token is not a Region's.
    call(finance, "POST", "/regione/riparti", auth(A, "amministrativo"), 403, json=corpo)

    riparto = call(finance, "POST", "/regione/riparti", regione, 201, json=corpo).json()
    assert riparto["stato"] == "proposto" and riparto["destinatari_da"]["fonte"] == "ambiti_della_regione"
    assert {a["id"]: Decimal(a["importo"]) for a in riparto["risultato"]["assegnazioni"]} == quote
    call(finance, "GET", f"/regione/riparti/{riparto['id']}", auth(None, "regione", regione="16"), 404)

    # Nothing is assigned before the approval.
    call(finance, "GET", "/assegnazioni/FNPS/2025", auth(A, "amministrativo"), 404)

    chiave = {"Idempotency-Key": f"approvazione-{uuid.uuid4()}"}
    percorso = f"/regione/riparti/{riparto['id']}/approvazione"
    approvato = call(finance, "POST", percorso, {**regione, **chiave}, 201, json={"atto": ATTO})
    assert approvato.headers["Idempotent-Replayed"] == "false"
    assert {a["ambito"]: Decimal(a["importo"]) for a in approvato.json()["assegnazioni"]} == quote
    ripetuto = call(finance, "POST", percorso, {**regione, **chiave}, 200, json={"atto": ATTO})
    assert ripetuto.headers["Idempotent-Replayed"] == "true" and ripetuto.json() == approvato.json()
    seconda = call(finance, "POST", percorso, {**regione, "Idempotency-Key": f"altra-{uuid.uuid4()}"}, 409,
                   json={"atto": ATTO}).json()
    assert seconda["rule"] == "riparto_regionale.gia_approvato"

    def assegnazione(tenant: str) -> dict | None:
        r = httpx.get(f"{finance}/assegnazioni/FNPS/2025", headers=auth(tenant, "amministrativo"), timeout=30)
        return r.json() if r.status_code == 200 else None

    for tenant in (A, B):
        a = wait_until(lambda t=tenant: assegnazione(t), timeout=60, message=f"the assegnazione reaches {tenant}")
        assert a["ambito"] == tenant and Decimal(a["totale"]) == quote[tenant]
        assert [{k: x[k] for k in ("tipo", "numero", "data", "ente")} for x in a["atti"]] == [ATTO]
    # Exactly once: after the approval was repeated, nothing more arrives.
    time.sleep(3)
    for tenant in (A, B):
        a = assegnazione(tenant)
        assert a is not None and len(a["atti"]) == 1 and Decimal(a["totale"]) == quote[tenant]
    call(finance, "GET", "/assegnazioni/FNPS/2025", auth(ESTRANEO, "amministrativo"), 404)
    assert call(finance, "GET", f"/regione/riparti/{riparto['id']}", regione, 200).json()["stato"] == "approvato"


def test_riparto_di_un_ambito_tra_i_suoi_comuni_alla_data(platform: Platform) -> None:
    """An Ambito's riparto takes its Comuni and populations from planning's composition at a date: a Comune
    whose legal membership starts later is not a recipient; the old request shape keeps working."""
    planning, finance = platform.url("planning"), platform.url("finance")
    tenant = "19-RRD"
    coordinatore, amministrativo = platform.infra.auth(tenant, "coordinatore"), platform.infra.auth(tenant,
                                                                                                 "amministrativo")
    comuni = [*S09["comuni"][:4], {**S09["comuni"][4], "aderente_dal": "2025-07-01"}]
    r = httpx.put(f"{planning}/ambito", headers=coordinatore, timeout=30, json={
        "nome": "Ambito di prova", "capofila_istat": comuni[0]["istat"], "popolazione_al": "2025-01-01",
        "comuni": comuni})
    assert r.status_code == 201, r.text
    corpo = {"oggetto": "Riparto tra i Comuni", "totale": "10000.00",
             "criteri": [{"indicatore": "popolazione", "peso": "1"}], "arrotondamento": {"metodo": "per_importo"},
             "comuni_al": "2025-03-01"}

    def anteprima() -> dict | None:
        r = httpx.post(f"{finance}/riparti/anteprima", headers=amministrativo, json=corpo, timeout=30)
        return r.json() if r.status_code == 200 else None

    primo = wait_until(anteprima, timeout=60, message="finance knows the Ambito's Comuni")
    assert [d["id"] for d in primo["input"]["destinatari"]] == [c["istat"] for c in comuni[:4]]
    assert primo["destinatari_da"] == {"fonte": "composizione_ambito", "data": "2025-03-01",
                                       "popolazione_al": "2025-01-01", "versione": 1}
    t = primo["risultato"]["totali"]
    assert Decimal(t["ripartito"]) + Decimal(t["residuo"]) == Decimal(t["totale"]) == Decimal("10000.00")
    dopo = httpx.post(f"{finance}/riparti", headers=amministrativo, timeout=30,
                      json={**corpo, "comuni_al": "2025-09-01"})
    assert dopo.status_code == 201, dopo.text
    assert [d["id"] for d in dopo.json()["input"]["destinatari"]] == [c["istat"] for c in comuni]
    # the Comuni's contributions from the stored riparto need the Comitato's approved deliberation: one it does
    # not know is refused (tests/test_finance_atti.py approves one in planning and the contributions follow it)
    contributi = httpx.post(f"{finance}/contributi/2025", headers=amministrativo, timeout=30, json={
        "metodo": "deliberato", "riparto_id": dopo.json()["id"], "deliberazione_id": str(uuid.uuid4()),
        "deliberazione_numero": "3/2025", "scadenze": [{"data": "2025-10-31", "percentuale": "100"}]})
    assert contributi.status_code == 422, contributi.text
    assert (contributi.json()["rule"], contributi.json()["field"]) == ("atto.deliberazione_sconosciuta",
                                                                         "deliberazione_id")
    # before any population the Ambito registered: refused, naming the field and the rule
    prima = httpx.post(f"{finance}/riparti/anteprima", headers=amministrativo, timeout=30,
                       json={**corpo, "comuni_al": "2024-06-30"})
    assert prima.status_code == 422 and prima.json()["rule"] == "riparto.popolazione_alla_data"
    assert prima.json()["field"] == "comuni_al"
    # a sum above the total is refused unless the act declares it
    troppo = httpx.post(f"{finance}/riparti", headers=amministrativo, timeout=30, json={
        "oggetto": "Tre terzi", "totale": "0.05", "criteri": [{"indicatore": "x", "peso": "1"}],
        "arrotondamento": {"metodo": "per_importo"},
        "destinatari": [{"id": i, "indicatori": {"x": "1"}} for i in "ABC"]})
    assert troppo.status_code == 422 and troppo.json()["rule"] == "riparto.eccedenza"
    assert troppo.json()["field"] == "arrotondamento.metodo"
