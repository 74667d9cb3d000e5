"""Acts finance checks, end to end over HTTP and Kafka: a Comitato deliberation cited by finance must be one of the
Ambito's, approved, of a type that splits costs among the Comuni, with its number (and date).

Ambito 15-ATTI has its Piano approved (deliberation 1, approvazione_piano); the Comitato then approves the cost
criteria (criteri_riparto_costi) while a second proposal is only proposed. Finance learns them from planning's
events (GET /deliberazioni). A riparto among the Comuni citing the approved criteria is stored; citing an
unknown number, the Piano's deliberation or the wrong date is refused naming `atto`. The Comuni's contributions
split by deliberation are refused with an unknown, a not-approved or a mis-numbered deliberation, and accepted
with the approved one. Another Ambito does not see the deliberations.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from ambiti_kit.testing.fixtures import Platform, wait_until

from tests.conftest import S09  # noqa: E402

TENANT, OTHER = "15-ATTI", "15-ATTX"
AREE = [{"codice": "A", "titolo": "Domiciliarità", "obiettivi": [{"codice": "A.1", "titolo": "Restare a casa",
         "interventi": [{"codice": "A.1.1", "titolo": "Assistenza domiciliare anziani",
                         "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
                         "comuni": [c["istat"] for c in S09["comuni"]], "utenti_attesi": 140,
                         "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "200000.00"}]}]}]}]


def call(url: str, method: str, path: str, headers: dict[str, str], expect: int | None = 200,
         **kw: Any) -> httpx.Response:
    r = httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kw)
    if expect is not None:
        assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r


def problema(r: httpx.Response, rule: str, field: str) -> None:
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert (r.json()["rule"], r.json().get("field")) == (rule, field), r.json()


def test_cited_deliberations_must_be_approved_of_the_right_type(
        platform: Platform, approva_piano: Callable[..., dict[str, Any]]) -> None:
    infra = platform.infra
    piano = approva_piano(TENANT, AREE)
    planning, finance = platform.url("planning"), platform.url("finance")
    coordinatore, amministrativo = infra.auth(TENANT, "coordinatore"), infra.auth(TENANT, "amministrativo")

    def proponi(oggetto: str) -> str:
        return call(planning, "POST", "/deliberazioni", coordinatore, 201, json={
            "tipo": "criteri_riparto_costi", "oggetto": oggetto, "testo": "Quota capitaria uniforme.",
            "riferimenti": {"anno": 2026}}).json()["id"]

    criteri, in_attesa = proponi("Criteri di riparto dei costi 2026"), proponi("Criteri di riparto dei costi 2027")
    seduta = call(planning, "POST", "/sedute", coordinatore, 201, json={
        "oggetto": "Criteri di riparto", "luogo": "Sapri",
        "prima_convocazione": (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(),
        "ordine_del_giorno": [criteri]}).json()["id"]
    for c in S09["comuni"]:
        call(planning, "PUT", f"/sedute/{seduta}/presenze/{c['istat']}", coordinatore, json={"presente": True})
    call(planning, "POST", f"/sedute/{seduta}/apertura", coordinatore, json={"convocazione": 1})
    call(planning, "POST", f"/sedute/{seduta}/votazioni", coordinatore, json={"proposta_id": criteri})
    for c in S09["comuni"]:
        call(planning, "POST", f"/sedute/{seduta}/votazioni/{criteri}/voti",
             infra.auth(TENANT, "componente_comitato", comune=c["istat"]), 201,
             json={"componente": c["istat"], "voto": "favorevole"})
    approvata = call(planning, "POST", f"/sedute/{seduta}/votazioni/{criteri}/chiusura", coordinatore).json()
    assert approvata["stato"] == "approvata"
    numero, data_delibera = approvata["numero"], approvata["data"]

    note = wait_until(lambda: (d := call(finance, "GET", "/deliberazioni", amministrativo).json()["deliberazioni"])
                      and len(d) == 2 and d, timeout=60, message="the approved deliberations in finance")
    assert {(d["numero"], d["tipo"]) for d in note} == {(piano["deliberazione"], "approvazione_piano"),
                                                         (numero, "criteri_riparto_costi")}
    assert call(finance, "GET", "/deliberazioni", infra.auth(OTHER, "amministrativo")).json()["deliberazioni"] == []

    # A riparto among the Comuni citing a Comitato deliberation.
    riparto = {"oggetto": "Riparto dei costi 2026", "totale": "10000.00",
               "criteri": [{"indicatore": "popolazione", "peso": "1"}],
               "arrotondamento": {"metodo": "resto_maggiore", "decimali_percentuale": 2},
               "comuni_al": date.today().isoformat()}

    def ripartisci(numero_: str, data_: str, expect: int | None) -> httpx.Response:
        return call(finance, "POST", "/riparti", amministrativo, expect, json={
            **riparto, "atto": {"tipo": "deliberazione", "numero": numero_, "data": data_}})

    problema(ripartisci("99/2020", data_delibera, None), "atto.deliberazione_sconosciuta", "atto")
    problema(ripartisci(piano["deliberazione"], data_delibera, None), "atto.tipo_deliberazione", "atto")
    problema(ripartisci(numero, "2020-01-01", None), "atto.data_deliberazione", "atto")
    stored = ripartisci(numero, data_delibera, 201).json()
    assert stored["atto"]["numero"] == numero
    # a Region's act is not the Comitato's: recorded as given
    call(finance, "POST", "/riparti", amministrativo, 201, json={
        **riparto, "atto": {"tipo": "delibera_giunta_regionale", "numero": "57", "data": "2025-02-11"}})

    # The Comuni's contributions split by deliberation.
    def contributi(deliberazione_id: str, numero_: str, expect: int | None) -> httpx.Response:
        return call(finance, "POST", "/contributi/2026", amministrativo, expect, json={
            "metodo": "deliberato", "riparto_id": stored["id"], "deliberazione_id": deliberazione_id,
            "deliberazione_numero": numero_, "scadenze": [{"data": "2026-10-31", "percentuale": "100"}]})

    problema(contributi(str(uuid.uuid4()), numero, None), "atto.deliberazione_sconosciuta", "deliberazione_id")
    wait_until(lambda: contributi(in_attesa, numero, None).json().get("rule") == "atto.deliberazione_non_approvata",
               timeout=30, message="the pending proposal in finance")
    problema(contributi(criteri, "7/2026", None), "atto.numero_deliberazione", "deliberazione_id")
    fatto = contributi(criteri, numero, 201).json()
    assert fatto["deliberazione"] == numero and fatto["riparto_id"] == stored["id"]
    assert {c["istat"]: c["dovuto"] for c in fatto["comuni"]} == {  # the riparto's result, Comune by Comune
        a["id"]: a["importo"] for a in stored["risultato"]["assegnazioni"]}
