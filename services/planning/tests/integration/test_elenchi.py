"""The lists from planning's own events, projected in process into the read model.

The real planning app runs in process (real FastAPI, real tokens) on the run's PostgreSQL:
writes go through the HTTP API to the event store, and before each write's response leaves
the kit's projector has applied it to the RLS-protected tables; the list routes read them
back at once (no relay, no broker in between). The tavoli's proposals arrive from
partnership through the consumer, not HTTP: here the use case the consumer calls is called
directly, and the projector caught up as its background worker would on the NOTIFY.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from psycopg import sql

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.projector import OwnLogProjector, rebuild
from ambiti_kit.readmodel import enter_scope
from ambiti_kit.service import Runtime, build_runtime
from ambiti_kit.testing.fixtures import Infra
from ambiti_kit.testing.lists import every_page
from ambiti_kit.testing.readmodels import published_events, table_rows
from planning.application import Planning, oggi
from planning.domain.proposte import PropostaRicevuta
from planning.integration.outbound import to_integration_event
from planning.main import build as build_planning
from planning.projections import OWN, SCHEMA, TABLES, elenchi, locale

A, B, C = "15-PLE1", "15-PLE2", "15-PLE3"  # C: only the read-your-writes loop
COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065154", "nome": "Vibonati", "popolazione": 3151},
          {"istat": "065157", "nome": "Vibonati Scalo", "popolazione": 1200}]
ISTAT = [c["istat"] for c in COMUNI]
AREE = [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{
    "codice": "A.1", "titolo": "Permanenza a domicilio", "interventi": [{
        "codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
        "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}, "comuni": ISTAT, "utenti_attesi": 40,
        "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "1000.00"}]}]}]}]
LETTORI = ("coordinatore", "amministrativo", "componente_comitato", "referente_asl", "revisore", "assistente_sociale")
LISTS = ("/piani", "/sedute", "/deliberazioni", "/proposte-tavoli")
Y = oggi().year  # the register numbers deliberations in the year they are approved


@dataclass
class World:
    ns: Infra
    client: TestClient
    runtime: Runtime
    ids: dict[str, str]

    def call(self, method: str, path: str, tenant: str, body: dict | None = None, role: str = "coordinatore",
             expect: int = 200, **kw: Any) -> dict:
        r = self.client.request(method, path, json=body, headers=self.ns.auth(tenant, role, **kw))
        assert r.status_code == expect, (method, path, r.text)
        return r.json()

    def get(self, path: str, tenant: str | None, *roles: str, headers: dict | None = None, **params: Any) -> Any:
        return self.client.get(path, params=params,
                               headers=headers if headers is not None else self.ns.auth(tenant, *roles))

    def ok(self, path: str, tenant: str = A, role: str = "revisore", **params: Any) -> list[dict]:
        r = self.get(path, tenant, role, **params)
        assert r.status_code == 200, r.text
        return r.json()["elementi"]

    def receive(self, tenant: str, notification_id: int, tavolo: uuid.UUID, piano: str | None, codice: str,
                titolo: str) -> str:
        """What the consumer does with ``partnership.tavolo.proposta_formulata``; returns the proposal's id."""
        proposta = uuid.uuid4()
        self.runtime.app.ricevi_proposta_tavolo(tenant, PropostaRicevuta(
            proposta, tavolo, uuid.UUID(piano) if piano else None, titolo, "Descrizione", "A",
            {"codice": codice, "titolo": titolo, "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
             "comuni": ISTAT[:1], "utenti_attesi": 10}, "tavolo@partnership"), Tracking("partnership", notification_id))
        return str(proposta)


