"""Journey 1 of the console: the coordinatore of an Ambito that starts from nothing.

She registers the Ambito's Comuni (a wrong ISTAT code is refused beside its field), drafts the Piano di
Zona (a two-year period is refused beside its last year), writes its tree area → obiettivo → intervento
with budget lines while the totals follow what she types (an amount with three decimals is refused
beside its field), and proposes it. What other people do is seeded over HTTP: the Comitato approves the
version, the administration assigns and commits funds, a tavolo sends a proposal, the ASL signs the
Accordo. Then she opens the annual update, takes the tavolo's proposal into it, changes a budget line,
compares the two versions and proposes the update; the Ambito's home shows the Piano, the next seduta,
the funds' execution rates from monitoring and the signatures still missing. Another Ambito's Piano is
"Non trovato".
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.console.conftest import Visita

COMUNI = [("065134", "Sapri", "6373"), ("065021", "Camerota", "6875"), ("065149", "Torre Orsaia", "2003"),
          ("065157", "Vibonati", "3201")]
COOP = "00743110157"


class Api:
    """Over HTTP with real tokens: what other people do in this journey."""

    def __init__(self, platform: Platform, tenant: str):
        self.platform, self.tenant = platform, tenant

    def __call__(self, service: str, method: str, path: str, role: str = "coordinatore", expect: int | None = 200,
                 comune: str | None = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        auth = self.platform.infra.auth(self.tenant, role, **({"comune": comune} if comune else {}))
        r = httpx.request(method, f"{self.platform.url(service)}{path}", headers={**auth, **(headers or {})},
                          timeout=30, **kw)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r.json() if r.content else None


def euro(cifra: str) -> re.Pattern[str]:
    """An amount as the console shows it (``€ 1.234,56``, with a no-break space)."""
    return re.compile(r"€\s" + re.escape(cifra))


def approva_proposta(api: Api, proposta_id: str) -> str:
    """The Comitato (one head one vote, every Comune present and in favour) approves a proposal."""
    prima = datetime.now(timezone.utc) - timedelta(minutes=1)
    seduta = api("planning", "POST", "/sedute", expect=201, json={
        "oggetto": "Approvazione del Piano", "luogo": "Sapri", "prima_convocazione": prima.isoformat(),
        "ordine_del_giorno": [proposta_id]})["id"]
    for istat, _, _ in COMUNI:
        api("planning", "PUT", f"/sedute/{seduta}/presenze/{istat}", json={"presente": True})
    api("planning", "POST", f"/sedute/{seduta}/apertura", json={"convocazione": 1})
    api("planning", "POST", f"/sedute/{seduta}/votazioni", json={"proposta_id": proposta_id})
    for istat, _, _ in COMUNI:
        api("planning", "POST", f"/sedute/{seduta}/votazioni/{proposta_id}/voti", role="componente_comitato",
            comune=istat, expect=201, json={"componente": istat, "voto": "favorevole"})
    delibera = api("planning", "POST", f"/sedute/{seduta}/votazioni/{proposta_id}/chiusura")
    assert delibera["stato"] == "approvata", delibera
    return delibera["numero"]


def proposta_aperta(api: Api) -> str:
    return api("planning", "GET", "/deliberazioni", params={"stato": "proposta"})["elementi"][0]["id"]


def test_il_coordinatore_dal_nulla_al_piano_approvato_e_al_suo_aggiornamento(persona, nuovo_ambito, console) -> None:
    platform: Platform = console.platform
    tenant = nuovo_ambito()
    api = Api(platform, tenant)
    visita: Visita = persona("coordinatore", tenant)
    page = visita.page

    # -- an Ambito with nothing yet: the home says so and leads to the registration ----------------------
    assert page.url.endswith("/ambito")
    assert "Ambito non ancora registrato" in page.get_by_test_id("ambito-non-registrato").text_content()
    visita.passo("home di un Ambito non registrato")
    page.get_by_role("link", name="Registra la composizione dell'Ambito").click()
    page.wait_for_url("**/ambito/composizione")
    page.get_by_label("Nome dell'Ambito").fill("Ambito Territoriale Sociale S09 – Sapri")
    page.get_by_label("Codice ISTAT del Comune capofila").fill("065134")
    page.get_by_label("Popolazione al").fill("2023-01-01")
    page.get_by_role("button", name="Aggiungi un Comune").click()
    assert page.get_by_test_id("riga-comune").count() == 4
    for n, (istat, nome, popolazione) in enumerate(COMUNI, start=1):
        page.get_by_label(f"Codice ISTAT del Comune {n}", exact=True).fill("06514" if n == 3 else istat)
        page.get_by_label(f"Nome del Comune {n}", exact=True).fill(nome)
        page.get_by_label(f"Popolazione del Comune {n}", exact=True).fill(popolazione)
    page.get_by_role("button", name="Registra l'Ambito").click()
    errore = page.locator("#campo-comuni-2-istat-errore")
    assert "6" in errore.inner_text().replace("\xa0", " ") and "ISTAT" in errore.inner_text().replace("\xa0", " "), errore.inner_text().replace("\xa0", " ")
    assert page.get_by_label("Codice ISTAT del Comune 3", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Nome del Comune 4", exact=True).input_value() == "Vibonati"  # what she typed stays
    visita.passo("codice ISTAT sbagliato accanto al campo")
    page.get_by_label("Codice ISTAT del Comune 3", exact=True).fill("065149")
    page.get_by_role("button", name="Registra l'Ambito").click()
    page.wait_for_url("**/ambito/composizione?fatto=registrata")
    comuni = page.get_by_test_id("comuni").inner_text().replace("\xa0", " ")
    assert "Torre Orsaia" in comuni and "18.452" in comuni, comuni  # the population planning adds up
    assert "capofila" in comuni

    # The Comitato is configured (the sedute's journey does it in the console): the members and their weights.
    api("planning", "PUT", "/comitato", expect=201, json={"regola": {"famiglia": "per_testa", "base": "presenti"}})
    page.reload()
    comitato = page.get_by_test_id("comitato").inner_text().replace("\xa0", " ")
    assert "Un componente, un voto" in page.locator("main").inner_text().replace("\xa0", " ")
    assert "Camerota" in comitato and "37,26" in comitato, comitato  # 6875 / 18452, as planning computes it
    visita.passo("composizione e Comitato")

    # -- a new Piano: a two-year period is refused beside its last year -----------------------------------
    page.get_by_role("link", name="Piano di Zona", exact=True).first.click()
    page.wait_for_url("**/piani")
    assert "Nessun Piano di Zona" in page.locator("main").inner_text().replace("\xa0", " ")
    page.get_by_role("link", name="Nuovo Piano di Zona").click()
    page.get_by_label("Titolo").fill("Piano Sociale di Zona 2025–2027")
    page.get_by_label("Primo anno del triennio").fill("2025")
    page.get_by_label("Ultimo anno del triennio").fill("2026")
    page.get_by_role("button", name="Crea il Piano").click()
    assert "triennale" in page.locator("#campo-anno_fine-errore").inner_text().replace("\xa0", " ")
    assert page.get_by_label("Titolo").input_value() == "Piano Sociale di Zona 2025–2027"
    visita.passo("periodo non triennale")
    page.get_by_label("Ultimo anno del triennio").fill("2027")
    page.get_by_role("button", name="Crea il Piano").click()
    page.wait_for_url(re.compile(r".*/piani/[0-9a-f-]{36}\?fatto=creato$"))
    piano_id = re.search(r"/piani/([0-9a-f-]{36})", page.url).group(1)
    assert "Piano di Zona creato" in page.get_by_role("status").first.inner_text().replace("\xa0", " ")
    assert page.get_by_test_id("stato-piano").inner_text().replace("\xa0", " ").strip() == "Bozza"
    visita.passo("piano creato")

    # -- the content of version 1, with the totals following what she types -----------------------------
    page.get_by_role("link", name="Versione 1").click()
    page.get_by_role("link", name="Modifica il contenuto").click()
    page.get_by_role("button", name="Aggiungi un'area").click()
    page.get_by_label("Codice dell'area 1").fill("A")
    page.get_by_label("Titolo dell'area 1").fill("Domiciliarità")
    page.get_by_role("button", name="Aggiungi un obiettivo all'area 1").click()
    page.get_by_label("Codice dell'obiettivo 1.1").fill("A.1")
    page.get_by_label("Titolo dell'obiettivo 1.1").fill("Restare a casa propria")
    page.get_by_role("button", name="Aggiungi un intervento all'obiettivo 1.1").click()
    page.get_by_label("Codice dell'intervento 1.1.1").fill("A.1.1")
    page.get_by_label("Titolo dell'intervento 1.1.1").fill("Assistenza domiciliare anziani")
    page.get_by_label("Codice di classificazione 1.1.1").fill("2")
    page.get_by_label("Utenti attesi 1.1.1").fill("140")
    gruppo = page.get_by_role("group", name="Comuni coperti dall'intervento 1.1.1")
    gruppo.get_by_text("Sapri", exact=True).click()
    gruppo.get_by_text("Camerota", exact=True).click()
    page.get_by_role("button", name="Aggiungi una linea di budget all'intervento 1.1.1").click()
    page.get_by_role("button", name="Aggiungi una linea di budget all'intervento 1.1.1").click()
    assert page.get_by_label("Titolo dell'intervento 1.1.1").input_value() == "Assistenza domiciliare anziani"
    assert gruppo.get_by_label("Camerota").is_checked()
    page.get_by_label("Fondo, linea 1, intervento 1.1.1").select_option("FNPS")
    page.get_by_label("Importo, linea 1, intervento 1.1.1").fill("120000,00")
    totale = page.get_by_test_id("totale-generale")
    totale.filter(has_text=euro("120.000,00")).wait_for()
    page.get_by_label("Fondo, linea 2, intervento 1.1.1").select_option("FNPS")
    page.get_by_label("Anno, linea 2, intervento 1.1.1").select_option("2026")
    page.get_by_label("Importo, linea 2, intervento 1.1.1").fill("80000,555")
    page.get_by_role("button", name="Salva la versione").first.click()
    errore = page.locator("#campo-aree-0-obiettivi-0-interventi-0-linee_budget-1-importo-errore")
    assert "due decimali" in errore.inner_text().replace("\xa0", " "), errore.inner_text().replace("\xa0", " ")
    assert page.get_by_label("Importo, linea 2, intervento 1.1.1").get_attribute("aria-invalid") == "true"
    visita.passo("importo con tre decimali accanto al campo")
    page.get_by_label("Importo, linea 2, intervento 1.1.1").fill("80.000,50")
    totale.filter(has_text=euro("200.000,50")).wait_for()
    anteprima = page.get_by_test_id("anteprima-totali").inner_text().replace("\xa0", " ")
    assert "2025" in anteprima and "2026" in anteprima and "€ 80.000,50" in anteprima, anteprima
    visita.passo("totali mentre si scrive")
    page.get_by_role("button", name="Salva la versione").first.click()
    page.wait_for_url(f"**/piani/{piano_id}/versioni/1?fatto=salvata")
    riga = page.get_by_test_id("intervento-A.1.1").inner_text().replace("\xa0", " ")
    assert "€ 120.000,00" in riga and "€ 80.000,50" in riga and "Sapri, Camerota" in riga, riga
    assert page.get_by_test_id("totale-generale").inner_text().replace("\xa0", " ") == "€ 200.000,50"
    visita.passo("versione 1 salvata")

    page.get_by_role("button", name="Proponi al Comitato").click()
    page.wait_for_url(f"**/piani/{piano_id}?fatto=proposta")
    assert page.get_by_test_id("stato-piano").inner_text().replace("\xa0", " ").strip() == "Proposto al Comitato"
    visita.passo("versione 1 proposta")

    # -- others act: the Comitato approves, the administration assigns and commits, a tavolo proposes -----
    delibera = approva_proposta(api, proposta_aperta(api))
    wait_until(lambda: (api("finance", "GET", f"/budget/{piano_id}", role="amministrativo", expect=None) or {})
               .get("versione_piano") == 1, timeout=60, message="the Piano's lines in finance")
    api("finance", "POST", "/assegnazioni", role="amministrativo", expect=201, json={
        "fondo": "FNPS", "annualita": 2025, "importo": "200000.00",
        "atto": {"tipo": "decreto", "numero": "9", "data": "2025-04-02", "ente": "Regione Campania"}})
    sid = api("finance", "POST", f"/budget/{piano_id}/allocazioni", role="amministrativo", expect=201,
              headers={"Idempotency-Key": str(uuid.uuid4())}, json={
                  "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025,
                  "importo": "120000.00"})["id"]
    api("finance", "POST", f"/stanziamenti/{sid}/impegni", role="amministrativo", expect=201,
        headers={"Idempotency-Key": str(uuid.uuid4())}, json={
            "importo": "60000.00", "beneficiario": {"denominazione": "Cooperativa Il Faro", "codice_fiscale": COOP},
            "atto": {"tipo": "determina", "numero": "50", "data": "2025-06-01"}, "oggetto": "Assistenza domiciliare"})
    tavolo = api("partnership", "POST", "/tavoli", expect=201, json={
        "tipo": "tematico", "nome": "Tavolo disabilità", "area": "disabilita"})
    proposta_tavolo = api("partnership", "POST", f"/tavoli/{tavolo['id']}/proposte", expect=201, json={
        "titolo": "Un centro diurno per persone con disabilità", "descrizione": "Proposta condivisa dal tavolo.",
        "area": "disabilita", "piano_id": piano_id, "intervento": {
            "codice": "T.1", "titolo": "Centro diurno disabilità", "comuni": ["065134", "065157"],
            "utenti_attesi": 25, "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"}}})["proposta_id"]
    wait_until(lambda: api("planning", "GET", f"/proposte-tavoli/{proposta_tavolo}", expect=None).get("titolo"),
               timeout=60, message="the tavolo's proposal in planning")

    # -- she prepares the Accordo; the ASL signs it ------------------------------------------------------
    page.reload()
    assert page.get_by_test_id("stato-piano").inner_text().replace("\xa0", " ").strip() == "Approvato"
    assert delibera in page.get_by_test_id("versioni").inner_text().replace("\xa0", " ")
    page.get_by_role("button", name="Predisponi l'Accordo di Programma").click()
    page.wait_for_url(f"**/piani/{piano_id}?fatto=accordo")
    assert "Firme raccolte: 0 su 5" in page.get_by_test_id("accordo-firme").inner_text().replace("\xa0", " ")
    api("planning", "POST", f"/piani/{piano_id}/accordo/firme", role="referente_asl")

    # -- the annual update: the tavolo's proposal, a changed line, the diff, the proposal ------------------
    page.get_by_label("Titolo della nuova versione").fill("Aggiornamento annuale 2026")
    page.get_by_role("button", name="Apri la versione").click()
    page.wait_for_url(f"**/piani/{piano_id}/versioni/2?fatto=aperta")
    assert page.get_by_test_id("stato-versione").inner_text().replace("\xa0", " ").strip() == "Bozza"
    page.get_by_role("link", name="Recepisci «Un centro diurno per persone con disabilità»").click()
    page.get_by_label("Area").select_option("A")
    page.get_by_label("Obiettivo").select_option("A.1")
    visita.passo("recepire la proposta del tavolo")
    page.get_by_role("button", name="Recepisci nella bozza").click()
    page.wait_for_url(f"**/piani/{piano_id}/versioni/2?fatto=recepita")
    assert "Centro diurno disabilità" in page.get_by_test_id("intervento-T.1").inner_text().replace("\xa0", " ")
    assert page.get_by_test_id("proposte-tavoli").count() == 0

    page.get_by_role("link", name="Modifica il contenuto").click()
    page.get_by_label("Importo, linea 2, intervento 1.1.1").fill("90000,50")
    page.get_by_role("button", name="Aggiungi una linea di budget all'intervento 1.1.2").click()
    page.get_by_label("Fondo, linea 1, intervento 1.1.2").select_option("FNPS")
    page.get_by_label("Anno, linea 1, intervento 1.1.2").select_option("2026")
    page.get_by_label("Importo, linea 1, intervento 1.1.2").fill("30000")
    page.get_by_test_id("totale-generale").filter(has_text=euro("240.000,50")).wait_for()
    visita.passo("aggiornamento in modifica")
    page.get_by_role("button", name="Salva la versione").first.click()
    page.wait_for_url(f"**/piani/{piano_id}/versioni/2?fatto=salvata")

    page.get_by_role("link", name="Piano Sociale di Zona 2025–2027").click()
    page.get_by_label("Dalla versione", exact=True).select_option("1")
    page.get_by_label("Alla versione", exact=True).select_option("2")
    page.get_by_role("button", name="Mostra le differenze").click()
    page.wait_for_url(f"**/piani/{piano_id}/differenze?da=1&a=2")
    assert "T.1" in page.get_by_test_id("aggiunti").inner_text().replace("\xa0", " ")
    budget = page.get_by_test_id("differenze-budget").inner_text().replace("\xa0", " ")
    assert "€ 80.000,50" in budget and "€ 120.000,50" in budget and "+€ 40.000,00" in budget, budget
    assert "€ 90.000,50" in page.get_by_test_id("modificato-A.1.1").inner_text().replace("\xa0", " ")
    visita.passo("differenze tra le versioni")

    page.goto(f"/piani/{piano_id}/versioni/2")
    page.get_by_role("button", name="Proponi al Comitato").click()
    page.wait_for_url(f"**/piani/{piano_id}?fatto=proposta")
    assert "Proposta al Comitato" in page.get_by_test_id("versioni").inner_text().replace("\xa0", " ")

    # The coordinatore convenes the Comitato for next week on the update (the sedute's journey does it).
    settimana = (datetime.now(timezone.utc) + timedelta(days=7)).replace(hour=8, minute=30, second=0, microsecond=0)
    api("planning", "POST", "/sedute", expect=201, json={
        "oggetto": "Aggiornamento annuale 2026", "luogo": "Sala consiliare di Sapri",
        "prima_convocazione": settimana.isoformat(), "ordine_del_giorno": [proposta_aperta(api)]})
    wait_until(lambda: (api("monitoring", "GET", "/esecuzione")["totale"]["impegnato"] == "60000.00"),
               timeout=60, message="the commitment in monitoring")

    # -- the Ambito's home ---------------------------------------------------------------------------------
    page.get_by_role("link", name="Ambito", exact=True).click()
    page.wait_for_url("**/ambito")
    assert "Approvato" in page.get_by_test_id("piano-corrente").inner_text().replace("\xa0", " ")
    seduta = page.get_by_test_id("prossima-seduta").inner_text().replace("\xa0", " ")
    assert "Aggiornamento annuale 2026" in seduta and settimana.strftime("%d/%m/%Y") in seduta, seduta
    esecuzione = page.get_by_test_id("esecuzione").inner_text().replace("\xa0", " ")
    assert "€ 200.000,00" in esecuzione and "€ 60.000,00" in esecuzione, esecuzione
    assert "30,0%" in esecuzione, esecuzione  # monitoring's tasso_impegno, 60000 / 200000
    assert page.get_by_role("progressbar").first.get_attribute("aria-valuenow") == "30.0"
    mancanti = page.locator("main").inner_text().replace("\xa0", " ")
    assert "Firme raccolte: 1 su 5" in mancanti and "Vibonati (065157)" in mancanti, mancanti
    visita.passo("home dell'Ambito")

    # -- the list: filters and "Mostra altri" ------------------------------------------------------------
    for inizio in range(2028, 2058, 3):
        api("planning", "POST", "/piani", expect=201, json={
            "titolo": f"Piano Sociale di Zona {inizio}–{inizio + 2}", "anno_inizio": inizio, "anno_fine": inizio + 2})
    page.get_by_role("link", name="Piano di Zona", exact=True).first.click()
    page.get_by_label("Stato").select_option("approvato")
    page.get_by_role("button", name="Filtra").click()
    elenco = page.get_by_test_id("elenco-piani")
    assert elenco.locator("tbody tr").count() == 1 and "2025–2027" in elenco.inner_text().replace("\xa0", " ")
    page.get_by_label("Stato").select_option("")
    page.get_by_label("Anno compreso nel triennio").fill("")
    page.get_by_role("button", name="Filtra").click()
    assert elenco.locator("tbody tr").count() == 10
    assert "2025–2027" not in elenco.inner_text().replace("\xa0", " ")  # the most recent triennium first
    visita.passo("elenco dei piani")
    page.get_by_role("link", name="Mostra altri").click()
    assert elenco.locator("tbody tr").count() == 1 and "2025–2027" in elenco.inner_text().replace("\xa0", " ")
    assert page.get_by_role("link", name="Mostra altri").count() == 0
    visita.passo("altri piani")

    # -- the ASL's referente reads the same home ----------------------------------------------------------
    asl = persona("referente_asl", tenant)
    assert asl.page.url.endswith("/ambito")
    assert "Ambito Territoriale Sociale S09 – Sapri" in asl.page.get_by_role("heading", level=1).inner_text().replace("\xa0", " ")
    assert "30,0%" in asl.page.get_by_test_id("esecuzione").inner_text().replace("\xa0", " ")
    asl.passo("home per il referente ASL")


def test_il_piano_di_un_altro_ambito_non_si_trova(persona, nuovo_ambito, console) -> None:
    platform: Platform = console.platform
    altro = nuovo_ambito()
    piano = Api(platform, altro)("planning", "POST", "/piani", expect=201, json={
        "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027})
    visita = persona("coordinatore", nuovo_ambito())
    for path in (f"/piani/{piano['id']}", f"/piani/{piano['id']}/versioni/1/modifica"):
        risposta = visita.page.goto(path)
        assert risposta.status == 404
        assert visita.page.get_by_test_id("titolo-errore").inner_text().replace("\xa0", " ") == "Non trovato"
    visita.passo("piano di un altro ambito")
