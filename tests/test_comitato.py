"""The Comitato Istituzionale end to end, over HTTP with real tokens, on the real platform.

Ambito S09 (Sapri: 17 Comuni, ISTAT population at 1 January 2023, 42,160 residents) drafts
its Piano, proposes it, convenes a seduta, records attendance and a roll-call vote, and
the Piano is approved under a population-weighted rule by four large Comuni that one
Comune one vote would have outvoted; a second deliberation is then approved by nine small
Comuni under one-head-one-vote, which the population would have rejected. The Accordo di
Programma is signed by every Comune and the ASL, and monitoring (the Ambito's and the
Region's read models) shows the Piano ``in_attuazione``. The audit view explains the
deliberation from the event store and verifies each event's link in the hash chain.
Then every refusal of the issue: 4xx problem+json and nothing stored.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from psycopg import sql

from ambiti_kit.testing.fixtures import Infra, Platform, wait_until

ROOT = Path(__file__).resolve().parents[1]
S09 = json.loads((ROOT / "shared" / "ambiti_cli" / "demo_s09.json").read_text())
COMUNI = sorted(S09["comuni"], key=lambda c: -c["popolazione"])
GRANDI = COMUNI[:4]    # Camerota, Sapri, Centola, San Giovanni a Piro: 21,830 of 42,160 residents
PICCOLI = COMUNI[-9:]  # the nine smallest: 10,047 residents
PONDERATA = {"famiglia": "ponderata", "base": "presenti"}
PER_TESTA = {"famiglia": "per_testa", "base": "presenti"}
AREE = [{"codice": "A", "titolo": "Domiciliarità e non autosufficienza", "obiettivi": [{
    "codice": "A.1", "titolo": "Sostenere la permanenza a domicilio degli anziani", "interventi": [{
        "codice": "A.1.1", "titolo": "Servizio di assistenza domiciliare anziani",
        "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
        "comuni": [c["istat"] for c in COMUNI], "utenti_attesi": 140,
        "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "182500.00"},
                         {"fondo": "FNA", "anno": 2026, "importo": "96000.50"}]}]}]}]


class Ambito:
    """One tenant's people and the calls they make."""

    def __init__(self, platform: Platform, tenant: str) -> None:
        self.platform, self.tenant = platform, tenant
        infra = platform.infra
        self.coordinatore = infra.auth(tenant, "coordinatore")
        self.revisore = infra.auth(tenant, "revisore")
        self.asl = infra.auth(tenant, "referente_asl")
        self.sindaci = {c["istat"]: infra.auth(tenant, "componente_comitato", comune=c["istat"]) for c in COMUNI}

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, expect: int | None = 200,
             **kw: Any) -> httpx.Response:
        response = httpx.request(method, f"{self.platform.url('planning')}{path}",
                                 headers=headers or self.coordinatore, timeout=30, **kw)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response

    def prepara(self, regola: dict[str, Any]) -> dict[str, Any]:
        """Register the Ambito, configure the Comitato, draft and propose a Piano; returns ids."""
        self.call("PUT", "/ambito", expect=None, json={
            "nome": S09["ambito"]["nome"], "capofila_istat": S09["ambito"]["capofila_istat"],
            "popolazione_al": S09["popolazione_al"], "comuni": S09["comuni"]})
        self.configura(regola)
        piano = self.call("POST", "/piani", expect=201, json={
            "titolo": "Piano Sociale di Zona 2025–2027", "anno_inizio": 2025, "anno_fine": 2027}).json()
        self.call("PUT", f"/piani/{piano['id']}/versioni/1/contenuto", json={"aree": AREE})
        proposta = self.call("POST", f"/piani/{piano['id']}/versioni/1/proposta", expect=201).json()
        assert proposta["piano"]["stato"] == "proposto"
        return {"piano_id": piano["id"], "proposta_id": proposta["proposta_id"]}

    def configura(self, regola: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", "/comitato", expect=None, json={
            "regola": regola, "consultivi": [{"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0}]}).json()

    def convoca(self, *proposte: str) -> dict[str, Any]:
        # convened for the hour just gone (1st call) and the minute after (2nd): it can open now
        prima = datetime.now(timezone.utc) - timedelta(minutes=2)
        return self.call("POST", "/sedute", expect=201, json={
            "oggetto": "Seduta del Coordinamento Istituzionale", "luogo": "Sala consiliare, Comune di Sapri",
            "prima_convocazione": prima.isoformat(), "seconda_convocazione": (prima + timedelta(minutes=1)).isoformat(),
            "ordine_del_giorno": list(proposte)}).json()

    def presenti(self, seduta_id: str, comuni: list[dict], *, presente: bool = True) -> None:
        for c in comuni:
            self.call("PUT", f"/sedute/{seduta_id}/presenze/{c['istat']}", json={"presente": presente})

    def piano_approvato_all_unanimita(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A Piano approved one head one vote by all 17 Comuni: (ids, seduta, deliberazione)."""
        ids = self.prepara(PER_TESTA)
        seduta = self.convoca(ids["proposta_id"])
        self.presenti(seduta["id"], COMUNI)
        self.call("POST", f"/sedute/{seduta['id']}/apertura", json={"convocazione": 1})
        self.call("POST", f"/sedute/{seduta['id']}/votazioni", json={"proposta_id": ids["proposta_id"]})
        for c in COMUNI:
            self.vota(seduta["id"], ids["proposta_id"], c["istat"], "favorevole")
        delibera = self.call("POST", f"/sedute/{seduta['id']}/votazioni/{ids['proposta_id']}/chiusura").json()
        return ids, seduta, delibera

    def vota(self, seduta_id: str, proposta_id: str, istat: str, voto: str, expect: int | None = 201,
             headers: dict[str, str] | None = None) -> httpx.Response:
        return self.call("POST", f"/sedute/{seduta_id}/votazioni/{proposta_id}/voti",
                         headers=headers or self.sindaci[istat], expect=expect,
                         json={"componente": istat, "voto": voto})


def assert_problem(response: httpx.Response, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body.get("rule") == rule, body
    return body


def planning_events(infra: Infra) -> int:
    table = sql.SQL("{}.planning_events").format(sql.Identifier(f"{infra.namespace}planning"))
    with infra.connect() as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


@contextmanager
def nothing_stored(infra: Infra) -> Iterator[None]:
    before = planning_events(infra)
    yield
    assert planning_events(infra) == before, "a refused request stored events"


def test_piano_approved_by_population_then_a_deliberation_by_heads_then_in_attuazione(platform: Platform) -> None:
    s09 = Ambito(platform, "15-S09T")  # S09 data under a tenant of its own (test_demo seeds 15-S09)
    ids = s09.prepara(PONDERATA)
    comitato = s09.call("GET", "/comitato", headers=s09.sindaci["065134"]).json()
    sapri = next(c for c in comitato["componenti"] if c["id"] == "065134")
    assert (sapri["peso"], sapri["peso_percentuale"]) == (6373, "15.1162")  # 6373 / 42160
    assert next(c for c in comitato["componenti"] if c["id"] == "ASL")["consultivo"] is True

    # Seduta 1, population-weighted: the four largest Comuni (21,830 > 21,080) against the other 13.
    # On its agenda also the regolamento that moves the Comitato to one head one vote (issue 12: a rule
    # changes only by an approved deliberation that the change references).
    regolamento = s09.call("POST", "/deliberazioni", expect=201, json={
        "tipo": "regolamento_comitato", "oggetto": "Modifica del regolamento: un Comune, un voto",
        "testo": "Il Comitato adotta il voto per teste."}).json()["id"]
    seduta = s09.convoca(ids["proposta_id"], regolamento)
    assert seduta["stato"] == "convocata" and seduta["regola"]["famiglia"] == "ponderata"
    s09.presenti(seduta["id"], COMUNI)
    s09.call("PUT", f"/sedute/{seduta['id']}/presenze/ASL", json={"presente": True, "rappresentante": "Direttore del Distretto 71"})
    aperta = s09.call("POST", f"/sedute/{seduta['id']}/apertura", json={"convocazione": 1}).json()
    assert aperta["numero_legale"]["raggiunto"] and aperta["numero_legale"]["presenti"] == 17
    s09.call("POST", f"/sedute/{seduta['id']}/votazioni", json={"proposta_id": ids["proposta_id"]})
    for c in COMUNI:
        voto = s09.vota(seduta["id"], ids["proposta_id"], c["istat"],
                        "favorevole" if c in GRANDI else "contrario").json()
        assert voto["espresso_da"] == "componente_comitato@15-S09T" and voto["per_delega"] is False
    delibera = s09.call("POST", f"/sedute/{seduta['id']}/votazioni/{ids['proposta_id']}/chiusura").json()
    anno = datetime.now(ZoneInfo("Europe/Rome")).year
    assert (delibera["stato"], delibera["numero"], delibera["tipo"]) == ("approvata", f"1/{anno}", "approvazione_piano")
    esito = delibera["esito"]
    assert esito["ponderato"] == {"favorevoli": 21830, "contrari": 20330, "astenuti": 0, "non_votanti": 0,
                                  "base": 42160, "maggioranza": True}
    assert esito["per_testa"]["favorevoli"] == 4 and esito["per_testa"]["maggioranza"] is False
    piano = s09.call("GET", f"/piani/{ids['piano_id']}").json()
    assert (piano["stato"], piano["versione_vigente"], piano["versioni"][0]["deliberazione"]) == (
        "approvato", 1, f"1/{anno}")
    s09.call("POST", f"/sedute/{seduta['id']}/votazioni", json={"proposta_id": regolamento})
    for c in COMUNI:
        s09.vota(seduta["id"], regolamento, c["istat"], "favorevole")
    s09.call("POST", f"/sedute/{seduta['id']}/votazioni/{regolamento}/chiusura")

    # Seduta 2 under one-head-one-vote: nine small Comuni (10,047 residents) approve the cost criteria.
    s09.call("PUT", "/comitato", json={"regola": PER_TESTA, "deliberazione_id": regolamento, "consultivi": [
        {"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0}]})
    criteri = s09.call("POST", "/deliberazioni", expect=201, json={
        "tipo": "criteri_riparto_costi", "oggetto": "Criteri di riparto dei costi 2026 tra i Comuni",
        "testo": "Quota capitaria uniforme sulla popolazione al 1° gennaio 2025.", "riferimenti": {"anno": 2026}}).json()
    seduta2 = s09.convoca(criteri["id"])
    assert seduta2["regola"]["famiglia"] == "per_testa"
    s09.presenti(seduta2["id"], COMUNI)
    s09.call("POST", f"/sedute/{seduta2['id']}/apertura", json={"convocazione": 1})
    s09.call("POST", f"/sedute/{seduta2['id']}/votazioni", json={"proposta_id": criteri["id"]})
    for c in COMUNI:
        s09.vota(seduta2["id"], criteri["id"], c["istat"], "favorevole" if c in PICCOLI else "contrario")
    seconda = s09.call("POST", f"/sedute/{seduta2['id']}/votazioni/{criteri['id']}/chiusura").json()
    assert (seconda["stato"], seconda["numero"]) == ("approvata", f"3/{anno}")
    assert seconda["esito"]["per_testa"]["favorevoli"] == 9 and seconda["esito"]["ponderato"]["maggioranza"] is False
    assert seconda["esito"]["ponderato"]["favorevoli"] == 10047
    s09.call("POST", f"/sedute/{seduta2['id']}/chiusura")

    # Accordo di Programma: every Comune through its own member, then the ASL.
    accordo = s09.call("POST", f"/piani/{ids['piano_id']}/accordo", expect=201, json={}).json()
    assert sorted(accordo["mancanti"]) == sorted([c["istat"] for c in COMUNI] + ["ASL"])
    for c in COMUNI:
        firmato = s09.call("POST", f"/piani/{ids['piano_id']}/accordo/firme", headers=s09.sindaci[c["istat"]]).json()
        assert firmato["stato_piano"] == "approvato"
    fine = s09.call("POST", f"/piani/{ids['piano_id']}/accordo/firme", headers=s09.asl).json()
    assert fine["mancanti"] == [] and fine["stato_piano"] == "in_attuazione" and fine["perfezionato_il"]

    # Monitoring: the Ambito's read model and the Region's.
    monitoring = platform.url("monitoring")
    wait_until(lambda: httpx.get(f"{monitoring}/piani/{ids['piano_id']}", headers=s09.coordinatore)
               .json().get("stato") == "in_attuazione", message="Piano in attuazione in monitoring")
    campania = platform.infra.auth(None, "regione", regione="15")
    wait_until(lambda: any(a["ambito"] == "15-S09T" and a["stati"]["in_attuazione"] == 1 for a in
                           httpx.get(f"{monitoring}/regione/piani", headers=campania).json()["ambiti"]),
               message="Piano in attuazione in the regional read model")
    delibere = wait_until(lambda: len(e := httpx.get(f"{monitoring}/deliberazioni", headers=s09.coordinatore,
                                                     params={"stato": "approvata"}).json()["elementi"]) == 3 and e,
                          message="deliberations in monitoring")
    assert sorted(d["numero"] for d in delibere) == [f"1/{anno}", f"2/{anno}", f"3/{anno}"]
    regionale = httpx.get(f"{monitoring}/regione/deliberazioni", headers=campania).json()["ambiti"]
    assert [(a["approvate"], a["respinte"]) for a in regionale if a["ambito"] == "15-S09T"] == [(3, 0)]
    lombardia = platform.infra.auth(None, "regione", regione="03")
    assert all(a["ambito"] != "15-S09T"
               for a in httpx.get(f"{monitoring}/regione/piani", headers=lombardia).json()["ambiti"])

    # Audit view: the whole history of deliberation 1, each event's link verified.
    def storia() -> dict[str, Any]:
        return s09.call("GET", f"/deliberazioni/{delibera['id']}/storia", headers=s09.revisore,
                        params={"catena_completa": "true"}).json()

    vista = wait_until(lambda: (v := storia())["verifica"]["in_attesa"] == 0 and v, message="events chained")
    eventi = [e["evento"] for e in vista["eventi"]]
    assert eventi.count("Seduta.PresenzaRegistrata") == 18 and eventi.count("Seduta.VotoEspresso") == 17
    assert eventi[0] == "Deliberazione.Proposta"
    assert eventi[-4:] == ["Seduta.VotazioneChiusa", "Deliberazione.Approvata",
                           "RegistroDeliberazioni.NumeroAssegnato", "PianoDiZona.VersioneApprovata"]
    assert "Seduta.Convocata" in eventi and "Seduta.Aperta" in eventi
    chiusa = next(e for e in vista["eventi"] if e["evento"] == "Seduta.VotazioneChiusa")
    assert chiusa["dati"]["regola"]["famiglia"] == "ponderata" and chiusa["dati"]["esito"]["approvata"] is True
    voto_sapri = next(e for e in vista["eventi"] if e["evento"] == "Seduta.VotoEspresso"
                      and e["dati"]["componente"] == "065134")
    assert voto_sapri["dati"]["voto"] == "favorevole" and voto_sapri["quando"]
    verifica = vista["verifica"]
    assert verifica["integra"] is True and verifica["esito"] == "integra" and verifica["problemi"] == []
    assert verifica["verificati"] == verifica["eventi_controllati"] >= len(eventi)
    assert vista["verifica"]["catena_ambito"]["ok"] is True
    assert all(e["catena"] == "verificato" and len(e["link"]) == 64 for e in vista["eventi"])


@pytest.fixture(scope="module")
def seduta_aperta(platform: Platform) -> dict[str, Any]:
    """A seduta of Ambito 15-CIR in session, voting on its Piano; only the ten largest Comuni present."""
    ambito = Ambito(platform, "15-CIR")
    ids = ambito.prepara(PONDERATA)
    seduta = ambito.convoca(ids["proposta_id"])
    ambito.presenti(seduta["id"], COMUNI[:10])
    ambito.call("POST", f"/sedute/{seduta['id']}/apertura", json={"convocazione": 1})
    ambito.call("POST", f"/sedute/{seduta['id']}/votazioni", json={"proposta_id": ids["proposta_id"]})
    return {"ambito": ambito, "seduta_id": seduta["id"], **ids}


def test_votes_outside_the_rules_are_refused_and_store_nothing(platform: Platform, seduta_aperta: dict) -> None:
    a, seduta, proposta = seduta_aperta["ambito"], seduta_aperta["seduta_id"], seduta_aperta["proposta_id"]
    infra = platform.infra
    estraneo = infra.auth(a.tenant, "componente_comitato", comune="015146")  # Milano: not in this Comitato
    with nothing_stored(infra):
        assert_problem(a.vota(seduta, proposta, "015146", "favorevole", expect=None, headers=estraneo),
                       403, "voto.non_componente")
        # a mayor votes only for his own Comune
        assert_problem(a.vota(seduta, proposta, "065021", "favorevole", expect=None,
                              headers=a.sindaci["065134"]), 403, "voto.proprio_comune")
        # an absent member cannot vote
        assert_problem(a.vota(seduta, proposta, COMUNI[-1]["istat"], "favorevole", expect=None),
                       422, "voto.presente")
        # the coordinator cannot vote for a Comune; an amministrativo cannot vote at all
        assert_problem(a.vota(seduta, proposta, "065134", "favorevole", expect=None, headers=a.coordinatore),
                       403, "voto.proprio_comune")
        assert_problem(a.vota(seduta, proposta, "065134", "favorevole", expect=None,
                              headers=infra.auth(a.tenant, "amministrativo")), 403, "role.required")
        assert a.vota(seduta, proposta, "065134", "si", expect=422).headers["content-type"].startswith(
            "application/problem+json")
    a.vota(seduta, proposta, "065134", "favorevole")
    with nothing_stored(infra):
        assert_problem(a.vota(seduta, proposta, "065134", "contrario", expect=None), 409, "voto.una_volta")


def test_nothing_is_decided_without_quorum_and_a_closed_seduta_takes_no_votes(platform: Platform) -> None:
    a = Ambito(platform, "15-QRM")
    ids = a.prepara(PONDERATA)
    seduta = a.convoca(ids["proposta_id"])
    sid = seduta["id"]
    # The 13 smallest Comuni: 13 of 17 members but 20,330 of 42,160 residents (< 1/2): no numero legale.
    a.presenti(sid, COMUNI[4:])
    infra = platform.infra
    with nothing_stored(infra):
        body = assert_problem(a.call("POST", f"/sedute/{sid}/apertura", json={"convocazione": 1}, expect=None),
                              422, "seduta.numero_legale")
        assert "20330" in body["detail"] and "42160" in body["detail"]
        assert_problem(a.call("POST", f"/sedute/{sid}/votazioni", json={"proposta_id": ids["proposta_id"]},
                              expect=None), 409, "seduta.non_aperta")
        # the 2nd call cannot be used to dodge the 1st: first the 1st call is found deserted
        assert_problem(a.call("POST", f"/sedute/{sid}/apertura", json={"convocazione": 2}, expect=None),
                       409, "seduta.prima_non_deserta")
    assert a.call("POST", f"/sedute/{sid}/deserta").json()["prima_deserta"] is True
    # 2nd call needs only ≥ 3/10 of the population and ≥ 1/4 of the members: it opens.
    a.call("POST", f"/sedute/{sid}/apertura", json={"convocazione": 2})
    a.call("POST", f"/sedute/{sid}/chiusura")
    with nothing_stored(infra):
        assert_problem(a.call("POST", f"/sedute/{sid}/votazioni", json={"proposta_id": ids["proposta_id"]},
                              expect=None), 409, "seduta.chiusa")
        assert_problem(a.vota(sid, ids["proposta_id"], COMUNI[5]["istat"], "favorevole", expect=None),
                       409, "seduta.chiusa")
    # the proposal went back to be put on another agenda
    assert a.call("GET", f"/deliberazioni/{ids['proposta_id']}").json()["stato"] == "proposta"


def test_an_approved_version_never_changes_and_roles_are_enforced(platform: Platform) -> None:
    a = Ambito(platform, "15-IMM")
    ids, seduta, delibera = a.piano_approvato_all_unanimita()
    assert delibera["stato"] == "approvata"
    infra = platform.infra
    with nothing_stored(infra):
        assert_problem(a.call("PUT", f"/piani/{ids['piano_id']}/versioni/1/contenuto", json={"aree": AREE},
                              expect=None), 409, "piano.versione_approvata_immutabile")
        # only the coordinatore drafts and proposes
        for role in ("componente_comitato", "amministrativo", "revisore"):
            assert_problem(a.call("POST", "/piani", headers=infra.auth(a.tenant, role), expect=None, json={
                "titolo": "Piano 2028–2030", "anno_inizio": 2028, "anno_fine": 2030}), 403, "role.required")
        # an approved deliberation is closed: it cannot be voted again
        assert_problem(a.call("POST", f"/sedute/{seduta['id']}/votazioni", json={"proposta_id": ids["proposta_id"]},
                              expect=None), 409, "votazione.gia_votata")
        # a Region reads through monitoring; planning acts for one Ambito
        assert_problem(a.call("GET", f"/piani/{ids['piano_id']}", headers=infra.auth(None, "regione", regione="15"),
                              expect=None), 403, "role.required")
    # the update is a new version referencing the approved one, and the diff shows what changed
    nuova = a.call("POST", f"/piani/{ids['piano_id']}/versioni", expect=201, json={
        "tipo": "aggiornamento_annuale", "riferimento": 1, "titolo": "Aggiornamento annuale 2026"}).json()
    assert (nuova["versione"], nuova["riferimento"], nuova["stato"]) == (2, 1, "bozza")
    aree = json.loads(json.dumps(AREE))
    aree[0]["obiettivi"][0]["interventi"][0]["linee_budget"][0]["importo"] = "190000.00"
    a.call("PUT", f"/piani/{ids['piano_id']}/versioni/2/contenuto", json={"aree": aree})
    diff = a.call("GET", f"/piani/{ids['piano_id']}/differenze", params={"da": 1, "a": 2}).json()
    assert diff["modificati"] == [{"codice": "A.1.1", "campi": {"linee_budget": {
        "FNPS/2025": {"prima": "182500.00", "dopo": "190000.00"}}}}]
    assert diff["budget"] == {"FNPS/2025": {"prima": "182500.00", "dopo": "190000.00", "differenza": "7500.00"}}
    # a correction is a new deliberation that references the approved one
    rettifica = a.call("POST", "/deliberazioni", expect=201, json={
        "tipo": "rettifica", "oggetto": "Rettifica di un errore materiale", "testo": "Si corregge il titolo.",
        "riferimenti": {"rettifica_di": delibera["id"]}}).json()
    assert rettifica["riferimenti"] == {"rettifica_di": delibera["id"]} and rettifica["stato"] == "proposta"
    assert a.call("GET", f"/deliberazioni/{delibera['id']}").json()["versione"] == delibera["versione"]


def test_another_ambito_sees_nothing_of_the_comitato(platform: Platform, seduta_aperta: dict) -> None:
    a = seduta_aperta["ambito"]
    altro = Ambito(platform, "15-ALT")
    with nothing_stored(platform.infra):
        for path in (f"/sedute/{seduta_aperta['seduta_id']}", f"/deliberazioni/{seduta_aperta['proposta_id']}",
                     f"/deliberazioni/{seduta_aperta['proposta_id']}/storia", f"/piani/{seduta_aperta['piano_id']}"):
            response = altro.call("GET", path, expect=None)
            assert response.status_code == 404, (path, response.text)
        # a member of the other Ambito with the same Comune code cannot vote in this seduta
        intruso = platform.infra.auth(altro.tenant, "componente_comitato", comune="065134")
        response = a.vota(seduta_aperta["seduta_id"], seduta_aperta["proposta_id"], "065134", "favorevole",
                          expect=None, headers=intruso)
        assert response.status_code == 404, response.text
        assert altro.call("GET", "/comitato", expect=None).status_code == 404


def test_the_audit_view_names_a_deleted_and_an_altered_vote(platform: Platform) -> None:
    a = Ambito(platform, "15-AUDC")
    _, _, delibera = a.piano_approvato_all_unanimita()

    def storia() -> dict[str, Any]:
        return a.call("GET", f"/deliberazioni/{delibera['id']}/storia", headers=a.revisore).json()

    prima = wait_until(lambda: (v := storia())["verifica"]["esito"] == "integra" and v, message="events chained")
    voti = [e for e in prima["eventi"] if e["evento"] == "Seduta.VotoEspresso"]
    cancellato, alterato, sparito = (v["notification_id"] for v in voti[:3])
    infra = platform.infra
    schema = sql.Identifier(f"{infra.namespace}planning")
    events, chain = (sql.SQL("{}.{}").format(schema, sql.Identifier(t)) for t in ("planning_events", "audit_chain"))
    with infra.connect() as db, db.transaction():
        for table in (events, chain):
            db.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(table))
        db.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(events), (cancellato,))
        db.execute(sql.SQL("UPDATE {} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
                           "'\"favorevole\"', '\"contrario\"'), 'UTF8') WHERE notification_id = %s").format(events),
                   (alterato,))
        for table in (events, chain):  # a vote removed with its link: only the version gap is left
            db.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(table), (sparito,))
        for table, name in ((events, "planning_events"), (chain, "audit_chain")):
            for kind in ("rows", "truncate"):
                db.execute(sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(
                    table, sql.Identifier(f"{name}_append_only_{kind}")))
    dopo = storia()
    assert dopo["verifica"]["esito"] == "compromessa" and dopo["verifica"]["integra"] is False
    problemi = {(p["notification_id"], p["stato"]) for p in dopo["verifica"]["problemi"]}
    assert (cancellato, "cancellato") in problemi and (alterato, "alterato") in problemi
    assert (None, "mancante") in problemi
    assert [e["dati"]["voto"] for e in dopo["eventi"] if e["notification_id"] == alterato] == ["contrario"]
    assert sum(e["evento"] == "Seduta.VotoEspresso" for e in dopo["eventi"]) == len(COMUNI) - 2
