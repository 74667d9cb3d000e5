"""A seduta of the Comitato Istituzionale in the console, as people use it.

The coordinator convenes a seduta on the Piano's approval, records the attendance (one Comune
present by proxy), opens it, opens the vote; the mayor of Sapri votes from her phone for her Comune
and, by proxy, for Alfano, and is neither offered nor allowed another Comune's vote; the
coordinator's page shows her vote within two seconds without reloading; the coordinator closes the
vote and the page shows the numbered deliberation with the rule and the figures planning computed.
Then the Accordo di Programma is predisposed and signed by the mayor and the ASL in the console.
The Ambito, the Comitato, the Piano and its proposal are seeded over HTTP, as are the votes of the
mayors who are not in a browser.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from ambiti_kit.testing.fixtures import Platform

ROOT = Path(__file__).resolve().parents[2]
S09 = json.loads((ROOT / "shared" / "ambiti_cli" / "demo_s09.json").read_text())
COMUNI = {c["istat"]: c for c in S09["comuni"]}
SAPRI, ALFANO, CAMEROTA = "065134", "065004", "065021"
ROMA = ZoneInfo("Europe/Rome")
AREE = [{"codice": "A", "titolo": "Domiciliarità e non autosufficienza", "obiettivi": [{
    "codice": "A.1", "titolo": "Sostenere la permanenza a domicilio degli anziani", "interventi": [{
        "codice": "A.1.1", "titolo": "Servizio di assistenza domiciliare anziani",
        "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
        "comuni": sorted(COMUNI), "utenti_attesi": 140,
        "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "182500.00"}]}]}]}]


class Planning:
    """The Ambito's seed and the calls of the people who are not in a browser, over HTTP."""

    def __init__(self, platform: Platform, tenant: str) -> None:
        self.url, self.tenant, self.auth = platform.url("planning"), tenant, platform.infra.auth
        self.coordinatore = self.auth(tenant, "coordinatore")

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, expect: int | None = 200,
             **kw: Any) -> httpx.Response:
        risposta = httpx.request(method, f"{self.url}{path}", headers=headers or self.coordinatore, timeout=30, **kw)
        if expect is not None:
            assert risposta.status_code == expect, (method, path, risposta.status_code, risposta.text)
        return risposta

    def sindaco(self, istat: str) -> dict[str, str]:
        return self.auth(self.tenant, "componente_comitato", comune=istat)

    def prepara(self) -> dict[str, str]:
        self.call("PUT", "/ambito", expect=201, json={
            "nome": f"Ambito {self.tenant}", "capofila_istat": S09["ambito"]["capofila_istat"],
            "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
        self.call("PUT", "/comitato", expect=201, json={
            "regola": {"famiglia": "doppia_maggioranza", "base": "presenti"},
            "consultivi": [{"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0}]})
        piano = self.call("POST", "/piani", expect=201, json={
            "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027}).json()
        self.call("PUT", f"/piani/{piano['id']}/versioni/1/contenuto", json={"aree": AREE})
        proposta = self.call("POST", f"/piani/{piano['id']}/versioni/1/proposta", expect=201).json()
        criteri = self.call("POST", "/deliberazioni", expect=201, json={
            "tipo": "criteri_riparto_costi", "oggetto": "Criteri di riparto dei costi 2026 tra i Comuni",
            "testo": "Quota capitaria uniforme sulla popolazione al 1° gennaio 2025.",
            "riferimenti": {"anno": 2026}}).json()
        return {"piano_id": piano["id"], "proposta_id": proposta["proposta_id"], "criteri_id": criteri["id"]}


def _per_input(quando: datetime) -> str:
    return quando.astimezone(ROMA).strftime("%Y-%m-%dT%H:%M")


def test_seduta_convocata_votata_dal_telefono_e_accordo_firmato(persona, nuovo_ambito, platform: Platform) -> None:
    inizio = time.monotonic()
    tenant = nuovo_ambito()
    api = Planning(platform, tenant)
    ids = api.prepara()
    anno = datetime.now(ROMA).year

    # -- the coordinator convenes the seduta ---------------------------------------------------------
    coordinatore = persona("coordinatore", tenant, nome="coordinatore")
    page = coordinatore.page
    page.goto("/sedute")
    expect(page.get_by_test_id("nessuna-seduta")).to_contain_text("Nessuna seduta convocata")
    coordinatore.passo("elenco delle sedute vuoto")
    page.get_by_role("link", name="Convoca una seduta").click()
    page.wait_for_url("**/sedute/nuova")
    prima = datetime.now(ROMA) - timedelta(minutes=10)
    page.get_by_label("Oggetto della seduta").fill("Approvazione del Piano Sociale di Zona 2025–2027")
    page.get_by_label("Luogo").fill("Sala consiliare, Comune di Sapri")
    page.get_by_label("Prima convocazione (data e ora)").fill(_per_input(prima))
    page.get_by_label("Seconda convocazione (data e ora, facoltativa)").fill(_per_input(prima + timedelta(minutes=5)))
    page.get_by_role("button", name="Convoca la seduta").click()
    # no item on the agenda: planning refuses and the form keeps what was typed
    expect(page.locator("#campo-ordine_del_giorno-errore")).to_be_visible()
    expect(page.get_by_label("Luogo")).to_have_value("Sala consiliare, Comune di Sapri")
    coordinatore.passo("convocazione senza ordine del giorno")
    # Bootstrap Italia draws the box on the label: a person clicks the label
    page.locator("label", has_text=re.compile("^Approvazione: Piano Sociale di Zona")).click()
    page.locator("label", has_text="Criteri di riparto dei costi 2026 tra i Comuni").click()
    expect(page.get_by_label(re.compile("^Approvazione: Piano Sociale di Zona"))).to_be_checked()
    page.get_by_role("button", name="Convoca la seduta").click()
    page.wait_for_url(re.compile(r".*/sedute/[0-9a-f-]{36}$"))
    seduta_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Approvazione del Piano Sociale di Zona 2025–2027")
    expect(page.get_by_test_id("stato-seduta")).to_contain_text("Convocata")
    expect(page.get_by_test_id("numero-legale")).to_contain_text("non raggiunto")
    expect(page.get_by_test_id("ordine-del-giorno")).to_contain_text("Criteri di riparto dei costi 2026")
    coordinatore.passo("seduta convocata")

    # -- attendance, with the quorum as planning computes it ---------------------------------------------
    def presente(istat: str, nome: str, *, rappresentante: str = "", delega: str = "") -> None:
        riga = page.locator(f'#presenze tr[data-componente="{istat}"]')
        if rappresentante:
            riga.get_by_label(f"Rappresentante di {nome}").fill(rappresentante)
        if delega:
            riga.get_by_label(f"Delega del voto di {nome}").select_option(label=f"Delega a {delega}")
        riga.get_by_role("button", name=f"Presente {nome}").click()
        expect(page.get_by_test_id(f"presenza-{istat}")).to_contain_text("Presente")

    presente(SAPRI, "Sapri", rappresentante="Sindaca Anna Bianchi")
    expect(page.get_by_test_id("numero-legale")).to_contain_text("Componenti presenti: 1 su 17", timeout=3000)
    page.get_by_role("button", name="Apri la seduta in 1ª convocazione").click()
    # planning refuses: no numero legale in 1st call; its message names the figures
    expect(page.get_by_role("alert")).to_contain_text("Manca il numero legale in 1ª convocazione")
    coordinatore.passo("apertura rifiutata senza numero legale")

    presente(ALFANO, "Alfano", delega="Sapri")
    expect(page.get_by_test_id(f"presenza-{ALFANO}")).to_contain_text("Presente per delega a Sapri")
    for istat, c in COMUNI.items():
        if istat not in (SAPRI, ALFANO):
            presente(istat, c["nome"])
    presente("ASL", "ASL Salerno – Distretto 71", rappresentante="Direttore del Distretto 71")
    quorum = api.call("GET", f"/sedute/{seduta_id}").json()["numero_legale"]
    assert quorum["raggiunto"] and quorum["presenti"] == 17
    expect(page.get_by_test_id("numero-legale")).to_contain_text(
        "Numero legale in 1ª convocazione: raggiunto", timeout=3000)
    expect(page.get_by_test_id("numero-legale")).to_contain_text(
        f"Popolazione rappresentata: {quorum['pesi_presenti']:,}".replace(",", "."))
    expect(page.locator("[data-riepilogo-errori]")).to_have_count(0)  # the refusal no longer stands
    coordinatore.passo("presenze registrate e numero legale raggiunto")

    page.get_by_role("button", name="Apri la seduta in 1ª convocazione").click()
    expect(page.get_by_test_id("stato-seduta")).to_contain_text("Aperta in 1ª convocazione")
    proposta = ids["proposta_id"]
    page.locator(f'tr[data-proposta="{proposta}"]').get_by_role("button", name=re.compile("^Apri la votazione")).click()
    expect(page.get_by_test_id("proposta-in-votazione")).to_contain_text("Approvazione: Piano Sociale di Zona 2025–2027")
    expect(page.get_by_test_id("voti-espressi")).to_contain_text("Nessun voto ancora")
    coordinatore.passo("votazione aperta")

    # -- the mayor of Sapri, on her phone ---------------------------------------------------------------
    sindaca = persona("componente_comitato", tenant, comune=SAPRI, telefono=True, nome="sindaca-sapri")
    telefono = sindaca.page
    telefono.wait_for_url("**/sedute")
    telefono.get_by_role("link", name="Approvazione del Piano Sociale di Zona 2025–2027").click()
    expect(telefono.get_by_test_id("proposta-in-votazione")).to_contain_text("Approvazione: Piano Sociale di Zona 2025–2027")
    moduli = telefono.locator("form[data-voto]")
    expect(moduli).to_have_count(2)
    assert sorted(moduli.evaluate_all("fs => fs.map(f => f.dataset.voto)")) == sorted([SAPRI, ALFANO])
    expect(telefono.get_by_role("group", name="Voto per il Comune di Sapri")).to_be_visible()
    expect(telefono.get_by_role("group", name="Voto per il Comune di Alfano (per delega)")).to_be_visible()
    expect(telefono.get_by_role("group", name=re.compile("Camerota"))).to_have_count(0)
    expect(telefono.get_by_role("button", name=re.compile("Apri la votazione"))).to_have_count(0)
    # what the console draws fits the phone's width (no sideways scrolling of the page's content)
    assert telefono.evaluate("() => document.querySelector('main').scrollWidth <= window.innerWidth")
    sindaca.passo("la sindaca vede la votazione del suo Comune e della delega")

    page.evaluate("() => { window.__senzaRicaricare = 'sì'; }")
    gruppo = telefono.get_by_role("group", name="Voto per il Comune di Sapri")
    gruppo.get_by_text("Favorevole", exact=True).click()
    expect(gruppo.get_by_label("Favorevole")).to_be_checked()
    telefono.get_by_role("button", name="Vota per il Comune di Sapri").click()
    votato = time.monotonic()
    expect(telefono.get_by_test_id(f"voto-registrato-{SAPRI}")).to_contain_text("Favorevole")
    # the coordinator's page shows the mayor's vote within 2 s, without reloading
    expect(page.locator(f'[data-testid="voti-espressi"] tr[data-componente="{SAPRI}"]')).to_contain_text(
        "Favorevole", timeout=2000)
    assert time.monotonic() - votato < 2.5
    assert page.evaluate("() => window.__senzaRicaricare") == "sì"
    expect(page.get_by_test_id("conteggio")).to_contain_text("Voti espressi: 1 su 17")
    coordinatore.passo("il voto della sindaca compare in diretta")

    telefono.get_by_role("group", name="Voto per il Comune di Alfano (per delega)").get_by_text("Contrario").click()
    telefono.get_by_role("button", name="Vota per il Comune di Alfano").click()
    expect(telefono.get_by_test_id(f"voto-registrato-{ALFANO}")).to_contain_text("Contrario")
    expect(telefono.locator("form[data-voto]")).to_have_count(0)
    sindaca.passo("la sindaca ha votato per Sapri e per delega di Alfano")

    # forcing another Comune's vote: the console passes it to planning, which refuses it
    token = telefono.locator('input[name="csrf_token"]').first.get_attribute("value")
    forzato = telefono.request.post(f"/sedute/{seduta_id}/votazioni/{proposta}/voti",
                                    form={"csrf_token": token, "componente": CAMEROTA, "voto": "favorevole"})
    assert forzato.status == 403
    assert "Non consentito" in forzato.text() and f"Chi vota per {CAMEROTA}" in forzato.text()
    diretto = api.call("POST", f"/sedute/{seduta_id}/votazioni/{proposta}/voti", headers=api.sindaco(SAPRI),
                       expect=403, json={"componente": CAMEROTA, "voto": "favorevole"}).json()
    assert diretto["rule"] == "voto.proprio_comune"
    assert CAMEROTA not in api.call("GET", f"/sedute/{seduta_id}").json()["voti"][proposta]

    # the other fifteen mayors vote over the API: Tortorella and Morigerati against, Ispani abstains
    contro, astenuti = {"065150", "065077"}, {"065059"}
    for istat in COMUNI:
        if istat not in (SAPRI, ALFANO):
            api.call("POST", f"/sedute/{seduta_id}/votazioni/{proposta}/voti", headers=api.sindaco(istat),
                     expect=201, json={"componente": istat, "voto": "contrario" if istat in contro
                                       else "astenuto" if istat in astenuti else "favorevole"})
    expect(page.get_by_test_id("conteggio")).to_contain_text("Voti espressi: 17 su 17", timeout=3000)
    coordinatore.passo("tutti i Comuni hanno votato")

    page.get_by_role("button", name="Chiudi la votazione e proclama l'esito").click()
    delibera = api.call("GET", f"/deliberazioni/{proposta}").json()
    assert delibera["numero"] == f"1/{anno}", delibera
    esito = page.get_by_test_id("esito")
    expect(esito).to_contain_text(f"Deliberazione n. {delibera['numero']}")
    expect(esito.get_by_test_id("motivazione")).to_contain_text(delibera["esito"]["motivazione"])
    expect(esito).to_contain_text("doppia maggioranza: dei componenti e della popolazione")
    per_testa, ponderato = delibera["esito"]["per_testa"], delibera["esito"]["ponderato"]
    favorevoli = esito.get_by_role("row", name=re.compile("^Favorevoli"))
    expect(favorevoli).to_contain_text(str(per_testa["favorevoli"]))
    expect(favorevoli).to_contain_text(f"{ponderato['favorevoli']:,}".replace(",", "."))
    expect(page.get_by_test_id("ordine-del-giorno")).to_contain_text(f"Deliberazione n. {delibera['numero']}")
    coordinatore.passo("votazione chiusa con la deliberazione numerata")
    # the mayor's phone shows the outcome too, without reloading
    expect(telefono.get_by_test_id("esito")).to_contain_text(f"Deliberazione n. {delibera['numero']}", timeout=3000)
    sindaca.passo("la sindaca vede la deliberazione")

    page.get_by_role("button", name="Chiudi la seduta").click()
    expect(page.get_by_test_id("stato-seduta")).to_contain_text("Chiusa")
    expect(page.locator(f'tr[data-proposta="{ids["criteri_id"]}"]')).to_contain_text("Rinviata")
    assert api.call("GET", f"/deliberazioni/{ids['criteri_id']}").json()["stato"] == "proposta"
    coordinatore.passo("seduta chiusa, il punto non votato è rinviato")

    # -- the list: filters and the next page -------------------------------------------------------------
    for i in range(20):
        api.call("POST", "/sedute", expect=201, json={
            "oggetto": f"Seduta ordinaria {i + 1}", "luogo": "Sapri",
            "prima_convocazione": datetime(2024, 1 + i % 12, 1 + i, 10, tzinfo=ROMA).isoformat(),
            "ordine_del_giorno": [api.call("POST", "/deliberazioni", expect=201, json={
                "tipo": "nomina_coordinatore", "oggetto": f"Nomina del coordinatore {i + 1}",
                "testo": "Nomina.", "riferimenti": {"nominativo": "Maria Verdi"}}).json()["id"]]})
    page.get_by_role("link", name="Comitato e sedute").first.click()
    righe = page.get_by_test_id("elenco-sedute").locator("tbody tr")
    expect(righe).to_have_count(20)
    expect(righe.first).to_contain_text("Approvazione del Piano Sociale di Zona 2025–2027")
    expect(righe.first).to_contain_text("Chiusa")
    page.get_by_role("link", name="Mostra altri").click()
    expect(righe).to_have_count(1)
    expect(page.get_by_test_id("elenco-sedute")).to_contain_text("Seduta ordinaria")
    page.goto("/sedute")
    page.get_by_label("Stato").select_option("chiusa")
    page.get_by_role("button", name="Filtra").click()
    expect(righe).to_have_count(1)
    page.get_by_label("Stato").select_option("")
    page.get_by_label("Prima convocazione dal").fill("2024-03-01")
    page.get_by_label("Fino al").fill("2024-02-01")
    page.get_by_role("button", name="Filtra").click()
    expect(page.locator("#campo-al-errore")).to_contain_text("«al» precede «dal»")
    coordinatore.passo("elenco con un periodo sbagliato")
    page.get_by_label("Fino al").fill("2024-04-30")
    page.get_by_role("button", name="Filtra").click()
    expect(righe).to_have_count(4)  # the 3rd, 4th, 15th and 16th ordinary sedute: March and April 2024
    coordinatore.passo("elenco filtrato per periodo")

    # -- the Accordo di Programma -----------------------------------------------------------------------
    piano_id = ids["piano_id"]
    page.goto("/sedute")
    page.get_by_test_id("accordi").get_by_role("link", name="Piano Sociale di Zona 2025–2027").click()
    expect(page.get_by_test_id("accordo-assente")).to_be_visible()
    page.get_by_role("button", name="Predisponi l'Accordo di Programma").click()
    expect(page.get_by_test_id("riepilogo-firme")).to_contain_text("Firme raccolte: 0 su 18")
    expect(page.get_by_test_id("firme").locator('tr[data-firmatario="065134"]')).to_contain_text("Da firmare")
    coordinatore.passo("accordo predisposto")

    telefono.goto("/sedute")
    telefono.get_by_test_id("accordi").get_by_role("link", name="Piano Sociale di Zona 2025–2027").click()
    telefono.get_by_role("button", name="Firma l'Accordo per il Comune di Sapri").click()
    expect(telefono.get_by_role("status")).to_contain_text("Firma registrata")
    expect(telefono.get_by_test_id("firme").locator(f'tr[data-firmatario="{SAPRI}"]')).to_contain_text("Firmato")
    expect(telefono.get_by_role("button", name=re.compile("Firma l'Accordo"))).to_have_count(0)
    sindaca.passo("la sindaca firma l'accordo")

    for istat in COMUNI:
        if istat != SAPRI:
            api.call("POST", f"/piani/{piano_id}/accordo/firme", headers=api.sindaco(istat))
    asl = persona("referente_asl", tenant, nome="asl")
    asl.page.goto(f"/sedute/accordi/{piano_id}")
    expect(asl.page.get_by_test_id("riepilogo-firme")).to_contain_text("Firme raccolte: 17 su 18")
    asl.page.get_by_role("button", name="Firma l'Accordo per ASL Salerno – Distretto 71").click()
    expect(asl.page.get_by_test_id("riepilogo-firme")).to_contain_text("Firme raccolte: 18 su 18")
    expect(asl.page.get_by_test_id("riepilogo-firme")).to_contain_text("il Piano è in attuazione")
    expect(asl.page.locator("main")).to_contain_text("In attuazione")
    asl.passo("accordo perfezionato, piano in attuazione")
    assert api.call("GET", f"/piani/{piano_id}").json()["stato"] == "in_attuazione"
    print(f"journey in {time.monotonic() - inizio:.1f}s")
