"""The payment history of an impegno for the auditor (issue 9, item 3), against the real PostgreSQL.

finance runs in process (its app as ``finance.main.build`` wires it, plus the history's router)
on the run's database, with no workers: the tests move the money through the ``Finance``
application's use cases and link the audit chain themselves (``AuditChain.advance``, the outbox
worker's step), so that "not yet chained" is theirs to arrange too. Tampering is done as the
superuser with the append-only trigger disabled for one transaction, as in ``test_audit.py``;
each tampering test works on an Ambito of its own, because what it breaks stays broken.

Ledger of 15-STO1 (SAD, FNPS 2024, 50 000,00), in the order of registration:

    v1 apertura · v2 impegno I1 10 000,00 · v3 impegno I2 5 000,00 · v4 disimpegno I1 1 000,00
    v5 liquidazione I1 FT-1 4 000,00 · v6 liquidazione I2 · v7 liquidazione I1 FT-2 3 000,00
    v8 mandato I1 on FT-1 4 000,00
    -> I1: impegnato 10 000,00, ridotto 1 000,00, liquidato 7 000,00, pagato 4 000,00,
           residuo 2 000,00, da pagare 3 000,00.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal as D
from typing import Any, Iterator

import psycopg
import pytest
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.rows import dict_row

from ambiti_kit.errors import PROBLEM_JSON
from ambiti_kit.eventstore import events_table
from ambiti_kit.idempotency import Once
from ambiti_kit.service import Runtime
from ambiti_kit.testing.fixtures import Infra
from finance.api import storia
from finance.application import Finance
from finance.domain.comandi import NuovaAllocazione, NuovaLiquidazione, NuovoImpegno, NuovoMandato, RiduzioneImpegno
from finance.domain.fondi import atto
from finance.main import build

pytestmark = pytest.mark.e2e

A, B, ALTERATO, CANCELLATO, ATTESA = "15-STO1", "15-STO2", "15-STO3", "15-STO4", "15-STO5"
CF = "00743110157"  # a valid codice fiscale of an organisation (check digit)
CIG, CUP = "Z1A2B3C4D5", "J51B21005460006"
STORIA = "/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/storia"
EVENTS = events_table("finance")


@dataclass
class Spesa:
    """One ledger and its impegno I1 (plus I2 on the same ledger), with their movements' ids."""

    tenant: str
    stanziamento: uuid.UUID
    impegno: uuid.UUID
    altro_impegno: uuid.UUID
    liquidazioni: list[uuid.UUID] = field(default_factory=list)

    @property
    def path(self) -> str:
        return STORIA.format(stanziamento_id=self.stanziamento, impegno_id=self.impegno)


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    planning_sequence: int = 0
    keys: int = 0

    @property
    def app(self) -> Finance:
        return self.runtime.app  # type: ignore[return-value]

    def key(self) -> str:
        self.keys += 1
        return f"chiave-storia-{self.keys:04d}"

    def tracking(self) -> Tracking:
        self.planning_sequence += 1
        return Tracking("planning", self.planning_sequence)

    def spesa(self, tenant: str) -> Spesa:
        """A fresh ledger of ``tenant`` (a plan of its own) and the spending chain of the module docstring."""
        app, ufficio, ragioneria = self.app, f"amministrativo@{tenant}", f"ragioneria@{tenant}"
        piano = uuid.uuid4()
        app.apri_budget_del_piano(tenant, piano, 2024, 2026, self.tracking())
        app.recepisci_versione(tenant, piano, 1, "1/2024", [{
            "codice": "SAD", "titolo": "Assistenza domiciliare", "comuni": ["065134"],
            "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
            "linee_budget": [{"fondo": "FNPS", "anno": 2024, "importo": "50000.00"}]}], self.tracking())
        app.registra_assegnazione(tenant, "FNPS", 2024, D("50000.00"),
                                  atto("decreto", f"D-{self.key()}", date(2024, 11, 20), "Ministero del Lavoro"), {},
                                  ufficio)
        allocato, _ = app.alloca(Once(tenant, ufficio, self.key()),
                                 NuovaAllocazione(piano, "SAD", "FNPS", 2024, 2024, D("50000.00")))
        s = uuid.UUID(allocato["id"])

        def impegna(importo: str, numero: str) -> uuid.UUID:
            esito, _ = app.impegna(Once(tenant, ufficio, self.key()), NuovoImpegno(
                s, D(importo), {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": CF}, CIG, CUP,
                {"tipo": "determina", "numero": numero, "data": date(2025, 2, 1)},
                "Servizio di assistenza domiciliare", "065134"))
            return uuid.UUID(esito["impegno_id"])

        def liquida(impegno: uuid.UUID, importo: str, fattura: str, giorno: int) -> uuid.UUID:
            esito, _ = app.liquida(Once(tenant, ragioneria, self.key()), NuovaLiquidazione(
                s, impegno, {"numero": fattura, "data": date(2025, 4, giorno)}, D(importo)))
            return uuid.UUID(esito["liquidazione_id"])

        i1 = impegna("10000.00", "12/2025")
        i2 = impegna("5000.00", "13/2025")
        app.riduci_impegno(Once(tenant, ufficio, self.key()), RiduzioneImpegno(
            s, i1, D("1000.00"), "disimpegno", "Ore non erogate per chiusura estiva"))
        ft1 = liquida(i1, "4000.00", "FT-1", 1)
        liquida(i2, "2500.00", "FT-A", 2)
        ft2 = liquida(i1, "3000.00", "FT-2", 3)
        app.paga(Once(tenant, ragioneria, self.key()), NuovoMandato(s, ft1, D("4000.00"), date(2025, 5, 2)))
        return Spesa(tenant, s, i1, i2, [ft1, ft2])

    def chain(self) -> None:
        """The outbox worker's step: link every stored event into its tenant's chain."""
        while self.runtime.chain.advance():
            pass

    def get(self, path: str, tenant: str | None, *roles: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.ns.auth(tenant, *roles))

    def storia(self, spesa: Spesa, role: str = "revisore", **params: Any) -> dict[str, Any]:
        response = self.get(spesa.path, spesa.tenant, role, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}storia_")
    api = build(ns.settings("finance"), run_workers=False)
    if not any(getattr(r, "path", None) == "/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/storia"
               for r in api.routes):  # until main.py wires the router itself
        api.include_router(storia.router)
    with TestClient(api) as client:
        w = World(ns, client, client.app.state.runtime)
        try:
            yield w
        finally:
            for consumer in w.runtime.consumers:
                consumer.close()
            w.runtime.relay.close()


@pytest.fixture(scope="module")
def spesa(world: World) -> Spesa:
    s = world.spesa(A)
    world.spesa(B)
    world.chain()
    return s


@pytest.fixture
def db(world: World) -> Iterator[psycopg.Connection]:
    """A superuser connection (the store's owner: privileges alone would not stop it)."""
    with psycopg.connect(world.ns.database_url, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()["rolsuper"]
        yield conn


def events(world: World) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(world.runtime.settings.db_schema), sql.Identifier(EVENTS))


def stored(db: psycopg.Connection, world: World, originator_id: uuid.UUID, version: int) -> dict[str, Any]:
    row = db.execute(sql.SQL("SELECT * FROM {} WHERE originator_id = %s AND originator_version = %s").format(
        events(world)), (originator_id, version)).fetchone()
    assert row is not None
    return row


@contextmanager
def tampering(db: psycopg.Connection, world: World) -> Iterator[sql.Composed]:
    """As superuser, in one transaction: disable the events table's user triggers, tamper, re-enable."""
    table = events(world)
    with db.transaction():
        db.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(table))
        yield table
        for kind in ("rows", "truncate"):  # back as the kit installs them: ENABLE ALWAYS
            db.execute(sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(
                table, sql.Identifier(f"{EVENTS}_append_only_{kind}")))


