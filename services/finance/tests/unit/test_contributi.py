"""Municipal contributions: quotas, instalments, payments, reversals and arrears (no I/O).

Worked examples use Ambito S09 (Sapri): its 17 Comuni with the resident population at 1 January 2023
from ``shared/ambiti_cli/demo_s09.json`` (42,160 residents), a per-capita contribution of 4.50 € and two
due dates (50% by 30 June, 50% by 31 December). Property tests check the arithmetic against oracles in
plain integer cents: instalments always add up to the quota, per-capita quotas are the half-up rounding of
the exact product, and random sequences of payments and reversals never let a Comune pay more than it owes
nor make arrears negative, and the state always equals a recomputation from the events.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ambiti_kit.errors import Conflict, NotFound, RuleViolation
from ambiti_kit.tenancy import DateAsISO
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex
from finance.domain.contributi import (
    ContributiComunali,
    prospetto,
    quote_pro_capite,
    ripartisci_in_rate,
    verifica_importo,
)

pytestmark = pytest.mark.unit
PROPRIETA = settings(max_examples=200, deadline=None)

TENANT = "15-S09"
S09 = json.loads((Path(__file__).parents[4] / "shared" / "ambiti_cli" / "demo_s09.json").read_text())
COMUNI = S09["comuni"]
POPOLAZIONE_AL = date.fromisoformat(S09["popolazione_al"])  # 2023-01-01
SAPRI, ALFANO, CAMEROTA, MORIGERATI = "065134", "065004", "065021", "065077"
GIUGNO, DICEMBRE = date(2026, 6, 30), date(2026, 12, 31)
SCADENZE = [{"data": GIUGNO, "percentuale": D("50")}, {"data": DICEMBRE, "percentuale": D("50")}]
DELIBERA = uuid.UUID("0b7c2e52-6a51-5d1e-8f0e-2d3c4b5a6978")
UFFICIO = "ragioneria@15-S09"


def pro_capite(quota: str = "4.50", comuni: list[dict] | None = None, scadenze: list[dict] | None = None,
               anno: int = 2026) -> ContributiComunali:
    return ContributiComunali.determina(TENANT, anno, COMUNI if comuni is None else comuni,
                                        SCADENZE if scadenze is None else scadenze, UFFICIO,
                                        quota_pro_capite=D(quota), popolazione_al=POPOLAZIONE_AL)


def riparto_uguale(importo: str = "10000.00") -> list[dict]:
    return [{"istat": c["istat"], "importo": D(importo)} for c in COMUNI]


# ---------------------------------------------------------------- determination


def test_demo_data_is_the_s09_ambito() -> None:
    assert len(COMUNI) == 17 and sum(c["popolazione"] for c in COMUNI) == 42160
    assert next(c for c in COMUNI if c["istat"] == SAPRI) == {"istat": SAPRI, "nome": "Sapri", "popolazione": 6373}


def test_one_aggregate_per_ambito_and_year() -> None:
    c = pro_capite()
    assert c.id == ContributiComunali.create_id(TENANT, 2026)
    assert c.id not in (ContributiComunali.create_id(TENANT, 2027), ContributiComunali.create_id("15-S10", 2026))
    [determinati] = c.collect_events()
    assert isinstance(determinati, ContributiComunali.Determinati)
    assert (determinati.tenant_id, determinati.anno, determinati.metodo) == (TENANT, 2026, "pro_capite")
    assert (determinati.quota_pro_capite, determinati.popolazione_al) == (D("4.50"), date(2023, 1, 1))
    assert determinati.deliberazione_id is None and determinati.deliberazione_numero is None
    assert determinati.determinati_da == UFFICIO and determinati.totale == D("189720.00")
    assert determinati.scadenze == SCADENZE
    assert determinati.quote[12] == {"istat": SAPRI, "nome": "Sapri", "popolazione": 6373, "quota": D("28678.50"),
                                     "rate": [D("14339.25"), D("14339.25")]}


def test_per_capita_quotas_of_s09_at_4_50_euro() -> None:
    c = pro_capite()
    assert c.comuni == [x["istat"] for x in COMUNI]
    assert c.dovuto(SAPRI) == D("28678.50")  # 6,373 × 4.50
    assert c.dovuto(CAMEROTA) == D("30937.50")  # 6,875 × 4.50
    assert c.dovuto(MORIGERATI) == D("2736.00")  # 608 × 4.50
    assert c.totale == D("189720.00") == sum(c.dovuto(i) for i in c.comuni)  # 42,160 × 4.50
    assert c.rate(ALFANO) == [{"data": GIUGNO, "percentuale": D("50"), "importo": D("2144.25")},
                              {"data": DICEMBRE, "percentuale": D("50"), "importo": D("2144.25")}]
    assert all(isinstance(c.dovuto(i), D) for i in c.comuni)


def test_per_capita_rounds_half_up_to_the_cent() -> None:
    # 953 × 2.505 = 2,387.265 → 2,387.27 (banker's rounding would give .26); 608 × 2.505 = 1,523.04
    c = pro_capite("2.505")
    assert (c.dovuto(ALFANO), c.dovuto(MORIGERATI)) == (D("2387.27"), D("1523.04"))
    # 5,000 lire per resident: 6,373 × 2.5823 = 16,456.9979 → 16,457.00; 608 × 2.5823 = 1,570.0384 → 1,570.04
    assert (pro_capite("2.5823").dovuto(SAPRI), pro_capite("2.5823").dovuto(MORIGERATI)) == \
        (D("16457.00"), D("1570.04"))


def test_instalments_by_largest_remainder() -> None:
    # Alfano owes 4,288.50 in thirds: exact shares 1,429.35705 / 1,429.35705 / 1,429.7859 (cents 142,935.705,
    # 142,935.705, 142,978.59); floors leave 2 cents, which go to the two largest remainders (.705, .705).
    terzi = [{"data": date(2026, 4, 30), "percentuale": D("33.33")},
             {"data": date(2026, 8, 31), "percentuale": D("33.33")},
             {"data": date(2026, 12, 31), "percentuale": D("33.34")}]
    c = pro_capite(scadenze=terzi)
    assert [r["importo"] for r in c.rate(ALFANO)] == [D("1429.36"), D("1429.36"), D("1429.78")]
    # a remainder of one cent on a tie goes to the earlier instalment
    assert ripartisci_in_rate(D("0.05"), [D("50"), D("50")]) == [D("0.03"), D("0.02")]
    # the largest remainder, wherever it is, gets the cent: 0.10 at 17/83 → 1.7 / 8.3 cents
    assert ripartisci_in_rate(D("0.10"), [D("17"), D("83")]) == [D("0.02"), D("0.08")]
    assert ripartisci_in_rate(D("0.10"), [D("83"), D("17")]) == [D("0.08"), D("0.02")]
    # four quarters of 6 cents (1.5 each): no instalment strays by a cent or more, as rounding each and putting
    # the difference on the last one would (2, 2, 2, 0)
    assert ripartisci_in_rate(D("0.06"), [D("25")] * 4) == [D("0.02"), D("0.02"), D("0.01"), D("0.01")]
    assert ripartisci_in_rate(D("0.00"), [D("50"), D("50")]) == [D("0.00"), D("0.00")]


def test_due_dates_are_kept_in_date_order() -> None:
    c = pro_capite(scadenze=[{"data": DICEMBRE, "percentuale": D("70")}, {"data": GIUGNO, "percentuale": D("30")}])
    assert [(s["data"], s["percentuale"]) for s in c.scadenze] == [(GIUGNO, D("30")), (DICEMBRE, D("70"))]
    assert [r["importo"] for r in c.rate(SAPRI)] == [D("8603.55"), D("20074.95")]  # 28,678.50 × 30% / 70%


def test_custom_split_approved_by_deliberation() -> None:
    comuni = [{"istat": c["istat"], "nome": c["nome"]} for c in COMUNI]  # population not needed
    riparto = riparto_uguale("5000.00")
    riparto[12] = {"istat": SAPRI, "importo": D("25000.01")}  # the capofila pays more
    c = ContributiComunali.determina(TENANT, 2026, comuni, SCADENZE, UFFICIO, riparto=riparto,
                                     deliberazione_id=DELIBERA, deliberazione_numero="3/2026")
    assert (c.metodo, c.deliberazione_id, c.deliberazione_numero) == ("deliberato", DELIBERA, "3/2026")
    assert c.quota_pro_capite is None and c.popolazione_al is None
    assert c.dovuto(SAPRI) == D("25000.01") and c.dovuto(ALFANO) == D("5000.00")
    assert c.totale == D("105000.01")
    assert [r["importo"] for r in c.rate(SAPRI)] == [D("12500.01"), D("12500.00")]
    assert c.situazione(GIUGNO)[0]["popolazione"] is None


def test_the_preview_is_the_event_payload() -> None:
    calcolo = prospetto(COMUNI, SCADENZE, quota_pro_capite=D("4.50"), popolazione_al=POPOLAZIONE_AL)
    [determinati] = pro_capite().collect_events()
    assert all(getattr(determinati, k) == v for k, v in calcolo.items())


NON_S09 = {"istat": "065116", "nome": "Salerno", "popolazione": 126_019}


@pytest.mark.parametrize("modifica, rule, field", [
    ({"anno": 1999}, "contributi.anno", "anno"),
    ({"comuni": []}, "contributi.comuni", "comuni"),
    ({"comuni": [{"istat": "65134", "nome": "Sapri", "popolazione": 6373}]}, "codice.istat", "comuni.0.istat"),
    ({"comuni": [{"istat": SAPRI, "nome": " ", "popolazione": 6373}]}, "contributi.nome", "comuni.0.nome"),
    ({"comuni": [{"istat": SAPRI, "nome": "Sapri", "popolazione": 0}]}, "contributi.popolazione",
     "comuni.0.popolazione"),
    ({"comuni": [{"istat": SAPRI, "nome": "Sapri", "popolazione": 6373.0}]}, "contributi.popolazione",
     "comuni.0.popolazione"),
    ({"comuni": [{"istat": SAPRI, "nome": "Sapri"}]}, "contributi.popolazione", "comuni.0.popolazione"),
    ({"comuni": [*COMUNI, COMUNI[12]]}, "contributi.comuni_unici", "comuni"),
    ({"comuni": [*COMUNI, NON_S09], "comuni_ambito": {c["istat"] for c in COMUNI}}, "contributi.comuni_ambito",
     "comuni"),
    ({"quota_pro_capite": D("0")}, "contributi.quota_pro_capite", "quota_pro_capite"),
    ({"quota_pro_capite": D("-4.50")}, "contributi.quota_pro_capite", "quota_pro_capite"),
    ({"quota_pro_capite": D("4.50001")}, "contributi.quota_pro_capite", "quota_pro_capite"),
    ({"quota_pro_capite": D("NaN")}, "contributi.quota_pro_capite", "quota_pro_capite"),
    ({"quota_pro_capite": 4.5}, "contributi.quota_pro_capite", "quota_pro_capite"),
    ({"popolazione_al": None}, "contributi.popolazione_al", "popolazione_al"),
    ({"popolazione_al": datetime(2023, 1, 1)}, "contributi.popolazione_al", "popolazione_al"),
    ({"scadenze": []}, "contributi.scadenze", "scadenze"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": D("50")}]}, "contributi.scadenze_somma", "scadenze"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": D("60")}, {"data": DICEMBRE, "percentuale": D("50")}]},
     "contributi.scadenze_somma", "scadenze"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": D("50")}, {"data": GIUGNO, "percentuale": D("50")}]},
     "contributi.scadenze_date", "scadenze"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": D("100.5")}, {"data": DICEMBRE, "percentuale": D("-0.5")}]},
     "contributi.scadenze_percentuale", "scadenze.0.percentuale"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": D("33.333")}, {"data": DICEMBRE, "percentuale": D("66.667")}]},
     "contributi.scadenze_percentuale", "scadenze.0.percentuale"),
    ({"scadenze": [{"data": GIUGNO, "percentuale": 50.0}, {"data": DICEMBRE, "percentuale": D("50")}]},
     "contributi.scadenze_percentuale", "scadenze.0.percentuale"),
    ({"scadenze": [{"data": "2026-06-30", "percentuale": D("100")}]}, "contributi.scadenze_data",
     "scadenze.0.data"),
    ({"riparto": riparto_uguale()}, "contributi.metodo", "metodo"),  # both methods at once
    ({"quota_pro_capite": None, "popolazione_al": None}, "contributi.metodo", "metodo"),  # neither
])
def test_determination_validation(modifica: dict, rule: str, field: str) -> None:
    argomenti = {"anno": 2026, "comuni": COMUNI, "scadenze": SCADENZE, "quota_pro_capite": D("4.50"),
                 "popolazione_al": POPOLAZIONE_AL, **modifica}
    anno, comuni, scadenze = argomenti.pop("anno"), argomenti.pop("comuni"), argomenti.pop("scadenze")
    with pytest.raises(RuleViolation) as caught:
        ContributiComunali.determina(TENANT, anno, comuni, scadenze, UFFICIO, **argomenti)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def _senza(istat: str) -> list[dict]:
    return [r for r in riparto_uguale() if r["istat"] != istat]


@pytest.mark.parametrize("modifica, rule, field", [
    ({"riparto": _senza(SAPRI)}, "contributi.riparto_deliberato_completo", "riparto"),  # a Comune missing
    ({"riparto": [*riparto_uguale(), {"istat": SAPRI, "importo": D("1.00")}]},
     "contributi.riparto_deliberato_completo", "riparto"),  # named twice
    ({"riparto": [*_senza(SAPRI), {"istat": "065116", "importo": D("1.00")}]},
     "contributi.riparto_deliberato_completo", "riparto"),  # a stranger instead
    ({"riparto": []}, "contributi.riparto_deliberato_completo", "riparto"),
    ({"riparto": [*_senza(SAPRI), {"istat": SAPRI, "importo": D("100.001")}]}, "importo.centesimi",
     "riparto.16.importo"),
    ({"riparto": [*_senza(SAPRI), {"istat": SAPRI, "importo": D("-1")}]}, "importo.non_negativo",
     "riparto.16.importo"),
    ({"riparto": riparto_uguale("0")}, "contributi.riparto_deliberato_totale", "riparto"),
    ({"deliberazione_id": None}, "contributi.deliberazione", "deliberazione_id"),
    ({"deliberazione_numero": "3-2026"}, "contributi.deliberazione", "deliberazione_numero"),
    ({"deliberazione_numero": "0/2026"}, "contributi.deliberazione", "deliberazione_numero"),
])
def test_custom_split_validation(modifica: dict, rule: str, field: str) -> None:
    argomenti = {"riparto": riparto_uguale(), "deliberazione_id": DELIBERA, "deliberazione_numero": "3/2026",
                 **modifica}
    with pytest.raises(RuleViolation) as caught:
        ContributiComunali.determina(TENANT, 2026, COMUNI, SCADENZE, UFFICIO, **argomenti)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_a_deliberated_split_may_exempt_a_comune() -> None:
    riparto = [*_senza(MORIGERATI), {"istat": MORIGERATI, "importo": D("0")}]
    c = ContributiComunali.determina(TENANT, 2026, COMUNI, SCADENZE, UFFICIO, riparto=riparto,
                                     deliberazione_id=DELIBERA, deliberazione_numero="3/2026")
    assert c.dovuto(MORIGERATI) == D("0.00") and c.arretrato(MORIGERATI, DICEMBRE) == D("0.00")
    with pytest.raises(RuleViolation) as caught:
        c.registra_versamento(MORIGERATI, D("0.01"), GIUGNO, "REV 1", UFFICIO)
    assert caught.value.rule == "contributi.versamento_eccedente"


# ---------------------------------------------------------------- payments, reversals, arrears


def test_payments_and_arrears_of_sapri_over_the_year() -> None:
    c = pro_capite()
    c.collect_events()
    assert c.arretrato(SAPRI, date(2026, 6, 29)) == D("0.00")  # nothing due yet
    assert (c.dovuto_scaduto(SAPRI, GIUGNO), c.arretrato(SAPRI, GIUGNO)) == (D("14339.25"), D("14339.25"))
    c.registra_versamento(SAPRI, D("10000.00"), date(2026, 7, 15), "Reversale 412/2026", UFFICIO)
    assert c.arretrato(SAPRI, date(2026, 7, 14)) == D("14339.25")  # the payment is dated the 15th
    assert c.arretrato(SAPRI, date(2026, 7, 15)) == D("4339.25")
    assert (c.versato(SAPRI), c.residuo(SAPRI)) == (D("10000.00"), D("18678.50"))
    c.registra_versamento(SAPRI, D("18678.50"), date(2026, 11, 3), "Reversale 598/2026", UFFICIO)
    assert c.residuo(SAPRI) == D("0.00") and c.arretrato(SAPRI, DICEMBRE) == D("0.00")
    assert c.arretrato(SAPRI, date(2026, 11, 3)) == D("0.00")  # paid ahead of the December due date
    primo, secondo = c.collect_events()
    assert isinstance(primo, ContributiComunali.VersamentoRegistrato)
    assert (primo.tenant_id, primo.istat, primo.importo, primo.data, primo.riferimento, primo.registrato_da) == \
        (TENANT, SAPRI, D("10000.00"), date(2026, 7, 15), "Reversale 412/2026", UFFICIO)
    assert secondo.importo == D("18678.50")
    assert [v["riferimento"] for v in c.versamenti_di(SAPRI)] == ["Reversale 412/2026", "Reversale 598/2026"]


def test_a_payment_above_what_is_still_owed_is_refused() -> None:
    c = pro_capite()
    c.collect_events()
    c.registra_versamento(ALFANO, D("4000.00"), GIUGNO, "Q-1", UFFICIO)
    with pytest.raises(RuleViolation) as caught:
        c.registra_versamento(ALFANO, D("288.51"), DICEMBRE, "Q-2", UFFICIO)  # 288.50 is left
    assert (caught.value.rule, caught.value.field) == ("contributi.versamento_eccedente", "importo")
    c.registra_versamento(ALFANO, D("288.50"), DICEMBRE, "Q-2", UFFICIO)
    assert c.residuo(ALFANO) == D("0.00") and len(c.collect_events()) == 2


@pytest.mark.parametrize("istat, importo, data, riferimento, rule, field", [
    ("065116", D("10.00"), GIUGNO, "Q-9", "contributi.comune", "istat"),  # Salerno is not in S09
    (SAPRI, D("0"), GIUGNO, "Q-9", "importo.positivo", "importo"),
    (SAPRI, D("-5.00"), GIUGNO, "Q-9", "importo.positivo", "importo"),
    (SAPRI, D("10.005"), GIUGNO, "Q-9", "importo.centesimi", "importo"),
    (SAPRI, 10.5, GIUGNO, "Q-9", "importo.decimale", "importo"),
    (SAPRI, D("Infinity"), GIUGNO, "Q-9", "importo.decimale", "importo"),
    (SAPRI, D("1E+15"), GIUGNO, "Q-9", "importo.massimo", "importo"),
    (SAPRI, D("10.00"), datetime(2026, 6, 30, 12), "Q-9", "contributi.data", "data"),
    (SAPRI, D("10.00"), GIUGNO, "  ", "contributi.riferimento", "riferimento"),
    (SAPRI, D("10.00"), GIUGNO, "Q\x009", "contributi.riferimento", "riferimento"),
])
def test_payment_validation(istat: str, importo, data, riferimento: str, rule: str, field: str) -> None:
    c = pro_capite()
    c.collect_events()
    with pytest.raises(RuleViolation) as caught:
        c.registra_versamento(istat, importo, data, riferimento, UFFICIO)
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert c.collect_events() == []


def test_trailing_zeros_are_not_decimals() -> None:
    assert verifica_importo(D("10.500")) == D("10.50") and verifica_importo(7) == D("7.00")


def test_a_reference_is_recorded_once() -> None:
    c = pro_capite()
    c.registra_versamento(SAPRI, D("100.00"), GIUGNO, "Reversale 412/2026", UFFICIO)
    for ripetuto in ("Reversale 412/2026", "  reversale   412/2026 "):
        with pytest.raises(Conflict) as caught:
            c.registra_versamento(CAMEROTA, D("100.00"), GIUGNO, ripetuto, UFFICIO)
        assert (caught.value.rule, caught.value.field) == ("contributi.riferimento_unico", "riferimento")


def test_a_reversal_voids_the_payment() -> None:
    c = pro_capite()
    c.collect_events()
    c.registra_versamento(SAPRI, D("28678.50"), date(2026, 6, 10), "Reversale 300/2026", UFFICIO)
    assert c.arretrato(SAPRI, DICEMBRE) == D("0.00")
    c.storna_versamento("reversale 300/2026", date(2026, 6, 20), "Reversale annullata: versamento del Comune "
                        "di Vibonati imputato per errore a Sapri.", "dirigente@15-S09")
    assert (c.versato(SAPRI), c.versato(SAPRI, date(2026, 6, 15)), c.residuo(SAPRI)) == \
        (D("0.00"), D("0.00"), D("28678.50"))
    assert c.arretrato(SAPRI, GIUGNO) == D("14339.25")
    _, stornato = c.collect_events()
    assert isinstance(stornato, ContributiComunali.VersamentoStornato)
    assert (stornato.tenant_id, stornato.riferimento, stornato.istat, stornato.importo, stornato.data,
            stornato.stornato_da) == (TENANT, "Reversale 300/2026", SAPRI, D("28678.50"), date(2026, 6, 20),
                                      "dirigente@15-S09")
    [voce] = c.versamenti_di(SAPRI, anche_stornati=True)
    assert voce["storno"]["motivo"].startswith("Reversale annullata") and c.versamenti_di(SAPRI) == []
    with pytest.raises(Conflict) as caught:
        c.storna_versamento("Reversale 300/2026", date(2026, 6, 21), "di nuovo", UFFICIO)
    assert caught.value.rule == "contributi.storno_unico"
    with pytest.raises(Conflict):  # the voided reference stays taken: a new payment has a new reference
        c.registra_versamento(SAPRI, D("1.00"), GIUGNO, "Reversale 300/2026", UFFICIO)
    c.registra_versamento(SAPRI, D("28678.50"), date(2026, 6, 25), "Reversale 305/2026", UFFICIO)
    assert c.residuo(SAPRI) == D("0.00")


def test_reversal_validation() -> None:
    c = pro_capite()
    c.registra_versamento(SAPRI, D("100.00"), GIUGNO, "Q-1", UFFICIO)
    with pytest.raises(NotFound) as missing:
        c.storna_versamento("Q-2", GIUGNO, "errore", UFFICIO)
    with pytest.raises(RuleViolation) as no_reason:
        c.storna_versamento("Q-1", GIUGNO, "  ", UFFICIO)
    assert (missing.value.rule, missing.value.field) == ("contributi.versamento", "riferimento")
    assert (no_reason.value.rule, no_reason.value.field) == ("contributi.motivo", "motivo")


def test_queries_on_an_unknown_comune_are_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        pro_capite().dovuto("065116")
    assert caught.value.rule == "contributi.comune"


def test_situation_and_totals_at_a_date() -> None:
    c = pro_capite()
    c.registra_versamento(SAPRI, D("28678.50"), date(2026, 5, 31), "Rev. 1", UFFICIO)
    c.registra_versamento(CAMEROTA, D("5000"), date(2026, 7, 10), "Rev. 2", UFFICIO)
    c.registra_versamento(ALFANO, D("2144.25"), date(2026, 6, 30), "Rev. 3", UFFICIO)
    righe = c.situazione(date(2026, 7, 31))
    assert json.loads(json.dumps(righe)) == righe  # JSON-safe
    sapri = next(r for r in righe if r["istat"] == SAPRI)
    assert sapri == {"istat": SAPRI, "nome": "Sapri", "popolazione": 6373, "dovuto": "28678.50",
                     "dovuto_scaduto": "14339.25", "versato": "28678.50", "residuo": "0.00", "arretrato": "0.00",
                     "rate": [{"data": "2026-06-30", "percentuale": "50", "importo": "14339.25"},
                              {"data": "2026-12-31", "percentuale": "50", "importo": "14339.25"}]}
    camerota = next(r for r in righe if r["istat"] == CAMEROTA)
    assert (camerota["versato"], camerota["residuo"], camerota["arretrato"]) == ("5000.00", "25937.50", "10468.75")
    totali = c.totali(date(2026, 7, 31))
    assert totali["dovuto"] == D("189720.00") and totali["dovuto_scaduto"] == D("94860.00")
    assert totali["versato"] == D("35822.75") and totali["residuo"] == D("153897.25")
    # Sapri's advance payment does not offset the others' arrears
    assert totali["arretrato"] == D("94860.00") - D("14339.25") - D("5000.00") - D("2144.25")
    assert totali["arretrato"] == sum(D(r["arretrato"]) for r in righe)
    assert c.totali(date(2026, 6, 29))["versato"] == D("28678.50")


def mapper() -> Mapper:
    """The store's transcoding, without a store: the kit's and the library's transcodings."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def test_events_survive_the_event_store_transcoding() -> None:
    c = pro_capite()
    c.registra_versamento(SAPRI, D("1000.10"), GIUGNO, "Rev. 1", UFFICIO)
    c.registra_versamento(ALFANO, D("20.00"), GIUGNO, "Rev. 2", UFFICIO)
    c.storna_versamento("Rev. 2", DICEMBRE, "Errore di imputazione", UFFICIO)
    m = mapper()
    eventi = [m.to_domain_event(m.to_stored_event(e)) for e in c.collect_events()]
    letto = None
    for e in eventi:
        letto = e.mutate(letto)
    assert letto.situazione(DICEMBRE) == c.situazione(DICEMBRE) and letto.version == 4
    assert letto.quota_pro_capite == D("4.50") and letto.popolazione_al == POPOLAZIONE_AL
    determinati = eventi[0]
    assert isinstance(determinati.totale, D) and isinstance(determinati.quote[0]["rate"][1], D)
    assert isinstance(determinati.scadenze[0]["data"], date)


