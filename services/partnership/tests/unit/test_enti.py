"""The registry of partners: identifiers, RUNTS, history of changes, referenti (no I/O)."""

from __future__ import annotations

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from partnership.domain.enti import Ente, ReferenteEts

CF = "00743110157"
ETS = {"tipo": "ets", "denominazione": "Cooperativa sociale Il Faro", "forma_giuridica": "cooperativa sociale",
       "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"}}


def ente(**dati: object) -> Ente:
    return Ente.registra("15-S09", CF, {**ETS, **dati}, "coordinatore@15-S09")


def test_an_ets_is_registered_with_an_id_derived_from_its_codice_fiscale() -> None:
    e = ente()
    [registrato] = e.collect_events()
    assert isinstance(registrato, Ente.Registrato) and registrato.tenant_id == "15-S09"
    assert e.id == Ente.create_id("15-S09", CF) != Ente.create_id("15-S10", CF)
    assert e.runts == {"sezione": "imprese_sociali", "numero_repertorio": "104578"}


@pytest.mark.parametrize("cf", ["00743110158", "0074311015", "RSSMRA80A01H703X", "abcdefghijk"])
def test_only_valid_organisation_codici_fiscali(cf: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        Ente.registra("15-S09", cf, ETS, "c")
    assert (caught.value.rule, caught.value.field) == ("ente.codice_fiscale", "codice_fiscale")


@pytest.mark.parametrize("dati, rule, field", [
    ({"tipo": "impresa"}, "ente.tipo", "tipo"),
    ({"denominazione": " "}, "ente.denominazione", "denominazione"),
    ({"runts": None}, "ente.runts_richiesto", "runts"),
    ({"runts": {"sezione": "onlus", "numero_repertorio": "1"}}, "ente.runts_sezione", "runts.sezione"),
    ({"runts": {"sezione": "odv", "numero_repertorio": "A-12"}}, "ente.runts_numero", "runts.numero_repertorio"),
    ({"forma_giuridica": None}, "ente.forma_giuridica", "forma_giuridica"),
    ({"tipo": "pubblico", "runts": None, "categoria": "asl"} | {"runts": {"sezione": "odv", "numero_repertorio": "1"}},
     "ente.runts_solo_ets", "runts"),
    ({"tipo": "pubblico", "runts": None, "categoria": "ospedale"}, "ente.categoria", "categoria"),
    ({"categoria": "asl"}, "ente.categoria_solo_pubblici", "categoria"),
    ({"comune_sede": "65134"}, "codice.istat", "comune_sede"),
    ({"denominazione": "Studio di RSSMRA80A01H703X"}, "dati_personali.codice_fiscale", "denominazione"),
])
def test_registry_rules(dati: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        ente(**dati)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_public_partners_and_unions() -> None:
    asl = Ente.registra("15-S09", "04701800650", {"tipo": "pubblico", "denominazione": "ASL Salerno",
                                                  "categoria": "asl"}, "c")
    assert (asl.tipo, asl.categoria, asl.runts) == ("pubblico", "asl", None)
    cgil = Ente.registra("15-S09", "80012170157", {"tipo": "sindacato", "denominazione": "CGIL Salerno"}, "c")
    assert cgil.tipo == "sindacato"


def test_each_change_is_an_event_with_what_changed_from_what_and_nothing_changed_records_nothing() -> None:
    e = ente()
    assert e.aggiorna({**ETS}, "c") is False
    assert e.aggiorna({**ETS, "denominazione": "Il Faro Impresa Sociale", "comune_sede": "065134"}, "amm") is True
    _, aggiornato = e.collect_events()
    assert isinstance(aggiornato, Ente.Aggiornato)
    assert aggiornato.modifiche == {
        "denominazione": {"prima": "Cooperativa sociale Il Faro", "dopo": "Il Faro Impresa Sociale"},
        "comune_sede": {"prima": None, "dopo": "065134"}}
    assert (e.denominazione, e.comune_sede, e.version) == ("Il Faro Impresa Sociale", "065134", 2)


def test_referenti_are_bound_once_and_a_subject_acts_for_one_ente() -> None:
    e = ente()
    e.abilita_referente("referente_ets@15-S09", "c")
    with pytest.raises(Conflict) as caught:
        e.abilita_referente("referente_ets@15-S09", "c")
    assert caught.value.rule == "referente.gia_abilitato"
    with pytest.raises(RuleViolation) as caught:
        e.abilita_referente("x y", "c")
    assert (caught.value.rule, caught.value.field) == ("referente.subject", "subject")
    binding = ReferenteEts(tenant_id="15-S09", subject="referente_ets@15-S09", ente_id=e.id)
    assert binding.id == ReferenteEts.create_id("15-S09", "referente_ets@15-S09")
    with pytest.raises(Conflict) as caught:
        binding.associa(Ente.create_id("15-S09", "80012170157"))
    assert caught.value.rule == "referente.un_ente"
    binding.dissocia()
    e.revoca_referente("referente_ets@15-S09", "c")
    assert e.referenti == [] and binding.ente_id is None
    with pytest.raises(RuleViolation) as caught:
        e.revoca_referente("referente_ets@15-S09", "c")
    assert caught.value.rule == "referente.abilitato"
