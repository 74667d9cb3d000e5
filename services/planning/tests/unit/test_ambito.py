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


def test_membership_by_legal_date_and_the_populations_history_are_kept() -> None:
    from planning.domain.ambito import composizione_al, popolazioni

    ambito = Ambito.registra("15-S09", "Ambito S09", "065134", date(2023, 1, 1),
                             [{**COMUNI[0], "aderente_dal": date(2008, 7, 1)}, COMUNI[1]])
    # a later composition omits aderente_dal: the one recorded is kept; the same composition is no change
    assert ambito.aggiorna("Ambito S09", "065134", date(2023, 1, 1), COMUNI) is False
    assert ambito.comuni[0]["aderente_dal"] == date(2008, 7, 1) and "aderente_dal" not in ambito.comuni[1]
    nuovi = [{**COMUNI[0], "popolazione": 6300}, {"istat": "065059", "nome": "Ispani", "popolazione": 970,
                                                     "aderente_dal": date(2024, 3, 1)}]
    assert ambito.aggiorna("Ambito S09", "065134", date(2024, 1, 1), nuovi) is True
    assert ambito.comuni[0]["aderente_dal"] == date(2008, 7, 1)
    # the history as the application reads it from the events: (recorded on, popolazione_al, comuni)
    storia = [(date(2023, 5, 2), date(2023, 1, 1), [{**COMUNI[0], "aderente_dal": date(2008, 7, 1)}, COMUNI[1]]),
              (date(2024, 4, 10), date(2024, 1, 1), ambito.comuni)]
    assert popolazioni(storia) == [(date(2023, 1, 1), {"065134": 6373, "065154": 3151}),
                                   (date(2024, 1, 1), {"065134": 6300, "065059": 970})]
    # before any population date: members known, populations unknown
    assert composizione_al(storia, date(2010, 1, 1)) == (None, [
        {"istat": "065134", "nome": "Sapri", "popolazione": None, "aderente_dal": date(2008, 7, 1),
         "cessato_dal": None}])
    riferimento, comuni = composizione_al(storia, date(2023, 12, 31))  # Vibonati recorded 2023-05-02
    assert riferimento == date(2023, 1, 1)
    assert [(c["istat"], c["popolazione"]) for c in comuni] == [("065134", 6373), ("065154", 3151)]
    riferimento, comuni = composizione_al(storia, date(2024, 3, 15))  # Ispani from 1 March 2024 in law
    assert riferimento == date(2024, 1, 1)
    assert [(c["istat"], c["popolazione"]) for c in comuni] == [("065134", 6300), ("065154", 3151),
                                                                 ("065059", 970)]
    riferimento, comuni = composizione_al(storia, date(2024, 4, 10))  # Vibonati left when recorded
    assert [c["istat"] for c in comuni] == ["065134", "065059"]
    event = to_integration_event(ambito.collect_events()[-1], Notification(
        id=3, originator_id=ambito.id, originator_version=2, topic="x", state=b"{}"))
    assert [c["aderente_dal"] for c in event.data["comuni"]] == ["2008-07-01", "2024-03-01"]


def test_a_comune_leaves_on_its_legal_date_not_on_the_day_it_is_recorded() -> None:
    """``cessato_dal``: the first day the Comune is no longer a member in law (kept when a later composition
    omits it, or leaves the Comune out); it follows ``aderente_dal``; the Comitato configured on or after it
    has no member for that Comune."""
    from planning.domain.ambito import composizione_al, in_carica

    with pytest.raises(RuleViolation) as caught:
        Ambito.registra("15-S09", "Ambito S09", "065134", date(2023, 1, 1),
                        [COMUNI[0], {**COMUNI[1], "aderente_dal": date(2020, 1, 1), "cessato_dal": date(2020, 1, 1)}])
    assert (caught.value.rule, caught.value.field) == ("ambito.cessazione", "comuni.1.cessato_dal")
    ambito = Ambito.registra("15-S09", "Ambito S09", "065134", date(2023, 1, 1),
                             [COMUNI[0], {**COMUNI[1], "cessato_dal": date(2024, 1, 1)}])
    assert ambito.aggiorna("Ambito S09", "065134", date(2023, 1, 1), COMUNI) is False  # omitted: kept
    # recorded on 2023-05-02 with its legal end; left out of a composition recorded on 2024-04-10
    storia = [(date(2023, 5, 2), date(2023, 1, 1), ambito.comuni), (date(2024, 4, 10), date(2024, 1, 1), [COMUNI[0]])]
    assert [c["istat"] for c in composizione_al(storia, date(2023, 12, 31))[1]] == ["065134", "065154"]
    assert [c["istat"] for c in composizione_al(storia, date(2024, 1, 1))[1]] == ["065134"]  # not 2024-04-10
    assert composizione_al(storia, date(2023, 6, 1))[1][1]["cessato_dal"] == date(2024, 1, 1)
    assert [c["istat"] for c in in_carica(ambito.comuni, date(2023, 12, 31))] == ["065134", "065154"]
    assert [c["istat"] for c in in_carica(ambito.comuni, date(2024, 1, 1))] == ["065134"]
    event = to_integration_event(ambito.collect_events()[-1], Notification(
        id=3, originator_id=ambito.id, originator_version=1, topic="x", state=b"{}"))
    assert event.data["comuni"][1]["cessato_dal"] == "2024-01-01" and "cessato_dal" not in event.data["comuni"][0]
