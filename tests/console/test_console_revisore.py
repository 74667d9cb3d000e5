"""Journey 7: the auditor of an Ambito reads the history of a deliberation and of a payment, each event
with its hash link and the service's verdict on it, and the verification of the Ambito's audit chain
by each of the four services.

Seeded over HTTP with real tokens: the Comitato approves the Piano (a deliberation with its number),
and finance moves FNPS 2025 from the assignment to a payment order (impegno 40.000,00, liquidazione
and mandato 10.000,00).
"""

from __future__ import annotations

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
HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _chiama(url: str, headers: dict[str, str], metodo: str, path: str, atteso: int, **kw: Any) -> dict[str, Any]:
    risposta = httpx.request(metodo, f"{url}{path}", headers=headers, timeout=30, **kw)
    assert risposta.status_code == atteso, (metodo, path, risposta.status_code, risposta.text)
    return risposta.json()


def paga(platform: Platform, tenant: str, piano_id: str) -> tuple[str, str]:
    """From the FNPS 2025 assignment to a payment order; returns (stanziamento, impegno)."""
    finance = platform.url("finance")
    amministrativo = platform.infra.auth(tenant, "amministrativo")

    def movimento(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _chiama(finance, {**amministrativo, "Idempotency-Key": f"revisione-{uuid.uuid4()}"}, "POST", path,
                       201, json=body)

    wait_until(lambda: _chiama(finance, amministrativo, "GET", f"/budget/{piano_id}", 200)["versione_piano"] == 1,
               timeout=60, message="the approved budget lines in finance")
    _chiama(finance, amministrativo, "POST", "/assegnazioni", 201, json={
        "fondo": "FNPS", "annualita": 2025, "importo": "100000.00", "atto": DECRETO})
    stanziamento = movimento(f"/budget/{piano_id}/allocazioni", {
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "80000.00"})["id"]
    impegno = movimento(f"/stanziamenti/{stanziamento}/impegni", {
        "importo": "40000.00", "beneficiario": {"denominazione": "Cooperativa Sociale Il Faro",
                                                "codice_fiscale": "00743110157"},
        "cig": "B1C2D3E4F5", "atto": {"tipo": "determina", "numero": "45", "data": "2025-06-03"},
        "oggetto": "Assistenza domiciliare anziani 2025"})["impegno_id"]
    liquidazione = movimento(f"/stanziamenti/{stanziamento}/impegni/{impegno}/liquidazioni", {
        "importo": "10000.00", "fattura": {"numero": "FT-2025/77", "data": "2025-09-30"}})["liquidazione_id"]
    movimento(f"/stanziamenti/{stanziamento}/liquidazioni/{liquidazione}/mandati", {
        "importo": "10000.00", "data": "2025-10-15"})
    return stanziamento, impegno


def test_il_revisore_vede_le_storie_verificate_e_la_catena_di_audit(
        persona, nuovo_ambito, platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> None:
    tenant = nuovo_ambito()
    piano = approva_piano(tenant, AREE)
    stanziamento, impegno = paga(platform, tenant, piano["piano_id"])
    revisore = platform.infra.auth(tenant, "revisore")

    # The outbox workers link the events into the chain a moment after they commit: wait for every link.
    [deliberazione] = _chiama(platform.url("planning"), revisore, "GET", "/deliberazioni", 200,
                              params={"stato": "approvata"})["elementi"]
    wait_until(lambda: _chiama(platform.url("planning"), revisore, "GET",
                               f"/deliberazioni/{deliberazione['id']}/storia", 200)["verifica"]["esito"] == "integra",
               timeout=60, message="the deliberation's events chained")
    wait_until(lambda: _chiama(platform.url("finance"), revisore, "GET",
                               f"/stanziamenti/{stanziamento}/impegni/{impegno}/storia", 200)["esito"] == "integra",
               timeout=60, message="the payment's events chained")
    wait_until(lambda: _chiama(platform.url("planning"), revisore, "GET", "/audit/verify", 200)["testimone"][
        "confrontato"], timeout=60, message="planning's chain head published on Kafka")
    attesi = {s: _chiama(platform.url(s), revisore, "GET", "/audit/verify", 200)
              for s in ("planning", "finance", "partnership", "monitoring")}

    visita = persona("revisore", tenant)
    page = visita.page
    page.wait_for_url("**/revisione")
    assert page.get_by_role("heading", level=1).inner_text() == f"Revisione dell'Ambito {tenant}"

    # The chain, verified by each of the four services.
    catena = page.get_by_test_id("verifica-catena")
    for servizio in ("planning", "finance", "partnership", "monitoring"):
        riga = catena.locator(f'tr[data-servizio="{servizio}"]').inner_text()
        assert "Integra" in riga, (servizio, riga)
        if attesi[servizio]["head"]:
            assert attesi[servizio]["head"] in riga
    assert re.search(r"\b[1-9]\d*\b", catena.locator('tr[data-servizio="planning"] td.num').inner_text())
    assert HASH.search(catena.locator('tr[data-servizio="finance"]').inner_text())
    assert "Catena vuota" in catena.locator('tr[data-servizio="partnership"]').inner_text()
    # and compared with the head published on Kafka, outside the database
    planning = attesi["planning"]["testimone"]
    assert planning["confrontato"], planning
    assert f"Confrontata con la testa pubblicata su Kafka (evento n. {planning['notification_id']}" in \
        catena.locator('tr[data-servizio="planning"] [data-testid="testimone"]').inner_text()
    visita.passo("revisione con la verifica della catena")

    # The deliberation that approved the Piano: every event, its link, verified.
    page.get_by_test_id("deliberazioni").get_by_role("link", name=re.compile("^Storia")).first.click()
    page.wait_for_url(f"**/revisione/deliberazioni/{deliberazione['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Deliberazione {deliberazione['numero']}"
    assert "Verifica della catena: Integra" in page.get_by_test_id("esito-verifica").text_content()
    storia = page.get_by_test_id("storia-deliberazione")
    righe = storia.locator("tbody tr")
    assert righe.count() >= 20  # proposal, convocation, 17 attendances, opening, 17 votes, closing, number...
    testo = storia.inner_text()
    for evento in ("Proposta", "Voto espresso", "Approvata", "Numero assegnato"):
        assert evento in testo, evento
    assert righe.filter(has_text="Verificato").count() == righe.count()
    assert len(HASH.findall(testo)) == righe.count()
    righe.filter(has_text="Voto espresso").first.locator("summary").click()
    assert "favorevole" in righe.filter(has_text="Voto espresso").first.inner_text()
    visita.passo("storia della deliberazione verificata")

    # The payment: impegno, liquidazione and mandato, each verified, with the running figures.
    page.get_by_role("link", name="Torna alla revisione").click()
    page.wait_for_url("**/revisione")
    page.get_by_test_id("impegni").get_by_role("link", name=re.compile("^Storia dei pagamenti")).first.click()
    page.wait_for_url(f"**/revisione/impegni/{stanziamento}/{impegno}")
    assert "Verifica della catena: Integra" in page.get_by_test_id("esito-verifica").text_content()
    movimenti = page.get_by_test_id("storia-impegno").locator("tbody tr")
    assert [movimenti.nth(i).locator("th").inner_text().split("\n")[0] for i in range(movimenti.count())] == [
        "Impegno", "Liquidazione", "Mandato di pagamento"]
    assert movimenti.filter(has_text="Verificato").count() == 3
    assert len(HASH.findall(page.get_by_test_id("storia-impegno").inner_text())) == 3
    totali = page.get_by_test_id("totali-impegno").inner_text().replace("\xa0", " ")
    assert "€ 40.000,00" in totali and "€ 10.000,00" in totali and "€ 30.000,00" in totali
    assert "fattura FT-2025/77" in movimenti.nth(1).inner_text()
    visita.passo("storia dei pagamenti verificata")

    # A history of another Ambito's id is not found.
    risposta = page.goto(f"/revisione/impegni/{uuid.uuid4()}/{impegno}")
    assert risposta.status == 404
    assert page.get_by_test_id("titolo-errore").inner_text() == "Non trovato"