def rows(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return table_rows(runtime, TABLES)


def own_events(runtime: Runtime) -> list[CloudEvent]:
    """Every event the projector reads from the log: the published ones and the local ones."""
    app = runtime.app
    return [e for n in app.recorder.select_notifications(start=1, limit=10_000)
            if (e := OWN.mapper(app.mapper.to_domain_event(n), n)) is not None]


@pytest.fixture(scope="module")
def world(infra: Infra) -> Iterator[World]:
    ns = replace(infra, namespace=f"{infra.namespace}pelen_")
    with TestClient(build_planning(ns.settings("planning"), run_workers=False)) as client:
        w = World(ns, client, client.app.state.runtime, {})
        try:
            populate(w)
            yield w
        finally:
            w.runtime.relay.close()


def populate(w: World) -> None:
    ids = w.ids
    for tenant in (A, B):
        w.call("PUT", "/ambito", tenant, {"nome": f"Ambito {tenant}", "capofila_istat": "065134",
                                          "popolazione_al": "2023-01-01", "comuni": COMUNI}, expect=201)
    w.call("PUT", "/comitato", A, {"regola": {"famiglia": "per_testa", "base": "presenti"}}, expect=201)

    piano = w.call("POST", "/piani", A, {"titolo": "Piano 2025–2027", "anno_inizio": 2025, "anno_fine": 2027},
                   expect=201)
    ids["piano"] = piano["id"]
    ids["vecchio"] = w.call("POST", "/piani", A, {"titolo": "Piano 2022–2024", "anno_inizio": 2022,
                                                  "anno_fine": 2024}, expect=201)["id"]
    w.call("PUT", f"/piani/{piano['id']}/versioni/1/contenuto", A, {"aree": AREE})
    ids["p1"] = w.call("POST", f"/piani/{piano['id']}/versioni/1/proposta", A, expect=201)["proposta_id"]
    for key, tipo, riferimenti in (("d2", "approvazione_bilancio", {"anno": 2026}),
                                   ("d3", "criteri_riparto_costi", {"anno": 2026}),
                                   ("d4", "nomina_coordinatore", {"nominativo": "Dott.ssa Anna Verdi"}),
                                   ("d6", "approvazione_bilancio", {"anno": 2027})):
        ids[key] = w.call("POST", "/deliberazioni", A, {"tipo": tipo, "oggetto": f"Proposta {key}",
                                                        "testo": "Il Comitato delibera.", "riferimenti": riferimenti},
                          expect=201)["id"]

    # seduta 1: the plan and the budget approved, the criteria rejected, the nomination not voted
    prima = datetime.now(timezone.utc) - timedelta(minutes=1)
    s1 = w.call("POST", "/sedute", A, {"oggetto": "Seduta di approvazione", "luogo": "Sapri",
                                       "prima_convocazione": prima.isoformat(),
                                       "ordine_del_giorno": [ids[k] for k in ("p1", "d2", "d3", "d4")]},
                expect=201)["id"]
    ids["s1"] = s1
    for istat in ISTAT:
        w.call("PUT", f"/sedute/{s1}/presenze/{istat}", A, {"presente": True})
    w.call("POST", f"/sedute/{s1}/apertura", A, {"convocazione": 1})
    for key, voto in (("p1", "favorevole"), ("d2", "favorevole"), ("d3", "contrario")):
        w.call("POST", f"/sedute/{s1}/votazioni", A, {"proposta_id": ids[key]})
        for istat in ISTAT:
            w.call("POST", f"/sedute/{s1}/votazioni/{ids[key]}/voti", A, {"componente": istat, "voto": voto},
                   role="componente_comitato", comune=istat, expect=201)
        w.call("POST", f"/sedute/{s1}/votazioni/{ids[key]}/chiusura", A)
    w.call("POST", f"/sedute/{s1}/chiusura", A)
    # seduta 2, in 2030: the nomination goes on its agenda
    ids["s2"] = w.call("POST", "/sedute", A, {"oggetto": "Nomina del coordinatore", "luogo": "Vibonati",
                                              "prima_convocazione": "2030-01-10T18:00:00+01:00",
                                              "seconda_convocazione": "2030-01-11T18:00:00+01:00",
                                              "ordine_del_giorno": [ids["d4"]]}, expect=201)["id"]
    w.call("POST", f"/piani/{piano['id']}/versioni", A, {"tipo": "aggiornamento_annuale", "riferimento": 1,
                                                         "titolo": "Aggiornamento 2026"}, expect=201)

    # two tavoli's proposals; the first is taken into version 2
    ids["t1"], ids["t2"] = str(uuid.uuid4()), str(uuid.uuid4())
    ids["pt1"] = w.receive(A, 1, uuid.UUID(ids["t1"]), piano["id"], "A.1.7", "Trasporto sociale")
    ids["pt2"] = w.receive(A, 2, uuid.UUID(ids["t2"]), None, "A.1.8", "Pasti a domicilio")
    w.runtime.projector.catch_up()
    w.call("POST", f"/piani/{piano['id']}/versioni/2/proposte-tavoli/{ids['pt1']}", A,
           {"area": "A", "obiettivo": "A.1"})

    # another Ambito's plan, proposal and tavolo's proposal
    ids["piano_b"] = w.call("POST", "/piani", B, {"titolo": "Piano B", "anno_inizio": 2025, "anno_fine": 2027},
                            expect=201)["id"]
    w.call("POST", "/deliberazioni", B, {"tipo": "approvazione_bilancio", "oggetto": "Bilancio B",
                                         "testo": "Il Comitato delibera.", "riferimenti": {"anno": 2026}},
           expect=201)
    ids["pt_b"] = w.receive(B, 3, uuid.uuid4(), None, "B.1", "Proposta B")
    w.runtime.projector.catch_up()


def test_a_write_is_in_its_list_when_its_response_arrives(world: World) -> None:
    misses = []
    for i in range(200):
        created = world.call("POST", "/deliberazioni", C, {
            "tipo": "approvazione_bilancio", "oggetto": f"Bilancio {i}", "testo": "Il Comitato delibera.",
            "riferimenti": {"anno": 2026}}, expect=201)
        first = world.ok("/deliberazioni", tenant=C, limite=1)
        if [d["id"] for d in first] != [created["id"]]:
            misses.append(i)
    assert misses == []
    assert len(world.ok("/deliberazioni", tenant=C, limite=200)) == 200
    piano = world.call("POST", "/piani", C, {"titolo": "Piano C", "anno_inizio": 2025, "anno_fine": 2027},
                       expect=201)
    assert [p["id"] for p in world.ok("/piani", tenant=C)] == [piano["id"]]


def test_piani(world: World) -> None:
    ids = world.ids
    piani = world.ok("/piani")
    assert [(p["id"], p["titolo"], p["anno_inizio"], p["anno_fine"], p["stato"], p["versione_vigente"])
            for p in piani] == [(ids["piano"], "Piano 2025–2027", 2025, 2027, "approvato", 1),
                                (ids["vecchio"], "Piano 2022–2024", 2022, 2024, "bozza", None)]
    assert piani[0]["versioni"] == [
        {"versione": 1, "tipo": "piano", "riferimento": None, "titolo": "Piano 2025–2027", "stato": "approvata",
         "interventi": 1, "deliberazione_id": ids["p1"], "deliberazione": f"1/{Y}"},
        {"versione": 2, "tipo": "aggiornamento_annuale", "riferimento": 1, "titolo": "Aggiornamento 2026",
         "stato": "bozza", "interventi": 2, "deliberazione_id": None, "deliberazione": None}]
    assert piani[1]["versioni"] == [{"versione": 1, "tipo": "piano", "riferimento": None, "titolo": "Piano 2022–2024",
                                     "stato": "bozza", "interventi": 0, "deliberazione_id": None,
                                     "deliberazione": None}]
    assert "T" in piani[0]["creato_il"]
    titoli = lambda **params: [p["titolo"] for p in world.ok("/piani", **params)]  # noqa: E731
    assert titoli(stato="bozza") == ["Piano 2022–2024"]
    assert titoli(stato="in_attuazione") == []
    assert titoli(anno=2026) == titoli(anno=2025) == titoli(anno=2027) == ["Piano 2025–2027"]
    assert titoli(anno=2024) == ["Piano 2022–2024"]
    assert titoli(anno=2030) == []
    # what the list says is what the plan says by id
    by_id = world.get(f"/piani/{ids['piano']}", A, "revisore").json()
    assert (by_id["stato"], by_id["versione_vigente"]) == (piani[0]["stato"], piani[0]["versione_vigente"])
    assert [(v["versione"], v["stato"], v["deliberazione"]) for v in by_id["versioni"]] == [
        (v["versione"], v["stato"], v["deliberazione"]) for v in piani[0]["versioni"]]


def test_sedute(world: World) -> None:
    ids = world.ids
    sedute = world.ok("/sedute")
    assert [(s["id"], s["stato"], s["convocazione"], s["votate"], len(s["ordine_del_giorno"])) for s in sedute] == [
        (ids["s2"], "convocata", None, 0, 1), (ids["s1"], "chiusa", 1, 3, 4)]
    assert sedute[0]["ordine_del_giorno"] == [ids["d4"]] and sedute[0]["luogo"] == "Vibonati"
    assert sedute[0]["prima_convocazione"].startswith("2030-01-10T17:00:00")  # UTC
    assert sedute[0]["seconda_convocazione"].startswith("2030-01-11T17:00:00")
    assert sedute[1]["ordine_del_giorno"] == [ids[k] for k in ("p1", "d2", "d3", "d4")]
    assert sedute[1]["prima_deserta"] is False and sedute[1]["seconda_convocazione"] is None
    di = lambda **params: [s["id"] for s in world.ok("/sedute", **params)]  # noqa: E731
    assert di(stato="chiusa") == [ids["s1"]]
    assert di(stato="aperta") == []
    assert di(dal="2030-01-10") == di(dal="2030-01-01", al="2030-01-10") == [ids["s2"]]
    assert di(dal="2030-01-11") == [] and di(al="2030-01-09", dal="2029-01-01") == []
    oggi_ = oggi().isoformat()
    assert di(dal=oggi_, al=oggi_) == di(al=oggi_) == [ids["s1"]]


def test_deliberazioni(world: World) -> None:
    ids = world.ids
    delibere = world.ok("/deliberazioni")
    # in the year: first the unnumbered ones (newest proposal first), then the register, highest number first
    assert [(d["id"], d["stato"], d["numero"], d["anno"]) for d in delibere] == [
        (ids["d6"], "proposta", None, Y), (ids["d4"], "iscritta", None, Y), (ids["d3"], "respinta", None, Y),
        (ids["d2"], "approvata", f"2/{Y}", Y), (ids["p1"], "approvata", f"1/{Y}", Y)]
    p1 = delibere[-1]
    assert (p1["tipo"], p1["oggetto"], p1["seduta_id"], p1["data"]) == (
        "approvazione_piano", "Approvazione: Piano 2025–2027", ids["s1"], oggi().isoformat())
    assert p1["esito"]["approvata"] is True and p1["esito"]["per_testa"]["favorevoli"] == 3
    d3 = delibere[2]
    assert d3["esito"]["approvata"] is False and d3["seduta_id"] == ids["s1"] and d3["data"] == oggi().isoformat()
    assert delibere[1]["seduta_id"] == ids["s2"] and delibere[1]["esito"] is None and delibere[1]["data"] is None
    assert delibere[0]["seduta_id"] is None
    di = lambda **params: [d["id"] for d in world.ok("/deliberazioni", **params)]  # noqa: E731
    assert di(stato="approvata") == [ids["d2"], ids["p1"]]
    assert di(stato="respinta") == [ids["d3"]]
    assert di(stato="proposta") == [ids["d6"]]
    assert di(numero=f"1/{Y}") == [ids["p1"]] and di(numero=f"1/{Y - 1}") == []
    assert di(tipo="criteri_riparto_costi") == [ids["d3"]]
    assert di(tipo="approvazione_bilancio", stato="approvata") == [ids["d2"]]
    assert di(anno=Y) == [d["id"] for d in delibere] and di(anno=Y - 1) == []
    assert di(seduta_id=ids["s1"]) == [ids["d3"], ids["d2"], ids["p1"]]
    assert di(seduta_id=ids["s2"]) == [ids["d4"]]
    # what the list says is what each deliberation says by id
    for d in delibere:
        by_id = world.get(f"/deliberazioni/{d['id']}", A, "revisore").json()
        assert {k: by_id[k] for k in ("stato", "numero", "data", "seduta_id", "esito", "tipo", "oggetto")} == {
            k: d[k] for k in ("stato", "numero", "data", "seduta_id", "esito", "tipo", "oggetto")}


def test_proposte_dei_tavoli(world: World) -> None:
    ids = world.ids
    proposte = world.ok("/proposte-tavoli")
    assert [(p["proposta_id"], p["tavolo_id"], p["stato"]) for p in proposte] == [
        (ids["pt2"], ids["t2"], "ricevuta"), (ids["pt1"], ids["t1"], "recepita")]
    pt1 = proposte[1]
    assert pt1["recepita"] == {"piano_id": ids["piano"], "versione": 2, "area": "A", "obiettivo": "A.1",
                               "recepita_da": pt1["recepita"]["recepita_da"]}
    assert (pt1["piano_id"], pt1["titolo"], pt1["area"], pt1["intervento"]["codice"], pt1["formulata_da"]) == (
        ids["piano"], "Trasporto sociale", "A", "A.1.7", "tavolo@partnership")
    assert proposte[0]["piano_id"] is None and proposte[0]["recepita"] is None
    di = lambda **params: [p["proposta_id"] for p in world.ok("/proposte-tavoli", **params)]  # noqa: E731
    assert di(stato="ricevuta") == [ids["pt2"]] and di(stato="recepita") == [ids["pt1"]]
    assert di(tavolo_id=ids["t1"]) == [ids["pt1"]] and di(tavolo_id=str(uuid.uuid4())) == []
    assert di(piano_id=ids["piano"]) == [ids["pt1"]]
    by_id = world.get(f"/proposte-tavoli/{ids['pt1']}", A, "revisore").json()
    assert by_id["recepita"]["versione"] == pt1["recepita"]["versione"]


def test_readers_roles_and_bad_parameters(world: World) -> None:
    for path in LISTS:
        every = world.ok(path)
        assert every
        for role in LETTORI:
            assert world.ok(path, role=role) == every, (path, role)
        assert world.get(path, A, "referente_ets").status_code == 403
        assert world.get(path, None, headers={}).status_code == 401
        regione = {"Authorization": f"Bearer {world.ns.token(None, 'regione', regione='15')}"}
        assert world.get(path, None, headers=regione).status_code == 403
    for path, params in (("/piani", {"stato": "vigente"}), ("/piani", {"anno": 1999}), ("/piani", {"anno": "x"}),
                         ("/sedute", {"stato": "rinviata"}), ("/sedute", {"dal": "ieri"}),
                         ("/sedute", {"al": "2026-02-30"}),
                         ("/deliberazioni", {"tipo": "altro"}), ("/deliberazioni", {"stato": "iscritte"}),
                         ("/deliberazioni", {"numero": "12-2026"}), ("/deliberazioni", {"numero": "0/2026"}),
                         ("/deliberazioni", {"anno": 2101}), ("/deliberazioni", {"seduta_id": "x"}),
                         ("/proposte-tavoli", {"stato": "accolta"}), ("/proposte-tavoli", {"tavolo_id": "1"}),
                         ("/proposte-tavoli", {"piano_id": "x"})):
        r = world.get(path, A, "revisore", **params)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(params)) in r.json()["field"], (path, params, r.json())
    r = world.get("/sedute", A, "revisore", dal="2026-03-02", al="2026-03-01")
    assert r.status_code == 422 and "al" in r.json()["field"]


