"""Finance end to end, over HTTP with real tokens, across planning, finance and monitoring.

An Ambito with S09's 17 Comuni has its Piano approved in planning; finance takes the
approved budget lines from Kafka. The Ufficio di Piano records the FNPS 2025 and QSFP 2025
assignments with their decrees, loads the populations at 1 January 2023 and splits the
FNPS among the Comuni (to the cent), allocates both funds to the Piano's lines, commits,
liquidates and pays, determines and collects the Comuni's contributions, and produces the
rendicontazione with its CSV and XLSX exports; monitoring shows the execution rates to the
Region, and another Region sees nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any, Callable

import httpx
import openpyxl

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09  # noqa: E402  (the shared fixture module's data)

TENANT = "15-FE2E"
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
DECRETO = {"tipo": "decreto", "numero": "87", "data": "2025-05-20", "ente": "Regione Campania"}


def test_from_the_decree_to_the_payment_and_the_report(platform: Platform,
                                                        approva_piano: Callable[..., dict[str, Any]]) -> None:
    piano = approva_piano(TENANT, AREE)
    finance, monitoring = platform.url("finance"), platform.url("monitoring")
    amministrativo = platform.infra.auth(TENANT, "amministrativo")

    def call(method: str, path: str, expect: int = 200, headers: dict | None = None, **kw: Any) -> httpx.Response:
        r = httpx.request(method, f"{finance}{path}", headers=headers or amministrativo, timeout=30, **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r

    def movimento(path: str, body: dict) -> dict:
        return call("POST", path, 201, headers={**amministrativo, "Idempotency-Key": f"e2e-{uuid.uuid4()}"},
                    json=body).json()

    budget = wait_until(lambda: (b := call("GET", f"/budget/{piano['piano_id']}").json())["versione_piano"] == 1
                        and b, timeout=60, message="approved lines in finance")
    assert {(r["intervento"], r["fondo"], r["importo"]) for r in budget["righe"]} == {
        ("A.1.1", "FNPS", "200000.00"), ("A.1.2", "QSFP", "80000.00")}

    # Funds with their acts; the QSFP carries its services quota.
    call("POST", "/assegnazioni", 201, json={"fondo": "FNPS", "annualita": 2025, "importo": "250000.00",
                                             "atto": DECRETO})
    qsfp = call("POST", "/assegnazioni", 201, json={
        "fondo": "QSFP", "annualita": 2025, "importo": "100000.00", "atto": {**DECRETO, "numero": "88"},
        "vincoli": {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["1"]}}).json()
    assert qsfp["disponibile"] == "100000.00"

    # Riparto of the FNPS among the 17 Comuni by population, largest remainder: the parts add up to the cent.
    righe = "\n".join(f"{c['istat']},{c['popolazione']}" for c in S09["comuni"])
    dati = call("POST", "/dati-riferimento", 201, json={
        "nome": "popolazione", "data_riferimento": S09["popolazione_al"], "fonte": "ISTAT",
        "csv": "istat,popolazione\n" + righe}).json()
    corpo = {"oggetto": "Riparto FNPS 2025 tra i Comuni", "totale": "250000.00",
             "criteri": [{"indicatore": "popolazione", "peso": "1"}],
             "arrotondamento": {"metodo": "resto_maggiore"}, "dati_riferimento_id": dati["id"]}
    # The preview runs the same engine and stores nothing; storing then gives the same result.
    anteprima = call("POST", "/riparti/anteprima", 200, json=corpo).json()
    assert anteprima["anteprima"] is True and "id" not in anteprima and anteprima["avvisi"] == []
    assert call("GET", "/riparti").json()["elementi"] == []
    riparto = call("POST", "/riparti", 201, json=corpo).json()
    assert riparto["risultato"] == anteprima["risultato"] and riparto["avvisi"] == []
    parti = {a["id"]: Decimal(a["importo"]) for a in riparto["risultato"]["assegnazioni"]}
    assert sum(parti.values()) == Decimal("250000.00") and len(parti) == 17
    assert parti["065134"] == Decimal("37790.56")  # Sapri: 250,000 × 6373/42160 = 37,790.5598…, a remainder cent
    assert call("GET", f"/riparti/{riparto['id']}", params={"verifica": "true"}).json()["riproducibile"] is True

    # Allocations to the Piano's lines, then the chain on the FNPS one.
    fnps = movimento(f"/budget/{piano['piano_id']}/allocazioni", {
        "intervento": "A.1.1", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": "200000.00"})
    movimento(f"/budget/{piano['piano_id']}/allocazioni", {
        "intervento": "A.1.2", "fondo": "QSFP", "anno": 2025, "annualita": 2025, "importo": "80000.00"})
    impegno = movimento(f"/stanziamenti/{fnps['id']}/impegni", {
        "importo": "120000.00", "beneficiario": {"denominazione": "Cooperativa Sociale Il Faro",
                                                 "codice_fiscale": "00743110157"},
        "cig": "B1C2D3E4F5", "atto": {"tipo": "determina", "numero": "45", "data": "2025-06-03"},
        "oggetto": "Servizio di assistenza domiciliare anziani 2025", "comune": "065134"})
    liquidazione = movimento(f"/stanziamenti/{fnps['id']}/impegni/{impegno['impegno_id']}/liquidazioni", {
        "importo": "30000.00", "fattura": {"numero": "FT-2025/77", "data": "2025-09-30"}})
    pagato = movimento(f"/stanziamenti/{fnps['id']}/liquidazioni/{liquidazione['liquidazione_id']}/mandati", {
        "importo": "30000.00", "data": "2025-10-15"})
    assert (pagato["impegnato"], pagato["liquidato"], pagato["pagato"], pagato["disponibile"]) == (
        "120000.00", "30000.00", "30000.00", "80000.00")
    movimento(f"/stanziamenti/{fnps['id']}/impegni/{impegno['impegno_id']}/riduzioni", {
        "importo": "10000.00", "tipo": "economia", "motivo": "Ribasso d'asta sull'affidamento"})

    # The Comuni's contributions: 4.50 € per inhabitant in two instalments; Sapri pays the first.
    quote = call("POST", "/contributi/2026", 201, json={
        "metodo": "pro_capite", "quota_pro_capite": "4.50",
        "scadenze": [{"data": "2026-06-30", "percentuale": "50"}, {"data": "2026-12-31", "percentuale": "50"}]}).json()
    assert quote["totali"]["dovuto"] == "189720.00"  # 42,160 inhabitants × 4.50
    dopo = call("POST", "/contributi/2026/versamenti", 201, json={
        "istat": "065134", "importo": "14339.25", "data": "2026-06-20", "riferimento": "Reversale 412/2026"}).json()
    sapri = next(c for c in dopo["comuni"] if c["istat"] == "065134")
    assert (sapri["dovuto"], sapri["versato"], sapri["arretrato"]) == ("28678.50", "14339.25", "0.00")

    # The rendicontazione, derived from the ledger (a moment later: it is a read model of finance's own topic).
    def rendiconto() -> dict | None:
        r = call("GET", "/rendicontazione", params={"fondo": "FNPS", "annualita": 2025}).json()
        voce = r["voci"][0] if r["voci"] else None
        return r if voce and voce["cifre"]["riduzioni"] == "10000.00" else None

    report = wait_until(rendiconto, timeout=60, message="the ledger in the rendicontazione")
    cifre = report["voci"][0]["cifre"]
    assert (cifre["assegnato"], cifre["stanziato"], cifre["impegnato"], cifre["liquidato"], cifre["pagato"]) == (
        "250000.00", "200000.00", "110000.00", "30000.00", "30000.00")
    assert [r["motivo"] for r in report["voci"][0]["riduzioni"]] == ["Ribasso d'asta sull'affidamento"]
    assert {c["comune"] for c in report["voci"][0]["comuni"]} == {"065134"}
    servizi = wait_until(lambda: (v := call("GET", "/rendicontazione", params={"fondo": "QSFP"}).json()["voci"])
                         and v[0]["cifre"]["stanziato"] == "80000.00" and v[0], message="QSFP in the report")
    assert servizi["quota_servizi"]["stato"] == "rispettata"  # 80,000 of 80,000 on macro-livello 1 ≥ 40%
    assert servizi["condizione_fondo_poverta"] is not None

    esportato = call("GET", "/rendicontazione/export.csv", params={"annualita": 2025})
    righe_csv = list(csv.reader(io.StringIO(esportato.content.decode("utf-8-sig")), delimiter=";"))
    assert any("065134" in riga and "A.1.1" in riga for riga in righe_csv[1:]), righe_csv[:3]
    xlsx = openpyxl.load_workbook(io.BytesIO(call("GET", "/rendicontazione/export.xlsx").content))
    assert "Rendicontazione" in xlsx.sheetnames and xlsx["Rendicontazione"].max_row >= 2

    # Monitoring: the Region sees the execution rates of its Ambiti, another Region nothing.
    campania = platform.infra.auth(None, "regione", regione="15")

    def esecuzione() -> dict | None:
        vista = httpx.get(f"{monitoring}/regione/esecuzione", headers=campania, timeout=10).json()
        ours = [a for a in vista["ambiti"] if a["ambito"] == TENANT]
        return ours[0] if ours and ours[0]["pagato"] == "30000.00" else None

    ambito = wait_until(esecuzione, timeout=60, message="execution rates in the regional read model")
    assert (ambito["assegnato"], ambito["impegnato"]) == ("350000.00", "110000.00")
    assert ambito["tasso_impegno"] == "0.3143" and ambito["tasso_pagamento"] == "0.2727"  # 110/350, 30/110
    veneto = platform.infra.auth(None, "regione", regione="05")
    assert all(a["ambito"] != TENANT for a in
               httpx.get(f"{monitoring}/regione/esecuzione", headers=veneto, timeout=10).json()["ambiti"])
