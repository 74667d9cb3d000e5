"""Traceability rules (L. 136/2010 art. 3; L. 144/1999 art. 11, L. 3/2003 art. 11): CIG from the award to the
commitment and the payment, the CUP of investment and PNRR annualità, an award's amount as a ceiling.
Pure rules and aggregates, no I/O."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings, strategies as st

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import DateAsISO

from finance.domain.fondi import Assegnazione
from finance.domain.stanziamento import Stanziamento
from finance.domain.tracciabilita import (AffidamentoRecepito, cig_del_mandato, cig_dell_impegno, richiede_cup,
                                          verifica_affidamento_indicato, verifica_cup, verifica_tetto_affidamento)

CIG, ALTRO = "B1C2D3E4F5", "ZA12B3C4D5"
CUP = "J51B21005460006"
D = Decimal
PIANO = uuid.uuid4()


def violazione(fn, *args) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolation) as e:
        fn(*args)
    return e.value.rule, e.value.field


# -- CIG on the commitment ---------------------------------------------------------------------------

def test_a_commitment_under_an_award_takes_the_awards_cig() -> None:
    assert cig_dell_impegno(None, CIG, True) == CIG
    assert cig_dell_impegno(CIG, CIG, True) == CIG
    assert violazione(cig_dell_impegno, ALTRO, CIG, True) == ("tracciabilita.cig_affidamento", "cig")


def test_an_award_without_cig_takes_the_requests_and_none_at_all_is_refused() -> None:
    assert cig_dell_impegno(ALTRO, None, True) == ALTRO
    assert violazione(cig_dell_impegno, None, None, True) == ("tracciabilita.cig", "cig")


def test_outside_an_award_the_cig_is_as_given() -> None:
    assert cig_dell_impegno(None, None, False) is None
    assert cig_dell_impegno(ALTRO, None, False) == ALTRO


# -- CIG on the payment ------------------------------------------------------------------------------

def test_the_payment_reports_the_commitments_cig_and_never_another() -> None:
    assert cig_del_mandato(CIG, None, True) == CIG
    assert cig_del_mandato(CIG, CIG, False) == CIG
    assert violazione(cig_del_mandato, CIG, ALTRO, True) == ("tracciabilita.cig_impegno", "cig")


def test_a_payment_under_an_award_without_any_cig_is_refused() -> None:
    assert violazione(cig_del_mandato, None, None, True) == ("tracciabilita.cig", "cig")
    assert cig_del_mandato(None, ALTRO, True) == ALTRO
    assert cig_del_mandato(None, None, False) is None  # no contract: nothing to report


# -- CUP ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fondo, investimento, pnrr, richiesto", [
    ("FNPS", False, False, False), ("FNPS", True, False, True), ("REGIONALE", False, True, True),
    ("PNRR_M5C2", False, False, True)])
def test_the_cup_is_required_on_investment_and_pnrr_annualita(fondo: str, investimento: bool, pnrr: bool,
                                                               richiesto: bool) -> None:
    assert richiede_cup(fondo, investimento, pnrr) is richiesto
    verifica_cup(CUP, fondo, investimento, pnrr)
    if richiesto:
        assert violazione(verifica_cup, None, fondo, investimento, pnrr) == ("tracciabilita.cup", "cup")
    else:
        verifica_cup(None, fondo, investimento, pnrr)


def test_a_pnrr_fund_is_pnrr_whatever_the_act_says() -> None:
    a = Assegnazione.registra("15-S09", "PNRR_M5C2", 2025, D("100.00"), {"tipo": "decreto", "numero": "1",
                              "data": date(2025, 1, 1), "ente": "MLPS"}, {}, "x")
    assert (a.pnrr, a.investimento) == (True, False)


# -- the award's ceiling -----------------------------------------------------------------------------

def affidamento(importo: str = "1000.00", cig: str | None = CIG) -> AffidamentoRecepito:
    return AffidamentoRecepito(tenant_id="15-S09", affidamento_id=uuid.uuid4(), codice_fiscale="00743110157",
                               denominazione="Coop", piano_id=PIANO, intervento="A.1.1", importo=D(importo), cig=cig,
                               valido_dal=date(2025, 1, 1), valido_al=date(2025, 12, 31))


def test_the_award_is_a_ceiling_across_allocations_and_reductions_give_back() -> None:
    a = affidamento()
    a.imputa(uuid.uuid4(), uuid.uuid4(), D("600.00"))
    secondo = uuid.uuid4()
    a.imputa(secondo, uuid.uuid4(), D("400.00"))  # another allocation: the ceiling is the award's
    assert violazione(a.imputa, uuid.uuid4(), uuid.uuid4(), D("0.01")) == ("impegno.tetto_affidamento", "importo")
    a.libera(secondo, D("100.00"))
    a.imputa(uuid.uuid4(), uuid.uuid4(), D("100.00"))
    assert (a.impegnato, a.disponibile) == (D("1000.00"), D("0.00"))


def test_a_commitment_under_the_award_is_to_its_awardee_on_its_line_in_its_period() -> None:
    a = affidamento()
    a.verifica_impegno("00743110157", PIANO, "A.1.1", date(2025, 6, 1))
    assert violazione(a.verifica_impegno, "01234567890", PIANO, "A.1.1", date(2025, 6, 1)) == (
        "impegno.affidamento_beneficiario", "beneficiario.codice_fiscale")
    assert violazione(a.verifica_impegno, "00743110157", PIANO, "A.1.2", date(2025, 6, 1)) == (
        "impegno.affidamento_intervento", "affidamento_id")
    assert violazione(a.verifica_impegno, "00743110157", PIANO, "A.1.1", date(2026, 1, 1)) == (
        "impegno.affidamento_periodo", "affidamento_id")


@settings(max_examples=200, deadline=None)
@given(tetto=st.integers(1, 10**7), mosse=st.lists(st.tuples(st.booleans(), st.integers(1, 10**6)), max_size=30))
def test_commitments_under_an_award_never_exceed_it(tetto: int, mosse: list[tuple[bool, int]]) -> None:
    """Against an independent ledger in integer cents: a commitment is accepted exactly when the award's
    remaining amount covers it; a reduction gives back at most what its commitment still holds."""
    a = affidamento(f"{tetto / 100:.2f}")
    netto: dict[uuid.UUID, int] = {}
    for impegna, centesimi in mosse:
        importo = D(centesimi) / 100
        if impegna or not netto:
            impegno = uuid.uuid4()
            atteso = sum(netto.values()) + centesimi <= tetto
            if atteso:
                a.imputa(impegno, uuid.uuid4(), importo)
                netto[impegno] = centesimi
            else:
                with pytest.raises(RuleViolation):
                    a.imputa(impegno, uuid.uuid4(), importo)
        else:
            impegno = next(iter(netto))
            giu = min(centesimi, netto[impegno])
            if giu:
                a.libera(impegno, D(giu) / 100)
                netto[impegno] -= giu
        assert a.impegnato == D(sum(netto.values())) / 100 <= D(tetto) / 100


def test_the_ceiling_rule_alone() -> None:
    verifica_tetto_affidamento(D("10.00"), D("90.00"), D("100.00"))
    assert violazione(verifica_tetto_affidamento, D("10.01"), D("90.00"), D("100.00")) == (
        "impegno.tetto_affidamento", "importo")


def test_a_provider_whose_only_valid_title_is_an_award_names_it() -> None:
    titolo = {"tipo": "affidamento", "intervento": "A.1.1", "revocato_il": None, "valido_dal": date(2025, 1, 1),
              "valido_al": date(2025, 12, 31)}
    oggi = date(2025, 6, 1)
    assert violazione(verifica_affidamento_indicato, [titolo], "A.1.1", oggi) == (
        "impegno.affidamento_richiesto", "affidamento_id")
    verifica_affidamento_indicato([], "A.1.1", oggi)
    verifica_affidamento_indicato([titolo], "A.2.1", oggi)  # another line: not under this award
    verifica_affidamento_indicato([titolo, {**titolo, "tipo": "accreditamento"}], "A.1.1", oggi)


# -- stored events of before still load ----------------------------------------------------------------

def _as_v1(app: Application, event: object, *fields: str) -> object:
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state["class_version"] == 2
    for k in (*fields, "class_version"):
        del state[k]
    return app.mapper.to_domain_event(StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                                                  json.dumps(state).encode()))


class _App(Application):
    def register_transcodings(self, transcoder):  # type: ignore[no-untyped-def]
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def test_stored_v1_commitments_payments_and_assignments_load() -> None:
    app = _App()
    s = Stanziamento(tenant_id="15-S09", assegnazione_id=uuid.uuid4(), fondo="FNPS", annualita=2025, piano_id=PIANO,
                     intervento="A.1.1", anno=2025, importo=D("100.00"), aperto_da="x")
    impegno, liquidazione = uuid.uuid4(), uuid.uuid4()
    s.impegna(impegno, D("50.00"), {"denominazione": "Coop", "codice_fiscale": "00743110157"}, CIG, None,
              {"tipo": "determina", "numero": "1", "data": date(2025, 1, 1)}, "Servizio", None, "x")
    s.liquida(liquidazione, impegno, {"numero": "F1", "data": date(2025, 2, 1)}, D("50.00"), "x")
    s.paga(uuid.uuid4(), liquidazione, D("50.00"), date(2025, 3, 1), "x", cig=CIG)
    eventi = s.collect_events()
    assert _as_v1(app, eventi[1], "affidamento_id").affidamento_id is None  # type: ignore[attr-defined]
    mandato = _as_v1(app, eventi[3], "cig", "cup")
    assert (mandato.cig, mandato.cup, mandato.importo) == (None, None, D("50.00"))  # type: ignore[attr-defined]
    a = Assegnazione.registra("15-S09", "FNPS", 2025, D("100.00"), {"tipo": "decreto", "numero": "1",
                              "data": date(2025, 1, 1), "ente": "MLPS"}, {}, "x", investimento=True)
    registrata = _as_v1(app, a.collect_events()[0], "investimento", "pnrr")
    assert (registrata.investimento, registrata.pnrr) == (False, False)  # type: ignore[attr-defined]


def test_an_intervento_marked_investimento_needs_a_cup_whatever_its_fund() -> None:
    """L. 144/1999 art. 11; L. 3/2003 art. 11: the project is an investment, so its acts and payments report a CUP."""
    assert richiede_cup("FNPS", False, False, intervento_investimento=True) is True
    assert richiede_cup("FNPS", False, False, intervento_investimento=False) is False
    with pytest.raises(RuleViolation) as caught:
        verifica_cup(None, "FNPS", False, False, "INV-1", True)
    assert (caught.value.rule, caught.value.field) == ("tracciabilita.cup", "cup")
    assert "INV-1" in str(caught.value) and "L. 144/1999" in str(caught.value)
    verifica_cup(CUP, "FNPS", False, False, "INV-1", True)
    verifica_cup(None, "FNPS", False, False, "SAD-1", False)