def test_pagination_is_stable_and_linked(world: World) -> None:
    every = world.ok("/deliberazioni")
    seen, pages = every_page(lambda params: world.get("/deliberazioni", A, "revisore", **params), limite=2)
    assert seen == every and pages == 3 and len(every) == 5
    # the unnumbered ones and the numbered ones page across each other
    one = world.get("/deliberazioni", A, "revisore", limite=3).json()
    assert [d["id"] for d in one["elementi"] + world.ok("/deliberazioni", dopo=one["successivo"])] == [
        d["id"] for d in every]
    # a filtered list pages within its filter; every list pages
    first = world.get("/deliberazioni", A, "revisore", limite=1, stato="approvata").json()
    rest = world.ok("/deliberazioni", stato="approvata", dopo=first["successivo"])
    assert [d["numero"] for d in first["elementi"] + rest] == [f"2/{Y}", f"1/{Y}"]
    cursors = {}
    for path in LISTS:
        first = world.get(path, A, "revisore", limite=1).json()
        cursors[path] = first["successivo"]
        assert first["elementi"] + world.ok(path, dopo=first["successivo"]) == world.ok(path)
    # a cursor of another list, a forged one, a limit out of range: 422 naming the parameter
    for path, params in (("/deliberazioni", {"dopo": cursors["/piani"]}), ("/piani", {"dopo": cursors["/sedute"]}),
                         ("/sedute", {"dopo": cursors["/deliberazioni"]}), ("/piani", {"dopo": "bm9u"}),
                         ("/sedute", {"dopo": "%%%"}), ("/proposte-tavoli", {"limite": 0}),
                         ("/deliberazioni", {"limite": 201})):
        r = world.get(path, A, "revisore", **params)
        assert r.status_code == 422, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(params)) in r.json()["field"]


