"""The Ambito's Comuni at a date, as finance's riparti take them: members by their legal dates."""

from __future__ import annotations

from datetime import date

import pytest

from ambiti_kit.errors import RuleViolation
from finance.domain.ambito import ComposizioneAmbito

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6600},
          {"istat": "065150", "nome": "Tortorella", "popolazione": 482, "aderente_dal": "2025-07-01"},
          {"istat": "065148", "nome": "Torraca", "popolazione": 1250, "cessato_dal": "2025-10-01"}]


def membri(al: str) -> list[str]:
    composizione = ComposizioneAmbito("15-S09", versione=1, nome="S09", popolazione_al=date(2025, 1, 1),
                                      comuni=COMUNI)
    return [c["istat"] for c in composizione.comuni_al(date.fromisoformat(al))[2]]


def test_a_comune_is_a_member_from_its_legal_date_to_the_day_before_it_leaves() -> None:
    assert membri("2025-03-01") == ["065134", "065148"]               # Tortorella not yet
    assert membri("2025-07-01") == ["065134", "065150", "065148"]     # from its legal date
    assert membri("2025-09-30") == ["065134", "065150", "065148"]     # Torraca's last day
    assert membri("2025-10-01") == ["065134", "065150"]               # no longer a member


def test_before_any_population_the_riparto_is_refused_naming_the_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        membri("2024-12-31")
    assert (refused.value.rule, refused.value.field) == ("riparto.popolazione_alla_data", "comuni_al")
