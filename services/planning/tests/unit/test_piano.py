"""The Piano di Zona aggregate and its rules (no I/O)."""

from __future__ import annotations

import copy
import uuid
from datetime import date

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from planning.domain.piano import STATI, PianoDiZona, verifica_periodo


def test_a_drafted_plan_is_a_bozza_of_its_tenant_with_one_creato_event() -> None:
    piano = PianoDiZona.redigi("15-S09", "  Piano Sociale di Zona 2025–2027 ", 2025, 2027, "coordinatore@15-S09")
    assert (piano.tenant_id, piano.stato, piano.titolo) == ("15-S09", "bozza", "Piano Sociale di Zona 2025–2027")
    [creato] = piano.collect_events()
    assert isinstance(creato, PianoDiZona.Creato)
    assert (creato.anno_inizio, creato.anno_fine, creato.creato_da) == (2025, 2027, "coordinatore@15-S09")


def test_the_id_is_derived_from_tenant_and_triennium() -> None:
    a = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "x")
    b = PianoDiZona.redigi("15-S09", "Altro titolo", 2025, 2027, "y")
    other_tenant = PianoDiZona.redigi("15-S10", "Piano", 2025, 2027, "x")
    other_period = PianoDiZona.redigi("15-S09", "Piano", 2028, 2030, "x")
    assert a.id == b.id
    assert len({a.id, other_tenant.id, other_period.id}) == 3


@pytest.mark.parametrize("inizio, fine", [(2025, 2026), (2025, 2028), (2027, 2025), (2025, 2025)])
def test_a_plan_is_triennial(inizio: int, fine: int) -> None:
    with pytest.raises(RuleViolation) as caught:
        verifica_periodo(inizio, fine)
    assert caught.value.rule == "piano.periodo_triennale" and caught.value.field == "anno_fine"


# ---------------------------------------------------------------- content, versions and states
COMUNI_S09 = {"065134", "065156", "065149", "065059", "065077", "065150"}  # Sapri, Vibonati, Torre Orsaia, ...
DELIBERA = uuid.UUID("00000000-0000-4000-8000-000000000012")


def aree(importo: str = "125000.00") -> list[dict]:
    sad = {"codice": "SAD-01", "titolo": "Assistenza domiciliare", "nomenclatura": {"sistema": "nomenclatore",
           "codice": "D1"}, "comuni": ["065134", "065156"], "utenti_attesi": 120,
           "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": importo}]}
    return [{"codice": "A2", "titolo": "Domiciliarità", "obiettivi": [
        {"codice": "OB-2.1", "titolo": "Sostenere la permanenza a domicilio", "interventi": [sad]}]}]


def piano_in(stato: str) -> PianoDiZona:
    """A plan with content, brought to ``stato`` through its commands."""
    piano = PianoDiZona.redigi("15-S09", "Piano Sociale di Zona 2025–2027", 2025, 2027, "coordinatore@15-S09")
    piano.aggiorna_contenuto(1, aree(), COMUNI_S09, "coordinatore@15-S09")
    passi = [lambda: piano.proponi(1, "coordinatore@15-S09"), lambda: piano.approva(1, DELIBERA, "12/2026"),
             lambda: piano.entra_in_attuazione(uuid.uuid4(), date(2026, 5, 4)), lambda: piano.concludi("x")]
    for passo in passi[:STATI.index(stato)]:
        passo()
    assert piano.stato == stato
    return piano


def test_content_update_is_an_event_and_the_state_is_a_copy_of_the_input() -> None:
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "x")
    contenuto = aree()
    piano.aggiorna_contenuto(1, contenuto, COMUNI_S09, "coordinatore@15-S09")
    contenuto[0]["codice"] = "MUTATO"
    _, aggiornato = piano.collect_events()
    assert isinstance(aggiornato, PianoDiZona.ContenutoAggiornato) and aggiornato.versione == 1
    assert piano.versione(1)["aree"] == aree()
    with pytest.raises(RuleViolation) as caught:
        piano.aggiorna_contenuto(1, aree("9.00"), {"065134"}, "x")  # Vibonati is not in this Ambito
    assert (caught.value.rule, caught.value.field) == ("intervento.comuni_ambito",
                                                        "aree.0.obiettivi.0.interventi.0.comuni")
    assert piano.collect_events() == [] and piano.versione(1)["aree"] == aree()


def test_a_version_without_interventi_cannot_be_proposed() -> None:
    with pytest.raises(RuleViolation) as caught:
        PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "x").proponi(1, "x")
    assert (caught.value.rule, caught.value.field) == ("piano.interventi_presenti", "aree")


def test_lifecycle_bozza_proposto_approvato_in_attuazione_concluso() -> None:
    piano = piano_in("proposto")
    assert (piano.versione(1)["stato"], piano.versione_vigente) == ("proposta", None)
    piano.approva(1, DELIBERA, "12/2026")
    assert (piano.stato, piano.versione_vigente, piano.versione(1)["deliberazione"]) == ("approvato", 1, "12/2026")
    approvata = piano.collect_events()[-1]
    assert isinstance(approvata, PianoDiZona.VersioneApprovata)
    assert (approvata.tipo, approvata.riferimento, approvata.deliberazione, approvata.aree) == (
        "piano", None, "12/2026", aree())
    piano.entra_in_attuazione(uuid.uuid4(), date(2026, 5, 4))
    piano.concludi("coordinatore@15-S09")
    assert piano.stato == "concluso"
    assert [type(e).__name__ for e in piano.collect_events()] == ["EntratoInAttuazione", "Concluso"]


