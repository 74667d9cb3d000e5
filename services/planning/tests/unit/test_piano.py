"""The Piano di Zona aggregate and its rules (no I/O)."""

from __future__ import annotations

import pytest

from ambiti_kit.errors import RuleViolation
from planning.domain.piano import PianoDiZona, verifica_periodo


def test_a_drafted_plan_is_a_bozza_of_its_tenant_with_one_creato_event() -> None:
    piano = PianoDiZona.redigi("15-S09", "  Piano Sociale di Zona 2025–2027 ", 2025, 2027, "coordinatore@15-S09")
    assert (piano.tenant_id, piano.stato, piano.titolo) == ("15-S09", "bozza", "Piano Sociale di Zona 2025–2027")
    [creato] = piano.collect_events()
    assert isinstance(creato, PianoDiZona.Creato)
    assert (creato.anno_inizio, creato.anno_fine, creato.creato_da) == (2025, 2027, "coordinatore@15-S09")


def test_the_id_is_derived_from_tenant_and_triennium() -> None:
    a = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "x")
    b = PianoDiZona.redigi("15-S09", "Altro titolo", 2025, 2027, "y")
    other_tenant = PianoDiZona.redigi("15-S10", "Piano", 2025, 2027, "x")
    other_period = PianoDiZona.redigi("15-S09", "Piano", 2028, 2030, "x")
    assert a.id == b.id
    assert len({a.id, other_tenant.id, other_period.id}) == 3


@pytest.mark.parametrize("inizio, fine", [(2025, 2026), (2025, 2028), (2027, 2025), (2025, 2025)])
def test_a_plan_is_triennial(inizio: int, fine: int) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_periodo(inizio, fine)
    assert caught.value.rule == "piano.periodo_triennale" and caught.value.field == "anno_fine"
