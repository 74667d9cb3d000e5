"""Traceability end to end, over HTTP with real tokens, across planning, partnership and finance.

Ambito 15-TRAC has its Piano approved (line A.1.1 on FNPS 2025 and PNRR M5C2 2025). Partnership awards the
SAD to a cooperative with a CIG for 30,000 €; the award reaches finance over Kafka. A commitment to the
cooperative must name the award (its only title), takes the award's CIG (another CIG is refused) and, with the
other commitments under it on any allocation, stays within 30,000 € (a reduction gives room back); a
commitment on the PNRR annualità needs a CUP. A payment whose commitment was taken before its beneficiary's
award reached finance, without a CIG, is refused until the mandato reports it (L. 136/2010 art. 3 c. 5). A
professional with a 16-character codice fiscale is committed to, liquidated and paid.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, Callable

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import ALTRA, CIG, CIG_ALTRA, COOP, CUP, DETERMINA, Client, aree_domiciliarita  # noqa: E402

TENANT = "15-TRAC"
PROFESSIONISTA = {"denominazione": "Mario Rossi, psicologo", "codice_fiscale": "RSSMRA85T10A562S"}
AREE = aree_domiciliarita("PNRR_M5C2")
ATTO = DETERMINA


def problema(r: httpx.Response, status: int, rule: str, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["rule"], body.get("field")) == (rule, field), body


def test_cig_cup_ceiling_and_persons_paid(platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> None:
    infra = platform.infra
    piano = approva_piano(TENANT, AREE)
    coordinatore = infra.auth(TENANT, "coordinatore")
    partnership = Client(platform, "partnership", coordinatore)
    finance = Client(platform, "finance", infra.auth(TENANT, "amministrativo"))

    enti = {cf: partnership("POST", "/enti", 201, json={
        "codice_fiscale": cf, "tipo": "ets", "denominazione": nome, "forma_giuridica": "cooperativa sociale",
        "runts": {"sezione": "imprese_sociali", "numero_repertorio": rep}}).json()
        for cf, nome, rep in ((COOP, "Cooperativa Sociale Il Faro", "104578"), (ALTRA, "Cooperativa Alba", "55120"))}
    periodo = {"valido_dal": (date.today() - timedelta(days=30)).isoformat(),
               "valido_al": (date.today() + timedelta(days=365)).isoformat()}
    award = {"piano_id": piano["piano_id"], "intervento": "A.1.1", "modalita": "gara", "atto": ATTO, **periodo}
    senza_cig = partnership("POST", "/affidamenti", None, json={**award, "ente_id": enti[COOP]["id"],
                                                               "importo": "30000.00"})
    problema(senza_cig, 422, "affidamento.cig", "cig")  # a contract's award names its CIG
    affidamento = partnership("POST", "/affidamenti", 201, json={**award, "ente_id": enti[COOP]["id"],
                                                                "importo": "30000.00", "cig": CIG}).json()

    wait_until(lambda: finance("GET", f"/budget/{piano['piano_id']}").json()["versione_piano"] == 1, timeout=60,
               message="the Piano's lines in finance")
    wait_until(lambda: finance("GET", f"/fornitori/{COOP}/abilitazioni").json()["titoli"], timeout=60,
               message="the award in finance")
    finance("POST", "/assegnazioni", 201, json={"fondo": "FNPS", "annualita": 2025, "importo": "200000.00",
                                                "atto": {"tipo": "decreto", "numero": "9", "data": "2025-04-02",
                                                         "ente": "Regione Campania"}})
    pnrr = finance("POST", "/assegnazioni", 201, json={
        "fondo": "PNRR_M5C2", "annualita": 2025, "importo": "50000.00",
        "atto": {"tipo": "decreto", "numero": "5", "data": "2025-03-01", "ente": "Ministero del Lavoro"}}).json()
    assert pnrr["pnrr"] is True

    def alloca(fondo: str, importo: str) -> str:
        return finance("POST", f"/budget/{piano['piano_id']}/allocazioni", 201, json={
            "intervento": "A.1.1", "fondo": fondo, "anno": 2025, "annualita": 2025, "importo": importo}).json()["id"]

    fnps, pnrr_sid = alloca("FNPS", "100000.00"), alloca("PNRR_M5C2", "50000.00")

    def impegno(sid: str, importo: str, beneficiario: dict, expect: int | None = 201, **extra: Any) -> httpx.Response:
        return finance("POST", f"/stanziamenti/{sid}/impegni", expect, json={
            "importo": importo, "beneficiario": beneficiario, "atto": ATTO, "oggetto": "SAD anziani", **extra})

    coop = {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": COOP}
    # The cooperative's only title is the award: the commitment names it.
    problema(impegno(fnps, "1000.00", coop, None), 422, "impegno.affidamento_richiesto", "affidamento_id")
    problema(impegno(fnps, "1000.00", coop, None, affidamento_id=str(uuid.uuid4())), 422,
             "impegno.affidamento_sconosciuto", "affidamento_id")
    problema(impegno(fnps, "1000.00", coop, None, affidamento_id=affidamento["id"], cig=CIG_ALTRA), 422,
             "tracciabilita.cig_affidamento", "cig")
    primo = impegno(fnps, "20000.00", coop, affidamento_id=affidamento["id"]).json()
    assert primo["affidamento"] == {"affidamento_id": affidamento["id"], "cig": CIG, "importo": "30000.00",
                                    "impegnato": "20000.00", "disponibile": "10000.00"}
    assert finance("GET", f"/stanziamenti/{fnps}").json()["impegni"][primo["impegno_id"]]["cig"] == CIG

    # On the PNRR annualità a CUP is required; the award's ceiling counts across both allocations.
    problema(impegno(pnrr_sid, "10000.00", coop, None, affidamento_id=affidamento["id"]), 422,
             "tracciabilita.cup", "cup")
    impegno(pnrr_sid, "10000.00", coop, affidamento_id=affidamento["id"], cup=CUP)
    problema(impegno(fnps, "0.01", coop, None, affidamento_id=affidamento["id"]), 422,
             "impegno.tetto_affidamento", "importo")
    finance("POST", f"/stanziamenti/{fnps}/impegni/{primo['impegno_id']}/riduzioni", 201,
            json={"importo": "500.00", "tipo": "economia", "motivo": "Ribasso sul servizio"})
    impegno(fnps, "500.00", coop, affidamento_id=affidamento["id"])
    problema(impegno(fnps, "0.01", coop, None, affidamento_id=affidamento["id"]), 422,
             "impegno.tetto_affidamento", "importo")

    # The award's CIG goes on the payment order.
    liq = finance("POST", f"/stanziamenti/{fnps}/impegni/{primo['impegno_id']}/liquidazioni", 201, json={
        "importo": "5000.00", "fattura": {"numero": "FT-1", "data": "2026-02-01"}}).json()
    problema(finance("POST", f"/stanziamenti/{fnps}/liquidazioni/{liq['liquidazione_id']}/mandati", None,
                     json={"importo": "5000.00", "data": "2026-02-10", "cig": CIG_ALTRA}),
             422, "tracciabilita.cig_impegno", "cig")
    mandato = finance("POST", f"/stanziamenti/{fnps}/liquidazioni/{liq['liquidazione_id']}/mandati", 201,
                      json={"importo": "5000.00", "data": "2026-02-10"}).json()
    assert finance("GET", f"/stanziamenti/{fnps}").json()["mandati"][mandato["mandato_id"]]["cig"] == CIG

    # A commitment taken before its beneficiary's award reached finance, without a CIG: its payment is
    # under that award and is refused until the mandato reports the CIG.
    altra = {"denominazione": "Cooperativa Alba", "codice_fiscale": ALTRA}
    vecchio = impegno(fnps, "3000.00", altra).json()
    liq = finance("POST", f"/stanziamenti/{fnps}/impegni/{vecchio['impegno_id']}/liquidazioni", 201, json={
        "importo": "3000.00", "fattura": {"numero": "A-7", "data": "2026-02-01"}}).json()
    partnership("POST", "/affidamenti", 201, json={**award, "ente_id": enti[ALTRA]["id"], "importo": "3000.00",
                                                  "cig": CIG_ALTRA})
    wait_until(lambda: finance("GET", f"/fornitori/{ALTRA}/abilitazioni").json()["titoli"], timeout=60,
               message="the second award in finance")
    mandati = f"/stanziamenti/{fnps}/liquidazioni/{liq['liquidazione_id']}/mandati"
    problema(finance("POST", mandati, None, json={"importo": "3000.00", "data": "2026-02-10"}), 422,
             "tracciabilita.cig", "cig")
    pagato = finance("POST", mandati, 201, json={"importo": "3000.00", "data": "2026-02-10", "cig": CIG_ALTRA}).json()
    assert finance("GET", f"/stanziamenti/{fnps}").json()["mandati"][pagato["mandato_id"]]["cig"] == CIG_ALTRA

    # A professional with a 16-character codice fiscale is committed to, liquidated and paid; a wrong check
    # character is refused with the person's own rule.
    sbagliato = {**PROFESSIONISTA, "codice_fiscale": "RSSMRA85T10A562T"}
    problema(impegno(fnps, "4800.00", sbagliato, None), 422, "codice_fiscale.persona", "body.beneficiario.codice_fiscale")
    problema(impegno(fnps, "4800.00", {**PROFESSIONISTA, "codice_fiscale": "RSSMRA85T10A"}, None), 422,
             "codice_fiscale.lunghezza", "body.beneficiario.codice_fiscale")
    prof = impegno(fnps, "4800.00", PROFESSIONISTA).json()
    liq = finance("POST", f"/stanziamenti/{fnps}/impegni/{prof['impegno_id']}/liquidazioni", 201, json={
        "importo": "4800.00", "fattura": {"numero": "P-3", "data": "2026-02-01"}}).json()
    finance("POST", f"/stanziamenti/{fnps}/liquidazioni/{liq['liquidazione_id']}/mandati", 201,
            json={"importo": "4800.00", "data": "2026-02-10"})
    elenco = wait_until(lambda: finance("GET", "/impegni", params={"beneficiario": PROFESSIONISTA["codice_fiscale"]})
                        .json()["elementi"], timeout=30, message="the professional's commitment in the list")
    assert [(i["beneficiario_cf"], i["importo"]) for i in elenco] == [(PROFESSIONISTA["codice_fiscale"], "4800.00")]

    # Another Ambito cannot commit under this Ambito's award (it does not exist for it).
    altro = Client(platform, "finance", infra.auth("15-TRAX", "amministrativo"))
    assert altro("GET", f"/stanziamenti/{fnps}", None).status_code == 404
