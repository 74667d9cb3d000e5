"""The Fondo Povertà 75% condition over a Region's Ambiti (D.L. 48/2023 art. 6 c. 11: assessed per Region)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.fondi import condizione_fondo_poverta_regionale

D = Decimal


def test_the_region_meets_it_together_even_when_one_ambito_alone_does_not() -> None:
    c = condizione_fondo_poverta_regionale(2026, {"15-A1": (D("100000.00"), D("50000.00")),
                                                  "15-A2": (D("300000.00"), D("260000.00"))})
    # 310,000 of 400,000 = 77.50%: met, although 15-A1 alone reported 50%
    assert (c.annualita_riferimento, c.percentuale, c.stato, c.mancante) == (2024, D("77.50"), "rispettata", D("0.00"))
    assert [q.percentuale for q in c.ambiti] == [D("50.00"), D("86.66")]


def test_short_of_75_percent_says_how_much_is_missing_rounded_up() -> None:
    c = condizione_fondo_poverta_regionale(2026, {"15-A1": (D("100000.01"), D("75000.00"))})
    assert c.stato == "non_rispettata" and c.mancante == D("0.01") and c.percentuale == D("74.99")
    assert condizione_fondo_poverta_regionale(2026, {}).stato == "non_valutabile"


@given(st.dictionaries(st.text("ABC", min_size=1, max_size=2),
                       st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)), max_size=6))
def test_met_exactly_when_four_times_the_reported_reaches_three_times_the_assigned(quote: dict) -> None:
    per_ambito = {f"15-{k}": (D(a) / 100, D(r) / 100) for k, (a, r) in quote.items()}
    c = condizione_fondo_poverta_regionale(2026, per_ambito)
    assegnato, rendicontato = sum(a for a, _ in quote.values()), sum(r for _, r in quote.values())
    atteso = "non_valutabile" if assegnato == 0 else "rispettata" if 4 * rendicontato >= 3 * assegnato \
        else "non_rispettata"
    assert c.stato == atteso
    if atteso == "non_rispettata":
        assert (rendicontato + int(c.mancante * 100)) * 4 >= 3 * assegnato  # the missing amount is enough
        assert (rendicontato + int(c.mancante * 100) - 1) * 4 < 3 * assegnato  # and not a cent more
