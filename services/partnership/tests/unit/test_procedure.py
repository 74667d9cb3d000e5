"""Co-programmazione / co-progettazione: steps in order, each with its act (no I/O)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from partnership.domain.procedure import Procedura

FARO = {"ente_id": "e1", "codice_fiscale": "00743110157", "denominazione": "Coop Il Faro"}
ALBA = {"ente_id": "e2", "codice_fiscale": "80012170157", "denominazione": "APS Alba"}
SOLE = {"ente_id": "e3", "codice_fiscale": "97000000006", "denominazione": "ODV Sole"}


def atto(tipo: str = "determina", numero: str = "1", giorno: int = 2) -> dict:
    return {"tipo": tipo, "numero": numero, "data": date(2026, 3, giorno)}


def procedura(tipo: str = "co_progettazione") -> Procedura:
    return Procedura.pubblica_avviso("15-S09", tipo, "Co-progettazione SAD", date(2026, 3, 31), None, "A1.2",
                                     atto("avviso"), "coordinatore@15-S09")


def con_ammissioni() -> Procedura:
    p = procedura()
    for ente in (FARO, ALBA, SOLE):
        p.ricevi_manifestazione(ente, "Domanda e progetto", date(2026, 3, 10), atto("protocollo"), "amm")
    p.decidi_ammissione(FARO["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    p.decidi_ammissione(ALBA["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    p.decidi_ammissione(SOLE["codice_fiscale"], False, "Manca l'iscrizione al RUNTS", atto(), "amm")
    return p


def test_notice_rules() -> None:
    with pytest.raises(RuleViolation) as caught:
        Procedura.pubblica_avviso("15-S09", "gara", "x x x", date(2026, 3, 31), None, None, atto(), "c")
    assert (caught.value.rule, caught.value.field) == ("procedura.tipo", "tipo")
    with pytest.raises(RuleViolation) as caught:
        Procedura.pubblica_avviso("15-S09", "co_progettazione", "Avviso", date(2026, 3, 1), None, None, atto(), "c")
    assert (caught.value.rule, caught.value.field) == ("procedura.scadenza", "scadenza_manifestazioni")
    with pytest.raises(RuleViolation) as caught:
        Procedura.pubblica_avviso("15-S09", "co_progettazione", "Avviso", date(2026, 3, 31), None, None,
                                  {"tipo": "lettera", "numero": "1", "data": date(2026, 3, 2)}, "c")
    assert (caught.value.rule, caught.value.field) == ("atto.tipo", "atto.tipo")


def test_expressions_of_interest_within_the_deadline_once_per_ente_and_before_any_decision() -> None:
    p = procedura()
    with pytest.raises(RuleViolation) as caught:
        p.ricevi_manifestazione(FARO, "Domanda", date(2026, 4, 1), atto("protocollo"), "amm")
    assert (caught.value.rule, caught.value.field) == ("procedura.termine_manifestazioni", "ricevuta_il")
    p.ricevi_manifestazione(FARO, "Domanda", date(2026, 3, 10), atto("protocollo"), "amm")
    with pytest.raises(Conflict) as caught:
        p.ricevi_manifestazione(FARO, "Domanda bis", date(2026, 3, 11), atto("protocollo"), "amm")
    assert caught.value.rule == "procedura.manifestazione_unica"
    p.decidi_ammissione(FARO["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    with pytest.raises(Conflict) as caught:
        p.ricevi_manifestazione(ALBA, "Domanda tardiva", date(2026, 3, 12), atto("protocollo"), "amm")
    assert caught.value.rule == "procedura.ordine_fasi"


def test_admission_is_decided_once_per_applicant_with_reasons() -> None:
    p = procedura()
    p.ricevi_manifestazione(FARO, "Domanda", date(2026, 3, 10), atto("protocollo"), "amm")
    with pytest.raises(RuleViolation) as caught:
        p.decidi_ammissione(ALBA["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    assert (caught.value.rule, caught.value.field) == ("procedura.manifestazione_presente", "codice_fiscale")
    with pytest.raises(RuleViolation) as caught:
        p.decidi_ammissione(FARO["codice_fiscale"], False, "no", atto(), "amm")
    assert (caught.value.rule, caught.value.field) == ("procedura.motivazione", "motivazione")
    p.decidi_ammissione(FARO["codice_fiscale"], False, "Manca l'esperienza richiesta", atto(), "amm")
    with pytest.raises(Conflict) as caught:
        p.decidi_ammissione(FARO["codice_fiscale"], True, "Ripensamento", atto(), "amm")
    assert caught.value.rule == "procedura.ammissione_unica"
    with pytest.raises(Conflict) as caught:  # nobody admitted: the procedure does not go on
        p.registra_sessione(date(2026, 4, 10), [FARO["codice_fiscale"]], "Verbale sessione 1", None, atto("verbale"),
                            "c")
    assert caught.value.rule == "procedura.nessun_ammesso"


def test_sessions_need_every_decision_and_only_the_admitted_take_part() -> None:
    p = procedura()
    for ente in (FARO, ALBA):
        p.ricevi_manifestazione(ente, "Domanda", date(2026, 3, 10), atto("protocollo"), "amm")
    with pytest.raises(Conflict) as caught:
        p.registra_sessione(date(2026, 4, 10), ["00743110157"], "Verbale sessione 1", None, atto("verbale"), "c")
    assert caught.value.rule == "procedura.ordine_fasi"
    p.decidi_ammissione(FARO["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    with pytest.raises(Conflict) as caught:
        p.registra_sessione(date(2026, 4, 10), ["00743110157"], "Verbale sessione 1", None, atto("verbale"), "c")
    assert caught.value.rule == "procedura.ammissioni_complete"
    p.decidi_ammissione(ALBA["codice_fiscale"], False, "Requisiti non posseduti", atto(), "amm")
    with pytest.raises(RuleViolation) as caught:
        p.registra_sessione(date(2026, 4, 10), ["80012170157"], "Verbale sessione 1", None, atto("verbale"), "c")
    assert (caught.value.rule, caught.value.field) == ("sessione.partecipanti_ammessi", "partecipanti")
    assert p.registra_sessione(date(2026, 4, 10), ["00743110157"], "Verbale sessione 1", None, atto("verbale"),
                               "c") == 1


def test_the_full_path_ends_in_a_convenzione_with_an_ats_and_a_budget_that_adds_up() -> None:
    p = con_ammissioni()
    with pytest.raises(Conflict) as caught:
        p.condividi_progetto("Progetto SAD", "Sintesi", atto(), "c")
    assert caught.value.rule == "procedura.ordine_fasi"
    p.registra_sessione(date(2026, 4, 10), ["00743110157", "80012170157"], "Verbale sessione 1", None,
                        atto("verbale"), "c")
    with pytest.raises(Conflict) as caught:
        p.stipula_convenzione(["00743110157"], None, Decimal("1000"), date(2026, 6, 1), 12,
                              [{"anno": 2026, "importo": "1000"}], atto("convenzione"), "c")
    assert caught.value.rule == "procedura.ordine_fasi"
    p.condividi_progetto("Progetto SAD", "Sintesi del progetto condiviso", atto(), "c")
    ats = ["00743110157", "80012170157"]
    budget = [{"anno": 2026, "importo": "70000.00"}, {"anno": 2027, "importo": "50000.00"}]
    for enti, capofila, righe, rule in [
        (["97000000006"], None, budget, "convenzione.contraenti_ammessi"),
        (ats, "97000000006", budget, "convenzione.capofila_ats"),
        (ats, "00743110157", [{"anno": 2026, "importo": "70000.00"}], "convenzione.budget_totale"),
        (ats, "00743110157", [*budget, {"anno": 2029, "importo": "1.00"}], "convenzione.anno_budget"),
        (ats, "00743110157", [budget[0], {"anno": 2026, "importo": "50000.00"}], "convenzione.anno_unico"),
    ]:
        with pytest.raises(RuleViolation) as caught:
            p.stipula_convenzione(enti, capofila, Decimal("120000"), date(2026, 6, 1), 18, righe, atto("convenzione"),
                                  "c")
        assert caught.value.rule == rule
    p.stipula_convenzione(ats, "00743110157", Decimal("120000"), date(2026, 6, 1), 18, budget, atto("convenzione"),
                          "c")
    assert p.fase == "convenzione_stipulata" and p.convenzione["forma"] == "ats"
    assert [c["denominazione"] for c in p.convenzione["contraenti"]] == ["Coop Il Faro", "APS Alba"]
    eventi = [type(e).__name__ for e in p.collect_events()]
    assert eventi[0] == "AvvisoPubblicato" and eventi[-3:] == ["SessioneTenuta", "ProgettoCondiviso",
                                                                "ConvenzioneStipulata"]


def test_a_co_programmazione_has_no_convenzione() -> None:
    p = procedura("co_programmazione")
    p.ricevi_manifestazione(FARO, "Domanda", date(2026, 3, 10), atto("protocollo"), "amm")
    p.decidi_ammissione(FARO["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    p.registra_sessione(date(2026, 4, 10), ["00743110157"], "Verbale sessione 1", None, atto("verbale"), "c")
    p.condividi_progetto("Documento di co-programmazione", "Bisogni e priorità", atto(), "c")
    with pytest.raises(Conflict) as caught:
        p.stipula_convenzione(["00743110157"], None, Decimal("1000"), date(2026, 6, 1), 12,
                              [{"anno": 2026, "importo": "1000"}], atto("convenzione"), "c")
    assert caught.value.rule == "procedura.convenzione_solo_coprogettazione"


def test_a_referente_never_sees_other_bids_before_every_admission_is_decided() -> None:
    p = procedura()
    p.ricevi_manifestazione(FARO, "Domanda Faro", date(2026, 3, 10), atto("protocollo"), "amm")
    p.ricevi_manifestazione(ALBA, "Domanda Alba", date(2026, 3, 10), atto("protocollo"), "amm")
    p.decidi_ammissione(ALBA["codice_fiscale"], True, "Requisiti posseduti", atto(), "amm")
    vista = p.vista_per_ente("00743110157")
    assert vista["propria"]["sintesi_documenti"] == "Domanda Faro" and vista["altre"] == []
    assert vista["ammissione"] is None
    p.decidi_ammissione(FARO["codice_fiscale"], False, "Requisiti non posseduti", atto(), "amm")
    vista = p.vista_per_ente("00743110157")
    assert vista["altre"] == [{"codice_fiscale": "80012170157", "denominazione": "APS Alba", "ammesso": True}]
    assert vista["ammissione"]["motivazione"] == "Requisiti non posseduti"
