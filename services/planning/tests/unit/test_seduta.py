"""A seduta of the Comitato: convocation, attendance and proxies, numero legale, roll-call votes (no I/O)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest

from ambiti_kit.errors import Conflict, DomainError, Forbidden, RuleViolation
from planning.domain.comitato import componenti_da_ambito
from planning.domain.regole_voto import Quorum, Regola, Soglia
from planning.domain.seduta import Seduta, Votante

SAPRI, VIBONATI, TORRE_ORSAIA, ISPANI, MORIGERATI, TORTORELLA = (
    "065134", "065156", "065149", "065059", "065077", "065150")
POPOLAZIONE = {SAPRI: 6373, VIBONATI: 3204, TORRE_ORSAIA: 1985, ISPANI: 970, MORIGERATI: 608, TORTORELLA: 482}
COMUNI = [SAPRI, VIBONATI, TORRE_ORSAIA, ISPANI, MORIGERATI, TORTORELLA]  # 13622 inhabitants
COMPONENTI = componenti_da_ambito([{"istat": k, "nome": k, "popolazione": p} for k, p in POPOLAZIONE.items()],
                                  [{"id": "ASL", "nome": "ASL Salerno – Distretto 71", "peso": 0}])
PIANO, BILANCIO = uuid.UUID(int=1), uuid.UUID(int=2)
PRIMA = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
SECONDA = datetime(2026, 3, 3, 9, tzinfo=timezone.utc)
SEGRETARIO = Votante("segretario@15-S09", None, segretario=True)
SOLO_PRIMA = Regola("ponderata", quorum={1: Quorum(None, Soglia(Fraction(1, 3)))})  # no 2nd call


def convoca(regola: Regola = Regola("ponderata"), seconda: datetime | None = SECONDA,
            odg: tuple[uuid.UUID, ...] = (PIANO, BILANCIO)) -> Seduta:
    return Seduta.convoca("15-S09", "Approvazione del Piano Sociale di Zona 2025–2027", "Sala consiliare, Sapri",
                          PRIMA, seconda, list(odg), COMPONENTI, regola.come_dict(), "coordinatore@15-S09")


def presenti(seduta: Seduta, *ids: str) -> Seduta:
    for i in ids:
        seduta.registra_presenza(i, True, f"Sindaco {i}", None, "segretario@15-S09")
    return seduta


def delega(seduta: Seduta, da: str, a: str) -> None:
    seduta.registra_presenza(da, True, None, a, "segretario@15-S09")


def di(comune: str) -> Votante:
    return Votante(f"sindaco@{comune}", comune)


def in_votazione(regola: Regola = Regola("ponderata")) -> Seduta:
    """All six Comuni and the ASL present, seduta open in 1st call, vote on the plan open."""
    seduta = presenti(convoca(regola), *COMUNI, "ASL")
    seduta.apri(1, "presidente@15-S09", PRIMA)
    seduta.apri_votazione(PIANO, "presidente@15-S09")
    return seduta


def errore(azione: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        azione()
    return caught.value


@pytest.mark.parametrize("odg, seconda, regola, rule, field", [
    ([], None, Regola("ponderata"), "seduta.ordine_del_giorno", "ordine_del_giorno"),
    ([PIANO, PIANO], None, Regola("ponderata"), "seduta.ordine_del_giorno_unico", "ordine_del_giorno"),
    ([PIANO], PRIMA, Regola("ponderata"), "seduta.seconda_convocazione", "seconda_convocazione"),
    ([PIANO], SECONDA, SOLO_PRIMA, "seduta.seconda_convocazione", "seconda_convocazione"),
])
def test_convoca_validation(odg: list, seconda: datetime | None, regola: Regola, rule: str, field: str) -> None:
    e = errore(lambda: convoca(regola, seconda, odg))
    assert (type(e), e.rule, e.field) == (RuleViolation, rule, field)


def test_apri_needs_the_numero_legale_of_the_call_in_which_it_opens() -> None:
    seduta = presenti(convoca(), VIBONATI, TORRE_ORSAIA)  # 2 of 6, 5189 of 13622 inhabitants
    e = errore(lambda: seduta.apri(1, "presidente", PRIMA))  # needs > 6811 inhabitants
    assert (type(e), e.rule, e.field) == (RuleViolation, "seduta.numero_legale", "presenze")
    assert "presenti 2 su 6" in e.detail and "popolazione 5189 su 13622" in e.detail
    seduta.dichiara_deserta("presidente", PRIMA)
    seduta.apri(2, "presidente", SECONDA)  # needs >= 3/10 = 4086.6 inhabitants and >= 1/4 of members
    convocata, *_, deserta, aperta = seduta.collect_events()
    assert isinstance(convocata, Seduta.Convocata) and convocata.componenti == COMPONENTI  # a copy of the Comitato
    assert isinstance(deserta, Seduta.PrimaConvocazioneDeserta) and deserta.quorum["raggiunto"] is False
    assert isinstance(aperta, Seduta.Aperta) and (seduta.stato, seduta.convocazione) == ("aperta", 2)
    assert aperta.quorum == {"convocazione": 2, "raggiunto": True, "presenti": 2, "membri": 6, "pesi_presenti": 5189,
                             "pesi_totali": 13622, "soglia_membri": "≥ 1/4", "soglia_pesi": "≥ 3/10"}
    assert errore(lambda: seduta.apri(2, "presidente", SECONDA)).rule == "seduta.gia_aperta"
    e = errore(lambda: presenti(convoca(seconda=None), *COMUNI).apri(2, "presidente", SECONDA))
    assert (type(e), e.rule, e.field) == (RuleViolation, "seduta.seconda_convocazione", "convocazione")


def test_the_second_call_never_dodges_the_first_and_no_call_opens_before_its_hour() -> None:
    seduta = presenti(convoca(), VIBONATI, TORRE_ORSAIA)  # enough for the 2nd call only
    assert errore(lambda: seduta.apri(2, "presidente", SECONDA)).rule == "seduta.prima_non_deserta"
    assert errore(lambda: seduta.apri(1, "presidente", PRIMA - timedelta(minutes=1))).rule == "seduta.ora_convocazione"
    assert errore(lambda: seduta.dichiara_deserta("p", PRIMA - timedelta(seconds=1))).rule == "seduta.ora_convocazione"
    seduta.dichiara_deserta("presidente", PRIMA)
    assert errore(lambda: seduta.dichiara_deserta("presidente", PRIMA)).rule == "seduta.prima_in_corso"
    assert errore(lambda: seduta.apri(1, "presidente", SECONDA)).rule == "seduta.prima_deserta"
    assert errore(lambda: seduta.apri(2, "presidente", SECONDA - timedelta(seconds=1))).rule == "seduta.ora_convocazione"
    piena = presenti(convoca(), *COMUNI)
    assert errore(lambda: piena.dichiara_deserta("presidente", PRIMA)).rule == "seduta.non_deserta"


def test_a_proxy_makes_the_delegating_comune_present_for_the_quorum() -> None:
    seduta = presenti(convoca(), VIBONATI, TORRE_ORSAIA)
    delega(seduta, SAPRI, VIBONATI)
    assert seduta.presenti == {SAPRI, VIBONATI, TORRE_ORSAIA}
    assert seduta.quorum(1)["pesi_presenti"] == 11562 and seduta.quorum(1)["raggiunto"]
    assert seduta.collect_events()[-1].delega_a == VIBONATI


@pytest.mark.parametrize("da, presente, a, error, rule, field", [
    (ISPANI, True, ISPANI, RuleViolation, "presenza.delega", "delega_a"),
    (ISPANI, True, TORTORELLA, RuleViolation, "presenza.delega", "delega_a"),  # delegate absent
    (ISPANI, True, "ASL", RuleViolation, "presenza.delega", "delega_a"),  # advisory member
    (MORIGERATI, True, ISPANI, RuleViolation, "presenza.delega", "delega_a"),  # delegate has delegated
    (ISPANI, False, VIBONATI, RuleViolation, "presenza.delega", "presente"),
    (ISPANI, True, "065116", Forbidden, "voto.non_componente", None),  # Salerno
    (VIBONATI, False, None, Conflict, "presenza.delega_in_uso", None),  # leaving while carrying a proxy
])
def test_bad_proxies_are_refused(da: str, presente: bool, a: str | None, error: type, rule: str,
                                 field: str | None) -> None:
    seduta = presenti(convoca(), SAPRI, VIBONATI, "ASL")
    delega(seduta, ISPANI, VIBONATI)
    e = errore(lambda: seduta.registra_presenza(da, presente, None, a, "segretario"))
    assert (type(e), e.rule, e.field) == (error, rule, field)


def test_a_delegate_carrying_a_proxy_cannot_delegate_in_turn() -> None:
    """Ispani → Vibonati, then Vibonati → Sapri would leave Ispani's proxy with someone no longer present in person."""
    seduta = presenti(convoca(), SAPRI, VIBONATI)
    delega(seduta, ISPANI, VIBONATI)
    e = errore(lambda: delega(seduta, VIBONATI, SAPRI))
    assert e.rule in ("presenza.delega", "presenza.delega_in_uso")