def movimenti(body: dict[str, Any]) -> list[tuple]:
    return [(e["tipo"], e["versione"], e["importo"], e["catena"]) for e in body["eventi"]]


# -- the whole history ------------------------------------------------------------------------

def test_the_whole_history_in_order_with_running_figures_and_every_link_checked(
        world: World, spesa: Spesa) -> None:
    body = world.storia(spesa)
    assert (body["impegno_id"], body["ambito"]) == (str(spesa.impegno), A)
    assert {k: v for k, v in body["stanziamento"].items() if k != "piano_id"} == {
        "id": str(spesa.stanziamento), "fondo": "FNPS", "annualita": 2024, "intervento": "SAD", "anno": 2024}
    assert body["beneficiario"] == {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": CF}
    assert (body["cig"], body["cup"], body["comune"]) == (CIG, CUP, "065134")

    # only I1's movements (I2's, at v3 and v6, are on the same ledger), in the order they were stored
    assert movimenti(body) == [("impegno", 2, "10000.00", "integra"), ("riduzione", 4, "1000.00", "integra"),
                               ("liquidazione", 5, "4000.00", "integra"), ("liquidazione", 7, "3000.00", "integra"),
                               ("mandato", 8, "4000.00", "integra")]
    nids = [e["notification_id"] for e in body["eventi"]]
    assert nids == sorted(nids) and len(set(nids)) == 5
    assert all(len(e["anello"]) == 64 for e in body["eventi"])
    impegno, riduzione, ft1, ft2, mandato = body["eventi"]
    ufficio, ragioneria = f"amministrativo@{A}", f"ragioneria@{A}"
    assert (impegno["autore"], impegno["atto"], impegno["oggetto"]) == (
        ufficio, {"tipo": "determina", "numero": "12/2025", "data": "2025-02-01"}, "Servizio di assistenza domiciliare")
    assert (riduzione["autore"], riduzione["tipo_riduzione"], riduzione["motivo"]) == (
        ufficio, "disimpegno", "Ore non erogate per chiusura estiva")
    assert (ft1["autore"], ft1["fattura"], ft1["liquidazione_id"]) == (
        ragioneria, {"numero": "FT-1", "data": "2025-04-01"}, str(spesa.liquidazioni[0]))
    assert ft2["fattura"] == {"numero": "FT-2", "data": "2025-04-03"}
    assert (mandato["autore"], mandato["data"], mandato["liquidazione_id"]) == (
        ragioneria, "2025-05-02", str(spesa.liquidazioni[0]))
    assert mandato["mandato_id"] and mandato["fattura"] is None and impegno["mandato_id"] is None
    quando = [e["quando"] for e in body["eventi"]]
    assert quando == sorted(quando) and all(q.endswith(("Z", "+00:00")) for q in quando)

    # running figures after each movement: impegnato, ridotto, liquidato, pagato, residuo, da pagare
    assert [tuple(e["saldi"].values()) for e in body["eventi"]] == [
        ("10000.00", "0.00", "0.00", "0.00", "10000.00", "0.00"),
        ("10000.00", "1000.00", "0.00", "0.00", "9000.00", "0.00"),
        ("10000.00", "1000.00", "4000.00", "0.00", "5000.00", "4000.00"),
        ("10000.00", "1000.00", "7000.00", "0.00", "2000.00", "7000.00"),
        ("10000.00", "1000.00", "7000.00", "4000.00", "2000.00", "3000.00")]
    assert body["totali"] == {"impegnato": "10000.00", "ridotto": "1000.00", "liquidato": "7000.00",
                              "pagato": "4000.00", "residuo": "2000.00", "da_pagare": "3000.00"}
    # ... the same figures the ledger itself holds
    ledger = world.get(f"/stanziamenti/{spesa.stanziamento}", A, "amministrativo").json()
    i1 = ledger["impegni"][str(spesa.impegno)]
    assert (i1["importo"], i1["ridotto"], i1["liquidato"]) == ("10000.00", "1000.00", "7000.00")

    assert body["esito"] == "integra"
    assert body["verifica"] == {"eventi_controllati": 8, "verificati": 8, "in_attesa": 0, "compromessi": [],
                                "catena_ambito": None}
    completa = world.storia(spesa, "coordinatore", catena_completa="true")
    assert completa["esito"] == "integra" and completa["verifica"]["catena_ambito"]["ok"] is True
    assert completa["eventi"] == body["eventi"]


def test_events_not_yet_chained_are_pending_until_the_outbox_worker_links_them(world: World) -> None:
    s = world.spesa(ATTESA)
    body = world.storia(s)
    assert {e["catena"] for e in body["eventi"]} == {"in_attesa"}
    assert (body["esito"], body["verifica"]["in_attesa"], body["verifica"]["compromessi"]) == ("in_attesa", 8, [])
    world.chain()
    body = world.storia(s)
    assert {e["catena"] for e in body["eventi"]} == {"integra"} and body["esito"] == "integra"


def test_the_route_is_documented_for_integrators(world: World) -> None:
    openapi = world.client.get("/openapi.json").json()
    route = openapi["paths"]["/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/storia"]["get"]
    assert route["summary"] == "Storia di un impegno per il revisore" and "catena di audit" in route["description"]
    assert {p["name"] for p in route["parameters"]} == {"stanziamento_id", "impegno_id", "catena_completa"}
    assert route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("StoriaImpegnoRead")
    schemas = openapi["components"]["schemas"]
    assert "compromessa" in schemas["StoriaImpegnoRead"]["properties"]["esito"]["description"]
    assert all(p.get("description") for p in schemas["SaldiImpegno"]["properties"].values())
    assert schemas["EventoStoria"]["properties"]["catena"]["enum"] == ["integra", "compromessa", "in_attesa"]


# -- tampering ----------------------------------------------------------------------------------

def test_an_altered_event_is_flagged_and_named(world: World, db: psycopg.Connection) -> None:
    s = world.spesa(ALTERATO)
    world.chain()
    assert world.storia(s)["esito"] == "integra"

    ft2 = stored(db, world, s.stanziamento, 7)  # I1's second liquidation, 3 000,00
    forged = bytes(ft2["state"]).replace(b'"_data_":"3000.00"', b'"_data_":"3900.00"')
    assert forged != bytes(ft2["state"])
    with tampering(db, world) as table:
        db.execute(sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(table),
                   (forged, ft2["notification_id"]))

    body = world.storia(s)
    # the history shows what is stored, and says that this row cannot be trusted
    assert movimenti(body) == [("impegno", 2, "10000.00", "integra"), ("riduzione", 4, "1000.00", "integra"),
                               ("liquidazione", 5, "4000.00", "integra"),
                               ("liquidazione", 7, "3900.00", "compromessa"), ("mandato", 8, "4000.00", "integra")]
    assert body["totali"]["liquidato"] == "7900.00"
    assert body["esito"] == "compromessa"
    assert body["verifica"]["compromessi"] == [{
        "notification_id": ft2["notification_id"], "versione": 7, "stato": "alterato", "tipo": "liquidazione",
        "dell_impegno": True, "descrizione": storia.DESCRIZIONI["alterato"]}]
    assert (body["verifica"]["eventi_controllati"], body["verifica"]["verificati"]) == (8, 7)

    # the other impegno of the ledger: its own rows are intact, but the ledger it is read from is not
    other = world.storia(replace(s, impegno=s.altro_impegno))
    assert {e["catena"] for e in other["eventi"]} == {"integra"}
    assert other["esito"] == "compromessa"
    assert [(c["versione"], c["dell_impegno"]) for c in other["verifica"]["compromessi"]] == [(7, False)]

    completa = world.storia(s, catena_completa="true")["verifica"]["catena_ambito"]
    assert completa["ok"] is False
    assert [p["notification_id"] for p in completa["problems"]] == [ft2["notification_id"]]


def test_a_deleted_event_is_flagged_and_named(world: World, db: psycopg.Connection) -> None:
    s = world.spesa(CANCELLATO)
    world.chain()
    riduzione = stored(db, world, s.stanziamento, 4)  # I1's disimpegno, 1 000,00
    with tampering(db, world) as table:
        db.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(table),
                   (riduzione["notification_id"],))

    body = world.storia(s)  # still answered: the ledger no longer replays, the stored events still read
    assert movimenti(body) == [("impegno", 2, "10000.00", "integra"), ("liquidazione", 5, "4000.00", "integra"),
                               ("liquidazione", 7, "3000.00", "integra"), ("mandato", 8, "4000.00", "integra")]
    assert (body["totali"]["ridotto"], body["totali"]["residuo"]) == ("0.00", "3000.00")
    assert body["esito"] == "compromessa"
    # a deleted event no longer says which impegno it moved: named by its position and version
    assert body["verifica"]["compromessi"] == [{
        "notification_id": riduzione["notification_id"], "versione": 4, "stato": "cancellato", "tipo": None,
        "dell_impegno": None, "descrizione": storia.DESCRIZIONI["cancellato"]}]
    assert (body["verifica"]["eventi_controllati"], body["verifica"]["verificati"]) == (8, 7)