# ---------------------------------------------------------------- properties

def percentuali_st(max_rate: int = 6) -> st.SearchStrategy[list[D]]:
    """Percentages with 2 decimals adding up to 100: cut points in 0..10000 basis points."""
    return st.lists(st.integers(1, 9999), max_size=max_rate - 1, unique=True).map(
        lambda tagli: [D(b - a).scaleb(-2) for a, b in zip([0, *sorted(tagli)], [*sorted(tagli), 10000])])


@PROPRIETA
@given(centesimi=st.integers(0, 10**13), percentuali=percentuali_st(8))
def test_instalments_always_add_up_to_the_quota(centesimi: int, percentuali: list[D]) -> None:
    quota = D(centesimi).scaleb(-2)
    rate = ripartisci_in_rate(quota, percentuali)
    assert sum(rate, D(0)) == quota and len(rate) == len(percentuali)
    for importo, p in zip(rate, percentuali):
        assert importo >= 0 and importo == importo.quantize(D("0.01"))
        assert abs(Fraction(importo) - Fraction(quota) * Fraction(p) / 100) < Fraction(1, 100)


@PROPRIETA
@given(quota_diecimillesimi=st.integers(1, 10**6), popolazioni=st.lists(st.integers(1, 3_000_000), min_size=1,
                                                                         max_size=20),
       percentuali=percentuali_st(4))
