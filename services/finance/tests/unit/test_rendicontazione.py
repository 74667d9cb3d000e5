"""The rendicontazione's pure rules, on examples computed by hand (no I/O).

The example Ambito (15-S09) has QSFP 2024 = 100 000,00 € with a services quota of 40%
on macro-livelli 1 and 2, allocated to four lines:

    SAD (macro-livello 2)  50 000,00     SEG (macro-livello 1)      10 000,00
    RES (macro-livello 4)  30 000,00     NOM (nomenclatore D2.03)    5 000,00   -> stanziato 95 000,00

and this ledger (impegnato lordo / riduzioni / liquidato / pagato):

    SAD 065134          20 000,00 / 1 500,00 / 12 000,00 / 10 000,00
    SAD 065156           8 000,00 /     0,00 /  8 000,00 /  8 000,00
    SAD Intero Ambito    5 000,00 /   500,00 /  2 000,00 /      0,00
    RES Intero Ambito   30 000,00 /     0,00 /      0,00 /      0,00
    total               63 000,00 / 2 000,00 / 22 000,00 / 18 000,00

so impegnato = 61 000,00, residui passivi = 61 000 − 18 000 = 43 000,00, da liquidare =
39 000,00, disponibile = 100 000 − 61 000 = 39 000,00, stanziato da impegnare = 34 000,00.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from finance.projections.rendicontazione import (
    Assegnato, Cifre, Riduzione, Spesa, Stanziato, come_dict, condizione_fondo_poverta, macro_livello, percentuale,
    quota_servizi, rendiconto, riconcilia_riduzioni, tassi,
)

T = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
FNPS2 = {"sistema": "fnps_macrolivello", "codice": "2"}
FNPS1 = {"sistema": "fnps_macrolivello", "codice": "1"}
FNPS4 = {"sistema": "fnps_macrolivello", "codice": "4"}
NOMENCLATORE = {"sistema": "nomenclatore", "codice": "D2.03"}
VINCOLI = {"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["2", "1"]}

ASSEGNAZIONI = [Assegnato("QSFP", 2024, D("100000.00"), VINCOLI), Assegnato("QSFP", 2022, D("80000.00")),
                Assegnato("FNPS", 2024, D("50000.00"))]
STANZIATI = [Stanziato("QSFP", 2024, "SAD", D("50000.00"), FNPS2), Stanziato("QSFP", 2024, "SEG", D("10000.00"), FNPS1),
             Stanziato("QSFP", 2024, "RES", D("20000.00"), FNPS4), Stanziato("QSFP", 2024, "RES", D("10000.00"), FNPS4),
             Stanziato("QSFP", 2024, "NOM", D("5000.00"), NOMENCLATORE),
             Stanziato("QSFP", 2022, "SAD", D("80000.00"), FNPS2)]
SPESE = [Spesa("QSFP", 2024, "SAD", "065134", D("20000.00"), D("1500.00"), D("12000.00"), D("10000.00")),
         Spesa("QSFP", 2024, "SAD", None, D("5000.00"), D("500.00"), D("2000.00"), D("0.00")),
         Spesa("QSFP", 2024, "SAD", "065156", D("8000.00"), D("0.00"), D("8000.00"), D("8000.00")),
         Spesa("QSFP", 2024, "RES", None, D("30000.00")),
         Spesa("QSFP", 2022, "SAD", "065134", D("70000.00"), D("0.00"), D("59999.99"), D("59999.99"))]
RIDUZIONI = [Riduzione("QSFP", 2024, "SAD", None, "i-2", "disimpegno", D("500.00"), "Revoca parziale dell'affidamento",
                       "amministrativo@15-S09", T.replace(day=3)),
             Riduzione("QSFP", 2024, "SAD", "065134", "i-1", "economia", D("1500.00"), "Minor numero di ore erogate",
                       "amministrativo@15-S09", T)]


def voce(r, fondo, annualita):
    [v] = [v for v in r.voci if (v.fondo, v.annualita) == (fondo, annualita)]
    return v


@pytest.fixture
def r():
    return rendiconto("15-S09", ASSEGNAZIONI, STANZIATI, SPESE, RIDUZIONI, generato_il=T)


# -- figures --------------------------------------------------------------------------------

def test_fund_annualita_figures_add_up_the_ledger(r) -> None:
    c = voce(r, "QSFP", 2024).cifre
    assert (c.assegnato, c.stanziato, c.impegnato_lordo, c.ridotto, c.impegnato, c.liquidato, c.pagato) == (
        D("100000.00"), D("95000.00"), D("63000.00"), D("2000.00"), D("61000.00"), D("22000.00"), D("18000.00"))
    assert (c.residui_passivi, c.da_liquidare, c.disponibile, c.stanziato_da_impegnare) == (
        D("43000.00"), D("39000.00"), D("39000.00"), D("34000.00"))
    assert all(isinstance(x, D) for x in (c.impegnato, c.residui_passivi, c.disponibile))


def test_execution_rates_are_percentages_with_two_decimals(r) -> None:
    assert voce(r, "QSFP", 2024).tassi == {
        "impegnato_su_assegnato": D("61.00"),     # 61 000 / 100 000
        "impegnato_su_stanziato": D("64.21"),     # 61 000 / 95 000 = 64.2105…
        "liquidato_su_assegnato": D("22.00"),
        "liquidato_su_impegnato": D("36.07"),     # 22 000 / 61 000 = 36.0655…
        "pagato_su_impegnato": D("29.51"),        # 18 000 / 61 000 = 29.5081…
    }
    # A fund annualità assigned but not yet moved: zero rates where there is a base, None where there is none.
    assert voce(r, "FNPS", 2024).tassi == {"impegnato_su_assegnato": D("0.00"), "impegnato_su_stanziato": None,
                                           "liquidato_su_assegnato": D("0.00"), "liquidato_su_impegnato": None,
                                           "pagato_su_impegnato": None}
    assert percentuale(D("1"), D("3")) == D("33.33") and percentuale(D("2"), D("3")) == D("66.67")
    assert percentuale(D("1"), D("0")) is None and percentuale(D("1"), None) is None


def test_breakdown_per_intervento_and_per_comune_with_intero_ambito_last(r) -> None:
    v = voce(r, "QSFP", 2024)
    assert [i.intervento for i in v.interventi] == ["NOM", "RES", "SAD", "SEG"]
    sad = next(i for i in v.interventi if i.intervento == "SAD")
    assert (sad.cifre.stanziato, sad.cifre.impegnato, sad.cifre.liquidato, sad.cifre.pagato,
            sad.cifre.stanziato_da_impegnare, sad.cifre.assegnato) == (
        D("50000.00"), D("31000.00"), D("22000.00"), D("18000.00"), D("19000.00"), None)
    assert sad.macro_livello == "2" and sad.nomenclatura == FNPS2
    assert [(c.comune, c.denominazione, c.cifre.impegnato) for c in sad.comuni] == [
        ("065134", "065134", D("18500.00")), ("065156", "065156", D("8000.00")),
        (None, "Intero Ambito", D("4500.00"))]
    res = next(i for i in v.interventi if i.intervento == "RES")
    assert res.cifre.stanziato == D("30000.00")  # two allocations of the same line add up
    seg = next(i for i in v.interventi if i.intervento == "SEG")
    assert (seg.cifre.stanziato, seg.cifre.impegnato, seg.comuni) == (D("10000.00"), D("0.00"), ())
    # per Comune over the whole fund annualità: the whole-Ambito row gathers SAD and RES
    assert [(c.denominazione, c.cifre.impegnato, c.cifre.residui_passivi) for c in v.comuni] == [
        ("065134", D("18500.00"), D("8500.00")), ("065156", D("8000.00"), D("0.00")),
        ("Intero Ambito", D("34500.00"), D("34500.00"))]
    # the breakdowns add up to the total
    assert sum((c.cifre.impegnato for c in v.comuni), D(0)) == v.cifre.impegnato
    assert sum((i.cifre.stanziato for i in v.interventi), D(0)) == v.cifre.stanziato


def test_reductions_are_listed_with_their_reasons_and_reconcile(r) -> None:
    v = voce(r, "QSFP", 2024)
    assert [(x.impegno_id, x.tipo, x.importo, x.motivo) for x in v.riduzioni] == [
        ("i-1", "economia", D("1500.00"), "Minor numero di ore erogate"),
        ("i-2", "disimpegno", D("500.00"), "Revoca parziale dell'affidamento")]  # in time order
    rc = v.riconciliazione
    assert (rc.impegnato_lordo, rc.riduzioni, rc.impegnato, rc.riduzioni_elencate, rc.senza_motivo, rc.coerente) == (
        D("63000.00"), D("2000.00"), D("61000.00"), 2, 0, True)


def test_a_decrease_without_a_listed_reason_is_flagged() -> None:
    c = Cifre(impegnato_lordo=D("1000.00"), ridotto=D("300.00"))
    only_one = [RIDUZIONI[0]]  # 500 listed, 300 ridotto
    assert not riconcilia_riduzioni(c, only_one).coerente
    blank = Riduzione("QSFP", 2024, "SAD", None, "i-9", "economia", D("300.00"), "  ", "x", T)
    rc = riconcilia_riduzioni(c, [blank])
    assert (rc.riduzioni, rc.senza_motivo, rc.coerente) == (D("300.00"), 1, False)


# -- Fondo Povertà ----------------------------------------------------------------------------

def test_fondo_poverta_looks_at_the_second_preceding_annualita(r) -> None:
    # QSFP 2024 looks at 2022: 59 999,99 of 80 000,00 liquidated, 75% is 60 000,00: one cent short.
    f = voce(r, "QSFP", 2024).condizione_fondo_poverta
    assert (f.annualita_riferimento, f.assegnato_riferimento, f.rendicontato_riferimento) == (
        2022, D("80000.00"), D("59999.99"))
    assert (f.soglia_importo, f.percentuale_rendicontata, f.mancante, f.stato) == (
        D("60000.00"), D("74.99"), D("0.01"), "non_rispettata")  # 74.9999875% shown rounded down
    assert f.criterio.startswith("rendicontato = liquidato") and "48/2023" in f.fonte
    # QSFP 2022 looks at 2020, never assigned here; FNPS has no such condition.
    assert voce(r, "QSFP", 2022).condizione_fondo_poverta.stato == "non_valutabile"
    assert voce(r, "FNPS", 2024).condizione_fondo_poverta is None


@pytest.mark.parametrize("liquidato, stato, mancante, pct", [
    ("24999.99", "non_rispettata", "0.01", "74.99"),  # 75% of 33 333,33 is 24 999,9975
    ("25000.00", "rispettata", "0.00", "75.00"),
    ("33333.33", "rispettata", "0.00", "100.00"),
    ("0.00", "non_rispettata", "25000.00", "0.00"),
])
def test_fondo_poverta_threshold_is_exact_and_the_gap_is_rounded_up(liquidato, stato, mancante, pct) -> None:
    f = condizione_fondo_poverta(2026, {2024: D("33333.33")}, {2024: D(liquidato)})
    assert (f.stato, f.mancante, f.percentuale_rendicontata, f.soglia_importo) == (
        stato, D(mancante), D(pct), D("25000.00"))


def test_fondo_poverta_counts_liquidated_not_committed_nor_only_paid() -> None:
    spese = [Spesa("QSFP", 2023, "SAD", None, D("100000.00"), D("0"), D("75000.00"), D("10000.00"))]
    r = rendiconto("15-S09", [Assegnato("QSFP", 2023, D("100000.00")), Assegnato("QSFP", 2025, D("90000.00"))],
                   [], spese, [])
    f = voce(r, "QSFP", 2025).condizione_fondo_poverta
    assert (f.rendicontato_riferimento, f.stato) == (D("75000.00"), "rispettata")


# -- services quota ------------------------------------------------------------------------------

def test_services_quota_on_the_annualita_s_stanziato(r) -> None:
    q = voce(r, "QSFP", 2024).quota_servizi
    # base 95 000; services (macro-livelli 1, 2) = SAD 50 000 + SEG 10 000 = 60 000 -> 63.157…%
    assert (q.quota_minima_percentuale, q.macro_livelli, q.base_stanziato, q.stanziato_servizi) == (
        D("40"), ("1", "2"), D("95000.00"), D("60000.00"))
    assert (q.stanziato_non_classificato, q.quota_percentuale, q.minimo_richiesto, q.mancante, q.stato) == (
        D("5000.00"), D("63.15"), D("38000.00"), D("0.00"), "rispettata")
    assert "non classificate" in q.motivazione
    assert voce(r, "FNPS", 2024).quota_servizi is None  # no quota set by its assignment


def test_services_quota_not_met_by_one_cent_and_not_valued_without_allocations() -> None:
    stanziati = [Stanziato("FNPS", 2024, "SAD", D("39999.99"), FNPS2),
                 Stanziato("FNPS", 2024, "RES", D("60000.01"), FNPS4)]
    q = quota_servizi({"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["2"]}, stanziati)
    assert (q.stato, q.quota_percentuale, q.minimo_richiesto, q.mancante) == (
        "non_rispettata", D("39.99"), D("40000.00"), D("0.01"))
    q = quota_servizi({"quota_servizi_percentuale": "40.5", "macro_livelli_servizi": ["2"]}, [])
    assert (q.stato, q.quota_percentuale, q.base_stanziato) == ("non_valutabile", None, D("0.00"))
    assert quota_servizi({"macro_livelli_servizi": ["2"]}, stanziati) is None


def test_services_quota_is_not_valued_when_unclassified_lines_could_make_up_the_difference() -> None:
    """10,000 on macro-livello 2 of 50,000 (20% < 40%), but 40,000 on nomenclatore lines not mapped to a level."""
    nomenclatore = {"sistema": "nomenclatore", "codice": "D2"}
    stanziati = [Stanziato("QSFP", 2024, "SAD", D("10000.00"), FNPS2),
                 Stanziato("QSFP", 2024, "CENTRO", D("40000.00"), nomenclatore)]
    q = quota_servizi({"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["2"]}, stanziati)
    assert (q.stato, q.stanziato_non_classificato, q.mancante) == ("non_valutabile", D("40000.00"), D("10000.00"))
    solo_un_po = [stanziati[0], Stanziato("QSFP", 2024, "CENTRO", D("5000.00"), nomenclatore),
                  Stanziato("QSFP", 2024, "RES", D("35000.00"), FNPS4)]
    assert quota_servizi({"quota_servizi_percentuale": "40", "macro_livelli_servizi": ["2"]},
                         solo_un_po).stato == "non_rispettata"  # 10,000 + 5,000 < 20,000 in any case


def test_macro_livello_of_a_classification() -> None:
    assert macro_livello(FNPS4) == "4"
    assert macro_livello(NOMENCLATORE) is None  # no correspondence table: not counted as services
    assert macro_livello(None) is None and macro_livello({"sistema": "ICD-10", "codice": "X"}) is None


# -- filters and wire form ----------------------------------------------------------------------

def test_filters_keep_the_older_annualita_the_fondo_poverta_needs() -> None:
    r = rendiconto("15-S09", ASSEGNAZIONI, STANZIATI, SPESE, RIDUZIONI, fondo="QSFP", annualita=2024)
    assert [(v.fondo, v.annualita) for v in r.voci] == [("QSFP", 2024)]
    assert r.voci[0].condizione_fondo_poverta.rendicontato_riferimento == D("59999.99")
    assert [(v.fondo, v.annualita) for v in rendiconto("15-S09", ASSEGNAZIONI, STANZIATI, SPESE, RIDUZIONI,
                                                       fondo="FNPS").voci] == [("FNPS", 2024)]
    assert rendiconto("15-S09", [], [], [], []).voci == ()


def test_wire_form_has_decimal_strings_and_no_floats(r) -> None:
    out = come_dict(r)

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from walk(v)
        elif isinstance(x, list):
            for v in x:
                yield from walk(v)
        else:
            yield x

    assert not any(isinstance(x, (float, D)) for x in walk(out))
    [v] = [v for v in out["voci"] if (v["fondo"], v["annualita"]) == ("QSFP", 2024)]
    assert v["cifre"] == {"assegnato": "100000.00", "stanziato": "95000.00", "impegnato_lordo": "63000.00",
                          "riduzioni": "2000.00", "impegnato": "61000.00", "liquidato": "22000.00",
                          "pagato": "18000.00", "residui_passivi": "43000.00", "da_liquidare": "39000.00",
                          "disponibile": "39000.00", "stanziato_da_impegnare": "34000.00"}
    assert v["tassi"]["impegnato_su_stanziato"] == "64.21"
    assert v["quota_servizi"]["quota_minima_percentuale"] == "40.00" and v["quota_servizi"]["stato"] == "rispettata"
    assert v["condizione_fondo_poverta"]["soglia_percentuale"] == "75.00"
    assert v["comuni"][-1] == {"comune": None, "denominazione": "Intero Ambito", "cifre": {
        "assegnato": None, "stanziato": None, "impegnato_lordo": "35000.00", "riduzioni": "500.00",
        "impegnato": "34500.00", "liquidato": "2000.00", "pagato": "0.00", "residui_passivi": "34500.00",
        "da_liquidare": "32500.00", "disponibile": None, "stanziato_da_impegnare": None}}
    assert v["riduzioni"][0]["il"] == T.isoformat() and v["riconciliazione"]["coerente"] is True
    # totals over every fund annualità: 100 000 + 80 000 + 50 000 assigned
    assert out["totali"]["assegnato"] == "230000.00" and out["totali"]["liquidato"] == "81999.99"
    assert tassi(Cifre())["pagato_su_impegnato"] is None
