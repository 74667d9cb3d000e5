"""Journey 6: the Region's officer reads every Ambito of her Region in one table (monitoring's
regional read model), sorts and filters it, opens the chart, drills down to one Ambito, downloads
the CSV, and never sees an Ambito of another Region.

Seeded over HTTP with real tokens: Ambito A has its Piano approved by the Comitato and spends
(FNPS 2025 assigned 100.000,00, allocated 80.000,00, committed 40.000,00, paid 10.000,00:
tasso di impegno 40%, di pagamento 25%); B has its Piano approved and an assignment only
(tasso di impegno 0%); C has a draft Piano and no money; D, with the same code, is in Region 05.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any, Callable

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09

DECRETO = {"tipo": "decreto", "numero": "87", "data": "2025-05-20", "ente": "Regione Campania"}
AREE = [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{"codice": "A.1", "titolo": "Restare a casa",
         "interventi": [{"codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
                         "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
                         "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 140,
                         "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "80000.00"}]}]}]}]


def _chiama(url: str, headers: dict[str, str], metodo: str, path: str, atteso: int, **kw: Any) -> dict[str, Any]:
    risposta = httpx.request(metodo, f"{url}{path}", headers=headers, timeout=30, **kw)
    assert risposta.status_code == atteso, (metodo, path, risposta.status_code, risposta.text)
    return risposta.json()


def registra(platform: Platform, tenant: str, nome: str) -> None:
    """An Ambito of three Comuni with a draft Piano."""
    coordinatore = platform.infra.auth(tenant, "coordinatore")
    comuni = S09["comuni"][:3]
    _chiama(platform.url("planning"), coordinatore, "PUT", "/ambito", 201, json={
        "nome": nome, "capofila_istat": comuni[0]["istat"], "popolazione_al": S09["popolazione_al"],
        "comuni": comuni})
    _chiama(platform.url("planning"), coordinatore, "POST", "/piani", 201, json={
        "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})


def spendi(platform: Platform, tenant: str, piano_id: str) -> None:
    """FNPS 2025: 100.000,00 assigned, 80.000,00 allocated, 40.000,00 committed, 10.000,00 liquidated and paid."""
    finance = platform.url("finance")
    amministrativo = platform.infra.auth(tenant, "amministrativo")

    def movimento(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _chiama(finance, {**amministrativo, "Idempotency-Key": f"regione-{uuid.uuid4()}"}, "POST", path, 201,
                       json=body)

    wait_until(lambda: _chiama(finance, amministrativo, "GET", f"/budget/{piano_id}", 200)["versione_piano"] == 1,
               timeout=60, message="the approved budget lines in finance")
    _chiama(finance, amministrativo, "POST", "/assegnazioni", 201, json={
        "fondo": "FNPS", "annualita": 2025, "importo": "100000.00", "atto": DECRETO})
    stanziamento = movimento(f"/budget/{piano_id}/allocazioni", {
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "80000.00"})
    impegno = movimento(f"/stanziamenti/{stanziamento['id']}/impegni", {
        "importo": "40000.00", "beneficiario": {"denominazione": "Cooperativa Sociale Il Faro",
                                                "codice_fiscale": "00743110157"},
        "cig": "B1C2D3E4F5", "atto": {"tipo": "determina", "numero": "45", "data": "2025-06-03"},
        "oggetto": "Assistenza domiciliare anziani 2025"})
    liquidazione = movimento(f"/stanziamenti/{stanziamento['id']}/impegni/{impegno['impegno_id']}/liquidazioni", {
        "importo": "10000.00", "fattura": {"numero": "FT-2025/77", "data": "2025-09-30"}})
    movimento(f"/stanziamenti/{stanziamento['id']}/liquidazioni/{liquidazione['liquidazione_id']}/mandati", {
        "importo": "10000.00", "data": "2025-10-15"})


def righe_tabella(page: Any) -> list[str]:
    return page.locator("#tabella-ambiti tbody tr").evaluate_all("rs => rs.map(r => r.dataset.ambito)")


def attendi_righe(page: Any, attese: list[str]) -> None:
    """Wait until the table shows exactly ``attese``, in this order (HTMX swaps it in place)."""
    page.wait_for_function("(attese) => JSON.stringify(Array.from(document.querySelectorAll("
                           "'#tabella-ambiti tbody tr'), r => r.dataset.ambito)) === JSON.stringify(attese)", arg=attese)


def test_la_regione_ordina_filtra_scarica_e_apre_un_ambito(persona, nuovo_ambito, platform: Platform,
                                                            approva_piano: Callable[..., dict[str, Any]]) -> None:
    codice = nuovo_ambito().split("-")[1]  # one random code: the officer searches for it
    a, b, c, altra = f"15-{codice}A", f"15-{codice}B", f"15-{codice}C", f"05-{codice}D"
    piano_a = approva_piano(a, AREE)
    approva_piano(b, AREE)
    _chiama(platform.url("finance"), platform.infra.auth(b, "amministrativo"), "POST", "/assegnazioni", 201,
            json={"fondo": "FNPS", "annualita": 2025, "importo": "50000.00", "atto": DECRETO})
    registra(platform, c, f"Ambito di prova {codice} C")
    registra(platform, altra, f"Ambito di prova {codice} D")
    spendi(platform, a, piano_a["piano_id"])

    campania = platform.infra.auth(None, "regione", regione="15")
    monitoring = platform.url("monitoring")

    def pronti() -> bool:
        indicatori = {x["ambito"]: x for x in _chiama(monitoring, campania, "GET", "/regione/indicatori", 200)["ambiti"]}
        piani = {x["ambito"]: x for x in _chiama(monitoring, campania, "GET", "/regione/piani", 200)["ambiti"]}
        return (a in indicatori and indicatori[a]["tasso_pagamento"] == "0.2500"
                and b in indicatori and indicatori[b]["tasso_impegno"] == "0.0000"
                and piani.get(a, {}).get("stati", {}).get("approvato") == 1 and c in piani)

    wait_until(pronti, timeout=90, interval=0.5, message="the regional read model")
    wait_until(lambda: any(x["ambito"] == altra for x in _chiama(
        monitoring, platform.infra.auth(None, "regione", regione="05"), "GET", "/regione/piani", 200)["ambiti"]),
        timeout=60, message="the other Region's Ambito in its own regional model")

    visita = persona("regione", regione="15")
    page = visita.page
    page.wait_for_url("**/regione")
    assert page.get_by_role("heading", level=1).inner_text() == "Ambiti della Regione 15"
    assert page.locator("#tabella-ambiti caption").inner_text().startswith("Ambiti della Regione 15")
    visita.passo("tutti gli ambiti della regione")

    # Search for the code: only this Region's three Ambiti (HTMX swaps the table; the URL follows).
    page.get_by_label("Cerca per codice o nome").fill(codice)
    page.get_by_role("button", name="Applica i filtri").click()
    page.wait_for_url(re.compile(rf".*cerca={codice}.*"))
    attendi_righe(page, [a, b, c])
    assert altra not in page.locator("#tabella-ambiti").inner_text()
    assert re.match(r"3 Ambiti( su \d+)?,", page.get_by_test_id("riepilogo-regione").inner_text())
    riga_a = page.locator(f'#tabella-ambiti tr[data-ambito="{a}"]')
    assert "40,0%" in riga_a.inner_text() and "25,0%" in riga_a.inner_text()
    assert "1 approvato" in riga_a.inner_text() and "—" not in riga_a.locator("td").last.inner_text()
    riga_c = page.locator(f'#tabella-ambiti tr[data-ambito="{c}"]')
    assert "1 bozza" in riga_c.inner_text()
    visita.passo("cerca il codice")

    # Sort by the commitment rate: ascending, then descending; an Ambito without the figure stays last.
    page.get_by_role("link", name=re.compile("^Tasso di impegno")).click()
    page.wait_for_url(re.compile(r".*ordina=tasso_impegno.*verso=asc.*"))
    attendi_righe(page, [b, a, c])
    intestazione = page.locator('th:has(a[data-ordina="tasso_impegno"])')
    assert intestazione.get_attribute("aria-sort") == "ascending"
    page.get_by_role("link", name=re.compile("^Tasso di impegno")).click()
    page.wait_for_url(re.compile(r".*ordina=tasso_impegno.*verso=disc.*"))
    attendi_righe(page, [a, b, c])
    assert page.locator('th:has(a[data-ordina="tasso_impegno"])').get_attribute("aria-sort") == "descending"
    assert page.locator('th:has(a[data-ordina="nome"])').get_attribute("aria-sort") == "none"
    assert "ordinati per «Tasso di impegno» in ordine decrescente" in page.get_by_test_id("riepilogo-regione").inner_text()
    visita.passo("ordinati per tasso di impegno decrescente")

    # Filter by the Piano's state (the select applies itself): only the approved ones, order kept.
    page.get_by_label("Stato dei Piani").select_option("approvato")
    page.wait_for_url(re.compile(r".*stato=approvato.*"))
    attendi_righe(page, [a, b])
    assert "ordina=tasso_impegno" in page.url
    visita.passo("solo i piani approvati")
    page.get_by_label("Stato dei Piani").select_option("")
    attendi_righe(page, [a, b, c])

    # The chart, with its values as a table beside it.
    page.locator("#grafico-regione summary").click()
    grafico = page.locator("#grafico-regione canvas")
    grafico.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#grafico-regione canvas').dataset.disegnato === '1'")
    assert grafico.bounding_box()["height"] > 100
    valori = page.locator("#grafico-regione table")
    assert valori.locator("caption").inner_text().startswith("Valori del grafico")
    assert "40,0%" in valori.locator("tr", has_text=a).inner_text()
    visita.passo("grafico dei tassi di esecuzione")

    # The CSV: the same rows, same order, values as the service gave them.
    with page.expect_download() as scaricato:
        page.get_by_role("link", name=re.compile("Scarica CSV")).click()
    download = scaricato.value
    assert download.suggested_filename == "ambiti-regione-15.csv"
    righe = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [r["ambito"] for r in righe] == [a, b, c]
    assert (righe[0]["tasso_impegno"], righe[0]["tasso_pagamento"], righe[0]["piani_approvati"],
            righe[0]["deliberazioni_approvate"]) == ("0.4000", "0.2500", "1", "1")
    assert righe[2]["tasso_impegno"] == "" and righe[2]["piani_bozza"] == "1"
    assert righe[0]["aggiornato_al"]

    # Drill-down to A: execution per fund, indicators, freshness.
    page.get_by_role("link", name=a, exact=True).click()
    page.wait_for_url(f"**/regione/ambiti/{a}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Ambito {a}")
    esecuzione = page.get_by_test_id("esecuzione-ambito").inner_text().replace("\xa0", " ")
    assert "FNPS" in esecuzione and "€ 100.000,00" in esecuzione and "€ 40.000,00" in esecuzione
    assert "€ 10.000,00" in esecuzione and "40,0%" in esecuzione
    assert "1 approvato" in page.get_by_test_id("stati-piani").inner_text()
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.get_by_test_id("aggiornato-ambito").inner_text())
    page.wait_for_function("() => document.querySelector('canvas[data-grafico]').dataset.disegnato === '1'")
    visita.passo("dettaglio di un ambito")

    # Another Region's Ambito: not listed, and its address says "Non trovato".
    risposta = page.goto(f"/regione/ambiti/{altra}")
    assert risposta.status == 404
    assert page.get_by_test_id("titolo-errore").inner_text() == "Non trovato"
    visita.passo("ambito di un'altra regione non trovato")
    page.goto(f"/regione?cerca={codice}D")
    assert righe_tabella(page) == []
    assert "Nessun Ambito" in page.locator("#risultati").inner_text()