def test_rejection_returns_version_1_and_the_plan_to_bozza() -> None:
    piano = piano_in("proposto")
    piano.respingi(1, DELIBERA)
    assert (piano.stato, piano.versione(1)["stato"]) == ("bozza", "bozza")


@pytest.mark.parametrize("stato, azione, rule", [
    ("proposto", lambda p: p.aggiorna_contenuto(1, aree("1.00"), COMUNI_S09, "x"), "piano.versione_in_esame"),
    ("approvato", lambda p: p.aggiorna_contenuto(1, aree("1.00"), COMUNI_S09, "x"),
     "piano.versione_approvata_immutabile"),
    ("approvato", lambda p: p.proponi(1, "x"), "piano.versione_approvata_immutabile"),
    ("approvato", lambda p: p.approva(1, uuid.uuid4(), "13/2026"), "piano.versione_proposta"),
    ("bozza", lambda p: p.respingi(1, DELIBERA), "piano.versione_proposta"),
    ("proposto", lambda p: p.entra_in_attuazione(uuid.uuid4(), date(2026, 5, 4)),
     "piano.attuazione_dopo_approvazione"),
    ("approvato", lambda p: p.concludi("x"), "piano.conclusione"),
    ("concluso", lambda p: p.apri_versione("aggiornamento_annuale", 1, "Aggiornamento", "x"), "piano.concluso"),
])
def test_commands_out_of_state_conflict(stato: str, azione, rule: str) -> None:
    piano = piano_in(stato)
    prima = copy.deepcopy(piano.versioni)
    with pytest.raises(Conflict) as caught:
        azione(piano)
    assert caught.value.rule == rule
    assert piano.versioni == prima  # an approved version in particular never changes


def test_an_annual_update_starts_from_the_approved_version_one_draft_at_a_time() -> None:
    piano = piano_in("in_attuazione")
    assert piano.apri_versione("aggiornamento_annuale", 1, "Aggiornamento 2026", "x") == 2
    aperta = piano.collect_events()[-1]
    assert isinstance(aperta, PianoDiZona.VersioneAperta) and (aperta.versione, aperta.riferimento) == (2, 1)
    assert piano.versione(2) == {"tipo": "aggiornamento_annuale", "riferimento": 1, "aree": aree(), "stato": "bozza",
                                 "titolo": "Aggiornamento 2026", "deliberazione_id": None, "deliberazione": None}
    with pytest.raises(Conflict) as caught:
        piano.apri_versione("piano_non_autosufficienza", 1, "Piano non autosufficienza", "x")
    assert caught.value.rule == "piano.una_bozza_alla_volta"
    piano.aggiorna_contenuto(2, aree("140000.00"), COMUNI_S09, "x")
    assert piano.versione(1)["aree"] == aree()  # the approved version is untouched
    piano.proponi(2, "x")
    piano.approva(2, uuid.uuid4(), "3/2027")
    assert (piano.versione_vigente, piano.stato) == (2, "in_attuazione")  # only version 1 moves the plan
    with pytest.raises(RuleViolation) as superata:
        piano.apri_versione("piano_non_autosufficienza", 1, "PNA 2026", "x")  # 1 is no longer in force
    assert superata.value.rule == "piano.riferimento_vigente"
    assert piano.apri_versione("piano_non_autosufficienza", 2, "PNA 2026", "x") == 3


def test_a_plan_with_a_version_before_the_comitato_is_not_concluded() -> None:
    piano = piano_in("in_attuazione")
    piano.apri_versione("aggiornamento_annuale", 1, "Aggiornamento 2026", "x")
    piano.proponi(2, "x")
    with pytest.raises(Conflict) as caught:
        piano.concludi("x")
    assert caught.value.rule == "piano.versione_in_esame" and piano.stato == "in_attuazione"


@pytest.mark.parametrize("stato, tipo, riferimento, rule, field", [
    ("approvato", "piano", 1, "piano.tipo_versione", "tipo"),
    ("approvato", "aggiornamento_annuale", 7, "piano.versione_esistente", "versione"),
    ("proposto", "aggiornamento_annuale", 1, "piano.riferimento_vigente", "riferimento"),
])
def test_a_new_version_is_an_update_referring_to_an_approved_one(stato: str, tipo: str, riferimento: int,
                                                                   rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        piano_in(stato).apri_versione(tipo, riferimento, "Aggiornamento", "x")
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_replaying_the_events_rebuilds_the_same_plan() -> None:
    piano = piano_in("approvato")
    piano.apri_versione("aggiornamento_annuale", 1, "Aggiornamento 2026", "x")
    replayed = None
    for e in piano.collect_events():
        replayed = e.mutate(replayed)
    assert (replayed.stato, replayed.versioni, replayed.version) == (piano.stato, piano.versioni, piano.version)


def test_a_concluded_plan_takes_no_more_edits_even_on_a_draft_left_open() -> None:
    piano = piano_in("in_attuazione")
    piano.apri_versione("aggiornamento_annuale", 1, "Aggiornamento 2026", "c")
    piano.concludi("c")
    with pytest.raises(Conflict) as err:
        piano.aggiorna_contenuto(2, aree("1.00"), {"065134", "065156"}, "c")
    assert err.value.rule == "piano.concluso"
