"""finance's lists over HTTP: filters, sort, pagination, read-your-writes with and without a broker, tenancy.

The real finance app (``finance.main.build``) runs in process on the run's PostgreSQL. The plan's
budget and the Ambito's composition come from planning's events; here they are recorded through
the application with their tracking, as the consumer would. Everything else goes through HTTP
with real tokens, and each list is read right after the write that should appear in it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Iterator

import pytest
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient

from ambiti_kit.testing.fixtures import Infra, free_port
from ambiti_kit.testing.lists import every_page
from finance.main import build

A, B = "15-FEL1", "15-FEL2"
CF, CF2 = "00743110157", "80012170157"
DECRETO = {"tipo": "decreto", "numero": "87", "data": "2025-05-20", "ente": "Regione Campania"}
SAD = {"codice": "SAD", "titolo": "Assistenza domiciliare", "comuni": ["065134", "065156"],
       "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
       "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "900000.00"}]}


@dataclass
class World:
    ns: Infra
    client: TestClient
    keys: int = 0
    planning: int = 0

    @property
    def runtime(self) -> Any:
        return self.client.app.state.runtime

    def call(self, method: str, path: str, tenant: str = A, role: str = "amministrativo", expect: int = 200,
             key: bool = False, **kw: Any) -> Any:
        headers = self.ns.auth(tenant, role)
        if key:
            self.keys += 1
            headers["Idempotency-Key"] = f"chiave-elenchi-{self.keys:05d}"
        r = self.client.request(method, path, headers=headers, **kw)
        assert r.status_code == expect, r.text
        return r.json()

    def elenco(self, path: str, tenant: str = A, role: str = "revisore", **params: Any) -> list[dict]:
        return self.call("GET", path, tenant, role, params=params)["elementi"]

    def piano(self, tenant: str) -> uuid.UUID:
        piano = uuid.uuid4()
        app = self.runtime.app
        self.planning += 1
        app.apri_budget_del_piano(tenant, piano, 2025, 2027, Tracking("planning", self.planning))
        self.planning += 1
        app.recepisci_versione(tenant, piano, 1, "1/2025", [SAD], Tracking("planning", self.planning))
        return piano

    def stanziamento(self, tenant: str, piano: uuid.UUID, importo: str = "500000.00") -> str:
        return self.call("POST", f"/budget/{piano}/allocazioni", tenant, expect=201, key=True, json={
            "intervento": "SAD", "fondo": "FNPS", "anno": 2025, "annualita": 2025, "importo": importo})["id"]

    def impegno(self, tenant: str, stanziamento: str, importo: str, cf: str = CF, cig: str | None = None,
                comune: str | None = None) -> str:
        return self.call("POST", f"/stanziamenti/{stanziamento}/impegni", tenant, expect=201, key=True, json={
            "importo": importo, "beneficiario": {"denominazione": f"Ente {cf}", "codice_fiscale": cf},
            "cig": cig, "atto": {"tipo": "determina", "numero": f"{self.keys}/2025", "data": "2025-06-03"},
            "oggetto": "Servizio di assistenza domiciliare", "comune": comune})["impegno_id"]


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}fel_")
    with TestClient(build(ns.settings("finance"), run_workers=False)) as client:
        w = World(ns, client)
        try:
            for tenant in (A, B):
                w.call("POST", "/assegnazioni", tenant, expect=201, json={
                    "fondo": "FNPS", "annualita": 2025, "importo": "1000000.00", "atto": DECRETO})
            yield w
        finally:
            w.runtime.relay.close()


def test_a_write_is_in_its_list_when_the_response_returns(world: World) -> None:
    piano = world.piano(A)
    stanziamento = world.stanziamento(A, piano, "600000.00")
    assert [s["stanziamento_id"] for s in world.elenco("/stanziamenti", piano_id=str(piano))] == [stanziamento]
    misses = 0
    for i in range(200):
        impegno = world.impegno(A, stanziamento, "100.00", cig=f"B{i:09d}")
        found = world.elenco("/impegni", stanziamento_id=stanziamento, limite=1)
        misses += [x["impegno_id"] for x in found] != [impegno]
    assert misses == 0
    voce = world.elenco("/impegni", cig="B000000199")[0]
    assert (voce["importo"], voce["residuo"], voce["beneficiario_cf"], voce["fondo"], voce["intervento"]) == (
        "100.00", "100.00", CF, "FNPS", "SAD")
    s = world.elenco("/stanziamenti", piano_id=str(piano))[0]
    assert (s["stanziato"], s["impegnato"], s["disponibile"]) == ("600000.00", "20000.00", "580000.00")


def test_the_chain_filters_sort_and_pages(world: World) -> None:
    piano = world.piano(A)
    stanziamento = world.stanziamento(A, piano, "50000.00")
    primo = world.impegno(A, stanziamento, "30000.00", cf=CF2, cig="Z1A2B3C4D5", comune="065134")
    secondo = world.impegno(A, stanziamento, "5000.00", cf=CF2)
    liq = world.call("POST", f"/stanziamenti/{stanziamento}/impegni/{primo}/liquidazioni", expect=201, key=True,
                     json={"importo": "12000.00", "fattura": {"numero": "FT-1", "data": "2025-09-30"}})
    world.call("POST", f"/stanziamenti/{stanziamento}/liquidazioni/{liq['liquidazione_id']}/mandati", expect=201,
               key=True, json={"importo": "10000.00", "data": "2025-10-15"})
    world.call("POST", f"/stanziamenti/{stanziamento}/impegni/{primo}/riduzioni", expect=201, key=True,
               json={"importo": "1000.00", "tipo": "economia", "motivo": "Ribasso d'asta"})

    impegni = world.elenco("/impegni", beneficiario=CF2)
    assert [i["impegno_id"] for i in impegni] == [secondo, primo]  # newest first
    p = impegni[1]
    assert (p["importo"], p["ridotto"], p["liquidato"], p["pagato"], p["residuo"], p["comune"], p["cig"]) == (
        "30000.00", "1000.00", "12000.00", "10000.00", "17000.00", "065134", "Z1A2B3C4D5")
    assert [i["impegno_id"] for i in world.elenco("/impegni", beneficiario=CF2, comune="065134")] == [primo]
    assert [i["impegno_id"] for i in world.elenco("/impegni", stanziamento_id=stanziamento,
                                                  da_liquidare="true")] == [secondo, primo]
    assert world.elenco("/impegni", dal=str(date.today().replace(year=date.today().year + 1))) == []
    liquidazioni = world.elenco("/liquidazioni", impegno_id=primo)
    assert [(x["importo"], x["pagato"], x["fattura_numero"], x["beneficiario_cf"]) for x in liquidazioni] == [
        ("12000.00", "10000.00", "FT-1", CF2)]
    mandati = world.elenco("/mandati", beneficiario=CF2)
    assert [(m["importo"], m["data"], m["liquidazione_id"]) for m in mandati] == [
        ("10000.00", "2025-10-15", liq["liquidazione_id"])]
    s = world.elenco("/stanziamenti", piano_id=str(piano))[0]
    assert (s["stanziato"], s["impegnato"], s["liquidato"], s["pagato"], s["disponibile"]) == (
        "50000.00", "34000.00", "12000.00", "10000.00", "16000.00")
    assegnazioni = world.elenco("/assegnazioni", fondo="FNPS", annualita=2025)
    assert [(a["totale"], a["atti"]) for a in assegnazioni] == [("1000000.00", 1)]

    # every commitment of the Ambito, one page at a time: no repeat, no gap, Link on all pages but the last
    def pages(limite: int) -> tuple[list[str], int]:
        items, count = every_page(lambda params: world.client.get("/impegni", params=params,
                                                                  headers=world.ns.auth(A, "revisore")), limite)
        return [i["impegno_id"] for i in items], count

    big, _ = pages(200)
    small, count = pages(37)
    assert small == big and len(set(small)) == len(small) == 202 and count == 6


def test_riparti_reference_data_and_contributions_are_listed(world: World) -> None:
    dati = world.call("POST", "/dati-riferimento", expect=201, json={
        "nome": "popolazione", "data_riferimento": "2024-01-01", "fonte": "ISTAT",
        "csv": "istat,popolazione\n065134,6373\n065156,3000\n"})
    assert [(d["dati_id"], d["righe"], d["colonne"]) for d in world.elenco("/dati-riferimento", nome="popolazione")] \
        == [(dati["id"], 2, ["popolazione"])]
    riparto = world.call("POST", "/riparti", expect=201, json={
        "oggetto": "Riparto FNPS 2025 tra i Comuni", "totale": "1000.00",
        "criteri": [{"indicatore": "popolazione", "peso": "1"}], "arrotondamento": {"metodo": "resto_maggiore"},
        "dati_riferimento_id": dati["id"]})
    voce = world.elenco("/riparti", q="fnps 2025")[0]
    assert (voce["riparto_id"], voce["totale"], voce["ripartito"], voce["residuo"], voce["destinatari"],
            voce["metodo"]) == (riparto["id"], "1000.00", "1000.00", "0.00", 2, "resto_maggiore")


def test_bad_filters_roles_and_tenancy(world: World) -> None:
    for path, params in (("/impegni", {"fondo": "INVENTATO"}), ("/impegni", {"cig": "corto"}),
                         ("/impegni", {"stanziamento_id": "x"}), ("/impegni", {"dal": "ieri"}),
                         ("/stanziamenti", {"annualita": 1999}), ("/mandati", {"limite": 500}),
                         ("/liquidazioni", {"dopo": "!!"}), ("/riparti", {"q": ""})):
        r = world.client.get(path, params=params, headers=world.ns.auth(A, "revisore"))
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(params)) in r.json()["field"], r.json()
    assert world.client.get("/impegni", headers=world.ns.auth(A, "assistente_sociale")).status_code == 403
    assert world.client.get("/impegni").status_code == 401
    # B has its assignment only: none of A's allocations, commitments or payments
    assert world.elenco("/impegni", tenant=B) == [] and world.elenco("/stanziamenti", tenant=B) == []
    assert world.elenco("/mandati", tenant=B) == [] and len(world.elenco("/assegnazioni", tenant=B)) == 1


def test_writes_and_own_lists_work_with_the_broker_down(infra: Infra) -> None:
    """Nothing listens on the broker's port: the relay keeps failing in the background, the lists do not."""
    ns = replace(infra, namespace=f"{infra.namespace}felnb_", kafka_bootstrap=f"127.0.0.1:{free_port()}")
    with TestClient(build(ns.settings("finance"))) as client:
        w = World(ns, client)
        try:
            w.call("POST", "/assegnazioni", expect=201, json={
                "fondo": "FNPS", "annualita": 2025, "importo": "1000.00", "atto": DECRETO})
            piano = w.piano(A)
            stanziamento = w.stanziamento(A, piano, "900.00")
            for _ in range(20):
                impegno = w.impegno(A, stanziamento, "10.00")
                assert w.elenco("/impegni", limite=1)[0]["impegno_id"] == impegno
            assert w.elenco("/stanziamenti")[0]["impegnato"] == "200.00"
            assert client.get("/health").json()["projector"]["backlog"] == 0
        finally:
            w.runtime.relay.close()
