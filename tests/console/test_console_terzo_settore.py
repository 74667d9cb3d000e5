"""Journey 5: the referente of a third-sector ente, and the Ufficio di Piano's registry.

The coordinatore registers the cooperative in the console (a wrong codice fiscale is refused beside
its field) and enables its referente by the subject she logs in with. Over HTTP the Ufficio then
seats the ente at a tavolo, accredits it, publishes two notices and records (and admits) its
expression of interest in one. The referente, in her browser, sees her ente, its tavolo, her
applications with their state, and sends an expression of interest for the other notice through the
form. A referente no ente has enabled is refused with the service's reason. The coordinatore sees the
whole registry, filtered and paged.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform
from ambiti_kit.values import codice_fiscale_ente_valido

COOP = "00743110157"
ATTO = {"tipo": "determina", "numero": "31", "data": date.today().isoformat()}


def codice_fiscale(n: int) -> str:
    """A valid organisation's codice fiscale (the check digit the service verifies) from ``n``."""
    base = f"{n:010d}"
    return next(base + str(c) for c in range(10) if codice_fiscale_ente_valido(base + str(c)))


def righe(page: Any, testid: str) -> list[list[str]]:
    return [[c.strip() for c in r.locator("th, td").all_inner_texts()]
            for r in page.get_by_test_id(testid).locator("tbody tr").all()]


