"""The Comitato Istituzionale: members from the Ambito, decision rule, reconfiguration (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date
from fractions import Fraction

import pytest

from ambiti_kit.errors import RuleViolation
from planning.domain.comitato import Comitato, componenti_da_ambito, pesi_percentuali, verifica_regola
from planning.domain.regole_voto import Quorum, Regola, Soglia

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065156", "nome": "Vibonati", "popolazione": 3204},
          {"istat": "065149", "nome": "Torre Orsaia", "popolazione": 1985},
          {"istat": "065059", "nome": "Ispani", "popolazione": 970},
          {"istat": "065077", "nome": "Morigerati", "popolazione": 608},
          {"istat": "065150", "nome": "Tortorella", "popolazione": 482}]
ASL = {"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0}
PONDERATA = Regola("ponderata").come_dict()
AL_2023 = date(2023, 1, 1)


def test_one_member_per_comune_weighted_by_population_plus_advisory_members() -> None:
    membri = componenti_da_ambito(COMUNI[:2], [ASL])
    assert membri == [{"id": "065134", "nome": "Sapri", "peso": 6373, "consultivo": False},
                      {"id": "065156", "nome": "Vibonati", "peso": 3204, "consultivo": False},
                      {"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0, "consultivo": True}]


@pytest.mark.parametrize("consultivi, rule, field", [
    ([{**ASL, "id": "asl"}], "comitato.codice_consultivo", "consultivi.0.id"),
    ([ASL, {"id": "PROVINCIA", "nome": "Provincia di Salerno", "peso": -1}], "comitato.peso", "consultivi.1.peso"),
    ([ASL, {**ASL}], "comitato.componenti_unici", "consultivi"),
])
def test_bad_advisory_members_are_refused(consultivi: list[dict], rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        componenti_da_ambito(COMUNI, consultivi)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_a_valid_rule_dict_becomes_a_regola() -> None:
    regola = Regola("doppia_maggioranza", "votanti", quorum={1: Quorum(Soglia(Fraction(1, 2), True), None)})
    assert verifica_regola(regola.come_dict()) == regola


def _con(**cambi: object) -> dict:
    return {**PONDERATA, **cambi}


@pytest.mark.parametrize("regola, rule, field", [
    (_con(famiglia="maggioranza_assoluta"), "comitato.regola", "regola"),
    (_con(quorum={"2": {"pesi": None, "membri": None}}), "comitato.regola", "regola"),  # no 1st call
    (_con(maggioranza={"frazione": "1/0", "stretta": True}), "comitato.regola", "regola"),
    ({k: v for k, v in PONDERATA.items() if k != "base"}, "comitato.regola", "regola"),
    (_con(maggioranza={"frazione": "3/2", "stretta": False}), "comitato.soglia", "regola"),
    (_con(quorum={"1": {"pesi": {"frazione": "0/1", "stretta": False}, "membri": None}}), "comitato.soglia",
     "regola"),
    (_con(maggioranza={"frazione": "2/5", "stretta": False}), "comitato.maggioranza", "regola.maggioranza"),
])
def test_bad_rules_are_refused(regola: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_regola(regola)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_costituisci_records_members_and_rule_in_one_event() -> None:
    membri = componenti_da_ambito(COMUNI, [ASL])
    comitato = Comitato.costituisci("15-S09", AL_2023, membri, PONDERATA, "coordinatore@15-S09")
    [costituito] = comitato.collect_events()
    assert isinstance(costituito, Comitato.Costituito) and costituito.regola == PONDERATA
    assert (comitato.id, comitato.popolazione_al, comitato.componenti) == (
        Comitato.create_id("15-S09"), AL_2023, membri)


def test_riconfigura_returns_false_and_records_nothing_when_unchanged() -> None:
    membri = componenti_da_ambito(COMUNI, [ASL])
    comitato = Comitato.costituisci("15-S09", AL_2023, membri, PONDERATA, "x")
    comitato.collect_events()
    assert comitato.riconfigura(AL_2023, componenti_da_ambito(COMUNI, [ASL]), dict(PONDERATA), "y") is False
    assert comitato.collect_events() == [] and comitato.version == 1


def test_riconfigura_with_new_populations_or_rule_records_the_change() -> None:
    comitato = Comitato.costituisci("15-S09", AL_2023, componenti_da_ambito(COMUNI, [ASL]), PONDERATA, "x")
    comuni_2024 = [{**c, "popolazione": c["popolazione"] - 10} for c in COMUNI]
    assert comitato.riconfigura(date(2024, 1, 1), componenti_da_ambito(comuni_2024, [ASL]), PONDERATA, "y")
    doppia = Regola("doppia_maggioranza").come_dict()
    atto = {"id": uuid.uuid4(), "tipo": "regolamento_comitato", "stato": "approvata", "numero": "3/2024"}
    assert comitato.riconfigura(date(2024, 1, 1), componenti_da_ambito(comuni_2024, [ASL]), doppia, "y", atto)
    _, *riconfigurati = comitato.collect_events()
    assert [type(e).__name__ for e in riconfigurati] == ["Riconfigurato", "Riconfigurato"]
    assert [(e.deliberazione_id, e.deliberazione) for e in riconfigurati] == [(None, None), (atto["id"], "3/2024")]
    assert (comitato.popolazione_al, comitato.componenti[0]["peso"], comitato.regola["famiglia"]) == (
        date(2024, 1, 1), 6363, "doppia_maggioranza")
    with pytest.raises(RuleViolation):
        comitato.riconfigura(AL_2023, comitato.componenti, _con(maggioranza={"frazione": "1/3", "stretta": True}), "y")


def test_pesi_percentuali_are_shares_of_the_total_with_four_decimals() -> None:
    # total 13622 inhabitants; e.g. Sapri 6373 / 13622 = 46.78461...%
    assert pesi_percentuali(componenti_da_ambito(COMUNI, [ASL])) == {
        "065134": "46.7846", "065156": "23.5208", "065149": "14.5720", "065059": "7.1208",
        "065077": "4.4634", "065150": "3.5384", "ASL": "0.0000"}
    assert pesi_percentuali([{"id": "ASL", "peso": 0}]) == {"ASL": "0.0000"}  # no division by zero


def test_an_unreachable_threshold_is_refused() -> None:
    regola = {"famiglia": "per_testa", "base": "presenti", "consultivi_contano": False,
              "maggioranza": {"frazione": "1/1", "stretta": True},
              "quorum": {"1": {"pesi": None, "membri": {"frazione": "1/3", "stretta": False}}}}
    with pytest.raises(RuleViolation) as err:
        verifica_regola(regola)
    assert err.value.rule == "comitato.soglia"