def test_per_capita_quota_is_the_half_up_rounded_product(quota_diecimillesimi: int, popolazioni: list[int],
                                                         percentuali: list[D]) -> None:
    quota = D(quota_diecimillesimi).scaleb(-4)
    comuni = [{"istat": f"065{i:03d}", "nome": f"Comune {i}", "popolazione": p} for i, p in enumerate(popolazioni)]
    scadenze = [{"data": date(2026, 1, 31) + timedelta(days=30 * i), "percentuale": p}
                for i, p in enumerate(percentuali)]
    calcolo = prospetto(comuni, scadenze, quota_pro_capite=quota, popolazione_al=POPOLAZIONE_AL)
    for riga, p in zip(calcolo["quote"], popolazioni):
        prodotto = quota_diecimillesimi * p  # in 1/10,000 €
        assert riga["quota"] == D((prodotto + 50) // 100).scaleb(-2)  # half up, in integer cents
        assert sum(riga["rate"], D(0)) == riga["quota"]
    assert calcolo["totale"] == sum(quote_pro_capite(comuni, quota).values(), D(0))


COMUNI_PICCOLI = COMUNI[:4]  # Alfano, Camerota, Casaletto Spartano, Caselle in Pittari
giorni = st.integers(0, 400).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
operazioni = st.lists(st.one_of(
    st.tuples(st.just("versa"), st.sampled_from([c["istat"] for c in COMUNI_PICCOLI] + ["065116"]),
              st.one_of(st.integers(-100, 5_000), st.integers(100_000, 4_000_000)),  # cents
              giorni, st.integers(0, 12)),
    st.tuples(st.just("storna"), st.integers(0, 12), giorni),
), max_size=40)


def ricalcola(eventi: list) -> tuple[dict[str, D], dict[str, D]]:
    """Dovuto and versato per Comune from the events alone."""
    dovuto: dict[str, D] = {}
    versato: dict[str, D] = {}
    for e in eventi:
        if isinstance(e, ContributiComunali.Determinati):
            dovuto = {q["istat"]: q["quota"] for q in e.quote}
            versato = {istat: D("0.00") for istat in dovuto}
        elif isinstance(e, ContributiComunali.VersamentoRegistrato):
            versato[e.istat] += e.importo
        elif isinstance(e, ContributiComunali.VersamentoStornato):
            versato[e.istat] -= e.importo
    return dovuto, versato


@PROPRIETA
@given(operazioni=operazioni, quota=st.sampled_from(["4.50", "2.5823", "0.0001", "12"]), date_controllo=st.lists(
    giorni, min_size=1, max_size=5))
def test_random_payments_never_overpay_nor_make_arrears_negative(operazioni: list, quota: str,
                                                                  date_controllo: list[date]) -> None:
    c = pro_capite(quota, comuni=COMUNI_PICCOLI)
    eventi = c.collect_events()
    for op in operazioni:
        try:
            if op[0] == "versa":
                _, istat, centesimi, data, n = op
                c.registra_versamento(istat, D(centesimi).scaleb(-2), data, f"REV {n}", UFFICIO)
            else:
                _, n, data = op
                c.storna_versamento(f"rev {n}", data, "Storno di prova", UFFICIO)
        except (RuleViolation, Conflict, NotFound):
            assert c.collect_events() == []  # a refusal records nothing
        eventi += c.collect_events()
        dovuto, versato = ricalcola(eventi)
        for istat in c.comuni:
            assert D(0) <= c.versato(istat) == versato[istat] <= c.dovuto(istat) == dovuto[istat]
            assert c.residuo(istat) >= 0
            for al in date_controllo:
                assert D(0) <= c.arretrato(istat, al) <= c.dovuto_scaduto(istat, al) <= c.dovuto(istat)
                assert c.versato(istat, al) <= c.versato(istat)
        assert sum(versato.values(), D(0)) <= sum(dovuto.values(), D(0))
    riletto = None
    for e in eventi:
        riletto = e.mutate(riletto)
    assert riletto is not None
    for al in date_controllo:
        assert riletto.situazione(al) == c.situazione(al)
        totali = c.totali(al)
        assert totali["versato"] <= totali["dovuto"] and totali["arretrato"] >= 0
