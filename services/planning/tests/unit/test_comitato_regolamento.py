"""Who may change the Comitato's rule, the proxy cap and the evolution of the Comitato's events (no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest
from eventsourcing.persistence import StoredEvent

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantApplication
from planning.domain.comitato import Comitato, componenti_da_ambito
from planning.domain.regole_voto import Regola
from planning.domain.seduta import Seduta

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065156", "nome": "Vibonati", "popolazione": 3204},
          {"istat": "065149", "nome": "Torre Orsaia", "popolazione": 1985},
          {"istat": "065059", "nome": "Ispani", "popolazione": 970}]
MEMBRI = componenti_da_ambito(COMUNI, [])
PER_TESTA = Regola("per_testa").come_dict()
PONDERATA = Regola("ponderata").come_dict()
AL = date(2023, 1, 1)


def atto(tipo: str = "regolamento_comitato", stato: str = "approvata") -> dict:
    return {"id": uuid.uuid4(), "tipo": tipo, "stato": stato, "numero": "4/2026" if stato == "approvata" else None}


def comitato() -> Comitato:
    c = Comitato.costituisci("15-S09", AL, MEMBRI, PER_TESTA, "coordinatore@15-S09")
    c.collect_events()
    return c


@pytest.mark.parametrize("riferimento, rule", [
    (None, "comitato.deliberazione_richiesta"),
    (atto("approvazione_bilancio"), "comitato.deliberazione_tipo"),
    (atto(stato="proposta"), "comitato.deliberazione_approvata"),
    (atto(stato="respinta"), "comitato.deliberazione_approvata"),
])
def test_a_rule_change_without_an_approved_deliberation_of_the_right_type_is_refused(riferimento, rule) -> None:
    c = comitato()
    with pytest.raises(RuleViolation) as caught:
        c.riconfigura(AL, MEMBRI, PONDERATA, "coordinatore@15-S09", riferimento)
    assert (caught.value.rule, caught.value.field) == (rule, "deliberazione_id")
    assert c.collect_events() == [] and c.regola == PER_TESTA


def test_a_rule_change_with_its_deliberation_is_recorded_and_names_it_once() -> None:
    c, regolamento = comitato(), atto()
    assert c.riconfigura(AL, MEMBRI, PONDERATA, "x", regolamento)
    [e] = c.collect_events()
    assert (e.deliberazione_id, e.deliberazione, c.deliberazione_id) == (regolamento["id"], "4/2026",
                                                                         regolamento["id"])
    with pytest.raises(RuleViolation) as caught:  # one deliberation, one change
        c.riconfigura(AL, MEMBRI, PER_TESTA, "x", regolamento)
    assert caught.value.rule == "comitato.deliberazione_gia_applicata"
    assert c.riconfigura(AL, MEMBRI, PER_TESTA, "x", atto("convenzione"))  # a convenzione may change it too


def test_new_populations_under_the_same_rule_need_no_deliberation_and_refuse_a_superfluous_one() -> None:
    c = comitato()
    nuovi = componenti_da_ambito([{**x, "popolazione": x["popolazione"] + 1} for x in COMUNI], [])
    with pytest.raises(RuleViolation) as caught:
        c.riconfigura(date(2024, 1, 1), nuovi, PER_TESTA, "x", atto())
    assert caught.value.rule == "comitato.deliberazione_superflua"
    assert c.riconfigura(date(2024, 1, 1), nuovi, PER_TESTA, "x")
    # adding an advisory member changes the regolamento
    with pytest.raises(RuleViolation) as caught:
        c.riconfigura(date(2024, 1, 1), componenti_da_ambito(COMUNI, [{"id": "ASL", "nome": "ASL", "peso": 0}]),
                      PER_TESTA, "x")
    assert caught.value.rule == "comitato.deliberazione_richiesta"


def test_a_presidente_must_be_a_voting_member() -> None:
    with pytest.raises(RuleViolation) as caught:
        Comitato.costituisci("15-S09", AL, MEMBRI, Regola("per_testa", presidente="065999").come_dict(), "x")
    assert (caught.value.rule, caught.value.field) == ("comitato.presidente", "regola.presidente")


def test_comitato_events_stored_before_version_2_still_load() -> None:
    """v1 events (no deliberation field, no class_version) are upcast: the rule had no deliberation behind it."""
    app = TenantApplication()  # in memory, with the platform's transcodings
    c = Comitato.costituisci("15-S09", AL, MEMBRI, PER_TESTA, "x")
    c.riconfigura(date(2024, 1, 1), componenti_da_ambito([{**x, "popolazione": 1} for x in COMUNI], []),
                  PER_TESTA, "x")
    for e in c.collect_events():
        stored = app.mapper.to_stored_event(e)
        state = json.loads(stored.state)
        assert state.pop("class_version") == 2
        del state["deliberazione_id"], state["deliberazione"]
        v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                         json.dumps(state).encode())
        old = app.mapper.to_domain_event(v1)
        assert (old.deliberazione_id, old.deliberazione) == (None, None)
        assert old.regola == e.regola and old.componenti == e.componenti


def test_a_delegate_carries_at_most_the_proxies_the_regolamento_allows() -> None:
    regola = Regola("per_testa", deleghe_max=1).come_dict()
    s = Seduta.convoca("15-S09", "Seduta", "Sapri", datetime(2026, 3, 2, 9, tzinfo=timezone.utc), None,
                       [uuid.uuid4()], MEMBRI, regola, "x")
    s.registra_presenza("065134", True, None, None, "x")
    s.registra_presenza("065149", True, None, "065134", "x")
    s.registra_presenza("065149", True, None, "065134", "x")  # the same proxy again is not a second one
    with pytest.raises(RuleViolation) as caught:
        s.registra_presenza("065059", True, None, "065134", "x")
    assert (caught.value.rule, caught.value.field) == ("presenza.deleghe_massime", "delega_a")
    assert "065059" not in s.presenze


def test_the_published_configuration_names_its_deliberation_and_matches_the_contract() -> None:
    from pathlib import Path

    from eventsourcing.persistence import Notification
    from jsonschema import Draft202012Validator

    from planning.integration.outbound import to_integration_event

    contracts = Path(__file__).resolve().parents[4] / "contracts" / "planning"
    schema = json.loads((contracts / "planning.comitato.configurato.v1.schema.json").read_text())
    c = Comitato.costituisci("15-S09", AL, MEMBRI, PER_TESTA, "x")
    regolamento = atto()
    c.riconfigura(AL, MEMBRI, Regola("ponderata", presidente="065134", voto_decisivo_presidente=True,
                                     deleghe_max=2).come_dict(), "x", regolamento)
    dati = []
    for i, e in enumerate(c.collect_events(), start=1):
        n = Notification(id=i, originator_id=c.id, originator_version=i, topic="x", state=b"{}")
        published = to_integration_event(e, n)
        Draft202012Validator(schema).validate(published.data)
        dati.append(published.data)
    assert [(d["deliberazione_id"], d["deliberazione"]) for d in dati] == [
        (None, None), (str(regolamento["id"]), "4/2026")]
    assert dati[1]["regola"]["deleghe_max"] == 2
