"""The Ambito's composition and its rules (no I/O)."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import Notification

from ambiti_kit.errors import RuleViolation
from planning.domain.ambito import Ambito
from planning.integration.outbound import to_integration_event

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065154", "nome": "Vibonati", "popolazione": 3151}]


def test_registration_and_update_are_events_that_carry_the_tenant() -> None:
    ambito = Ambito.registra("15-S09", "Ambito S09", "065134", date(2023, 1, 1), COMUNI)
    assert ambito.popolazione == 9524 and ambito.id == Ambito.create_id("15-S09")
    ambito.aggiorna("Ambito S09 – Sapri", "065134", date(2024, 1, 1), COMUNI[:1])
    registrato, aggiornato = ambito.collect_events()
    assert registrato.tenant_id == aggiornato.tenant_id == "15-S09"
    assert (ambito.nome, ambito.popolazione, ambito.version) == ("Ambito S09 – Sapri", 6373, 2)
    event = to_integration_event(aggiornato, Notification(id=3, originator_id=ambito.id, originator_version=2,
                                                          topic="x", state=b"{}"))
    assert event is not None and event.type == "planning.ambito.composizione_registrata"
    assert event.data["versione"] == 2 and event.data["popolazione_al"] == "2024-01-01"


@pytest.mark.parametrize("capofila, comuni, rule", [
    ("065134", [], "ambito.comuni_presenti"),
    ("065134", [{"istat": "65134", "nome": "Sapri", "popolazione": 1}], "codice.istat"),
    ("065134", [{"istat": "065134", "nome": "Sapri", "popolazione": -1}], "ambito.popolazione"),
    ("065134", COMUNI + COMUNI[:1], "ambito.comuni_unici"),
    ("065999", COMUNI, "ambito.capofila_membro"),
])
def test_a_composition_breaking_a_rule_is_refused(capofila: str, comuni: list[dict], rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        Ambito.registra("15-S09", "Ambito S09", capofila, date(2023, 1, 1), comuni)
    assert caught.value.rule == rule