def test_apri_votazione_rules() -> None:
    seduta = presenti(convoca(), *COMUNI)
    assert errore(lambda: seduta.apri_votazione(PIANO, "p")).rule == "seduta.non_aperta"
    seduta.apri(1, "presidente", PRIMA)
    e = errore(lambda: seduta.apri_votazione(uuid.UUID(int=99), "p"))
    assert (type(e), e.rule, e.field) == (RuleViolation, "votazione.ordine_del_giorno", "proposta_id")
    seduta.apri_votazione(PIANO, "p")
    assert (seduta.votazione_aperta, seduta.voti) == (PIANO, {PIANO: {}})
    assert errore(lambda: seduta.apri_votazione(BILANCIO, "p")).rule == "votazione.una_alla_volta"
    e = errore(lambda: seduta.registra_presenza(TORTORELLA, False, None, None, "segretario"))
    assert (type(e), e.rule) == (Conflict, "seduta.presenze_durante_voto")


@pytest.mark.parametrize("componente, voto, votante, error, rule, field", [
    ("065116", "favorevole", di("065116"), Forbidden, "voto.non_componente", None),
    (SAPRI, "sì", di(SAPRI), RuleViolation, "voto.valore", "voto"),
    (TORTORELLA, "favorevole", di(TORTORELLA), RuleViolation, "voto.presente", "componente"),
    ("ASL", "favorevole", SEGRETARIO, RuleViolation, "voto.consultivo_senza_voto", "componente"),
    (SAPRI, "contrario", di(VIBONATI), Forbidden, "voto.proprio_comune", None),
    (SAPRI, "favorevole", SEGRETARIO, Forbidden, "voto.proprio_comune", None),
    (ISPANI, "favorevole", di(ISPANI), Forbidden, "voto.delegato", None),  # own vote after delegating
])
def test_votes_that_are_refused(componente: str, voto: str, votante: Votante, error: type, rule: str,
                                field: str | None) -> None:
    seduta = presenti(convoca(), SAPRI, VIBONATI, TORRE_ORSAIA, MORIGERATI, "ASL")
    delega(seduta, ISPANI, VIBONATI)
    seduta.registra_presenza(TORTORELLA, False, None, None, "segretario")
    seduta.apri(1, "presidente", PRIMA)
    seduta.apri_votazione(PIANO, "presidente")
    e = errore(lambda: seduta.vota(PIANO, componente, voto, votante))
    assert (type(e), e.rule, e.field) == (error, rule, field)
    assert seduta.voti[PIANO] == {}


