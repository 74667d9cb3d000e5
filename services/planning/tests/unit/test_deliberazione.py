"""Proposte di deliberazione, their lifecycle and the yearly register of numbers (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from planning.domain.deliberazione import Deliberazione, RegistroDeliberazioni, verifica_riferimenti

PIANO_ID = uuid.UUID("5b0c8d4e-2f1a-5c3b-9d7e-1a2b3c4d5e6f")
SEDUTA, ALTRA_SEDUTA = uuid.UUID(int=10), uuid.UUID(int=11)
IL = date(2026, 3, 2)
ESITO = {"approvata": True, "famiglia": "ponderata", "motivazione": "Approvata: popolazione favorevole 9577 su 13622"}
QUORUM = {"convocazione": 1, "raggiunto": True}
REGOLA = {"famiglia": "ponderata"}


def test_each_type_names_what_it_refers_to() -> None:
    piano = {"piano_id": str(PIANO_ID), "versione": 1}
    for tipo, riferimenti in [("approvazione_piano", piano), ("approvazione_aggiornamento", piano),
                              ("approvazione_bilancio", {"anno": 2026}), ("criteri_riparto_costi", {"anno": 2026}),
                              ("nomina_coordinatore", {"nominativo": "Dott.ssa Maria Esposito"}),
                              ("rettifica", {"rettifica_di": "12/2026"})]:
        verifica_riferimenti(tipo, riferimenti)


@pytest.mark.parametrize("tipo, riferimenti, rule, field", [
    ("approvazione_piano", {"piano_id": str(PIANO_ID)}, "deliberazione.riferimenti", "riferimenti.versione"),
    ("approvazione_aggiornamento", {"versione": 2}, "deliberazione.riferimenti", "riferimenti.piano_id"),
    ("approvazione_bilancio", {"anno": None}, "deliberazione.riferimenti", "riferimenti.anno"),
    ("nomina_coordinatore", {"nominativo": ""}, "deliberazione.riferimenti", "riferimenti.nominativo"),
    ("rettifica", {}, "deliberazione.riferimenti", "riferimenti.rettifica_di"),
    ("variazione_statuto", {}, "deliberazione.tipo", "tipo"),
])
def test_missing_references_or_unknown_types_are_refused(tipo: str, riferimenti: dict, rule: str,
                                                         field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_riferimenti(tipo, riferimenti)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def proposta() -> Deliberazione:
    return Deliberazione.proponi("15-S09", "approvazione_piano", "Approvazione del Piano Sociale di Zona 2025–2027",
                                 "Il Comitato Istituzionale approva...", {"piano_id": str(PIANO_ID), "versione": 1},
                                 "coordinatore@15-S09")


def approvata() -> Deliberazione:
    d = proposta()
    d.iscrivi(SEDUTA)
    d.approva(SEDUTA, 3, 2026, IL, ESITO, QUORUM, REGOLA)
    return d


def test_proposta_iscritta_approvata_gets_number_n_slash_year() -> None:
    d = proposta()
    assert (d.stato, d.numero, d.seduta_id) == ("proposta", None, None)
    d.iscrivi(SEDUTA)
    assert (d.stato, d.seduta_id) == ("iscritta", SEDUTA)
    d.approva(SEDUTA, 3, 2026, IL, ESITO, QUORUM, REGOLA)
    assert (d.stato, d.numero, d.data, d.esito) == ("approvata", "3/2026", IL, ESITO)
    proposta_, iscritta, approvata_ = d.collect_events()
    assert isinstance(proposta_, Deliberazione.Proposta) and proposta_.riferimenti["versione"] == 1
    assert isinstance(iscritta, Deliberazione.IscrittaAllOrdineDelGiorno) and iscritta.seduta_id == SEDUTA
    assert isinstance(approvata_, Deliberazione.Approvata)
    assert (approvata_.numero, approvata_.quorum, approvata_.regola) == ("3/2026", QUORUM, REGOLA)


@pytest.mark.parametrize("azione", [
    lambda d: d.approva(SEDUTA, 4, 2026, IL, ESITO, QUORUM, REGOLA),
    lambda d: d.respingi(SEDUTA, IL, {**ESITO, "approvata": False}, QUORUM, REGOLA),
    lambda d: d.rinvia(SEDUTA),
], ids=["approva", "respingi", "rinvia"])
def test_an_approved_deliberation_is_immutable(azione) -> None:
    d = approvata()
    with pytest.raises(Conflict) as caught:
        azione(d)
    assert caught.value.rule == "deliberazione.immutabile" and "3/2026" in caught.value.detail
    assert (d.stato, d.numero, d.version) == ("approvata", "3/2026", 3)
    with pytest.raises(RuleViolation) as iscrivi:
        d.iscrivi(ALTRA_SEDUTA)
    assert (iscrivi.value.rule, iscrivi.value.field) == ("deliberazione.iscrivibile", "ordine_del_giorno")


def test_a_postponed_proposal_goes_on_another_agenda() -> None:
    d = proposta()
    d.iscrivi(SEDUTA)
    d.rinvia(SEDUTA)
    assert (d.stato, d.seduta_id) == ("proposta", None)
    assert isinstance(d.collect_events()[-1], Deliberazione.Rinviata)
    d.iscrivi(ALTRA_SEDUTA)
    with pytest.raises(Conflict) as caught:
        d.approva(SEDUTA, 1, 2026, IL, ESITO, QUORUM, REGOLA)  # the first seduta no longer has it
    assert caught.value.rule == "deliberazione.iscritta"
    d.approva(ALTRA_SEDUTA, 1, 2026, IL, ESITO, QUORUM, REGOLA)
    assert d.numero == "1/2026"


def test_a_rejected_proposal_has_no_number_and_is_closed() -> None:
    d = proposta()
    d.iscrivi(SEDUTA)
    d.respingi(SEDUTA, IL, {**ESITO, "approvata": False}, QUORUM, REGOLA)
    assert (d.stato, d.numero, d.esito["approvata"]) == ("respinta", None, False)
    with pytest.raises(Conflict) as caught:
        d.approva(SEDUTA, 1, 2026, IL, ESITO, QUORUM, REGOLA)
    assert caught.value.rule == "deliberazione.iscritta"


def test_the_register_of_a_year_assigns_1_2_3() -> None:
    registro = RegistroDeliberazioni(tenant_id="15-S09", anno=2026)
    ids = [uuid.uuid4() for _ in range(3)]
    assert [registro.assegna(i) for i in ids] == [1, 2, 3]
    assert registro.numeri == ids
    _, *assegnati = registro.collect_events()
    assert [(e.numero, e.deliberazione_id) for e in assegnati] == list(zip([1, 2, 3], ids))
    assert registro.id == RegistroDeliberazioni.create_id("15-S09", 2026) != RegistroDeliberazioni.create_id(
        "15-S09", 2027)
