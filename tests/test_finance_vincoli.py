"""Fund constraints end to end, over HTTP with real tokens, across planning and finance.

Ambito 15-VINC approves a Piano whose interventi carry their classification (planning): a centre for
families (minori_famiglie), home care for the elderly (anziani), an unclassified intervento, and an
investment (disabilita, investimento). finance receives the version over Kafka; FNPS annualità 2023 is
assigned and allocated to the lines; commitments and payments follow. GET /vincoli measures the FNPS
quota for children and adolescents (50% for annualità 2020–2023: D.I. 19/11/2020, Piano sociale nazionale
2021–2023) on commitments and on payments with its figures, and reports the unclassified intervento's
spending as such. A commitment on the investment intervento without a CUP is refused (L. 144/1999 art. 11;
L. 3/2003 art. 11), with one it is taken. Another Ambito sees none of it.
"""

from __future__ import annotations

from typing import Any, Callable

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import Client, S09  # noqa: E402

TENANT = "15-VINC"
CUP = "J51B21005460006"
COMUNI = [c["istat"] for c in S09["comuni"]]
ATTO = {"tipo": "determina", "numero": "12", "data": "2026-01-15"}


def intervento(codice: str, titolo: str, importo: str, **classificazione: Any) -> dict[str, Any]:
    return {"codice": codice, "titolo": titolo, "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"},
            "comuni": COMUNI, "utenti_attesi": 50, "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": importo}],
            **classificazione}


AREE = [{"codice": "A", "titolo": "Servizi sociali", "obiettivi": [{"codice": "A.1", "titolo": "Rete dei servizi",
         "interventi": [
             intervento("M-1", "Centro per le famiglie", "100000.00", area_utenza="minori_famiglie", servizio_qsfp="f"),
             intervento("A-1", "Assistenza domiciliare anziani", "100000.00", area_utenza="anziani"),
             intervento("X-1", "Sportello sociale", "50000.00"),
             intervento("INV-1", "Centro diurno per disabili: ristrutturazione", "50000.00", area_utenza="disabilita",
                        investimento=True)]}]}]


def test_fnps_quota_for_children_measured_on_commitments_and_payments(
        platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> None:
    infra = platform.infra
    coordinatore = Client(platform, "planning", infra.auth(TENANT, "coordinatore"))
    piano = approva_piano(TENANT, AREE)
    versione = coordinatore("GET", f"/piani/{piano['piano_id']}/versioni/1").json()
    m1 = versione["aree"][0]["obiettivi"][0]["interventi"][0]
    assert (m1["area_utenza"], m1["servizio_qsfp"], m1["investimento"]) == ("minori_famiglie", "f", None)

    finance = Client(platform, "finance", infra.auth(TENANT, "amministrativo"))
    wait_until(lambda: finance("GET", f"/budget/{piano['piano_id']}").json()["versione_piano"] == 1, timeout=60,
               message="the Piano's lines in finance")
    finance("POST", "/assegnazioni", 201, json={"fondo": "FNPS", "annualita": 2023, "importo": "300000.00",
                                                "atto": {"tipo": "decreto", "numero": "44", "data": "2024-05-02",
                                                         "ente": "Regione Campania"}})
    sid = {iv: finance("POST", f"/budget/{piano['piano_id']}/allocazioni", 201, json={
        "intervento": iv, "fondo": "FNPS", "anno": 2025, "annualita": 2023, "importo": importo}).json()["id"]
        for iv, importo in (("M-1", "100000.00"), ("A-1", "100000.00"), ("X-1", "50000.00"), ("INV-1", "50000.00"))}

    def impegno(iv: str, importo: str, expect: int | None = 201, **extra: Any) -> httpx.Response:
        return finance("POST", f"/stanziamenti/{sid[iv]}/impegni", expect, json={
            "importo": importo, "beneficiario": {"denominazione": "Cooperativa Sociale Il Faro",
                                                 "codice_fiscale": "00743110157"},
            "atto": ATTO, "oggetto": f"Servizio {iv}", **extra})

    def paga(iv: str, impegno_id: str, importo: str) -> None:
        liq = finance("POST", f"/stanziamenti/{sid[iv]}/impegni/{impegno_id}/liquidazioni", 201, json={
            "importo": importo, "fattura": {"numero": f"F-{iv}", "data": "2026-02-01"}}).json()
        finance("POST", f"/stanziamenti/{sid[iv]}/liquidazioni/{liq['liquidazione_id']}/mandati", 201,
                json={"importo": importo, "data": "2026-02-10"})

    # The investment intervento: no CUP, no commitment (the fund itself is not an investment fund).
    senza_cup = impegno("INV-1", "5000.00", None)
    assert senza_cup.status_code == 422 and senza_cup.headers["content-type"].startswith("application/problem+json")
    body = senza_cup.json()
    assert (body["rule"], body["field"]) == ("tracciabilita.cup", "cup") and "INV-1" in body["detail"]
    impegno("INV-1", "5000.00", cup=CUP)
    # the other interventi need no CUP
    paga("M-1", impegno("M-1", "60000.00").json()["impegno_id"], "20000.00")
    paga("A-1", impegno("A-1", "30000.00").json()["impegno_id"], "30000.00")
    impegno("X-1", "10000.00")

    [v] = finance("GET", "/vincoli", params={"fondo": "FNPS", "annualita": 2023}).json()["vincoli"]
    assert (v["fondo"], v["annualita"], v["vincolo"]["codice"], v["vincolo"]["soglia_percentuale"]) == (
        "FNPS", 2023, "fnps_minori_50", "50.00")
    assert "D.I. 19 novembre 2020" in v["vincolo"]["fonte"]
    imp, pag = v["impegni"], v["mandati"]
    # commitments: 60,000 of 105,000 to children (57.14%), 10,000 not classified, met
    assert {k: imp[k] for k in ("numeratore", "denominatore", "non_classificata", "quota_percentuale", "esito",
                                "interventi_non_classificati")} == {
        "numeratore": "60000.00", "denominatore": "105000.00", "non_classificata": "10000.00",
        "quota_percentuale": "57.14", "esito": "rispettato", "interventi_non_classificati": ["X-1"]}
    # payments: 20,000 of 50,000 (40.00%) — below 50%, and X-1 paid nothing: not met
    assert {k: pag[k] for k in ("numeratore", "denominatore", "non_classificata", "quota_percentuale", "esito",
                                "interventi_non_classificati")} == {
        "numeratore": "20000.00", "denominatore": "50000.00", "non_classificata": "0.00",
        "quota_percentuale": "40.00", "esito": "non_rispettato", "interventi_non_classificati": []}

    riferimenti = finance("GET", "/vincoli/riferimenti").json()
    assert {r["codice"] for r in riferimenti} == {"fnps_minori_40", "fnps_minori_50", "fna_gravissime_50",
                                                  "qsfp_servizi_art7"}
    sconosciuto = finance("GET", "/vincoli", None, params={"fondo": "FONDO_X"})
    assert sconosciuto.status_code == 422 and sconosciuto.json()["rule"] == "fondo.noto"
    # Another Ambito sees none of this Ambito's spending.
    altro = Client(platform, "finance", infra.auth("15-VINX", "amministrativo"))
    [vuoto] = altro("GET", "/vincoli", params={"fondo": "FNPS", "annualita": 2023}).json()["vincoli"]
    assert (vuoto["impegni"]["denominatore"], vuoto["impegni"]["esito"]) == ("0.00", "non_valutabile")
