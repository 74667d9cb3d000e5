"""Indicator formulas on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

from monitoring.domain.personale import leps
from monitoring.projections.indicatori import copertura, indicatori, leps_dict, spesa_pro_capite, utenti_per_mille


def test_spend_per_resident() -> None:
    assert spesa_pro_capite(Decimal("100000.00"), 6373) == Decimal("15.69")  # 100000 / 6373 = 15.6912…
    assert spesa_pro_capite(Decimal("10.00"), 8) == Decimal("1.25")
    assert spesa_pro_capite(Decimal("0.05"), 10) == Decimal("0.01")  # 0.005, half up
    assert spesa_pro_capite(Decimal("1"), 0) is None


def test_users_per_thousand_residents() -> None:
    assert utenti_per_mille(45, 6373) == Decimal("7.06")  # 45 000 / 6373 = 7.0610…
    assert utenti_per_mille(3, 8000) == Decimal("0.38")  # 0.375, half up
    assert utenti_per_mille(1, 0) is None


def test_coverage() -> None:
    assert copertura(2, 3) == Decimal("0.6667")
    assert copertura(0, 4) == Decimal("0.0000")
    assert copertura(1, 0) is None


def test_leps_ratio() -> None:
    # 32 500 residents: 5.00 FTE at 1/6,500 (where the State's contribution starts), 6.50 at 1/5,000 (the LEPS).
    r = leps(Decimal("5.5"), 32500)
    assert (r.residenti_per_assistente, r.fte_per_5000) == (Decimal("5909.09"), Decimal("0.85"))
    assert (r.soglia_contributo.fte_richiesti, r.leps.fte_richiesti) == (Decimal("5.00"), Decimal("6.50"))
    assert (r.soglia_contributo.raggiunta, r.leps.raggiunta) == (True, False)
    exact = leps(Decimal("1"), 5000)
    assert exact.soglia_contributo.raggiunta and exact.leps.raggiunta
    none = leps(Decimal("0"), 6373)
    assert none.residenti_per_assistente is None and not none.soglia_contributo.raggiunta


def test_indicators_of_one_unit() -> None:
    out = indicatori(residenti=10000, comuni=4, assegnato=Decimal("200000.00"), impegnato=Decimal("150000.00"),
                     pagato=Decimal("60000.00"), utenze=250, accessi=900, comuni_coperti={"SAD": 3, "ADI": 1})
    assert out["spesa_pro_capite_pagato"] == "6.00" and out["spesa_pro_capite_impegnato"] == "15.00"
    assert (out["tasso_impegno"], out["tasso_pagamento"]) == ("0.7500", "0.4000")
    assert out["utenze_mensili_per_mille"] == out["utenti_per_mille"] == "25.00"
    assert (out["utenze_mensili"], out["accessi"]) == (250, 900)
    assert out["copertura"] == {"ADI": "0.2500", "SAD": "0.7500"}
    assert "leps" not in out  # staff are the Ambito's: ``per_ambito`` adds its LEPS, never a Comune's
    ambito = leps_dict(leps(Decimal("2.00"), 10000))
    assert ambito["residenti_per_assistente"] == "5000.00" and ambito["leps_1_5000_raggiunto"]


def test_a_comune_counts_from_its_legal_date_and_a_population_is_read_at_its_date() -> None:
    from datetime import date

    from monitoring.projections.ambiti import inizio_appartenenza, popolazione_alla_data
    giorno = date(2026, 3, 1)
    assert inizio_appartenenza(date(2008, 7, 1), False, giorno) == date(2008, 7, 1)
    assert inizio_appartenenza(date(2008, 7, 1), True, giorno) == date(2008, 7, 1)
    assert inizio_appartenenza(None, True, giorno) == date.min and inizio_appartenenza(None, False, giorno) == giorno
    storico = [(date(2024, 1, 1), 490), (date(2025, 1, 1), 482)]
    assert popolazione_alla_data(storico, date(2025, 1, 1)) == 482
    assert popolazione_alla_data(storico, date(2024, 6, 30)) == 490  # the past figure is kept
    assert popolazione_alla_data(storico, date(2020, 1, 1)) == 490 and popolazione_alla_data([], date.max) is None
