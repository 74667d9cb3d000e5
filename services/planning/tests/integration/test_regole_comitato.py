"""The Comitato's rules a regolamento can hold, over HTTP on the real PostgreSQL (issue 12, item 5).

The real planning app runs in process (real FastAPI, real tokens, real event store): a rule
change without an approved deliberation is refused and with one is accepted; a qualified
majority per deliberation type is reached and not reached; the Presidente's casting vote
breaks a tie; a delegate cannot carry more proxies than the regolamento allows. Each refusal
is a 422 problem+json naming the field and the rule, and stores nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from ambiti_kit.testing.fixtures import Infra
from planning.application import oggi
from planning.main import build as build_planning

from planning.testing import COMUNI, DUE_TERZI_ASSEGNATI, ISPANI, PER_TESTA, SAPRI, TORRE, VIBONATI, Client

A, B = "15-RCA", "15-RCB"


@pytest.fixture(scope="module")
def client(infra: Infra) -> Iterator[Client]:
    ns = replace(infra, namespace=f"{infra.namespace}pregole_")
    with TestClient(build_planning(ns.settings("planning"), run_workers=False)) as http:
        c = Client(ns, http)
        for tenant in (A, B):
            c.call("PUT", "/ambito", {"nome": f"Ambito {tenant}", "capofila_istat": SAPRI,
                                      "popolazione_al": "2023-01-01", "comuni": COMUNI}, tenant=tenant, expect=201)
        try:
            yield c
        finally:
            http.app.state.runtime.relay.close()


def test_a_rule_change_needs_an_approved_deliberation_of_the_right_type(client: Client) -> None:
    primo = client.call("PUT", "/comitato", {"regola": PER_TESTA}, expect=201)
    assert (primo["versione"], primo["deliberazione_id"], primo["deliberazione"]) == (1, None, None)
    # the same configuration again: nothing changes, nothing needed
    assert client.call("PUT", "/comitato", {"regola": PER_TESTA})["versione"] == 1

    nuova = {**PER_TESTA, "qualificate": {"convenzione": DUE_TERZI_ASSEGNATI}, "presidente": SAPRI,
             "voto_decisivo_presidente": True, "deleghe_max": 1}
    client.problem("PUT", "/comitato", {"regola": nuova}, 422, "comitato.deliberazione_richiesta",
                   "deliberazione_id")
    client.problem("PUT", "/comitato", {"regola": {**PER_TESTA, "base": "votanti"}}, 422,
                   "comitato.deliberazione_richiesta", "deliberazione_id")
    client.problem("PUT", "/comitato", {"regola": PER_TESTA, "consultivi": [{"id": "ASL", "nome": "ASL", "peso": 0}]},
                   422, "comitato.deliberazione_richiesta", "deliberazione_id")

    # the regolamento is approved by the Comitato: two thirds of the members assigned (reference data)
    regolamento = client.proponi("regolamento_comitato", "Modifica del regolamento del Comitato")
    bilancio = client.proponi("approvazione_bilancio", "Bilancio 2026", anno=2026)
    in_attesa = client.proponi("regolamento_comitato", "Altra modifica, non ancora votata")
    s = client.seduta(regolamento, bilancio)
    approvato = client.vota(s, regolamento, {SAPRI: "favorevole", VIBONATI: "favorevole", TORRE: "favorevole",
                                             ISPANI: "contrario"})
    assert approvato["stato"] == "approvata"
    assert approvato["esito"]["maggioranza_richiesta"]["base_teste"] == "assegnati"
    assert approvato["esito"]["per_testa"]["base"] == 4
    assert client.vota(s, bilancio, {c["istat"]: "favorevole" for c in COMUNI})["stato"] == "approvata"
    altro = client.proponi("regolamento_comitato", "Regolamento di un altro Ambito", tenant=B)

    for deliberazione, rule in ((bilancio, "comitato.deliberazione_tipo"),
                                (in_attesa, "comitato.deliberazione_approvata"),
                                (altro, "comitato.deliberazione_esistente")):
        client.problem("PUT", "/comitato", {"regola": nuova, "deliberazione_id": deliberazione}, 422, rule,
                       "deliberazione_id")
    assert client.call("GET", "/comitato")["versione"] == 1  # nothing stored by the refusals

    cambiato = client.call("PUT", "/comitato", {"regola": nuova, "deliberazione_id": regolamento})
    assert (cambiato["versione"], cambiato["deliberazione_id"], cambiato["deliberazione"]) == (
        2, regolamento, approvato["numero"])
    assert cambiato["regola"]["deleghe_max"] == 1 and cambiato["regola"]["presidente"] == SAPRI
    # one deliberation backs one change
    client.problem("PUT", "/comitato", {"regola": {**nuova, "deleghe_max": 2}, "deliberazione_id": regolamento},
                   422, "comitato.deliberazione_gia_applicata", "deliberazione_id")
    storia = client.call("GET", f"/deliberazioni/{regolamento}/storia", role="revisore")
    assert storia["deliberazione"]["tipo"] == "regolamento_comitato"


def test_qualified_majority_casting_vote_and_proxy_cap(client: Client) -> None:
    comitato = client.call("GET", "/comitato")
    assert comitato["regola"]["voto_decisivo_presidente"] is True, "runs after the change above"
    raggiunta = client.proponi("convenzione", "Schema di convenzione per la gestione associata")
    mancata = client.proponi("convenzione", "Modifica della convenzione")
    parita = client.proponi("libera", "Calendario delle sedute")
    parita_contro = client.proponi("libera", "Sede delle sedute")
    s = client.seduta(raggiunta, mancata, parita, parita_contro)

    # convenzione: 2/3 of the 4 members assigned = 2.67, so 3 in favour are needed
    si = client.vota(s, raggiunta, {SAPRI: "favorevole", VIBONATI: "favorevole", TORRE: "favorevole",
                                    ISPANI: "contrario"})
    assert si["stato"] == "approvata" and si["esito"]["per_testa"]["favorevoli"] == 3
    no = client.vota(s, mancata, {SAPRI: "favorevole", VIBONATI: "favorevole", TORRE: "astenuto",
                                  ISPANI: "contrario"})
    assert no["stato"] == "respinta" and "2 su 4 degli aventi diritto (soglia ≥ 2/3)" in no["esito"]["motivazione"]

    # a free-subject deliberation, simple majority of those present: 2 against 2, the Presidente decides
    pari = client.vota(s, parita, {SAPRI: "favorevole", VIBONATI: "favorevole", TORRE: "contrario",
                                   ISPANI: "contrario"})
    assert pari["stato"] == "approvata" and pari["esito"]["voto_decisivo_presidente"] == ["per_testa"]
    assert "voto decisivo del Presidente" in pari["esito"]["motivazione"]
    contro = client.vota(s, parita_contro, {SAPRI: "contrario", VIBONATI: "contrario", TORRE: "favorevole",
                                            ISPANI: "favorevole"})
    assert contro["stato"] == "respinta" and "voto_decisivo_presidente" not in contro["esito"]
    client.call("POST", f"/sedute/{s}/chiusura")

    # at most one proxy per delegate
    ordine = client.proponi("libera", "Varie ed eventuali")
    prima = datetime.now(timezone.utc) - timedelta(minutes=1)
    s2 = client.call("POST", "/sedute", {"oggetto": "Seduta", "luogo": "Sapri", "prima_convocazione": prima.isoformat(),
                                         "ordine_del_giorno": [ordine]}, expect=201)["id"]
    client.call("PUT", f"/sedute/{s2}/presenze/{SAPRI}", {"presente": True})
    client.call("PUT", f"/sedute/{s2}/presenze/{TORRE}", {"presente": True, "delega_a": SAPRI})
    prima_di = client.call("GET", f"/sedute/{s2}")["versione"]
    client.problem("PUT", f"/sedute/{s2}/presenze/{ISPANI}", {"presente": True, "delega_a": SAPRI}, 422,
                   "presenza.deleghe_massime", "delega_a")
    assert client.call("GET", f"/sedute/{s2}")["versione"] == prima_di
    # the same Comune may delegate another member instead
    client.call("PUT", f"/sedute/{s2}/presenze/{VIBONATI}", {"presente": True})
    client.call("PUT", f"/sedute/{s2}/presenze/{ISPANI}", {"presente": True, "delega_a": VIBONATI})


def test_weights_from_quotas_with_a_cap(client: Client) -> None:
    """Another Ambito's Comitato weighted by millesimi, no Comune above 40% of the total."""
    regola = {"famiglia": "ponderata", "base": "presenti",
              "ponderazione": {"criterio": "quote", "tetto": "2/5",
                               "quote": {SAPRI: 600, VIBONATI: 200, TORRE: 150, ISPANI: 50}}}
    comitato = client.call("PUT", "/comitato", {"regola": regola}, tenant=B, expect=201)
    pesi = {c["id"]: (c["peso"], c["peso_percentuale"]) for c in comitato["componenti"]}
    # Sapri capped at 2/5: the other 400 millesimi are 3/5 of the total, so the total is 2000/3 and
    # Sapri weighs 800/3; weights ×3: 800, 600, 450, 150 (of 2000)
    assert pesi == {SAPRI: (800, "40.0000"), VIBONATI: (600, "30.0000"), TORRE: (450, "22.5000"),
                    ISPANI: (150, "7.5000")}
    client.problem("PUT", "/comitato", {"regola": {**regola, "ponderazione": {"criterio": "quote", "quote": {SAPRI: 1}}},
                                        "deliberazione_id": None}, 422, "comitato.quote",
                   "regola.ponderazione.quote", tenant=B)


