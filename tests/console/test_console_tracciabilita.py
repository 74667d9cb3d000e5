"""Traceability in the console's money forms, as the amministrativo clicks and types (issue 12).

The prerequisites go over HTTP: a Piano approved in planning (line A.1.1 on FNPS 2025 and FNA 2025), two
cooperatives in partnership's register with an award of A.1.1 to the first (CIG, 30,000 €), the FNPS
assignment and the allocations. Through the console: a commitment to the first cooperative made by finding
and choosing its award (the CIG is the award's); a commitment to the second cooperative, its invoice, then
its award: the payment without a CIG is refused beside the CIG field (L. 136/2010 art. 3 c. 5) and issued
with it; a professional with a 16-character codice fiscale committed to; the FNA 2025 registered as PNRR
with its checkbox, and a commitment on it without a CUP refused beside the CUP field (L. 3/2003 art. 11),
then taken with it. Every figure and refusal is finance's.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Callable

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import ALTRA, CIG, CIG_ALTRA, COOP, CUP, DETERMINA, Client, aree_domiciliarita

PROFESSIONISTA = ("Mario Rossi, psicologo", "RSSMRA85T10A562S")
AREE = aree_domiciliarita("FNA")
ATTO = DETERMINA
NBSP = "\u00a0"
CF_LABEL = "Codice fiscale (11 cifre per un ente, 16 caratteri per una persona)"


def _vedi(locator: Any) -> str:
    return locator.inner_text().replace(NBSP, " ")


def _impegno(page: Any, importo: str, oggetto: str, denominazione: str | None, codice_fiscale: str) -> None:
    """Fill the impegno's form (its act is ATTO); the caller submits."""
    page.get_by_label("Importo da impegnare (euro)").fill(importo)
    page.get_by_label("Oggetto dell'impegno").fill(oggetto)
    if denominazione is not None:
        page.get_by_label("Denominazione o nome e cognome").fill(denominazione)
    page.get_by_label(CF_LABEL).fill(codice_fiscale)
    page.get_by_label("Tipo dell'atto").select_option(ATTO["tipo"])
    page.get_by_label("Numero dell'atto").fill(ATTO["numero"])
    page.get_by_label("Data dell'atto").fill(ATTO["data"])


