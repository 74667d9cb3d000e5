"""Journey 4: the assistente sociale of Sapri records her Comune's services, month by month.

The Ambito (S09's 17 Comuni) is registered in planning over HTTP; monitoring learns its Comuni from
planning's events. Then, in the browser: a month through the form (a note naming a person is refused
beside its field), a CSV file whose one bad row is reported by line and column (nothing imported),
the corrected file imported, the list filtered and paged, and the staff the coordinatore declares
with the Ambito's LEPS ratio as monitoring computes it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Any

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09

SAPRI, CAMEROTA = "065134", "065021"
TESTA = "intervento,comune,mese,area,utenti_0_17,utenti_18_64,utenti_65_piu,accessi,ore,costo,note\n"


def _mesi_fa(n: int) -> str:
    giorno = date.today().replace(day=1)
    for _ in range(n):
        giorno = (giorno - timedelta(days=1)).replace(day=1)
    return giorno.strftime("%Y-%m")


def registra_ambito(platform: Platform, ambito: str) -> dict[str, str]:
    """The Ambito with S09's Comuni in planning, and monitoring knowing them (through planning's events)."""
    coordinatore = platform.infra.auth(ambito, "coordinatore")
    r = httpx.put(f"{platform.url('planning')}/ambito", headers=coordinatore, timeout=30, json={
        "nome": f"Ambito {ambito}", "capofila_istat": S09["ambito"]["capofila_istat"],
        "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
    assert r.status_code == 201, r.text
    wait_until(lambda: httpx.get(f"{platform.url('monitoring')}/ambito/comuni", headers=coordinatore,
                                 timeout=10).status_code == 200, timeout=60, message="the Ambito in monitoring")
    return coordinatore


def righe(page: Any, testid: str) -> list[list[str]]:
    return [[c.strip() for c in r.locator("th, td").all_inner_texts()]
            for r in page.get_by_test_id(testid).locator("tbody tr").all()]


def test_assistente_sociale_registra_un_mese_carica_un_csv_e_vede_il_personale(
        persona, nuovo_ambito, platform: Platform, tmp_path) -> None:
    ambito = nuovo_ambito()
    coordinatore = registra_ambito(platform, ambito)
    mese, mese_prima = _mesi_fa(1), _mesi_fa(2)

    visita = persona("assistente_sociale", ambito, comune=SAPRI)
    page = visita.page
    page.wait_for_url("**/prestazioni")
    assert "Comune di Sapri (065134)" in page.get_by_role("heading", level=1).inner_text()
    assert "Nessun mese registrato" in page.get_by_test_id("prestazioni").inner_text()
    visita.passo("servizi erogati del Comune, ancora vuoti")

    # -- one month through the form: a note naming a person is refused beside the field ---------------
    page.get_by_role("link", name="Registra un mese").click()
    page.wait_for_url("**/prestazioni/nuova")
    assert page.get_by_label("Comune (codice ISTAT)").input_value() == SAPRI
    page.get_by_label("Intervento (codice)").fill("SAD")
    page.get_by_label("Mese").fill(mese)
    page.get_by_label("Anziani, 65 anni e più").fill("12")
    page.get_by_label("Disabilità, 18–64 anni").fill("3")
    page.get_by_label("Accessi").fill("140")
    page.get_by_label("Ore erogate").fill("210.50")
    page.get_by_label("Costo (euro)").fill("4210.00")
    page.get_by_label("Nota (facoltativa)").fill("accompagnato Mario Rossi")
    page.get_by_role("button", name="Registra").click()
    errore = page.locator("#campo-note-errore")
    assert "nome di una persona" in errore.inner_text()
    assert page.get_by_label("Nota (facoltativa)").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Anziani, 65 anni e più").input_value() == "12"  # what she typed is kept
    assert page.get_by_role("alert").first.is_visible()
    visita.passo("la nota con un nome è rifiutata accanto al campo")

    page.get_by_label("Nota (facoltativa)").fill("servizio regolare")
    page.get_by_role("button", name="Registra").click()
    page.wait_for_url("**/prestazioni?registrata=*")
    assert "Registrato: SAD" in page.get_by_role("status").first.inner_text()
    [riga] = righe(page, "prestazioni")
    assert riga[1] == "SAD" and riga[3:7] == ["15", "140", "210,50", "€\xa04.210,00"], riga
    assert "Anziani, 65 anni e più: 12" in riga[2] and "Disabilità, 18–64 anni: 3" in riga[2]
    visita.passo("il mese registrato è nell'elenco")

    # -- a CSV with one bad row: every error of that row by line and column, nothing imported ------------
    page.get_by_role("link", name="Carica un file CSV").click()
    page.wait_for_url("**/prestazioni/importa")
    assert page.get_by_role("link", name="Scarica il modello (solo l'intestazione)").get_attribute("href") == \
        "/prestazioni/modello.csv"
    visita.passo("modulo di caricamento con le colonne attese")
    cattivo = tmp_path / "prestazioni-errate.csv"
    cattivo.write_text(TESTA + f"ADI,{SAPRI},{mese},anziani,0,1,9,50,80.00,1500.00,\n"
                               f"ADI,{CAMEROTA},{mese},disabilita,0,-1,0,5,5.00,50.00,\n"
                               f"SAD,{SAPRI},{mese_prima},anziani,0,0,10,60,90.00,1600.00,\n", encoding="utf-8")
    page.get_by_label("File CSV delle prestazioni").set_input_files(str(cattivo))
    page.get_by_role("button", name="Carica il file").click()
    page.get_by_test_id("errori-csv").wait_for()
    assert "nessuna riga è stata importata" in page.get_by_role("alert").first.inner_text()
    errori = righe(page, "errori-csv")
    assert [(r[0], r[1]) for r in errori] == [("3", "comune"), ("3", "utenti_18_64")], errori
    assert "solo per il proprio Comune" in errori[0][2] and "negativo" in errori[1][2]
    visita.passo("il file con una riga sbagliata: gli errori per riga e colonna")

    buono = tmp_path / "prestazioni.csv"
    buono.write_text(TESTA + f"ADI,{SAPRI},{mese},anziani,0,1,9,50,80.00,1500.00,\n"
                             f"ADI,{SAPRI},{mese},disabilita,0,2,0,5,5.00,50.00,\n"
                             f"SAD,{SAPRI},{mese_prima},anziani,0,0,10,60,90.00,1600.00,\n", encoding="utf-8")
    page.get_by_label("File CSV delle prestazioni").set_input_files(str(buono))
    page.get_by_role("button", name="Carica il file").click()
    page.wait_for_url("**/prestazioni?registrate=*")
    assert "File importato: 2 mesi registrati, 0 corretti" in page.get_by_role("status").first.inner_text()
    elenco = righe(page, "prestazioni")
    assert sorted((r[1], r[3]) for r in elenco) == [("ADI", "12"), ("SAD", "10"), ("SAD", "15")], elenco
    visita.passo("il file corretto è importato")

    # -- the list: filters and "Mostra altri" (the service's cursor) ---------------------------------------
    molti = TESTA + "".join(f"T{i:02d},{SAPRI},{mese_prima},poverta,0,1,0,1,1.00,10.00,\n" for i in range(50))
    r = httpx.post(f"{platform.url('monitoring')}/prestazioni/import", content=molti, timeout=30,
                   headers={**platform.infra.auth(ambito, "assistente_sociale", comune=SAPRI),
                            "Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    page.goto("/prestazioni")
    assert len(righe(page, "prestazioni")) == 50
    page.get_by_role("link", name="Mostra altri").click()
    page.wait_for_url("**dopo=*")
    assert len(righe(page, "prestazioni")) == 3
    visita.passo("mostra altri: la pagina successiva")
    page.goto("/prestazioni")
    page.get_by_label("Intervento", exact=True).fill("SAD")
    page.get_by_role("button", name="Filtra").click()
    page.wait_for_url("**intervento=SAD*")
    assert {r[1] for r in righe(page, "prestazioni")} == {"SAD"} and len(righe(page, "prestazioni")) == 2
    page.get_by_label("Dal mese").fill(mese)
    page.get_by_role("button", name="Filtra").click()
    page.wait_for_url("**mese_da=*")
    assert [r[1] for r in righe(page, "prestazioni")] == ["SAD"]
    visita.passo("filtri per intervento e mese")

    # -- staff: the coordinatore declares it, she reads it with the LEPS ratio monitoring computes --------
    ufficio = persona("coordinatore", ambito, nome="coordinatore")
    ufficio.page.goto("/prestazioni/personale")
    ufficio.page.get_by_label("Comune della dotazione").select_option(SAPRI)
    ufficio.page.get_by_label("Profilo della dotazione").select_option("assistente_sociale")
    ufficio.page.get_by_label("Area della dotazione").select_option("multiutenza")
    ufficio.page.get_by_label("Unità a tempo pieno equivalente").fill("2,5x")
    ufficio.page.get_by_label("Ore settimanali sul Piano").fill("36")
    ufficio.page.get_by_role("button", name="Dichiara").click()
    assert "Valore non valido" in ufficio.page.locator("#campo-fte-errore").inner_text()
    ufficio.passo("una dotazione non valida è rifiutata")
    ufficio.page.get_by_label("Unità a tempo pieno equivalente").fill("2.00")
    ufficio.page.get_by_role("button", name="Dichiara").click()
    ufficio.page.wait_for_url("**/prestazioni/personale?dichiarata=1")
    ufficio.passo("dotazione dichiarata")

    leps = httpx.get(f"{platform.url('monitoring')}/personale/leps", headers=coordinatore, timeout=10).json()["leps"]
    residenti = sum(c["popolazione"] for c in S09["comuni"])
    assert leps["residenti"] == residenti and leps["fte_assistenti_sociali"] == "2.00"
    page.get_by_role("link", name="Personale e LEPS").click()
    page.wait_for_url("**/prestazioni/personale")
    assert righe(page, "personale") == [["Sapri (065134)", "Assistente sociale", "Multiutenza", "2,00", "36,00",
                                         datetime.now(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")]]
    testo = page.get_by_test_id("leps").inner_text()
    assert f"{residenti:,}".replace(",", ".") in testo and "2,00" in testo
    assert leps["residenti_per_assistente"].replace(".", ",") in testo.replace(".", "")
    assert ("Soglia raggiunta" if leps["soglia_1_6500_raggiunta"] else "Soglia non raggiunta") in testo
    assert ("LEPS raggiunto" if leps["leps_1_5000_raggiunto"] else "LEPS non raggiunto") in testo
    assert ("Obiettivo raggiunto" if leps["obiettivo_1_4000_raggiunto"] else "Obiettivo non raggiunto") in testo
    assert "Contributo dello Stato" in testo and "€" in testo
    assert page.get_by_role("button", name="Dichiara").count() == 0  # the Ufficio di Piano declares staff
    visita.passo("personale e rapporto LEPS dell'Ambito")