def test_each_ambito_sees_its_own_rows_only(world: World) -> None:
    ids = world.ids
    assert [p["id"] for p in world.ok("/piani", tenant=B)] == [ids["piano_b"]]
    assert [d["oggetto"] for d in world.ok("/deliberazioni", tenant=B)] == ["Bilancio B"]
    assert [p["proposta_id"] for p in world.ok("/proposte-tavoli", tenant=B)] == [ids["pt_b"]]
    assert world.ok("/sedute", tenant=B) == []
    assert world.ok("/sedute", tenant="15-PLE9") == world.ok("/piani", tenant="15-PLE9") == []
    # no row of A, with a filter naming one of A's ids
    assert world.ok("/deliberazioni", tenant=B, seduta_id=ids["s1"]) == []
    assert world.ok("/proposte-tavoli", tenant=B, tavolo_id=ids["t1"]) == []
    # As the unprivileged role with no WHERE: one tenant's rows, none without a tenant.
    with world.runtime.app.recorder.datastore.transaction() as curs:  # type: ignore[attr-defined]
        for table in TABLES:
            enter_scope(curs, tenant=B)
            curs.execute(sql.SQL("SELECT DISTINCT tenant_id FROM {}").format(world.runtime.read_model.table(table)))
            assert {r["tenant_id"] for r in curs.fetchall()} <= {B}
            enter_scope(curs)
            curs.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(world.runtime.read_model.table(table)))
            assert curs.fetchone()["n"] == 0
    # and every table holds rows of more than one tenant (so the checks above were not vacuous)
    for table, tenants in ((t, {r[0] for r in rs}) for t, rs in rows(world.runtime).items()):
        assert A in tenants and (B in tenants or table in ("sedute",)), table


