"""Tavoli: members by codice fiscale or by staff role, meetings, minutes and proposals (no I/O)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from ambiti_kit.errors import Conflict, RuleViolation
from partnership.domain.tavoli import Tavolo

FARO = {"ente_id": str(uuid.uuid4()), "codice_fiscale": "00743110157", "denominazione": "Coop Il Faro"}
INTERVENTO = {"codice": "A1.2", "titolo": "Assistenza domiciliare anziani",
              "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"}, "comuni": ["065134", "065154"],
              "utenti_attesi": 80}
QUANDO = datetime(2026, 5, 12, 10, tzinfo=timezone.utc)


def tavolo() -> Tavolo:
    t = Tavolo.istituisci("15-S09", "tematico", "Tavolo anziani", "anziani", "coordinatore@15-S09")
    t.aggiungi_ente(FARO, "anziani", "c")
    t.aggiungi_staff_comune("065134", "assistente_sociale", "anziani", "c")
    return t


@pytest.mark.parametrize("tipo, nome, area, rule, field", [
    ("consulta", "Tavolo", "anziani", "tavolo.tipo", "tipo"),
    ("tematico", "Tavolo", "sport", "area.tematica", "area"),
    ("tematico", "  ", "anziani", "tavolo.nome", "nome"),
])
def test_istituzione(tipo: str, nome: str, area: str, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        Tavolo.istituisci("15-S09", tipo, nome, area, "c")
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_members_are_enti_by_codice_fiscale_and_comuni_staff_by_role_once_each() -> None:
    t = tavolo()
    assert set(t.membri) == {"00743110157", "065134:assistente_sociale"}
    assert t.ha_membro_ente("00743110157") and not t.ha_membro_ente("065134:assistente_sociale")
    with pytest.raises(Conflict) as caught:
        t.aggiungi_ente(FARO, "disabilita", "c")
    assert caught.value.rule == "tavolo.membro_unico"
    with pytest.raises(RuleViolation) as caught:
        t.aggiungi_staff_comune("065134", "Maria Rossi", "anziani", "c")  # a name is not a role
    assert (caught.value.rule, caught.value.field) == ("tavolo.ruolo_staff", "ruolo")
    with pytest.raises(RuleViolation) as caught:
        t.aggiungi_staff_comune("65134", "educatore", "anziani", "c")
    assert caught.value.rule == "codice.istat"
    t.rimuovi_membro("065134:assistente_sociale", "trasferita ad altro servizio", "c")
    assert list(t.membri) == ["00743110157"]
    with pytest.raises(RuleViolation) as caught:
        t.rimuovi_membro("065134:assistente_sociale", "di nuovo", "c")
    assert (caught.value.rule, caught.value.field) == ("tavolo.membro_presente", "chiave")


def test_a_meeting_is_convened_with_an_agenda_then_held_with_attendance_of_members_and_minutes() -> None:
    vuoto = Tavolo.istituisci("15-S09", "tecnico", "Tavolo tecnico", "trasversale", "c")
    with pytest.raises(RuleViolation) as caught:
        vuoto.convoca_riunione(QUANDO, "Sapri", ["Analisi dei bisogni"], "c")
    assert caught.value.rule == "tavolo.membri_presenti"
    t = tavolo()
    with pytest.raises(RuleViolation) as caught:
        t.convoca_riunione(QUANDO, "Sapri", [" "], "c")
    assert caught.value.rule == "riunione.ordine_del_giorno"
    riunione = t.convoca_riunione(QUANDO, "Sapri", ["Analisi dei bisogni", "Proposte al Piano"], "c")
    for presenti, verbale, rule in [(["99999999999"], "Verbale della seduta", "riunione.presenti_membri"),
                                    (["00743110157"], "breve", "riunione.verbale"),
                                    (["00743110157"], "Interviene RSSMRA80A01H703X sul punto 1",
                                     "dati_personali.codice_fiscale")]:
        with pytest.raises(RuleViolation) as caught:
            t.registra_riunione(riunione, presenti, verbale, "c")
        assert caught.value.rule == rule
    with pytest.raises(RuleViolation) as caught:
        t.registra_riunione("nessuna", [], "Verbale della seduta", "c")
    assert caught.value.rule == "riunione.convocata"
    t.registra_riunione(riunione, ["00743110157", "065134:assistente_sociale"], "Verbale: bisogni discussi.", "c")
    assert t.riunioni[riunione]["tenuta"] and len(t.riunioni[riunione]["presenti"]) == 2
    with pytest.raises(Conflict) as caught:
        t.registra_riunione(riunione, [], "Verbale della seduta", "c")
    assert caught.value.rule == "riunione.gia_tenuta"
    eventi = [type(e).__name__ for e in t.collect_events()]
    assert eventi[-2:] == ["RiunioneConvocata", "RiunioneTenuta"]


@pytest.mark.parametrize("modifica, rule, field", [
    ({"codice": "A 1"}, "intervento.codice", "intervento.codice"),
    ({"nomenclatura": {"sistema": "fnps_macrolivello", "codice": "6"}}, "nomenclatura.macro_livello",
     "intervento.nomenclatura.codice"),
    ({"nomenclatura": {"sistema": "nomenclatore", "codice": "Z9"}}, "nomenclatura.codice_nomenclatore",
     "intervento.nomenclatura.codice"),
    ({"nomenclatura": {"sistema": "altro", "codice": "1"}}, "nomenclatura.sistema",
     "intervento.nomenclatura.sistema"),
    ({"comuni": []}, "proposta.comuni", "intervento.comuni"),
    ({"comuni": ["65134"]}, "codice.istat", "intervento.comuni.0"),
    ({"comuni": ["065134", "065134"]}, "proposta.comuni_unici", "intervento.comuni"),
    ({"utenti_attesi": -1}, "proposta.utenti_attesi", "intervento.utenti_attesi"),
])
def test_the_suggested_intervento_is_checked(modifica: dict, rule: str, field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        tavolo().formula_proposta("Più ore di SAD", "Estendere il SAD", "anziani", {**INTERVENTO, **modifica},
                                  None, None, "c")
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_a_proposal_names_a_held_meeting_or_none_and_carries_the_intervento() -> None:
    t = tavolo()
    riunione = t.convoca_riunione(QUANDO, "Sapri", ["Proposte"], "c")
    with pytest.raises(RuleViolation) as caught:
        t.formula_proposta("Più ore di SAD", "Estendere il SAD", "anziani", INTERVENTO, None, riunione, "c")
    assert (caught.value.rule, caught.value.field) == ("proposta.riunione_tenuta", "riunione_id")
    t.registra_riunione(riunione, ["00743110157"], "Verbale: proposta approvata.", "c")
    piano_id = uuid.uuid4()
    proposta_id = t.formula_proposta("Più ore di SAD", "Estendere il SAD", "anziani", INTERVENTO, piano_id,
                                     riunione, "coordinatore@15-S09")
    evento = t.collect_events()[-1]
    assert isinstance(evento, Tavolo.PropostaFormulata) and str(evento.proposta_id) == proposta_id
    assert (evento.piano_id, evento.intervento, evento.tenant_id) == (piano_id, INTERVENTO, "15-S09")