def test_a_proxy_vote_is_recorded_as_such_and_each_member_votes_once() -> None:
    seduta = presenti(convoca(), SAPRI, VIBONATI)
    delega(seduta, ISPANI, VIBONATI)
    seduta.apri(1, "presidente", PRIMA)
    seduta.apri_votazione(PIANO, "presidente")
    seduta.vota(PIANO, ISPANI, "favorevole", di(VIBONATI))
    voto = seduta.collect_events()[-1]
    assert isinstance(voto, Seduta.VotoEspresso)
    assert (voto.componente, voto.voto, voto.espresso_da, voto.per_delega) == (
        ISPANI, "favorevole", "sindaco@065156", True)
    seduta.vota(PIANO, VIBONATI, "contrario", di(VIBONATI))
    assert seduta.voti[PIANO][VIBONATI]["per_delega"] is False
    e = errore(lambda: seduta.vota(PIANO, ISPANI, "contrario", di(VIBONATI)))
    assert (type(e), e.rule) == (Conflict, "voto.una_volta")
    assert errore(lambda: seduta.vota(BILANCIO, SAPRI, "favorevole", di(SAPRI))).rule == "voto.votazione_aperta"


def test_advisory_members_who_count_vote_through_the_secretary() -> None:
    seduta = in_votazione(Regola("per_testa", consultivi_contano=True))
    e = errore(lambda: seduta.vota(PIANO, "ASL", "favorevole", di(SAPRI)))
    assert (type(e), e.rule) == (Forbidden, "voto.proprio_comune")
    seduta.vota(PIANO, "ASL", "favorevole", SEGRETARIO)
    assert seduta.voti[PIANO]["ASL"] == {"voto": "favorevole", "espresso_da": "segretario@15-S09",
                                         "per_delega": False}