def test_applying_the_log_again_changes_nothing_and_a_rebuild_is_identical(world: World) -> None:
    before = rows(world.runtime)
    lists = {p: world.ok(p, limite=200) for p in LISTS}
    events = own_events(world.runtime)
    head = world.runtime.app.recorder.max_notification_id()

    # Every notification is tracked once; catching up again finds nothing to apply.
    assert world.runtime.tracker.count("planning") == head
    assert world.runtime.projector.catch_up() == 0

    # The projections themselves are idempotent even without their tracking record, in any replay.
    projections = elenchi.projections(world.runtime.settings.db_schema)
    with world.runtime.app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        for event in [*events, *events, *reversed(events)]:
            if event.type in projections:
                enter_scope(curs, tenant=event.tenantid, regione=event.tenantid[:2])
                projections[event.type](curs, event)
    assert rows(world.runtime) == before

    # A rebuild into a new schema (the routine, in batches) equals the live read model.
    settings = world.ns.settings("planning", AMBITI_DB_SCHEMA=f"{world.ns.namespace}rebuild_planning",
                                 AMBITI_RELAY_BATCH="7")
    again = build_runtime(settings, Planning, SCHEMA, to_integration_event, own=OWN)
    try:
        # the live store's log into the new schema's tables and tracking
        projector = OwnLogProjector(world.runtime.app, again.tracker, OWN.mapper,
                                    OWN.projections(settings.db_schema), batch_size=7)
        assert rebuild(projector) == head
        assert table_rows(again, TABLES) == before
    finally:
        again.app.close()
    assert {p: world.ok(p, limite=200) for p in lists} == lists


def test_main_wires_the_read_model_and_local_events_stay_off_the_wire(world: World) -> None:
    runtime = world.runtime
    assert set(runtime.projector.projections) == set(elenchi.projections("x"))
    assert set(locale.TIPI) <= set(runtime.projector.projections)
    assert runtime.relay.mapper is to_integration_event
    published = {e.type for e in published_events(runtime)}
    assert published and not any(t.startswith("planning.locale.") for t in published)
    assert set(locale.TIPI) <= {e.type for e in own_events(runtime)}
    health = world.client.get("/health").json()
    assert health["projector"]["backlog"] == 0 and health["projector"]["position"] == health["projector"]["head"]
