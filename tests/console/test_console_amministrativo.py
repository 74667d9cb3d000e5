"""The amministrativo's journey through the console's finance pages, as a person clicks and types.

From the decree to the payment and the report: the FNPS and QSFP assignments with their acts, the
populations loaded and the FNPS split among the Comuni (checked before it is stored), an
allocation to a line of the approved Piano, an impegno, a liquidazione and a mandato sent twice
that pays once, the Comuni's contributions with a payment and the arrears, the rendicontazione
with its CSV and XLSX files, and a list paged with "Mostra altri". Only the prerequisites (an
approved Piano in planning) go over HTTP; every step of the journey goes through the console.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Callable

import httpx
import openpyxl

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09

AREE = [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{"codice": "A.1", "titolo": "Restare a casa",
         "interventi": [
             {"codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
              "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
              "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 140,
              "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "200000.00"}]},
             {"codice": "A.1.2", "titolo": "Segretariato sociale e presa in carico",
              "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "1"},
              "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 900,
              "linee_budget": [{"fondo": "QSFP", "anno": 2025, "importo": "80000.00"}]}]}]}]
SAPRI = "065134"
#: amounts are shown as "€\u00a01.234,56" (no break between the symbol and the figure)
NBSP = "\u00a0"


def _vedi(locator: Any) -> str:
    """What a locator shows, with the non-breaking spaces of amounts as plain spaces."""
    return locator.inner_text().replace(NBSP, " ")


def _testo(page: Any, testid: str) -> str:
    return _vedi(page.get_by_test_id(testid))


def _registra_assegnazione(page: Any, fondo: str, importo: str, atto: dict[str, str], quota: str,
                           livelli: list[str]) -> None:
    page.get_by_label("Fondo").select_option(fondo)
    page.get_by_label("Annualità").fill("2025")
    page.get_by_label("Importo assegnato (euro)").fill(importo)
    page.get_by_label("Tipo dell'atto").select_option(atto["tipo"])
    page.get_by_label("Numero dell'atto").fill(atto["numero"])
    page.get_by_label("Data dell'atto").fill(atto["data"])
    page.get_by_label("Ente che lo emette").fill(atto["ente"])
    page.get_by_label("Quota minima per i servizi (percentuale)").fill(quota)
    for livello in livelli:
        page.locator(f"label[for='campo-livello-{livello}']").click()  # Bootstrap Italia's checkbox is its label
    page.get_by_role("button", name="Registra l'assegnazione").click()


def test_dal_decreto_al_mandato_ai_contributi_e_al_rendiconto(
        persona: Callable[..., Any], nuovo_ambito: Callable[..., str], platform: Platform,
        approva_piano: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    ambito = nuovo_ambito()
    piano = approva_piano(ambito, AREE)
    finance = platform.url("finance")
    amministrativo = platform.infra.auth(ambito, "amministrativo")
    wait_until(lambda: httpx.get(f"{finance}/budget/{piano['piano_id']}", headers=amministrativo,
                                 timeout=10).json().get("versione_piano") == 1,
               timeout=90, message="the approved Piano's budget in finance")

    visita = persona("amministrativo", ambito)
    page = visita.page
    page.goto("/finanza")
    assert "Nessuna assegnazione registrata" in _testo(page, "vuoto")
    visita.passo("finanza senza assegnazioni")

    # The FNPS 2025 with its decree: an amount typed in words is refused beside its field, the rest is kept.
    page.get_by_role("link", name="Registra un'assegnazione").click()
    decreto = {"tipo": "decreto_dirigenziale", "numero": "87", "data": "2025-05-20", "ente": "Regione Campania"}
    _registra_assegnazione(page, "FNPS", "duecentocinquantamila", decreto, "40", ["1", "2", "3"])
    assert page.get_by_label("Importo assegnato (euro)").get_attribute("aria-invalid") == "true"
    assert _vedi(page.locator("#campo-importo-errore")).strip()
    assert page.get_by_label("Numero dell'atto").input_value() == "87"
    visita.passo("assegnazione con un importo non valido")
    page.get_by_label("Importo assegnato (euro)").fill("250.000,00")
    page.get_by_role("button", name="Registra l'assegnazione").click()
    page.wait_for_url("**/finanza/assegnazioni/FNPS/2025?esito=registrata")
    saldi = _testo(page, "saldi-assegnazione")
    assert "€ 250.000,00" in saldi and "Disponibile da allocare" in saldi
    assert "Decreto dirigenziale n. 87" in _testo(page, "atti") and "20/05/2025" in _testo(page, "atti")
    visita.passo("assegnazione FNPS registrata")

    page.goto("/finanza/assegnazioni/nuova")
    _registra_assegnazione(page, "QSFP", "100000", {"tipo": "decreto", "numero": "312", "data": "2025-04-14",
                                                     "ente": "Ministero del Lavoro e delle Politiche Sociali"},
                           "40", ["1"])
    page.wait_for_url("**/finanza/assegnazioni/QSFP/2025?esito=registrata")
    assert "€ 100.000,00" in _testo(page, "saldi-assegnazione")

    # The populations at 1 January 2023, pasted as CSV.
    page.get_by_role("link", name="Dati di riferimento").click()
    page.get_by_label("Nome").fill("popolazione")
    page.get_by_label("Data di riferimento").fill(S09["popolazione_al"])
    page.get_by_label("Fonte").fill("ISTAT, popolazione residente al 1° gennaio 2023")
    page.get_by_label("Dati in formato CSV").fill(
        "istat,popolazione\n" + "\n".join(f"{c['istat']},{c['popolazione']}" for c in S09["comuni"]))
    page.get_by_role("button", name="Carica i dati").click()
    page.wait_for_url("**/finanza/dati-riferimento?esito=caricati")
    riga = page.get_by_test_id("dati").get_by_role("row").filter(has_text="popolazione")
    assert "01/01/2023" in _vedi(riga) and "17" in _vedi(riga)
    visita.passo("dati di riferimento caricati")

    # The riparto: checked before it is stored, then the service's split, to the cent.
    riga.get_by_role("link").click()
    page.get_by_label("Oggetto").fill("Riparto FNPS 2025 tra i Comuni dell'Ambito")
    page.get_by_label("Totale da ripartire (euro)").fill("250.000,00")
    page.get_by_label("Indicatore del criterio 1").fill("popolazione")
    page.get_by_label("Peso del criterio 1").fill("1")
    page.get_by_label("Tipo dell'atto").fill("determina")
    page.get_by_label("Numero dell'atto").fill("40")
    page.get_by_label("Data dell'atto").fill("2025-05-28")
    visita.passo("nuovo riparto")
    page.get_by_role("button", name="Verifica prima di registrare").click()
    # The preview is the service's own computation, nothing stored yet: shares, totals, no warning.
    verifica = _testo(page, "verifica-riparto")
    assert "€ 250.000,00" in verifica and "popolazione con peso 1" in verifica
    assert page.get_by_role("heading", name="Anteprima del riparto").is_visible()
    assert page.locator("tr[data-destinatario]").count() == 17
    assert "€ 37.790,56" in _vedi(page.locator(f"tr[data-destinatario='{SAPRI}']"))
    assert "Residuo\t€ 0,00" in _testo(page, "totali-riparto") and page.get_by_test_id("avvisi").count() == 0
    visita.passo("anteprima del riparto prima di registrarlo")
    page.get_by_role("button", name="Esegui e registra il riparto").click()
    page.wait_for_url(re.compile(r".*/finanza/riparti/[0-9a-f-]{36}\?esito=registrato$"))
    assert "€ 37.790,56" in _vedi(page.locator(f"tr[data-destinatario='{SAPRI}']"))
    totali = _testo(page, "totali-riparto")
    assert "Ripartito\t€ 250.000,00" in totali and "Residuo\t€ 0,00" in totali
    assert page.get_by_test_id("avvisi").count() == 0
    assert "Sì" in _testo(page, "riproducibile")
    visita.passo("riparto registrato")

    # The budget of the approved Piano: the FNPS line gets its allocation.
    page.get_by_role("link", name="Budget", exact=True).click()
    page.get_by_role("link", name="Piano Sociale di Zona 2025–2027").click()
    assert "€ 200.000,00" in _vedi(page.get_by_test_id("linee").get_by_role("row").filter(has_text="A.1.1"))
    visita.passo("budget del Piano")
    page.get_by_role("link", name="Alloca a A.1.1 FNPS 2025").click()
    assert page.get_by_label("Intervento").input_value() == "A.1.1"
    page.get_by_label("Importo da allocare (euro)").fill("200.000,00")
    visita.passo("allocazione")
    page.get_by_role("button", name="Alloca", exact=True).click()
    page.wait_for_url(re.compile(r".*/finanza/stanziamenti/[0-9a-f-]{36}\?esito=allocazione$"))
    stanziamento_url = page.url.split("?")[0]
    assert _vedi(page.locator("[data-saldo=stanziato]")) == "€ 200.000,00"
    assert _vedi(page.locator("[data-saldo=disponibile]")) == "€ 200.000,00"

    # Impegno → liquidazione → mandato.
    page.get_by_role("link", name="Nuovo impegno").click()
    page.get_by_label("Importo da impegnare (euro)").fill("120.000,00")
    page.get_by_label("Oggetto dell'impegno").fill("Servizio di assistenza domiciliare anziani 2025")
    page.get_by_label("Denominazione").fill("Cooperativa Sociale Il Faro")
    page.get_by_label("Codice fiscale (11 cifre per un ente, 16 caratteri per una persona)").fill("00743110157")
    page.get_by_label("Tipo dell'atto").select_option("determina")
    page.get_by_label("Numero dell'atto").fill("45")
    page.get_by_label("Data dell'atto").fill("2025-06-03")
    page.get_by_label("CIG (10 caratteri, se c'è un contratto)").fill("B1C2D3E4F5")
    page.get_by_label("Comune per cui si spende (codice ISTAT)").fill(SAPRI)
    visita.passo("nuovo impegno")
    page.get_by_role("button", name="Registra l'impegno").click()
    page.wait_for_url("**?esito=impegno")
    assert _vedi(page.locator("[data-saldo=impegnato]")) == "€ 120.000,00"
    assert _vedi(page.locator("[data-saldo=disponibile]")) == "€ 80.000,00"
    assert "Impegno registrato." in _testo(page, "esito")
    visita.passo("impegno registrato")

    page.get_by_role("link", name="Liquida l'impegno di Cooperativa Sociale Il Faro").click()
    page.get_by_label("Importo da liquidare (euro)").fill("30.000,00")
    page.get_by_label("Numero della fattura").fill("FT-2025/77")
    page.get_by_label("Data della fattura").fill("2025-09-30")
    page.get_by_role("button", name="Registra la liquidazione").click()
    page.wait_for_url("**?esito=liquidazione")
    assert _vedi(page.locator("[data-saldo=liquidato]")) == "€ 30.000,00"
    visita.passo("liquidazione registrata")

    # The mandato: a double click, then the very same form sent again. The money moves once.
    page.get_by_role("link", name="Emetti il mandato per la fattura FT-2025/77").click()
    modulo_url = page.url
    page.get_by_label("Importo da pagare (euro)").fill("10.000,00")
    page.get_by_label("Data del mandato").fill("2025-10-15")
    modulo = page.locator("form[data-una-volta]")
    dati = modulo.evaluate("f => Object.fromEntries(new FormData(f))")
    assert len(dati["chiave"]) >= 8
    visita.passo("mandato di pagamento")
    page.get_by_role("button", name="Emetti il mandato").dblclick()
    page.wait_for_url("**?esito=mandato")
    di_nuovo = page.request.post(modulo_url, form=dati)
    assert di_nuovo.ok and "Mandato di pagamento emesso." in di_nuovo.text()
    page.goto(stanziamento_url)
    mandati = page.get_by_test_id("mandati").locator("tbody tr")
    assert mandati.count() == 1 and "€ 10.000,00" in _vedi(mandati) and "15/10/2025" in _vedi(mandati)
    assert _vedi(page.locator("[data-saldo=pagato]")) == "€ 10.000,00"
    liquidazione = _vedi(page.get_by_test_id("liquidazioni").locator("tbody tr"))
    assert "€ 30.000,00\t€ 10.000,00" in liquidazione  # liquidated 30,000, paid 10,000 once (not 20,000)
    elenco = httpx.get(f"{finance}/mandati", headers=amministrativo, timeout=10).json()["elementi"]
    assert [m["importo"] for m in elenco] == ["10000.00"]
    visita.passo("un solo mandato dopo due invii")

    # Lists: filters, and the next page with the service's cursor.
    page.goto("/finanza?limite=1")
    assegnazioni = page.get_by_test_id("assegnazioni").locator("tbody tr")
    assert assegnazioni.count() == 1 and "QSFP" in _vedi(assegnazioni)
    page.get_by_role("link", name="Mostra altri").click()
    assert assegnazioni.count() == 1 and "FNPS" in _vedi(assegnazioni)
    assert page.get_by_role("link", name="Mostra altri").count() == 0
    visita.passo("seconda pagina delle assegnazioni")
    page.get_by_role("link", name="Impegni").click()
    page.get_by_label("Fondo").select_option("QSFP")
    page.get_by_role("button", name="Filtra").click()
    assert "Nessun impegno con questi filtri" in _vedi(page.locator("main"))
    page.get_by_label("Fondo").select_option("FNPS")
    page.get_by_label("Da liquidare").select_option("true")
    page.get_by_role("button", name="Filtra").click()
    impegno = page.get_by_test_id("elenco-impegni").locator("tbody tr")
    assert impegno.count() == 1 and "Cooperativa Sociale Il Faro" in _vedi(impegno)
    assert "€ 90.000,00" in _vedi(impegno)  # 120,000 committed, 30,000 liquidated
    visita.passo("impegni filtrati")

    # The Comuni's contributions: 4,50 € per inhabitant in two instalments; Sapri pays the first.
    page.get_by_role("link", name="Contributi dei Comuni").click()
    page.get_by_label("Anno").fill("2026")
    page.get_by_label("Quota per abitante (euro)").fill("4,50")
    page.get_by_label("Scadenza della rata 1").fill("2026-06-30")
    page.get_by_label("Percentuale della rata 1").fill("50")
    page.get_by_label("Scadenza della rata 2").fill("2026-12-31")
    page.get_by_label("Percentuale della rata 2").fill("50")
    visita.passo("determinazione dei contributi")
    page.get_by_role("button", name="Determina le quote").click()
    page.wait_for_url("**/finanza/contributi/2026?esito=determinati")
    assert "€ 189.720,00" in _testo(page, "totali-contributi")
    page.get_by_role("combobox", name="Comune", exact=True).select_option(SAPRI)
    page.get_by_label("Importo versato (euro)").fill("14.339,25")
    page.get_by_label("Data del versamento").fill("2026-06-20")
    page.get_by_label("Riferimento della reversale").fill("Reversale 412/2026")
    page.get_by_role("button", name="Registra il versamento").click()
    page.wait_for_url("**/finanza/contributi/2026?esito=versamento")
    page.get_by_label("Situazione al giorno").fill("2026-07-31")
    page.get_by_role("button", name="Mostra", exact=True).click()
    sapri = _vedi(page.locator(f"tr[data-istat='{SAPRI}']"))
    assert "€ 28.678,50" in sapri and "€ 14.339,25" in sapri and "In regola" in sapri
    alfano = _vedi(page.locator("tr[data-istat='065004']"))  # 953 × 4.50 = 4,288.50, half due by 30 June
    assert "In arretrato" in alfano and "€ 2.144,25" in alfano
    assert "31/07/2026" in _testo(page, "totali-contributi")
    visita.passo("contributi e arretrati al 31 luglio")

    # The rendicontazione, from the ledger (a read model: a moment after the movements), and its files.
    page.get_by_role("link", name="Rendicontazione").click()
    page.get_by_label("Fondo").select_option("FNPS")
    page.get_by_label("Annualità").fill("2025")
    page.get_by_role("button", name="Mostra", exact=True).click()

    def rendiconto_aggiornato() -> bool:
        tabella = page.get_by_test_id("rendiconto")
        if tabella.count() and "€ 10.000,00" in _vedi(tabella.get_by_role("row").filter(has_text="FNPS 2025")):
            return True
        page.reload()
        return False

    wait_until(rendiconto_aggiornato, timeout=60, interval=1, message="the ledger in the rendicontazione")
    riga = _vedi(page.get_by_test_id("rendiconto").get_by_role("row").filter(has_text="FNPS 2025"))
    assert "€ 250.000,00" in riga and "€ 200.000,00" in riga and "€ 120.000,00" in riga and "€ 30.000,00" in riga
    visita.passo("rendicontazione")

    with page.expect_download() as scaricato:
        page.get_by_role("link", name="Scarica in CSV").click()
    file_csv = scaricato.value
    assert file_csv.suggested_filename.endswith(".csv")
    righe = list(csv.reader(io.StringIO(Path(file_csv.path()).read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert len(righe) >= 2 and any(SAPRI in r and "A.1.1" in r for r in righe[1:]), righe[:3]
    with page.expect_download() as scaricato:
        page.get_by_role("link", name="Scarica in Excel (XLSX)").click()
    file_xlsx = scaricato.value
    assert file_xlsx.suggested_filename.endswith(".xlsx")
    cartella = openpyxl.load_workbook(io.BytesIO(Path(file_xlsx.path()).read_bytes()))
    assert "Rendicontazione" in cartella.sheetnames and cartella["Rendicontazione"].max_row >= 2


def test_riparto_con_quote_arrotondate_avvisa_del_residuo(persona: Callable[..., Any],
                                                        nuovo_ambito: Callable[..., str],
                                                        platform: Platform) -> None:
    """Three equal recipients, shares rounded to 33.33%: 99.99 of 100.00 is split, and the page says so."""
    ambito = nuovo_ambito()
    risposta = httpx.post(f"{platform.url('finance')}/dati-riferimento", timeout=30,
                          headers=platform.infra.auth(ambito, "amministrativo"),
                          json={"nome": "nuclei", "data_riferimento": "2025-01-01", "fonte": "Anagrafe dei Comuni",
                                "csv": "id,nuclei\nA,1\nB,1\nC,1\n"})
    assert risposta.status_code == 201, risposta.text

    visita = persona("amministrativo", ambito)
    page = visita.page
    page.goto("/finanza/riparti")
    page.get_by_role("link", name="Nuovo riparto").click()
    page.get_by_label("Oggetto").fill("Riparto di prova su quote arrotondate")
    page.get_by_label("Dati di riferimento").select_option(label="nuclei al 01/01/2025 · 3 destinatari (nuclei)")
    page.get_by_label("Totale da ripartire (euro)").fill("100,00")
    page.get_by_label("Indicatore del criterio 1").fill("nuclei")
    page.get_by_label("Peso del criterio 1").fill("un terzo")
    page.get_by_label("Metodo").select_option("quote_arrotondate")
    page.get_by_role("button", name="Verifica prima di registrare").click()
    # The service's preview refuses the weight: the form comes back with its message beside the field, values kept.
    peso = page.get_by_label("Peso del criterio 1")
    assert peso.get_attribute("aria-invalid") == "true" and peso.input_value() == "un terzo"
    assert _vedi(page.locator("#campo-criteri-0-peso-errore")).strip()
    visita.passo("peso non valido")

    peso.fill("1")
    page.get_by_role("button", name="Verifica prima di registrare").click()
    assert "€ 100,00" in _testo(page, "verifica-riparto")
    assert page.locator("tr[data-destinatario]").count() == 3
    # The warning is there before anything is stored.
    anteprima = _testo(page, "avvisi")
    assert "Resta un residuo non ripartito" in anteprima and "€ 0,01" in anteprima
    visita.passo("anteprima con un residuo")
    page.get_by_role("button", name="Esegui e registra il riparto").click()
    page.wait_for_url(re.compile(r".*/finanza/riparti/[0-9a-f-]{36}\?esito=registrato$"))
    avvisi = _testo(page, "avvisi")
    assert "Resta un residuo non ripartito" in avvisi and "€ 0,01" in avvisi
    assert "Residuo\t€ 0,01" in _testo(page, "totali-riparto")
    for destinatario in "ABC":
        assert "€ 33,33" in _vedi(page.locator(f"tr[data-destinatario='{destinatario}']"))
    visita.passo("riparto con un residuo")
