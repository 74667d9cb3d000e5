"""Staff and the LEPS of L. 178/2020 art. 1 c. 797: who counts, the three ratios, the State contribution."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from ambiti_kit.errors import RuleViolation
from monitoring.domain.personale import (CONTRATTI, DATORI, Dotazione, DotazioneAmbito, conta_per_leps,
                                         contributo_statale, dichiara, id_dotazione, leggi_dotazione, leps)

COMUNI = {"065134", "065148"}


def test_only_permanent_social_workers_of_the_comuni_their_associated_form_or_the_delegated_asl_count() -> None:
    contano = {(c, d) for c in CONTRATTI for d in DATORI if conta_per_leps("assistente_sociale", c, d)}
    assert contano == {("tempo_indeterminato", "comune"), ("tempo_indeterminato", "forma_associata"),
                       ("tempo_indeterminato", "asl_delegata")}
    assert not conta_per_leps("educatore", "tempo_indeterminato", "comune")


def test_the_three_ratios_and_the_contribution_on_a_hand_computed_ambito() -> None:
    # 65,000 residents: 1:6,500 = 10 FTE, 1:5,000 = 13 FTE, 1:4,000 = 16.25 FTE.
    r = leps(Decimal("12"), 65000)
    assert (r.soglia_contributo.fte_richiesti, r.leps.fte_richiesti, r.obiettivo_ulteriore.fte_richiesti) == (
        Decimal("10.00"), Decimal("13.00"), Decimal("16.25"))
    assert (r.soglia_contributo.raggiunta, r.leps.raggiunta, r.obiettivo_ulteriore.raggiunta) == (True, False, False)
    assert (r.contributo.fte_fascia_a, r.contributo.importo_fascia_a) == (Decimal("2.0000"), Decimal("80000.00"))
    assert r.contributo.totale == Decimal("80000.00")
    r = leps(Decimal("15"), 65000)  # 3 FTE in band a (40,000 €), 2 in band b (20,000 €)
    assert (r.contributo.importo_fascia_a, r.contributo.importo_fascia_b, r.contributo.totale) == (
        Decimal("120000.00"), Decimal("40000.00"), Decimal("160000.00"))
    assert r.leps.raggiunta and not r.obiettivo_ulteriore.raggiunta
    r = leps(Decimal("20"), 65000)  # beyond 1:4,000 adds nothing: 3 + 3.25 FTE
    assert r.contributo.totale == Decimal("120000.00") + Decimal("65000.00") and r.obiettivo_ulteriore.raggiunta
    assert leps(Decimal("9.99"), 65000).contributo.totale == Decimal("0.00")  # below 1:6,500: nothing


def test_the_contribution_starts_at_1_to_6500_not_at_zero_staff() -> None:
    # 32,500 residents: 5 FTE reach 1:6,500 exactly and earn nothing; 5.5 FTE earn 0.5 × 40,000.
    assert contributo_statale(Decimal("5.00"), 32500).totale == Decimal("0.00")
    assert contributo_statale(Decimal("5.50"), 32500).totale == Decimal("20000.00")
    # a fraction of FTE in a non-round Ambito: 10,000 residents, 1.80 FTE:
    # a = 1.80 - 10000/6500 = 0.261538… FTE → 10,461.54 € (half up)
    c = contributo_statale(Decimal("1.80"), 10000)
    assert (c.fte_fascia_a, c.importo_fascia_a, c.importo_fascia_b) == (
        Decimal("0.2615"), Decimal("10461.54"), Decimal("0.00"))


def test_no_residents_no_ratio_and_no_contribution() -> None:
    r = leps(Decimal("1"), 0)
    assert r.fte_per_5000 is None and r.contributo.totale == Decimal("0.00") and r.leps.raggiunta


def _contributo_in_centesimi(fte_centesimi: int, residenti: int) -> int:
    """Independent integer computation of c. 797: in units of 1/65,000 FTE (lett. a) and 1/20,000 (lett. b)."""
    a = max(0, min(fte_centesimi * 650, 13 * residenti) - 10 * residenti)  # × 65,000
    b = max(0, min(fte_centesimi * 200, 5 * residenti) - 4 * residenti)  # × 20,000
    cents_a = (2 * 800 * a + 13) // 26  # 40,000 € × 100 / 65,000 = 800 / 13 cents per unit, half up
    cents_b = 100 * b  # 20,000 € × 100 / 20,000
    return cents_a + cents_b


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 100_000), st.integers(0, 2_000_000))
def test_the_contribution_matches_an_integer_computation_of_the_law(fte_centesimi: int, residenti: int) -> None:
    c = contributo_statale(Decimal(fte_centesimi) / 100, residenti)
    assert int(c.totale * 100) == _contributo_in_centesimi(fte_centesimi, residenti)
    r = leps(Decimal(fte_centesimi) / 100, residenti)
    assert r.leps.raggiunta == (fte_centesimi * 50 >= residenti)
    assert r.soglia_contributo.raggiunta == (fte_centesimi * 65 >= residenti)
    assert r.obiettivo_ulteriore.raggiunta == (fte_centesimi * 40 >= residenti)
    assert c.importo_fascia_a <= Decimal(40000) * (Decimal(residenti) / 5000 - Decimal(residenti) / 6500) + 1


def test_a_decimal_comma_is_refused_naming_the_field_and_saying_to_use_a_point() -> None:
    with pytest.raises(RuleViolation) as e:
        leggi_dotazione("065134", "assistente_sociale", "anziani", "0,5", "18", COMUNI)
    assert e.value.rule == "personale.separatore_decimale" and e.value.field == "fte"
    assert "\"0.5\"" in str(e.value) and "punto" in str(e.value)
    with pytest.raises(RuleViolation) as e:
        leggi_dotazione("065134", "assistente_sociale", "anziani", "1", "12,5", COMUNI)
    assert e.value.field == "ore_settimanali_piano" and e.value.rule == "personale.separatore_decimale"
    with pytest.raises(RuleViolation) as e:
        leggi_dotazione("065134", "assistente_sociale", "anziani", "2,5x", "18", COMUNI)
    assert e.value.rule == "personale.formato" and "Valore non valido" in str(e.value)


def test_ambito_level_staff_has_no_comune_and_its_own_aggregate() -> None:
    dati = leggi_dotazione(None, "assistente_sociale", "segretariato_sociale", "1.00", "36", COMUNI,
                           contratto="tempo_indeterminato", datore_lavoro="forma_associata")
    assert dati.comune is None and dati.conta_per_leps
    d = dichiara("15-S09", dati, "coordinatore@15-S09")
    assert isinstance(d, DotazioneAmbito) and d.id == id_dotazione("15-S09", dati)
    with pytest.raises(RuleViolation) as e:
        leggi_dotazione("065999", "assistente_sociale", "anziani", "1", "1", COMUNI)
    assert e.value.rule == "personale.comune_fuori_ambito"
    with pytest.raises(RuleViolation) as e:
        leggi_dotazione("065134", "assistente_sociale", "anziani", "1", "1", COMUNI, contratto="a_progetto")
    assert e.value.field == "contratto"


def test_declarations_of_permanent_comune_staff_keep_the_ids_they_had_before_contracts_existed() -> None:
    old = Dotazione.create_id("15-S09", "065134", "assistente_sociale", "anziani")
    dati = leggi_dotazione("065134", "assistente_sociale", "anziani", "1", "1", COMUNI)
    assert id_dotazione("15-S09", dati) == old
    altro = leggi_dotazione("065134", "assistente_sociale", "anziani", "1", "1", COMUNI, contratto="tempo_determinato")
    assert id_dotazione("15-S09", altro) != old


def test_a_stored_v1_declaration_loads_as_permanent_staff_of_the_comune() -> None:
    app = Application()
    d = dichiara("15-S09", leggi_dotazione("065134", "assistente_sociale", "anziani", "1.50", "20", COMUNI), "x")
    stored = app.mapper.to_stored_event(d.collect_events()[0])
    state = json.loads(stored.state)
    assert state["class_version"] == 2
    for k in ("contratto", "datore_lavoro", "class_version"):
        del state[k]  # what version 1 stored
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    evento = app.mapper.to_domain_event(v1)
    assert (evento.contratto, evento.datore_lavoro, evento.fte) == ("tempo_indeterminato", "comune", Decimal("1.50"))