def test_composition_at_a_date_keeps_every_population(client: Client) -> None:
    """Issue 12 item 7 (planning's side): membership from its legal date, populations never overwritten."""
    tenant = "15-RCC"
    primo = [{**COMUNI[0], "aderente_dal": "2008-07-01"}, COMUNI[1]]
    client.call("PUT", "/ambito", {"nome": "Ambito C", "capofila_istat": SAPRI, "popolazione_al": "2023-01-01",
                                   "comuni": primo}, tenant=tenant, expect=201)
    letto = client.call("GET", "/ambito", tenant=tenant, role="revisore")
    assert [c.get("aderente_dal") for c in letto["comuni"]] == ["2008-07-01", None]
    # the console sends no aderente_dal: the legal date stays, the new population joins the history
    client.call("PUT", "/ambito", {"nome": "Ambito C", "capofila_istat": SAPRI, "popolazione_al": "2024-01-01",
                                   "comuni": [{**COMUNI[0], "popolazione": 6300}, COMUNI[1]]}, tenant=tenant)
    storico = client.call("GET", "/ambito/popolazioni", tenant=tenant, role="revisore")
    assert [(p["popolazione_al"], p["popolazione"]) for p in storico] == [("2023-01-01", 9577), ("2024-01-01", 9504)]
    # Sapri is a member in law since 2008; Vibonati, with no legal date, from the day it was recorded
    al_2023 = client.call("GET", "/ambito/composizione?al=2023-06-30", tenant=tenant, role="revisore")
    assert (al_2023["popolazione_al"], al_2023["popolazione"]) == ("2023-01-01", 6373)
    assert al_2023["comuni"] == [{"istat": SAPRI, "nome": "Sapri", "popolazione": 6373, "aderente_dal": "2008-07-01",
                                  "cessato_dal": None}]
    assert client.call("GET", "/ambito/composizione?al=2024-02-01", tenant=tenant,
                       role="revisore")["popolazione"] == 6300
    oggi_ = client.call("GET", f"/ambito/composizione?al={oggi().isoformat()}", tenant=tenant, role="revisore")
    assert (oggi_["popolazione_al"], oggi_["popolazione"], len(oggi_["comuni"])) == ("2024-01-01", 9504, 2)
    r = client.http.get("/ambito/composizione?al=ieri", headers=client.ns.auth(tenant, "revisore"))
    assert r.status_code == 422 and r.json()["field"] == "query.al"
    assert client.http.get("/ambito/composizione?al=2024-02-01",
                           headers=client.ns.auth("15-RCZ", "revisore")).status_code == 404
