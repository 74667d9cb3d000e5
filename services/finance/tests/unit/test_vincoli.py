"""Fund constraints as reference data, measured on commitments and payments (pure, no I/O)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from finance.domain.vincoli import VINCOLI, SpesaClassificata, misura, misura_vincoli, vincoli_di

D = Decimal
FNPS_2023 = vincoli_di("FNPS", 2023)[0]
FNA_2023 = vincoli_di("FNA", 2023)[0]
QSFP_2025 = vincoli_di("QSFP", 2025)[0]


def test_reference_data_each_constraint_with_its_source() -> None:
    assert [(v.codice, v.fondo, v.dal, v.al, v.soglia_percentuale) for v in VINCOLI] == [
        ("fnps_minori_40", "FNPS", 2018, 2019, 40), ("fnps_minori_50", "FNPS", 2020, 2023, 50),
        ("fna_gravissime_50", "FNA", 2022, 2024, 50), ("qsfp_servizi_art7", "QSFP", 2018, None, 100)]
    assert "D.I. 19 novembre 2020" in FNPS_2023.fonte and "2021–2023" in FNPS_2023.fonte
    assert vincoli_di("FNPS", 2019)[0].soglia_percentuale == 40
    assert "D.P.C.M. 3 ottobre 2022" in FNA_2023.fonte and "art. 3" in FNA_2023.fonte
    assert "D.Lgs. 15 settembre 2017, n. 147, art. 7" in QSFP_2025.fonte
    # no constraint is guessed where the platform holds no act
    assert vincoli_di("FNPS", 2024) == [] and vincoli_di("REGIONALE", 2023) == [] and vincoli_di("FNA", 2021) == []


def test_fnps_minori_on_commitments_and_payments_with_unclassified_spending_apart() -> None:
    spese = [SpesaClassificata("M-1", D("60000.00"), D("20000.00"), area_utenza="minori_famiglie"),
             SpesaClassificata("A-1", D("30000.00"), D("30000.00"), area_utenza="anziani"),
             SpesaClassificata("X-1", D("10000.00"), D("0.00"))]  # not classified
    imp = misura(FNPS_2023, spese, "impegni")
    assert (imp.numeratore, imp.denominatore, imp.non_classificata, imp.quota_percentuale, imp.esito) == (
        D("60000.00"), D("100000.00"), D("10000.00"), D("60.00"), "rispettato")
    assert imp.interventi_non_classificati == ("X-1",)
    pag = misura(FNPS_2023, spese, "mandati")  # the unclassified one paid nothing: not listed
    assert (pag.numeratore, pag.denominatore, pag.non_classificata, pag.quota_percentuale, pag.esito) == (
        D("20000.00"), D("50000.00"), D("0.00"), D("40.00"), "non_rispettato")
    assert pag.interventi_non_classificati == ()


def test_unclassified_spending_that_could_close_the_gap_makes_it_non_valutabile() -> None:
    spese = [SpesaClassificata("M-1", D("45.00"), D("0"), area_utenza="minori_famiglie"),
             SpesaClassificata("A-1", D("50.00"), D("0"), area_utenza="anziani"),
             SpesaClassificata("X-1", D("5.00"), D("0"))]
    m = misura(FNPS_2023, spese, "impegni")
    assert (m.esito, m.quota_percentuale) == ("non_valutabile", D("45.00"))
    assert "non classificati" in m.motivazione
    assert misura(FNPS_2023, spese, "mandati").esito == "non_valutabile"  # nothing paid yet


def test_fna_gravissime_false_is_classified_none_is_not() -> None:
    spese = [SpesaClassificata("G", D("49.99"), D("10"), disabilita_gravissima=True),
             SpesaClassificata("N", D("50.01"), D("10"), disabilita_gravissima=False)]
    assert misura(FNA_2023, spese, "impegni").esito == "non_rispettato"
    assert misura(FNA_2023, spese, "mandati").esito == "rispettato"  # exactly 50%
    assert misura(FNA_2023, [SpesaClassificata("G", D("1"), D("0"))], "impegni").esito == "non_valutabile"


def test_qsfp_all_to_services_a_to_h() -> None:
    tutti = [SpesaClassificata("S", D("100"), D("100"), servizio_qsfp="b"),
             SpesaClassificata("T", D("0.01"), D("0"), servizio_qsfp="h")]
    assert misura(QSFP_2025, tutti, "impegni").esito == "rispettato"
    senza = tutti + [SpesaClassificata("Z", D("0.01"), D("0"))]
    m = misura(QSFP_2025, senza, "impegni")
    assert (m.esito, m.non_classificata, m.quota_percentuale) == ("non_valutabile", D("0.01"), D("99.99"))


def test_misura_vincoli_lists_the_asked_annualita_even_without_spending() -> None:
    [v] = misura_vincoli({}, fondo="FNPS", annualita=2022)
    assert (v.vincolo.codice, v.impegni.esito, v.mandati.esito) == ("fnps_minori_50", "non_valutabile",
                                                                    "non_valutabile")
    assert misura_vincoli({}, fondo="FNPS", annualita=2025) == []


importi = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
righe = st.lists(st.tuples(importi, st.sampled_from(["minori_famiglie", "anziani", "disabilita", None])),
                 max_size=12)


@settings(max_examples=300, deadline=None)
@given(righe)
def test_property_the_outcome_agrees_with_an_exact_rational_computation(rows: list) -> None:
    spese = [SpesaClassificata(f"I{i}", imp, imp, area_utenza=area) for i, (imp, area) in enumerate(rows)]
    m = misura(FNPS_2023, spese, "impegni")
    # independent oracle: fractions, counting cents
    tot = sum((Fraction(imp) for imp, _ in rows), Fraction(0))
    si = sum((Fraction(imp) for imp, a in rows if a == "minori_famiglie"), Fraction(0))
    nc = sum((Fraction(imp) for imp, a in rows if a is None), Fraction(0))
    assert (Fraction(m.denominatore), Fraction(m.numeratore), Fraction(m.non_classificata)) == (tot, si, nc)
    if tot == 0:
        assert m.esito == "non_valutabile" and m.quota_percentuale is None
        return
    atteso = ("rispettato" if si / tot >= Fraction(1, 2) else
              "non_valutabile" if (si + nc) / tot >= Fraction(1, 2) else "non_rispettato")
    assert m.esito == atteso
    # the shown share is truncated: never above the exact one, less than a hundredth below it
    esatta = si * 100 / tot
    assert Fraction(m.quota_percentuale) <= esatta < Fraction(m.quota_percentuale) + Fraction(1, 100)


def test_the_budget_keeps_an_interventos_classification_on_its_lines_only_when_given() -> None:
    import uuid
    from finance.domain.budget import Budget
    b = Budget(tenant_id="15-S09", piano_id=uuid.uuid4(), anno_inizio=2025, anno_fine=2027)
    iv = {"codice": "M-1", "titolo": "Centro famiglie", "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"},
          "comuni": ["065134"], "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "100.00"}]}
    b.recepisci(1, "1/2025", [{**iv, "area_utenza": "minori_famiglie", "investimento": True, "servizio_qsfp": None},
                              {**iv, "codice": "X-1"}])
    primo, secondo = b.righe
    assert (primo["area_utenza"], primo["investimento"]) == ("minori_famiglie", True) and "servizio_qsfp" not in primo
    assert not {"area_utenza", "disabilita_gravissima", "servizio_qsfp", "investimento"} & secondo.keys()
