"""The plan's content tree: its rules, budget totals and the diff between versions (no I/O)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from ambiti_kit.errors import RuleViolation
from planning.domain.contenuto import differenze, totali_per_fondo, verifica_contenuto

# Sapri, Vibonati, Torre Orsaia, Ispani, Morigerati, Tortorella (Ambito S09, ISTAT codes)
COMUNI_S09 = {"065134", "065156", "065149", "065059", "065077", "065150"}
I = "aree.0.obiettivi.0.interventi.0"  # the SAD intervento
L = f"{I}.linee_budget"


def linea(fondo: str, anno: int, importo: str) -> dict:
    return {"fondo": fondo, "anno": anno, "importo": importo}


def albero() -> list[dict]:
    sad = {"codice": "SAD-01", "titolo": "Servizio di assistenza domiciliare",
           "nomenclatura": {"sistema": "nomenclatore", "codice": "D2.03"}, "comuni": ["065134", "065156"],
           "utenti_attesi": 120, "linee_budget": [linea("FNPS", 2025, "125000.00"), linea("FNPS", 2026, "125000.00")]}
    adi = {"codice": "ADI-01", "titolo": "Assistenza domiciliare integrata",
           "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
           "comuni": ["065134", "065149", "065059"], "utenti_attesi": 45,
           "linee_budget": [linea("FNA", 2025, "80000.00"), linea("COFINANZIAMENTO_COMUNALE", 2025, "12500.50")]}
    return [{"codice": "A2", "titolo": "Domiciliarità", "obiettivi": [
        {"codice": "OB-2.1", "titolo": "Permanenza a domicilio degli anziani", "interventi": [sad]},
        {"codice": "OB-2.2", "titolo": "Integrazione socio-sanitaria", "interventi": [adi]}]}]


def con(path: str, valore: Any) -> list[dict]:
    """The valid tree with one value replaced at a dotted path."""
    tree: Any = {"aree": albero()}
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = tree
    for p in parents:
        node = node[p]
    node[last] = valore
    return tree["aree"]


def test_the_sample_tree_is_valid_and_codes_may_repeat_across_levels() -> None:
    verifica_contenuto(albero(), 2025, 2027, COMUNI_S09)
    verifica_contenuto(con("aree.0.obiettivi.0.codice", "A2"), 2025, 2027, COMUNI_S09)  # area A2, obiettivo A2


@pytest.mark.parametrize("path, valore, rule, field", [
    ("aree.0.codice", "A 2", "piano.codice", "aree.0.codice"),
    ("aree.0.obiettivi.1.codice", "OB-2.1", "piano.codice_unico", "aree.0.obiettivi.1.codice"),
    ("aree.0.obiettivi.1.interventi.0.codice", "SAD-01", "piano.codice_unico",
     "aree.0.obiettivi.1.interventi.0.codice"),
    (f"{I}.nomenclatura", {"sistema": "fnps_macrolivello", "codice": "6"}, "intervento.macro_livello",
     f"{I}.nomenclatura.codice"),
    (f"{I}.nomenclatura", {"sistema": "nomenclatore", "codice": "L1"}, "intervento.codice_nomenclatore",
     f"{I}.nomenclatura.codice"),
    (f"{I}.nomenclatura.sistema", "ICD-10", "intervento.sistema_nomenclatura", f"{I}.nomenclatura.sistema"),
    (f"{I}.comuni", [], "intervento.comuni", f"{I}.comuni"),
    (f"{I}.comuni", ["065134", "065116"], "intervento.comuni_ambito", f"{I}.comuni"),  # Salerno: not in S09
    (f"{I}.utenti_attesi", -1, "intervento.utenti_attesi", f"{I}.utenti_attesi"),
    (f"{L}.0.fondo", "FONDO_POVERTA", "budget.fondo_noto", f"{L}.0.fondo"),
    (f"{L}.1.anno", 2028, "budget.anno_del_piano", f"{L}.1.anno"),
    (f"{L}.0.importo", "0.00", "importo.positivo", f"{L}.0.importo"),
    (f"{L}.1", linea("FNPS", 2025, "5000.00"), "budget.linea_unica", f"{L}.1"),
])
def test_a_tree_breaking_a_rule_names_the_rule_and_the_field(path: str, valore: Any, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_contenuto(con(path, valore), 2025, 2027, COMUNI_S09)
    assert (caught.value.rule, caught.value.field) == (rule, field)


@pytest.mark.parametrize("valore, rule", [
    ("dodici", "importo.formato"), (None, "importo.formato"), ("-5.00", "importo.positivo"), ("0", "importo.positivo"),
    ("Infinity", "importo.formato"), ("NaN", "importo.formato"), ("10.005", "importo.centesimi"),
    # the guards planning's own copy lacked: floats, bools, non-ASCII digits, exponents, size
    (12.5, "importo.formato"), (True, "importo.formato"), ("١٠٠", "importo.formato"), ("1e3", "importo.formato"),
    ("1000000000000", "importo.massimo"), ("9" * 50, "importo.formato")])
def test_a_budget_line_amount_is_read_by_the_kits_importo(valore: Any, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_contenuto(con(f"{L}.0.importo", valore), 2025, 2027, COMUNI_S09)
    assert (caught.value.rule, caught.value.field) == (rule, f"{L}.0.importo")


def test_totali_per_fondo_sums_each_fund_and_year_exactly() -> None:
    tree = con("aree.0.obiettivi.1.interventi.0.linee_budget.1", linea("FNPS", 2025, "0.10"))
    assert totali_per_fondo(tree) == {"FNPS/2025": Decimal("125000.10"), "FNPS/2026": Decimal("125000.00"),
                                      "FNA/2025": Decimal("80000.00")}
    assert totali_per_fondo([]) == {}


def test_differenze_lists_added_removed_and_changed_interventi_and_budget() -> None:
    dopo = albero()
    sad = dopo[0]["obiettivi"][0]["interventi"][0]
    sad.update(titolo="Assistenza domiciliare socio-assistenziale", comuni=["065149", "065134"])
    sad["linee_budget"][0]["importo"] = "140000.00"
    centro = {"codice": "CF-01", "titolo": "Centro per le famiglie", "comuni": ["065134"], "utenti_attesi": 60,
              "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "3"},
              "linee_budget": [linea("FNA", 2026, "30000.00")]}
    dopo[0]["obiettivi"][1]["interventi"] = [centro]
    d = differenze(albero(), dopo)
    assert [(iv["codice"], iv["area"], iv["obiettivo"]) for iv in d["aggiunti"]] == [("CF-01", "A2", "OB-2.2")]
    assert [iv["codice"] for iv in d["rimossi"]] == ["ADI-01"]
    assert d["modificati"] == [{"codice": "SAD-01", "campi": {
        "titolo": {"prima": "Servizio di assistenza domiciliare", "dopo": "Assistenza domiciliare socio-assistenziale"},
        "comuni": {"aggiunti": ["065149"], "tolti": ["065156"]},
        "linee_budget": {"FNPS/2025": {"prima": "125000.00", "dopo": "140000.00"}}}}]
    assert d["budget"] == {
        "COFINANZIAMENTO_COMUNALE/2025": {"prima": "12500.50", "dopo": "0", "differenza": "-12500.50"},
        "FNA/2025": {"prima": "80000.00", "dopo": "0", "differenza": "-80000.00"},
        "FNA/2026": {"prima": "0", "dopo": "30000.00", "differenza": "30000.00"},
        "FNPS/2025": {"prima": "125000.00", "dopo": "140000.00", "differenza": "15000.00"}}


def test_moving_an_intervento_and_reordering_comuni_is_not_a_budget_change() -> None:
    dopo = albero()
    sad = dopo[0]["obiettivi"][0]["interventi"].pop()
    sad["comuni"] = list(reversed(sad["comuni"]))
    dopo[0]["obiettivi"][1]["interventi"].append(copy.deepcopy(sad))
    d = differenze(albero(), dopo)
    assert d["modificati"] == [{"codice": "SAD-01", "campi": {"obiettivo": {"prima": "OB-2.1", "dopo": "OB-2.2"}}}]
    assert (d["aggiunti"], d["rimossi"], d["budget"]) == ([], [], {})
    assert differenze(albero(), albero()) == {"aggiunti": [], "rimossi": [], "modificati": [], "budget": {}}


# -- the classification funds' constraints are measured by (optional) -----------------------------------

def test_an_intervento_may_carry_its_target_area_gravissima_flag_qsfp_service_and_investment() -> None:
    from planning.domain.contenuto import AREE_UTENZA, SERVIZI_QSFP
    tree = con(f"{I}.area_utenza", "minori_famiglie")
    adi = tree[0]["obiettivi"][1]["interventi"][0]
    adi.update(area_utenza="disabilita", disabilita_gravissima=True, servizio_qsfp="e", investimento=False)
    verifica_contenuto(tree, 2025, 2027, COMUNI_S09)
    verifica_contenuto(albero(), 2025, 2027, COMUNI_S09)  # unclassified: still valid (old Piani)
    # monitoring's AREE_TARGET names, exactly; the eight services of D.Lgs. 147/2017 art. 7 c. 1
    assert AREE_UTENZA == ("minori_famiglie", "disabilita", "anziani", "poverta", "dipendenze", "immigrazione",
                           "salute_mentale", "multiutenza")
    assert tuple(SERVIZI_QSFP) == ("a", "b", "c", "d", "e", "f", "g", "h")


@pytest.mark.parametrize("campo, valore, rule", [
    ("area_utenza", "bambini", "intervento.area_utenza"),
    ("area_utenza", "Minori_famiglie", "intervento.area_utenza"),
    ("servizio_qsfp", "i", "intervento.servizio_qsfp"),
    ("servizio_qsfp", "A", "intervento.servizio_qsfp"),
    ("disabilita_gravissima", "si", "intervento.disabilita_gravissima"),
    ("investimento", 1, "intervento.investimento"),
])
def test_a_wrong_classification_names_its_field_and_rule(campo: str, valore: Any, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_contenuto(con(f"{I}.{campo}", valore), 2025, 2027, COMUNI_S09)
    assert (caught.value.rule, caught.value.field) == (rule, f"{I}.{campo}")


def test_differenze_shows_a_changed_classification() -> None:
    dopo = con(f"{I}.area_utenza", "anziani")
    d = differenze(albero(), dopo)
    assert d["modificati"] == [{"codice": "SAD-01", "campi": {"area_utenza": {"prima": None, "dopo": "anziani"}}}]
