"""The rendicontazione from finance's real ledger, projected from its own log into the read model.

The real ``Finance`` application runs on the run's PostgreSQL (its own store, schema made by
``open_event_store``): it opens a plan's budget, records assignments, allocates, commits,
reduces, liquidates and pays. The kit's projector maps its events to integration events and
projects them into the RLS-protected tables; the HTTP API (the real FastAPI app, in process,
with real tokens) and the database as the unprivileged role are read back. Figures are
computed by hand in ``EXPECTED``.

Ambito 15-S09: plan with lines SAD (FNPS macro-livello 2, Comuni 065134 and 065156,
80 000,00 on QSFP 2024) and RES (macro-livello 4, Comune 065134, 40 000,00 on QSFP 2024).

    QSFP 2022: assigned 20 000,00; 16 000,00 to SAD; committed 16 000,00 for 065156,
               liquidated 15 000,00 (75% of 20 000,00: the condition of QSFP 2024 is met).
    QSFP 2024: assigned 80 000,00 + 20 000,00 (two decrees); quota servizi 50% on macro-livello 2;
               SAD 50 000,00 + 5 000,00, RES 40 000,00 (stanziato 95 000,00, services 55 000,00 = 57.89%);
               SAD 065134: committed 30 000,00, economia 2 000,00, liquidated 20 000,00, paid 15 000,00;
               SAD whole Ambito: committed 10 000,00, liquidated 4 000,00;
               RES 065134: committed 25 000,00.
               -> impegnato 63 000,00, liquidato 24 000,00, pagato 15 000,00, residui 48 000,00,
                  disponibile 37 000,00.

Ambito 15-S10 (same Region) has FNPS 2024 only: 10 000,00 allocated, committed, liquidated and paid.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal as D
from typing import Any, Iterator

import openpyxl
import pytest
from eventsourcing.persistence import IntegrityError, ProgrammingError, Tracking
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit.idempotency import Once
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.service import Runtime, build_runtime, create_service
from ambiti_kit.testing.fixtures import Infra
from ambiti_kit.testing.readmodels import published_events, table_rows
from finance.api import rendicontazione as api
from finance.application import Finance
from finance.domain.comandi import NuovaAllocazione, NuovaLiquidazione, NuovoImpegno, NuovoMandato, RiduzioneImpegno
from finance.domain.fondi import atto
from finance.integration.outbound import to_integration_event
from finance.projections import OWN, OWN_TABLES, SCHEMA, registro
from finance.projections.lettura import rendiconta

A, B = "15-S09", "15-S10"
CF = "00743110157"  # a valid codice fiscale of an organisation (check digit)


def build(settings: Any) -> Any:
    """finance's app as main.py wires it: the read models' schema, the router and the own-log projector."""
    return create_service(settings, application=Finance, schema=SCHEMA, mapper=to_integration_event,
                          routers=[api.router], own=OWN, title="finance (test)", description="rendicontazione",
                          run_workers=False)


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    planning_sequence: int = 0
    keys: int = 0
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self) -> Finance:
        return self.runtime.app  # type: ignore[return-value]

    def key(self) -> str:
        self.keys += 1
        return f"chiave-rend-{self.keys:04d}"

    def once(self, tenant: str) -> Once:
        return Once(tenant, f"amministrativo@{tenant}", self.key())

    # -- the real application -----------------------------------------------------------
    def budget(self, tenant: str, interventi: list[dict]) -> uuid.UUID:
        piano = uuid.uuid4()
        self.planning_sequence += 1
        self.app.apri_budget_del_piano(tenant, piano, 2024, 2026, Tracking("planning", self.planning_sequence))
        self.planning_sequence += 1
        self.app.recepisci_versione(tenant, piano, 1, "1/2024", interventi,
                                    Tracking("planning", self.planning_sequence))
        return piano

    def assegna(self, tenant: str, fondo: str, annualita: int, importo: str, numero: str,
                vincoli: dict | None = None) -> None:
        self.app.registra_assegnazione(tenant, fondo, annualita, D(importo),
                                       atto("decreto", numero, date(annualita, 11, 20), "Ministero del Lavoro"),
                                       vincoli or {}, f"amministrativo@{tenant}")

    def alloca(self, tenant: str, piano: uuid.UUID, intervento: str, fondo: str, annualita: int,
               importo: str) -> uuid.UUID:
        risultato, _ = self.app.alloca(Once(tenant, f"amministrativo@{tenant}", f"alloca-{uuid.uuid4()}"),
                                       NuovaAllocazione(piano, intervento, fondo, 2024, annualita, D(importo)))
        return uuid.UUID(risultato["id"])

    def impegna(self, tenant: str, s: uuid.UUID, importo: str, comune: str | None) -> uuid.UUID:
        result, _ = self.app.impegna(self.once(tenant), NuovoImpegno(
            s, D(importo), {"denominazione": "Cooperativa Sociale Il Faro", "codice_fiscale": CF}, "Z1A2B3C4D5",
            None, {"tipo": "determina", "numero": f"{self.keys}/2025", "data": date(2025, 2, 1)},
            "Servizio di assistenza domiciliare", comune))
        return uuid.UUID(result["impegno_id"])

    def riduci(self, tenant: str, s: uuid.UUID, impegno: uuid.UUID, importo: str, motivo: str) -> None:
        self.app.riduci_impegno(self.once(tenant), RiduzioneImpegno(s, impegno, D(importo), "economia", motivo))

    def liquida(self, tenant: str, s: uuid.UUID, impegno: uuid.UUID, importo: str) -> uuid.UUID:
        result, _ = self.app.liquida(self.once(tenant), NuovaLiquidazione(
            s, impegno, {"numero": f"FT-{self.keys}", "data": date(2025, 4, 1)}, D(importo)))
        return uuid.UUID(result["liquidazione_id"])

    def paga(self, tenant: str, s: uuid.UUID, liquidazione: uuid.UUID, importo: str) -> None:
        self.app.paga(self.once(tenant), NuovoMandato(s, liquidazione, D(importo), date(2025, 5, 2)))

    # -- own log -> read model ------------------------------------------------------------
    def deliver(self) -> None:
        """Apply every stored event (the HTTP layer does this after each write; these calls bypass it)."""
        self.runtime.projector.catch_up()
        assert self.runtime.projector.position() == self.app.recorder.max_notification_id()

    # -- reading ---------------------------------------------------------------------------
    def get(self, path: str, tenant: str | None, *roles: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.ns.auth(tenant, *roles, **kw))

    def ok(self, path: str, tenant: str, *roles: str) -> Any:
        response = self.get(path, tenant, *roles)
        assert response.status_code == 200, response.text
        return response

    def select(self, table: str, **scope: str | None) -> list[dict[str, Any]]:
        """``SELECT *`` with no WHERE, as the unprivileged role in ``scope`` (none: no tenant)."""
        with self.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
            enter_scope(curs, **scope)
            curs.execute(sql.SQL("SELECT * FROM {}").format(self.runtime.read_model.table(table)))
            return list(curs.fetchall())


def tables(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, OWN_TABLES)


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}rend_")
    with TestClient(build(ns.settings("finance"))) as client:
        w = World(ns, client, client.app.state.runtime)
        try:
            populate(w)
            w.deliver()
            yield w
        finally:
            w.runtime.relay.close()


def populate(w: World) -> None:
    sad = {"codice": "SAD", "titolo": "Assistenza domiciliare", "comuni": ["065134", "065156"],
           "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
           "linee_budget": [{"fondo": "QSFP", "anno": 2024, "importo": "80000.00"}]}
    res = {"codice": "RES", "titolo": "Residenzialità", "comuni": ["065134"],
           "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "4"},
           "linee_budget": [{"fondo": "QSFP", "anno": 2024, "importo": "40000.00"}]}
    piano = w.budget(A, [sad, res])
    w.assegna(A, "QSFP", 2022, "20000.00", "D-2022-1")
    w.assegna(A, "QSFP", 2024, "80000.00", "D-2024-1", {"quota_servizi_percentuale": "50",
                                                        "macro_livelli_servizi": ["2"]})
    w.assegna(A, "QSFP", 2024, "20000.00", "D-2024-2")  # a second decree adds to the annualità
    sad24 = w.alloca(A, piano, "SAD", "QSFP", 2024, "50000.00")
    assert w.alloca(A, piano, "SAD", "QSFP", 2024, "5000.00") == sad24  # an increment of the same ledger
    res24 = w.alloca(A, piano, "RES", "QSFP", 2024, "40000.00")
    sad22 = w.alloca(A, piano, "SAD", "QSFP", 2022, "16000.00")

    i1 = w.impegna(A, sad24, "30000.00", "065134")
    w.riduci(A, sad24, i1, "2000.00", "Ore non erogate per chiusura estiva del servizio")
    l1 = w.liquida(A, sad24, i1, "20000.00")
    w.paga(A, sad24, l1, "15000.00")
    i2 = w.impegna(A, sad24, "10000.00", None)
    w.liquida(A, sad24, i2, "4000.00")
    w.impegna(A, res24, "25000.00", "065134")
    i4 = w.impegna(A, sad22, "16000.00", "065156")
    w.liquida(A, sad22, i4, "15000.00")
    w.ids.update(i1=i1, i2=i2)

    ass = {"codice": "ASS", "titolo": "Segretariato sociale", "comuni": ["063049"],
           "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "1"},
           "linee_budget": [{"fondo": "FNPS", "anno": 2024, "importo": "10000.00"}]}
    piano_b = w.budget(B, [ass])
    w.assegna(B, "FNPS", 2024, "10000.00", "D-FNPS-2024")
    s_b = w.alloca(B, piano_b, "ASS", "FNPS", 2024, "10000.00")
    i_b = w.impegna(B, s_b, "7000.00", "063049")
    w.paga(B, s_b, w.liquida(B, s_b, i_b, "7000.00"), "7000.00")


def voce(body: dict, fondo: str, annualita: int) -> dict:
    [v] = [v for v in body["voci"] if (v["fondo"], v["annualita"]) == (fondo, annualita)]
    return v


# -- figures ----------------------------------------------------------------------------------

def test_the_figures_per_fund_intervento_and_comune_come_from_the_ledger(world: World) -> None:
    body = world.ok("/rendicontazione", A, "amministrativo").json()
    assert body["ambito"] == A and body["filtri"] == {"fondo": None, "annualita": None}
    assert [(v["fondo"], v["annualita"]) for v in body["voci"]] == [("QSFP", 2022), ("QSFP", 2024)]
    q24 = voce(body, "QSFP", 2024)
    assert q24["cifre"] == {"assegnato": "100000.00", "stanziato": "95000.00", "impegnato_lordo": "65000.00",
                            "riduzioni": "2000.00", "impegnato": "63000.00", "liquidato": "24000.00",
                            "pagato": "15000.00", "residui_passivi": "48000.00", "da_liquidare": "39000.00",
                            "disponibile": "37000.00", "stanziato_da_impegnare": "32000.00"}
    assert q24["tassi"] == {"impegnato_su_assegnato": "63.00", "impegnato_su_stanziato": "66.32",
                            "liquidato_su_assegnato": "24.00", "liquidato_su_impegnato": "38.10",
                            "pagato_su_impegnato": "23.81"}
    assert q24["vincoli"] == {"quota_servizi_percentuale": "50", "macro_livelli_servizi": ["2"]}
    interventi = {i["intervento"]: i for i in q24["interventi"]}
    assert (interventi["SAD"]["cifre"]["stanziato"], interventi["SAD"]["cifre"]["impegnato"],
            interventi["SAD"]["macro_livello"]) == ("55000.00", "38000.00", "2")
    assert [(c["denominazione"], c["cifre"]["impegnato"], c["cifre"]["liquidato"], c["cifre"]["pagato"])
            for c in interventi["SAD"]["comuni"]] == [("065134", "28000.00", "20000.00", "15000.00"),
                                                      ("Intero Ambito", "10000.00", "4000.00", "0.00")]
    assert interventi["RES"]["nomenclatura"] == {"sistema": "fnps_macrolivello", "codice": "4"}
    assert [(c["comune"], c["cifre"]["impegnato"], c["cifre"]["residui_passivi"]) for c in q24["comuni"]] == [
        ("065134", "53000.00", "38000.00"), (None, "10000.00", "10000.00")]
    q22 = voce(body, "QSFP", 2022)
    assert (q22["cifre"]["assegnato"], q22["cifre"]["stanziato"], q22["cifre"]["impegnato"],
            q22["cifre"]["liquidato"]) == ("20000.00", "16000.00", "16000.00", "15000.00")
    assert [c["comune"] for c in q22["comuni"]] == ["065156"]


def test_reductions_with_reasons_services_quota_and_fondo_poverta(world: World) -> None:
    q24 = voce(world.ok("/rendicontazione?fondo=QSFP&annualita=2024", A, "revisore").json(), "QSFP", 2024)
    [riduzione] = q24["riduzioni"]
    assert (riduzione["impegno_id"], riduzione["tipo"], riduzione["importo"], riduzione["comune"],
            riduzione["intervento"], riduzione["autore"]) == (
        str(world.ids["i1"]), "economia", "2000.00", "065134", "SAD", f"amministrativo@{A}")
    assert riduzione["motivo"] == "Ore non erogate per chiusura estiva del servizio"
    assert q24["riconciliazione"] == {"impegnato_lordo": "65000.00", "riduzioni": "2000.00", "impegnato": "63000.00",
                                      "riduzioni_elencate": 1, "senza_motivo": 0, "coerente": True}
    quota = q24["quota_servizi"]
    assert (quota["stato"], quota["base_stanziato"], quota["stanziato_servizi"], quota["quota_percentuale"],
            quota["minimo_richiesto"], quota["mancante"]) == (
        "rispettata", "95000.00", "55000.00", "57.89", "47500.00", "0.00")
    fp = q24["condizione_fondo_poverta"]
    assert (fp["stato"], fp["annualita_riferimento"], fp["assegnato_riferimento"], fp["rendicontato_riferimento"],
            fp["percentuale_rendicontata"], fp["soglia_importo"], fp["mancante"]) == (
        "rispettata", 2022, "20000.00", "15000.00", "75.00", "15000.00", "0.00")
    q22 = voce(world.ok("/rendicontazione?fondo=QSFP", A, "coordinatore").json(), "QSFP", 2022)
    assert q22["condizione_fondo_poverta"]["stato"] == "non_valutabile" and q22["quota_servizi"] is None


def test_the_benchmark_entry_point_reads_the_same_over_a_plain_connection(world: World) -> None:
    via_read_model = rendiconta(world.runtime.read_model, A, fondo="QSFP")
    with world.ns.connect() as conn:
        via_connection = rendiconta(conn, A, fondo="QSFP", schema=world.runtime.settings.db_schema,
                                    generato_il=via_read_model.generato_il)
    assert via_connection == via_read_model
    assert via_read_model.voci[1].cifre.pagato == D("15000.00")


# -- exports --------------------------------------------------------------------------------

def test_csv_export_rows(world: World) -> None:
    response = world.ok("/rendicontazione/export.csv?fondo=QSFP&annualita=2024", A, "amministrativo")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="rendicontazione_15-S09_QSFP_2024.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r["Codice fondo"], r["Annualità"], r["Codice intervento"], r["Macro-livello FNPS"],
             r["Codice ISTAT Comune"], r["Comune / Ambito"], r["Impegnato (€)"], r["Liquidato (€)"], r["Pagato (€)"],
             r["Residui passivi (€)"]) for r in rows] == [
        ("QSFP", "2024", "RES", "4", "065134", "065134", "25000,00", "0,00", "0,00", "25000,00"),
        ("QSFP", "2024", "SAD", "2", "065134", "065134", "28000,00", "20000,00", "15000,00", "13000,00"),
        ("QSFP", "2024", "SAD", "2", "", "Intero Ambito", "10000,00", "4000,00", "0,00", "10000,00"),
    ]
    assert {r["Codice Ambito"] for r in rows} == {A}
    assert rows[1]["Disimpegni ed economie (€)"] == "2000,00" and rows[1]["Impegnato lordo (€)"] == "30000,00"


def test_xlsx_export_rows_and_conditions(world: World) -> None:
    response = world.ok("/rendicontazione/export.xlsx", A, "coordinatore")
    assert response.headers["content-type"] == api.XLSX
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb["Rendicontazione"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    assert [(r["Annualità"], r["Codice intervento"], r["Comune / Ambito"], r["Impegnato (€)"], r["Liquidato (€)"])
            for r in rows] == [(2022, "SAD", "065156", 16000, 15000), (2024, "RES", "065134", 25000, 0),
                               (2024, "SAD", "065134", 28000, 20000), (2024, "SAD", "Intero Ambito", 10000, 4000)]
    assert ws.cell(row=2, column=13).number_format == "#,##0.00"
    summary = [[c.value for c in row] for row in wb["Riepilogo"].iter_rows()]
    esiti = {(row[0], row[1], row[3]) for row in summary if row and row[3] in ("Rispettata", "Non rispettata",
                                                                             "Non valutabile")}
    assert esiti == {("QSFP", 2024, "Rispettata"), ("QSFP", 2022, "Non valutabile")}
    assert len([row for row in summary if row[2] and str(row[2]).startswith("Quota minima")]) == 1
    [riduzione] = [[c.value for c in row] for row in wb["Riduzioni"].iter_rows(min_row=2)]
    assert riduzione[8] == 2000 and riduzione[9].startswith("Ore non erogate")


# -- tenants and roles ------------------------------------------------------------------------

def test_each_ambito_sees_its_own_ledger_only(world: World) -> None:
    body_b = world.ok("/rendicontazione", B, "coordinatore").json()
    assert [(v["fondo"], v["annualita"]) for v in body_b["voci"]] == [("FNPS", 2024)]
    fnps = body_b["voci"][0]
    assert (fnps["cifre"]["impegnato"], fnps["cifre"]["pagato"], fnps["cifre"]["residui_passivi"],
            fnps["comuni"][0]["comune"]) == ("7000.00", "7000.00", "0.00", "063049")
    assert world.ok("/rendicontazione?fondo=FNPS", A, "coordinatore").json()["voci"] == []
    csv_b = world.ok("/rendicontazione/export.csv", B, "revisore").content.decode("utf-8-sig")
    assert "065134" not in csv_b and "063049" in csv_b
    # Straight from PostgreSQL as the unprivileged role: row-level security scopes every table.
    for table in registro.TENANT_TABLES:
        mine = world.select(table, tenant=B)
        assert mine and {r["tenant_id"] for r in mine} == {B}, table
        assert world.select(table) == [] and world.select(table, regione="15") == [], table
    assert {r["tipo"] for r in world.select("rend_movimenti", tenant=A)} == set(registro.TIPI_MOVIMENTO)


def test_the_read_model_refuses_a_silent_decrease_and_another_ambito_s_rows(world: World) -> None:
    movimenti = world.runtime.read_model.table("rend_movimenti")
    insert = sql.SQL("INSERT INTO {} (tenant_id, sequenza, stanziamento_id, tipo, importo, impegno_id, "
                     "tipo_riduzione, motivo, autore, registrato_il) "
                     "VALUES (%s, %s, %s, 'riduzione', 1.00, %s, 'economia', %s, 'x', now())").format(movimenti)
    datastore = world.runtime.app.recorder.datastore  # type: ignore[attr-defined]
    for motivo in ("", "   ", None):
        with pytest.raises(IntegrityError, match="rend_movimenti_riduzione_motivata"):
            with datastore.transaction(commit=True) as curs:
                enter_scope(curs, tenant=A, regione="15")
                curs.execute(insert, (A, 10**9, uuid.uuid4(), world.ids["i1"], motivo))
    with pytest.raises(ProgrammingError, match="row-level security"):
        with datastore.transaction(commit=True) as curs:
            enter_scope(curs, tenant=A, regione="15")
            curs.execute(insert, (B, 10**9, uuid.uuid4(), world.ids["i1"], "motivo"))


def test_roles_and_bad_filters(world: World) -> None:
    for role in ("amministrativo", "coordinatore", "revisore"):
        assert world.get("/rendicontazione/export.csv", A, role).status_code == 200
    for role in ("assistente_sociale", "referente_ets"):
        assert world.get("/rendicontazione", A, role).status_code == 403
    assert world.get("/rendicontazione", None, "regione", regione="15").status_code == 403
    assert world.client.get("/rendicontazione").status_code == 401
    bad = world.get("/rendicontazione?fondo=INVENTATO", A, "coordinatore")
    assert bad.status_code == 422 and bad.json()["rule"] == "fondo.noto"
    assert world.get("/rendicontazione?annualita=1999", A, "coordinatore").status_code == 422


# -- replay and rebuild ---------------------------------------------------------------------------

def test_applying_the_log_again_changes_nothing_and_a_rebuild_is_identical(world: World) -> None:
    before = tables(world.runtime)
    figures = world.ok("/rendicontazione", A, "coordinatore").json()["voci"]
    events = published_events(world.runtime)
    head = world.app.recorder.max_notification_id()

    # Every notification tracked once; catching up again finds nothing to apply.
    assert world.runtime.tracker.count("finance") == head
    assert world.runtime.projector.catch_up() == 0

    # The ledger projection itself is idempotent even without its tracking record.
    project = registro.project_registro(world.runtime.settings.db_schema)
    with world.runtime.app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        for event in events:
            if event.type in registro.TIPI:
                enter_scope(curs, tenant=event.tenantid, regione=event.tenantid[:2])
                project(curs, event)
    assert tables(world.runtime) == before
    assert world.ok("/rendicontazione", A, "coordinatore").json()["voci"] == figures

    # A rebuild into a new schema (the routine, in batches of 5) equals the live read model.
    settings = world.ns.settings("finance", AMBITI_DB_SCHEMA=f"{world.ns.namespace}rebuild_finance")
    again = build_runtime(settings, Finance, SCHEMA, to_integration_event)
    try:
        projector = OwnLogProjector(world.app, again.tracker, to_integration_event, OWN.projections(settings.db_schema),
                                    batch_size=5)
        assert rebuild(projector) == head
        assert tables(again) == before
    finally:
        again.app.close()
    with world.ns.connect() as conn:
        dead = conn.execute(sql.SQL("SELECT count(*) FROM {}.dead_letters").format(
            sql.Identifier(world.runtime.settings.db_schema))).fetchone()[0]
    assert dead == 0
