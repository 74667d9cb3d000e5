"""Partnership and monitoring end to end, over HTTP with real tokens, across the four services.

An Ambito with S09's Comuni has its Piano approved. A tavolo tematico with a third-sector
cooperative proposes an intervento and planning takes it into the annual update's draft; a
co-progettazione runs from the notice to the convenzione; partnership accredits the
cooperative for the SAD and finance then lets it be committed to, while a provider whose
accreditation expired yesterday is refused, and the cooperative's next commitment is refused
once its accreditation is revoked. A social worker enters the services her Comune delivered
and the coordinatore imports a month from CSV (a bad file imports nothing); the Ambito's
indicators and the Region's read model show them, and another Region sees none of it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, Callable

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09  # noqa: E402

TENANT = "15-PE2E"
SAPRI, CAMEROTA = "065134", "065021"
COOP, ALTRA = "00743110157", "02438750586"  # organisations' codici fiscali with a valid check digit
AREE = [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{"codice": "A.1", "titolo": "Restare a casa",
         "interventi": [{"codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
                         "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
                         "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 140,
                         "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "200000.00"}]}]}]}]
ATTO = {"tipo": "determina", "numero": "31", "data": "2026-01-15"}


class Client:
    def __init__(self, platform: Platform, service: str, headers: dict[str, str]) -> None:
        self.url, self.headers = platform.url(service), headers

    def __call__(self, method: str, path: str, expect: int | None = 200, headers: dict | None = None,
                 **kw: Any) -> httpx.Response:
        r = httpx.request(method, f"{self.url}{path}", headers=headers or self.headers, timeout=30, **kw)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r


def test_tavoli_coprogettazione_accreditamento_services_and_indicators(
        platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> None:
    infra = platform.infra
    piano = approva_piano(TENANT, AREE)
    coordinatore = infra.auth(TENANT, "coordinatore")
    partnership = Client(platform, "partnership", coordinatore)
    planning = Client(platform, "planning", coordinatore)
    finance = Client(platform, "finance", infra.auth(TENANT, "amministrativo"))
    monitoring = Client(platform, "monitoring", coordinatore)

    coop = partnership("POST", "/enti", 201, json={
        "codice_fiscale": COOP, "tipo": "ets", "denominazione": "Cooperativa Sociale Il Faro",
        "forma_giuridica": "cooperativa sociale", "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"},
        "comune_sede": SAPRI}).json()
    altra = partnership("POST", "/enti", 201, json={
        "codice_fiscale": ALTRA, "tipo": "ets", "denominazione": "Associazione Mani Tese Cilento",
        "forma_giuridica": "associazione", "runts": {"sezione": "odv", "numero_repertorio": "55120"}}).json()

    # A tavolo proposes; planning takes the proposal into the annual update's draft.
    tavolo = partnership("POST", "/tavoli", 201, json={"tipo": "tematico", "nome": "Tavolo disabilità",
                                                        "area": "disabilita"}).json()
    partnership("POST", f"/tavoli/{tavolo['id']}/membri", json={"tipo": "ente", "ente_id": coop["id"],
                                                                 "area": "disabilita"})
    proposta = partnership("POST", f"/tavoli/{tavolo['id']}/proposte", 201, json={
        "titolo": "Un centro diurno per persone con disabilità", "descrizione": "Proposta condivisa dal tavolo.",
        "area": "disabilita", "piano_id": piano["piano_id"], "intervento": {
            "codice": "T.1", "titolo": "Centro diurno disabilità", "comuni": [SAPRI, CAMEROTA], "utenti_attesi": 25,
            "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"}}}).json()
    ricevuta = wait_until(lambda: (r := planning("GET", f"/proposte-tavoli/{proposta['proposta_id']}", None))
                          .status_code == 200 and r.json(), timeout=60, message="the proposal in planning")
    assert ricevuta["intervento"]["codice"] == "T.1" and ricevuta["recepita"] is None
    bozza = planning("POST", f"/piani/{piano['piano_id']}/versioni", 201, json={
        "tipo": "aggiornamento_annuale", "riferimento": 1, "titolo": "Aggiornamento 2026"}).json()
    versione = planning("POST", f"/piani/{piano['piano_id']}/versioni/{bozza['versione']}/proposte-tavoli/"
                                f"{proposta['proposta_id']}", json={"area": "A", "obiettivo": "A.1"}).json()
    assert [iv["codice"] for iv in versione["aree"][0]["obiettivi"][0]["interventi"]] == ["A.1.1", "T.1"]
    assert planning("GET", f"/proposte-tavoli/{proposta['proposta_id']}").json()["recepita"]["versione"] == 2

    # A co-progettazione from the notice to the convenzione.
    procedura = partnership("POST", "/procedure", 201, json={
        "tipo": "co_progettazione", "oggetto": "Co-progettazione del centro diurno", "piano_id": piano["piano_id"],
        "intervento": "T.1", "scadenza_manifestazioni": (date.today() + timedelta(days=30)).isoformat(),
        "atto": {**ATTO, "tipo": "avviso"}}).json()
    base = f"/procedure/{procedura['id']}"
    partnership("POST", f"{base}/manifestazioni", json={"ente_id": coop["id"], "ricevuta_il": date.today().isoformat(),
                                                        "sintesi_documenti": "Proposta progettuale e curriculum.",
                                                        "atto": {**ATTO, "tipo": "protocollo", "numero": "812"}})
    partnership("POST", f"{base}/ammissioni", json={"codice_fiscale": COOP, "ammesso": True,
                                                   "motivazione": "Requisiti e esperienza adeguati.", "atto": ATTO})
    partnership("POST", f"{base}/sessioni", json={"data": date.today().isoformat(), "partecipanti": [COOP],
                                                 "verbale": "Prima sessione: obiettivi e attività condivisi.",
                                                 "atto": {**ATTO, "tipo": "verbale"}})
    partnership("POST", f"{base}/progetto", json={"titolo": "Centro diurno Il Faro", "sintesi": "Progetto condiviso.",
                                                 "atto": ATTO})
    fine = partnership("POST", f"{base}/convenzione", json={
        "enti": [COOP], "importo": "90000.00", "decorrenza": "2026-09-01", "durata_mesi": 24,
        "budget": [{"anno": 2026, "importo": "15000.00"}, {"anno": 2027, "importo": "45000.00"},
                   {"anno": 2028, "importo": "30000.00"}], "atto": {**ATTO, "tipo": "convenzione"}}).json()
    assert fine["fase"] == "convenzione_stipulata" and fine["convenzione"]["importo"] == "90000.00"

    # Accreditations gate commitments in finance.
    tariffe = [{"prestazione": "Assistenza domiciliare socio-assistenziale", "unita": "ora", "importo": "21.50"}]
    partnership("POST", "/accreditamenti", 201, json={
        "ente_id": coop["id"], "intervento": "A.1.1", "valido_dal": "2025-01-01",
        "valido_al": (date.today() + timedelta(days=365)).isoformat(), "tariffe": tariffe, "atto": ATTO})
    scaduto = partnership("POST", "/accreditamenti", 201, json={
        "ente_id": altra["id"], "intervento": "A.1.1", "valido_dal": "2024-01-01",
        "valido_al": (date.today() - timedelta(days=1)).isoformat(), "tariffe": tariffe, "atto": ATTO}).json()
    for cf in (COOP, ALTRA):
        wait_until(lambda cf=cf: finance("GET", f"/fornitori/{cf}/abilitazioni").json()["titoli"], timeout=60,
                   message="the accreditation in finance")
    wait_until(lambda: finance("GET", f"/budget/{piano['piano_id']}").json()["versione_piano"] == 1, timeout=60,
               message="the Piano's lines in finance")
    finance("POST", "/assegnazioni", 201, json={"fondo": "FNPS", "annualita": 2025, "importo": "200000.00",
                                                "atto": {"tipo": "decreto", "numero": "9", "data": "2025-04-02",
                                                         "ente": "Regione Campania"}})
    sid = finance("POST", f"/budget/{piano['piano_id']}/allocazioni", 201, headers={
        **finance.headers, "Idempotency-Key": f"pe2e-{uuid.uuid4()}"}, json={
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "100000.00"}).json()["id"]

    def impegno(cf: str, expect: int) -> httpx.Response:
        return finance("POST", f"/stanziamenti/{sid}/impegni", expect, headers={
            **finance.headers, "Idempotency-Key": f"pe2e-{uuid.uuid4()}"}, json={
            "importo": "10000.00", "beneficiario": {"denominazione": "Ente", "codice_fiscale": cf},
            "atto": {"tipo": "determina", "numero": "50", "data": "2026-02-01"}, "oggetto": "SAD accreditato"})

    assert impegno(COOP, 201).json()["impegnato"] == "10000.00"
    assert impegno(ALTRA, 422).json()["rule"] == "impegno.accreditamento_scaduto"
    partnership("POST", f"/accreditamenti/{scaduto['id']}/rinnovo", 200, json={
        "valido_al": (date.today() + timedelta(days=30)).isoformat(), "atto": ATTO})
    wait_until(lambda: impegno(ALTRA, None).status_code == 201, timeout=60, message="the renewal in finance")

    # Services delivered: the social worker of Sapri, then a CSV import (a bad file imports nothing).
    mese = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # last month
    assistente = infra.auth(TENANT, "assistente_sociale", comune=SAPRI)
    monitoring("POST", "/prestazioni", 201, headers=assistente, json={
        "intervento": "A.1.1", "comune": SAPRI, "mese": mese, "utenti": {"anziani": {"65+": 18, "18-64": 2}},
        "accessi": 160, "ore": "240.00", "costo": "5160.00"})
    altro_comune = monitoring("POST", "/prestazioni", None, headers=assistente, json={
        "intervento": "A.1.1", "comune": CAMEROTA, "mese": mese, "utenti": {"anziani": {"65+": 1}},
        "accessi": 1, "ore": "1.00", "costo": "21.50"})
    assert (altro_comune.status_code, altro_comune.json()["rule"]) == (
        422, "prestazione.comune_dell_operatore")  # only for her own Comune
    intestazione = "intervento,comune,mese,area,utenti_0_17,utenti_18_64,utenti_65_piu,accessi,ore,costo,note\n"
    cattivo = (intestazione + f"A.1.1,{CAMEROTA},{mese},anziani,0,1,12,90,130.00,2795.00,\n"
               + f"A.1.1,{CAMEROTA},2999-01,anziani,0,-1,3,5,4.00,86.00,\n")
    report = monitoring("POST", "/prestazioni/import", 422, json={"csv": cattivo}).json()
    assert {e.get("row") for e in report["errors"]} == {3}, report
    monitoring("POST", "/prestazioni/import", 201, json={"csv": cattivo.splitlines()[0] + "\n"
                                                                + cattivo.splitlines()[1] + "\n"})

    anno = int(mese[:4])
    indicatori = wait_until(lambda: (r := monitoring("GET", "/indicatori", params={"anno": anno}).json())
                            and r["ambito_indicatori"].get("utenze_mensili") == 33 and r, timeout=60,
                            message="the services in the Ambito's indicators")
    sapri = next(c for c in indicatori["comuni"] if c["istat"] == SAPRI)
    assert sapri["utenze_mensili"] == 20  # monthly counts, not people (and above the privacy threshold)
    campania = infra.auth(None, "regione", regione="15")
    regionale = wait_until(lambda: [a for a in monitoring("GET", "/regione/indicatori", headers=campania,
                                                          params={"anno": anno}).json()["ambiti"]
                                    if a["ambito"] == TENANT and a.get("utenze_mensili") == 33], timeout=60,
                           message="the Ambito in the Region's indicators")
    assert regionale[0]["ultimo_evento"]
    lombardia = infra.auth(None, "regione", regione="03")
    assert all(a["ambito"] != TENANT for a in
               monitoring("GET", "/regione/indicatori", headers=lombardia, params={"anno": anno}).json()["ambiti"])
