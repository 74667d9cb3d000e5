"""Tavoli's proposals taken into a draft version (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from planning.domain.proposte import PropostaTavolo, con_intervento

INTERVENTO = {"codice": "T.1", "titolo": "Centro diurno per persone con disabilità",
              "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"}, "comuni": ["065134"],
              "utenti_attesi": 25}
AREE = [{"codice": "A", "titolo": "Disabilità", "obiettivi": [{"codice": "A.1", "titolo": "Inclusione",
                                                                  "interventi": []}]}]


def proposta() -> PropostaTavolo:
    return PropostaTavolo(tenant_id="15-S09", proposta_id=uuid.uuid4(), tavolo_id=uuid.uuid4(), piano_id=None,
                          titolo="Un centro diurno", descrizione="Proposta del tavolo disabilità", area="disabilita",
                          intervento=INTERVENTO, formulata_da="coordinatore@15-S09")


def test_the_intervento_joins_the_tree_under_the_chosen_objective_without_budget_lines() -> None:
    aree = con_intervento(AREE, "A", "A.1", INTERVENTO)
    assert aree[0]["obiettivi"][0]["interventi"] == [{**INTERVENTO, "linee_budget": []}]
    assert AREE[0]["obiettivi"][0]["interventi"] == []  # the input tree is left as it was


@pytest.mark.parametrize("area, obiettivo, rule, field", [("Z", "A.1", "proposta.area_esistente", "area"),
                                                         ("A", "Z.9", "proposta.obiettivo_esistente", "obiettivo")])
def test_the_area_and_objective_must_exist(area: str, obiettivo: str, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as err:
        con_intervento(AREE, area, obiettivo, INTERVENTO)
    assert (err.value.rule, err.value.field) == (rule, field)


def test_a_proposal_is_taken_into_the_plan_once() -> None:
    p = proposta()
    piano = uuid.uuid4()
    p.recepisci(piano, 1, "A", "A.1", "coordinatore@15-S09")
    assert p.recepita["versione"] == 1 and isinstance(p.collect_events()[-1], PropostaTavolo.Recepita)
    with pytest.raises(Conflict) as err:
        p.recepisci(piano, 2, "A", "A.1", "coordinatore@15-S09")
    assert err.value.rule == "proposta.gia_recepita"