# -- tenancy and roles ----------------------------------------------------------------------------

def test_another_ambito_and_unknown_ids_get_404_in_italian(world: World, spesa: Spesa) -> None:
    def problem(path: str, tenant: str) -> dict[str, Any]:
        response = world.get(path, tenant, "revisore")
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        return response.json()

    altro = problem(spesa.path, B)  # exactly as for an id that does not exist
    assert altro["detail"] == f"Stanziamento {spesa.stanziamento} non trovato."
    ignoto = problem(STORIA.format(stanziamento_id=uuid.uuid4(), impegno_id=spesa.impegno), A)
    assert ignoto["detail"].startswith("Stanziamento ") and ignoto["title"] == "Risorsa non trovata"

    sconosciuto = uuid.uuid4()
    body = problem(STORIA.format(stanziamento_id=spesa.stanziamento, impegno_id=sconosciuto), A)
    assert body["detail"] == f"Impegno {sconosciuto} non trovato nello stanziamento {spesa.stanziamento}."
    # an impegno of another ledger of the same Ambito is not on this one
    altro_registro = world.spesa(A)
    problem(STORIA.format(stanziamento_id=spesa.stanziamento, impegno_id=altro_registro.impegno), A)
    # the id of another kind of aggregate (the ledger's assignment) is no ledger
    assegnazione = world.app.assegnazione(A, "FNPS", 2024).id
    problem(STORIA.format(stanziamento_id=assegnazione, impegno_id=spesa.impegno), A)


@pytest.mark.parametrize("role,status", [("revisore", 200), ("coordinatore", 200), ("amministrativo", 200),
                                         ("componente_comitato", 403), ("referente_asl", 403)])
def test_roles(world: World, spesa: Spesa, role: str, status: int) -> None:
    response = world.get(spesa.path, A, role)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.json()["rule"] == "role.required"


def test_a_region_token_reads_no_ambito_history(world: World, spesa: Spesa) -> None:
    response = world.client.get(spesa.path, headers=world.ns.auth(None, "regione", regione="15"))
    assert response.status_code == 403 and response.json()["rule"] == "role.required"