def _vota_sapri_e_vibonati_favorevoli(seduta: Seduta) -> dict:
    for comune in COMUNI:
        seduta.vota(PIANO, comune, "favorevole" if comune in (SAPRI, VIBONATI) else "contrario", di(comune))
    return seduta.chiudi_votazione(PIANO, "presidente")


def test_ponderata_approves_what_per_testa_rejects() -> None:
    ponderata = in_votazione(Regola("ponderata"))
    esito = _vota_sapri_e_vibonati_favorevoli(ponderata)  # 2 of 6 Comuni, 9577 of 13622 inhabitants
    assert esito["approvata"] is True and esito["famiglia"] == "ponderata"
    assert esito["ponderato"] == {"favorevoli": 9577, "contrari": 4045, "astenuti": 0, "non_votanti": 0,
                                  "base": 13622, "maggioranza": True}
    assert esito["per_testa"] == {"favorevoli": 2, "contrari": 4, "astenuti": 0, "non_votanti": 0, "base": 6,
                                  "maggioranza": False}
    chiusa = ponderata.collect_events()[-1]
    assert isinstance(chiusa, Seduta.VotazioneChiusa) and chiusa.esito == esito and chiusa.quorum["raggiunto"]
    assert (ponderata.votazione_aperta, ponderata.esiti) == (None, {PIANO: esito})
    per_testa = _vota_sapri_e_vibonati_favorevoli(in_votazione(Regola("per_testa")))
    assert per_testa["approvata"] is False and per_testa["motivazione"].startswith("Respinta: componenti favorevoli 2")


def test_a_proposal_is_voted_once_and_the_numero_legale_is_checked_again_for_the_next() -> None:
    seduta = in_votazione()
    _vota_sapri_e_vibonati_favorevoli(seduta)
    assert errore(lambda: seduta.apri_votazione(PIANO, "p")).rule == "votazione.gia_votata"
    seduta.registra_presenza(SAPRI, False, None, None, "segretario")
    seduta.registra_presenza(VIBONATI, False, None, None, "segretario")  # 4045 of 13622 left
    e = errore(lambda: seduta.apri_votazione(BILANCIO, "p"))
    assert (type(e), e.rule, e.field) == (RuleViolation, "seduta.numero_legale", "presenze")


def test_chiudi_returns_the_unvoted_proposals_and_then_nothing_is_accepted() -> None:
    seduta = in_votazione()
    assert errore(lambda: seduta.chiudi("presidente")).rule == "seduta.votazione_in_corso"
    seduta.vota(PIANO, SAPRI, "favorevole", di(SAPRI))
    seduta.chiudi_votazione(PIANO, "presidente")
    assert seduta.chiudi("presidente") == [BILANCIO]
    assert seduta.stato == "chiusa" and isinstance(seduta.collect_events()[-1], Seduta.Chiusa)
    e = errore(lambda: seduta.vota(PIANO, VIBONATI, "favorevole", di(VIBONATI)))
    assert (type(e), e.rule) == (Conflict, "seduta.chiusa")
    assert errore(lambda: seduta.chiudi("presidente")).rule == "seduta.chiusa"