def test_referente_ets_vede_il_suo_ente_e_manifesta_interesse(persona, nuovo_ambito, platform: Platform) -> None:
    ambito = nuovo_ambito()
    soggetto = f"referente.ilfaro@{ambito}"

    # -- the coordinatore registers the ente and enables its referente, in the console -------------------
    ufficio = persona("coordinatore", ambito, nome="coordinatore")
    up = ufficio.page
    up.goto("/terzo-settore")
    assert "Nessun ente registrato" in up.get_by_test_id("enti").inner_text()
    up.get_by_role("link", name="Registra un ente").click()
    up.wait_for_url("**/terzo-settore/enti/nuovo")
    up.get_by_label("Denominazione").fill("Cooperativa Sociale Il Faro")
    up.get_by_label("Codice fiscale dell'ente").fill("00743110158")  # wrong check digit
    up.get_by_label("Tipo di ente").select_option("ets")
    up.get_by_label("Forma giuridica (facoltativa)").fill("cooperativa sociale")
    up.get_by_label("Sezione del RUNTS").select_option("imprese_sociali")
    up.get_by_label("Numero di repertorio").fill("104578")
    up.get_by_role("button", name="Registra l'ente").click()
    assert "ultima è il carattere di controllo" in up.locator("#campo-codice_fiscale-errore").inner_text()
    assert up.get_by_label("Denominazione").input_value() == "Cooperativa Sociale Il Faro"
    ufficio.passo("codice fiscale sbagliato rifiutato accanto al campo")
    up.get_by_label("Codice fiscale dell'ente").fill(COOP)
    up.get_by_role("button", name="Registra l'ente").click()
    up.wait_for_url("**/terzo-settore/enti/*?registrato=1")
    ente_id = up.url.split("/enti/")[1].split("?")[0]
    assert "Imprese sociali, repertorio n. 104578" in up.get_by_test_id("ente").inner_text()
    up.get_by_label("Utente del referente").fill(soggetto)
    up.get_by_role("button", name="Abilita").click()
    up.wait_for_url("**abilitato=*")
    assert soggetto in up.get_by_test_id("ente").inner_text()
    ufficio.passo("ente registrato e referente abilitato")

    # -- over HTTP: a tavolo, an accreditation, two notices, one application admitted ----------------------
    headers = platform.infra.auth(ambito, "coordinatore")

    def partnership(path: str, corpo: dict, expect: int = 201) -> dict:
        r = httpx.post(f"{platform.url('partnership')}{path}", headers=headers, json=corpo, timeout=30)
        assert r.status_code == expect, (path, r.status_code, r.text)
        return r.json()

    tavolo = partnership("/tavoli", {"tipo": "tematico", "nome": "Tavolo anziani e non autosufficienza",
                                     "area": "anziani"})
    partnership(f"/tavoli/{tavolo['id']}/membri", {"tipo": "ente", "ente_id": ente_id, "area": "anziani"}, 200)
    partnership(f"/tavoli/{tavolo['id']}/membri", {"tipo": "comune", "istat": "065134",
                                                   "ruolo": "assistente_sociale", "area": "anziani"}, 200)
    partnership("/tavoli", {"tipo": "tecnico", "nome": "Tavolo tecnico povertà", "area": "poverta_inclusione"})
    partnership("/accreditamenti", {
        "ente_id": ente_id, "intervento": "A.1.1", "valido_dal": date.today().isoformat(),
        "valido_al": (date.today() + timedelta(days=365)).isoformat(), "atto": ATTO,
        "tariffe": [{"prestazione": "Assistenza domiciliare", "unita": "ora", "importo": "21.50"}]})
    scadenza = (date.today() + timedelta(days=30)).isoformat()
    centro = partnership("/procedure", {"tipo": "co_progettazione", "oggetto": "Co-progettazione del centro diurno",
                                        "scadenza_manifestazioni": scadenza, "atto": {**ATTO, "tipo": "avviso"}})
    partnership(f"/procedure/{centro['id']}/manifestazioni", {
        "ente_id": ente_id, "ricevuta_il": date.today().isoformat(), "sintesi_documenti": "Proposta e curriculum.",
        "atto": {**ATTO, "tipo": "protocollo", "numero": "812"}}, 200)
    partnership(f"/procedure/{centro['id']}/ammissioni", {
        "codice_fiscale": COOP, "ammesso": True, "motivazione": "Requisiti ed esperienza adeguati.", "atto": ATTO}, 200)
    domiciliare = partnership("/procedure", {
        "tipo": "co_programmazione", "oggetto": "Co-programmazione della domiciliarità",
        "scadenza_manifestazioni": scadenza, "atto": {**ATTO, "tipo": "avviso", "numero": "44"}})

    # -- the referente: her ente, its tavolo, her applications ---------------------------------------------
    visita = persona("referente_ets", ambito, soggetto=soggetto)
    page = visita.page
    page.wait_for_url("**/terzo-settore")
    assert page.get_by_role("heading", level=1).inner_text() == "Cooperativa Sociale Il Faro"
    dati = page.get_by_test_id("ente").inner_text()
    assert COOP in dati and "Referenti" not in dati  # the service does not show her the referenti
    assert [r[0] for r in righe(page, "tavoli")] == ["Tavolo anziani e non autosufficienza"]
    [candidatura] = righe(page, "candidature")
    assert candidatura[0] == "Co-progettazione del centro diurno" and candidatura[-1] == "Ammesso", candidatura
    assert "n. 812" in candidatura[5]
    assert [r[0] for r in righe(page, "accreditamenti")] == ["A.1.1"]
    visita.passo("il nostro ente, i tavoli e le candidature")

    page.get_by_role("link", name="Tavolo anziani e non autosufficienza").click()
    page.wait_for_url(f"**/terzo-settore/tavoli/{tavolo['id']}")
    membri = page.get_by_test_id("membri").inner_text()
    assert "Cooperativa Sociale Il Faro" in membri and "Comune 065134" in membri
    visita.passo("il tavolo con i suoi membri")

    # -- an expression of interest through the form: a code of no notice first ------------------------------
    page.get_by_role("link", name="Il nostro ente").click()
    page.wait_for_url("**/terzo-settore")
    page.get_by_label("Codice della procedura (dall'avviso)").fill(str(uuid.uuid4()))
    page.get_by_label("Sintesi dei documenti presentati").fill("Domanda, statuto e relazione sulle attività.")
    page.get_by_label("Numero di protocollo").fill("1201")
    page.get_by_role("button", name="Invia la manifestazione d'interesse").click()
    assert "Nessuna procedura dell'Ambito" in page.locator("#campo-procedura_id-errore").inner_text()
    assert page.get_by_label("Numero di protocollo").input_value() == "1201"
    visita.passo("codice di procedura sconosciuto")
    page.get_by_label("Codice della procedura (dall'avviso)").fill(domiciliare["id"])
    page.get_by_label("Ricevuta il").fill((date.today() + timedelta(days=40)).isoformat())  # after the deadline
    page.get_by_role("button", name="Invia la manifestazione d'interesse").click()
    assert "entro il" in page.locator("#campo-ricevuta_il-errore").inner_text()
    visita.passo("manifestazione oltre la scadenza rifiutata")
    page.get_by_label("Ricevuta il").fill(date.today().isoformat())
    page.get_by_role("button", name="Invia la manifestazione d'interesse").click()
    page.wait_for_url(f"**/terzo-settore/procedure/{domiciliare['id']}?inviata=1")
    assert "Manifestazione d'interesse registrata" in page.get_by_role("status").inner_text()
    stato = page.get_by_test_id("candidatura").inner_text()
    assert "In attesa della decisione sull'ammissione" in stato and "n. 1201" in stato
    visita.passo("manifestazione inviata, in attesa")
    page.get_by_role("link", name="Il nostro ente").click()
    page.wait_for_url("**/terzo-settore")
    assert sorted((r[0], r[-1]) for r in righe(page, "candidature")) == [
        ("Co-progettazione del centro diurno", "Ammesso"),
        ("Co-programmazione della domiciliarità", "In attesa della decisione sull'ammissione")]
    page.get_by_role("link", name="Procedure", exact=True).click()
    page.wait_for_url("**/terzo-settore/procedure")
    assert len(righe(page, "procedure")) == 2
    visita.passo("le procedure del nostro ente")

    # -- a referente no ente has enabled: the service's reason ----------------------------------------------
    estraneo = persona("referente_ets", ambito, soggetto=f"sconosciuto@{ambito}", nome="estraneo")
    assert "non è associato ad alcun ente" in estraneo.page.get_by_role("alert").inner_text()
    estraneo.passo("referente non abilitato")

    # -- the Ufficio: the whole registry, filtered and paged --------------------------------------------------
    for n in range(50):
        partnership("/enti", {"codice_fiscale": codice_fiscale(10_000 + n), "tipo": "ets",
                              "denominazione": f"Associazione di prova {n:02d}", "forma_giuridica": "associazione",
                              "runts": {"sezione": "aps", "numero_repertorio": str(5000 + n)}})
    up.goto("/terzo-settore")
    assert len(righe(up, "enti")) == 50
    up.get_by_role("link", name="Mostra altri").click()
    up.wait_for_url("**dopo=*")
    assert [r[0] for r in righe(up, "enti")] == ["Cooperativa Sociale Il Faro"]
    ufficio.passo("registro: la pagina successiva")
    up.goto("/terzo-settore")
    up.get_by_label("Denominazione (anche in parte)").fill("faro")
    up.get_by_role("button", name="Filtra").click()
    up.wait_for_url("**q=faro*")
    assert [r[0] for r in righe(up, "enti")] == ["Cooperativa Sociale Il Faro"]
    ufficio.passo("registro filtrato per denominazione")
    up.get_by_role("link", name="Procedure", exact=True).click()
    up.wait_for_url("**/terzo-settore/procedure")
    procedure = righe(up, "procedure")
    assert {r[0] for r in procedure} == {"Co-progettazione del centro diurno", "Co-programmazione della domiciliarità"}
    assert domiciliare["id"] in {r[-1] for r in procedure}  # the code the ente types in its application
    up.get_by_role("link", name="Co-programmazione della domiciliarità").click()
    up.wait_for_url(f"**/terzo-settore/procedure/{domiciliare['id']}")
    assert "Cooperativa Sociale Il Faro" in up.get_by_test_id("manifestazioni").inner_text()
    ufficio.passo("la procedura con la manifestazione ricevuta")
    up.get_by_role("link", name="Tavoli", exact=True).click()
    up.wait_for_url("**/terzo-settore/tavoli")
    assert len(righe(up, "tavoli")) == 2
    up.get_by_role("link", name="Accreditamenti", exact=True).click()
    up.wait_for_url("**/terzo-settore/accreditamenti")
    assert righe(up, "accreditamenti")[0][0] == f"Cooperativa Sociale Il Faro ({COOP})"
    ufficio.passo("accreditamenti dell'Ambito")