def test_affidamento_cig_cup_e_persone_nei_moduli(persona: Callable[..., Any], nuovo_ambito: Callable[..., str],
                                                 platform: Platform,
                                                 approva_piano: Callable[..., dict[str, Any]]) -> None:
    ambito = nuovo_ambito()
    piano = approva_piano(ambito, AREE)
    partnership = Client(platform, "partnership", platform.infra.auth(ambito, "coordinatore"))
    finance = Client(platform, "finance", platform.infra.auth(ambito, "amministrativo"))
    enti = {cf: partnership("POST", "/enti", 201, json={
        "codice_fiscale": cf, "tipo": "ets", "denominazione": nome, "forma_giuridica": "cooperativa sociale",
        "runts": {"sezione": "imprese_sociali", "numero_repertorio": rep}}).json()
        for cf, nome, rep in ((COOP, "Cooperativa Sociale Il Faro", "104578"), (ALTRA, "Cooperativa Alba", "55120"))}
    periodo = {"valido_dal": (date.today() - timedelta(days=30)).isoformat(),
               "valido_al": (date.today() + timedelta(days=365)).isoformat()}
    affidamento = {"piano_id": piano["piano_id"], "intervento": "A.1.1", "modalita": "gara", "atto": ATTO, **periodo}
    partnership("POST", "/affidamenti", 201, json={**affidamento, "ente_id": enti[COOP]["id"], "importo": "30000.00",
                                                  "cig": CIG})
    wait_until(lambda: finance("GET", f"/budget/{piano['piano_id']}").json().get("versione_piano") == 1,
               timeout=90, message="the approved Piano's budget in finance")
    wait_until(lambda: finance("GET", f"/fornitori/{COOP}/abilitazioni").json()["titoli"], timeout=60,
               message="the award in finance")
    finance("POST", "/assegnazioni", 201, json={"fondo": "FNPS", "annualita": 2025, "importo": "200000.00",
                                                "atto": {"tipo": "decreto", "numero": "9", "data": "2025-04-02",
                                                         "ente": "Regione Campania"}})
    fnps = finance("POST", f"/budget/{piano['piano_id']}/allocazioni", 201, json={
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "100000.00"}).json()["id"]

    visita = persona("amministrativo", ambito)
    page = visita.page

    # A commitment under the award: the person types the cooperative's codice fiscale, asks for its awards and
    # chooses the one for A.1.1; its CIG (and the awardee's name) fill in, and finance records that CIG.
    page.goto(f"/finanza/stanziamenti/{fnps}")
    page.get_by_role("link", name="Nuovo impegno").click()
    _impegno(page, "20.000,00", "Servizio di assistenza domiciliare anziani 2026", None, COOP)
    affidamenti = page.get_by_label("Affidamento sotto cui si impegna")
    assert affidamenti.locator("option").count() == 1  # only "Nessun affidamento" before the search
    page.get_by_role("button", name="Cerca gli affidamenti del beneficiario").click()
    opzioni = affidamenti.locator("option")
    assert opzioni.count() == 2
    offerta = _vedi(opzioni.nth(1))
    assert "Cooperativa Sociale Il Faro" in offerta and f"CIG {CIG}" in offerta and "€ 30.000,00" in offerta
    assert page.get_by_label("Importo da impegnare (euro)").input_value() == "20.000,00"  # what was typed is kept
    affidamenti.select_option(index=1)
    assert page.get_by_label("CIG (10 caratteri, se c'è un contratto)").input_value() == CIG
    assert page.get_by_label("Denominazione o nome e cognome").input_value() == "Cooperativa Sociale Il Faro"
    visita.passo("impegno sotto l'affidamento scelto")
    page.get_by_role("button", name="Registra l'impegno").click()
    page.wait_for_url("**?esito=impegno")
    riga = _vedi(page.get_by_test_id("impegni").locator("tbody tr").filter(has_text="Il Faro"))
    assert f"CIG {CIG}" in riga and "€ 20.000,00" in riga
    assert _vedi(page.locator("[data-saldo=impegnato]")) == "€ 20.000,00"
    visita.passo("impegno sotto l'affidamento registrato")

    # A commitment to the second cooperative before it holds any award, without a CIG, and its invoice.
    page.get_by_role("link", name="Nuovo impegno").click()
    _impegno(page, "3.000,00", "Trasporto sociale", "Cooperativa Alba", ALTRA)
    page.get_by_role("button", name="Registra l'impegno").click()
    page.wait_for_url("**?esito=impegno")
    page.get_by_role("link", name="Liquida l'impegno di Cooperativa Alba").click()
    page.get_by_label("Importo da liquidare (euro)").fill("3.000,00")
    page.get_by_label("Numero della fattura").fill("A-7")
    page.get_by_label("Data della fattura").fill("2026-02-01")
    page.get_by_role("button", name="Registra la liquidazione").click()
    page.wait_for_url("**?esito=liquidazione")
    # Then partnership awards it A.1.1: the payment is due under that award and reports its CIG.
    partnership("POST", "/affidamenti", 201, json={**affidamento, "ente_id": enti[ALTRA]["id"], "importo": "3000.00",
                                                  "cig": CIG_ALTRA})
    wait_until(lambda: finance("GET", f"/fornitori/{ALTRA}/abilitazioni").json()["titoli"], timeout=60,
               message="the second award in finance")
    page.get_by_role("link", name="Emetti il mandato per la fattura A-7").click()
    page.get_by_label("Importo da pagare (euro)").fill("3.000,00")
    page.get_by_label("Data del mandato").fill("2026-02-10")
    page.get_by_role("button", name="Emetti il mandato").click()
    cig = page.get_by_label("CIG del pagamento (10 caratteri)")
    assert cig.get_attribute("aria-invalid") == "true"
    errore = _vedi(page.locator("#campo-cig-errore"))
    assert "CIG" in errore and "L. 136/2010" in errore
    assert page.get_by_label("Importo da pagare (euro)").input_value() == "3.000,00"
    visita.passo("mandato rifiutato senza CIG")
    cig.fill(CIG_ALTRA)
    page.get_by_role("button", name="Emetti il mandato").click()
    page.wait_for_url("**?esito=mandato")
    mandato = _vedi(page.get_by_test_id("mandati").locator("tbody tr").filter(has_text=ALTRA))
    assert f"CIG {CIG_ALTRA}" in mandato and "€ 3.000,00" in mandato
    visita.passo("mandato emesso con il CIG")

    # A professional, a person with a 16-character codice fiscale.
    page.get_by_role("link", name="Nuovo impegno").click()
    _impegno(page, "4.800,00", "Supervisione psicologica degli operatori", *PROFESSIONISTA)
    visita.passo("impegno a un professionista")
    page.get_by_role("button", name="Registra l'impegno").click()
    page.wait_for_url("**?esito=impegno")
    riga = _vedi(page.get_by_test_id("impegni").locator("tbody tr").filter(has_text="Mario Rossi"))
    assert f"CF {PROFESSIONISTA[1]}" in riga and "€ 4.800,00" in riga
    visita.passo("impegno al professionista registrato")

    # The FNA 2025 registered as PNRR-funded with its checkbox.
    page.goto("/finanza/assegnazioni/nuova")
    page.get_by_label("Fondo").select_option("FNA")
    page.get_by_label("Annualità").fill("2025")
    page.get_by_label("Importo assegnato (euro)").fill("50.000,00")
    page.get_by_label("Tipo dell'atto").select_option("decreto")
    page.get_by_label("Numero dell'atto").fill("5")
    page.get_by_label("Data dell'atto").fill("2025-03-01")
    page.get_by_label("Ente che lo emette").fill("Ministero del Lavoro e delle Politiche Sociali")
    page.locator("label[for='campo-pnrr']").click()  # Bootstrap Italia's checkbox is its label
    assert page.get_by_label("Finanziata dal PNRR (Piano nazionale di ripresa e resilienza)").is_checked()
    visita.passo("assegnazione PNRR")
    page.get_by_role("button", name="Registra l'assegnazione").click()
    page.wait_for_url("**/finanza/assegnazioni/FNA/2025?esito=registrata")
    assert "PNRR: ogni impegno indica il CUP" in _vedi(page.get_by_test_id("natura"))
    assert finance("GET", "/assegnazioni/FNA/2025").json()["pnrr"] is True
    visita.passo("assegnazione PNRR registrata")

    # A commitment on it without a CUP is refused beside the CUP field; with the CUP it is taken.
    fna = finance("POST", f"/budget/{piano['piano_id']}/allocazioni", 201, json={
        "intervento": "A.1.1", "fondo": "FNA", "anno": 2025, "annualita": 2025, "importo": "50000.00"}).json()["id"]
    page.goto(f"/finanza/stanziamenti/{fna}/impegni/nuovo")
    _impegno(page, "10.000,00", "Adattamento domestico per la domiciliarità", *PROFESSIONISTA)
    page.get_by_role("button", name="Registra l'impegno").click()
    cup = page.get_by_label("CUP (15 caratteri, per i progetti di investimento)")
    assert cup.get_attribute("aria-invalid") == "true"
    errore = _vedi(page.locator("#campo-cup-errore"))
    assert "CUP" in errore and "PNRR" in errore and "L. 3/2003" in errore
    assert page.get_by_label(CF_LABEL).input_value() == PROFESSIONISTA[1]
    visita.passo("impegno PNRR rifiutato senza CUP")
    cup.fill(CUP)
    page.get_by_role("button", name="Registra l'impegno").click()
    page.wait_for_url(re.compile(rf".*/finanza/stanziamenti/{fna}\?esito=impegno$"))
    assert f"CUP {CUP}" in _vedi(page.get_by_test_id("impegni").locator("tbody tr"))
    visita.passo("impegno PNRR con il CUP")
