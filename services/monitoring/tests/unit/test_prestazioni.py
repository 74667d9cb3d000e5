"""Rules of services delivered and staff: named findings, personal-data refusals, per-row CSV report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ambiti_kit.errors import RuleViolation
from eventsourcing.persistence import Notification
from monitoring.domain.personale import dichiara, leggi_dotazione
from monitoring.domain.prestazioni import (Prestazione, comune_nel_ambito, dati_personali, leggi_csv,
                                           leggi_prestazione, nota_valida)
from monitoring.integration.outbound import to_integration_event

OGGI = date(2026, 3, 15)
SEMPRE = [("065134", date.min, date.max), ("065001", date.min, date.max)]
BASE = {"intervento": "SAD", "comune": "065134", "mese": "2026-01", "utenti": {"anziani": {"65+": 12}},
        "accessi": 140, "ore": "210.50", "costo": "4210.00"}
TESTA = "intervento,comune,mese,area,utenti_0_17,utenti_18_64,utenti_65_piu,accessi,ore,costo,note\n"


def regole(raw: dict, **kw) -> list[tuple[str, str]]:
    _, errori = leggi_prestazione(raw, oggi=OGGI, appartenenze=kw.pop("appartenenze", SEMPRE), **kw)
    return [(e.campo, e.regola) for e in errori]


def test_a_valid_record_is_completed_with_every_band() -> None:
    dati, errori = leggi_prestazione(BASE, oggi=OGGI, appartenenze=SEMPRE)
    assert errori == []
    assert dati.utenti == {"anziani": {"0-17": 0, "18-64": 0, "65+": 12}}
    assert (dati.ore, dati.costo) == (Decimal("210.50"), Decimal("4210.00"))


@pytest.mark.parametrize("change, expected", [
    ({"utenti": {"anziani": {"65+": -1}}}, [("utenti.anziani.65+", "prestazione.conteggio_negativo")]),
    ({"accessi": -3}, [("accessi", "prestazione.conteggio_negativo")]),
    ({"costo": "-1.00"}, [("costo", "prestazione.costo_negativo")]),
    ({"costo": 12.5}, [("costo", "prestazione.costo")]),
    ({"mese": "2026-04"}, [("mese", "prestazione.mese_futuro")]),
    ({"mese": "2026-13"}, [("mese", "prestazione.mese")]),
    ({"comune": "099999"}, [("comune", "prestazione.comune_fuori_ambito")]),
    ({"utenti": {"marziani": {"65+": 1}}}, [("utenti.marziani", "prestazione.area")]),
    ({"utenti": {"anziani": {"90+": 1}}}, [("utenti.anziani.90+", "prestazione.fascia_eta")]),
    ({"extra": "x"}, [("extra", "prestazione.campo_sconosciuto")]),
    ({"note": "visita a Mario Rossi"}, [("note", "dati_personali.nome")]),
    ({"note": "x" * 201}, [("note", "prestazione.note")]),
])
def test_each_rule_names_its_field(change: dict, expected: list) -> None:
    assert regole({**BASE, **change}) == expected


def test_the_assistente_sociale_enters_only_for_her_comune() -> None:
    assert regole(BASE, comune_consentito="065001") == [("comune", "prestazione.comune_dell_operatore")]
    assert regole(BASE, comune_consentito="065134") == []


@pytest.mark.parametrize("raw, expected", [
    ({**BASE, "nome": "Anna"}, [("nome", "dati_personali.campo")]),
    ({**BASE, "codice_fiscale": "x"}, [("codice_fiscale", "dati_personali.campo")]),
    ({**BASE, "utenti": {"anziani": {"data_nascita": 1}}}, [("utenti.anziani.data_nascita", "dati_personali.campo")]),
    ({**BASE, "note": "utente RSSMRA80A01H703X"}, [("note", "dati_personali.codice_fiscale")]),
    ({**BASE, "intervento": "RSSMRA80A01H703X"}, [("intervento", "dati_personali.codice_fiscale")]),
])
def test_personal_data_is_refused(raw: dict, expected: list) -> None:
    assert regole(raw) == expected


def test_screening_helpers() -> None:
    assert dati_personali({"a": ["ok", {"Cognome": "x"}]})[0].campo == "a.1.Cognome"
    assert nota_valida("sospeso per ferie del personale") == []
    assert nota_valida("chiesto dalla signora Bianchi")[0].regola == "dati_personali.nome"


def test_membership_periods_keep_months_with_the_ambito_of_their_time() -> None:
    # 065134 left the Ambito on 2025-07-10: June and July still count here, August does not.
    periodi = [("065134", date.min, date(2025, 7, 10))]
    assert comune_nel_ambito("065134", "2025-06", periodi)
    assert comune_nel_ambito("065134", "2025-07", periodi)
    assert not comune_nel_ambito("065134", "2025-08", periodi)
    # ...and joined another Ambito the same day: its months start with July.
    nuovo = [("065134", date(2025, 7, 10), date.max)]
    assert not comune_nel_ambito("065134", "2025-06", nuovo) and comune_nel_ambito("065134", "2025-07", nuovo)


def test_csv_rows_join_into_records() -> None:
    testo = TESTA + ("SAD,065134,2026-01,anziani,0,2,10,100,150.00,1000.00,\n"
                     "SAD,065134,2026-01,disabilita,0,3,0,40,60.50,500.00,turni serali\n"
                     "SEGR,065001,2026-02,multiutenza,1,1,1,3,,0,\n")
    records, errori = leggi_csv(testo, oggi=OGGI, appartenenze=SEMPRE)
    assert errori == []
    sad = next(r for r in records if r.intervento == "SAD")
    assert sad.utenti == {"disabilita": {"0-17": 0, "18-64": 3, "65+": 0}, "anziani": {"0-17": 0, "18-64": 2, "65+": 10}}
    assert (sad.accessi, sad.ore, sad.costo, sad.note) == (140, Decimal("210.50"), Decimal("1500.00"), "turni serali")


def test_a_bad_csv_is_reported_row_by_row_and_nothing_is_returned() -> None:
    testo = TESTA + ("SAD,065134,2026-01,anziani,0,2,10,100,150.00,1000.00,\n"
                     "SAD,065134,2026-01,anziani,0,2,10,100,150.00,1000.00,\n"
                     "SAD,099999,2026-01,anziani,-1,0,0,1,1,1,\n"
                     "SAD,065134,2027-01,anziani,0,0,0,1,1,1,Mario Rossi\n")
    records, errori = leggi_csv(testo, oggi=OGGI, appartenenze=SEMPRE)
    assert records == []
    assert [(e.riga, e.campo, e.regola) for e in errori] == [
        (3, "area", "csv.riga_duplicata"),  # file lines, the header being line 1
        (4, "comune", "prestazione.comune_fuori_ambito"), (4, "utenti_0_17", "prestazione.conteggio_negativo"),
        (5, "mese", "prestazione.mese_futuro"), (5, "note", "dati_personali.nome")]


def test_wrong_or_personal_columns_refuse_the_file() -> None:
    _, errori = leggi_csv("intervento,comune,mese,codice_fiscale\nSAD,065134,2026-01,RSSMRA80A01H703X\n",
                          oggi=OGGI, appartenenze=SEMPRE)
    regole_ = {(e.campo, e.regola) for e in errori}
    assert ("codice_fiscale", "dati_personali.campo") in regole_
    assert ("utenti_0_17", "csv.colonna_mancante") in regole_
    assert all(e.riga == 1 for e in errori)  # the header


def test_a_correction_needs_a_reason_and_emits_a_new_event() -> None:
    dati, _ = leggi_prestazione(BASE, oggi=OGGI, appartenenze=SEMPRE)
    p = Prestazione.registra("15-S09", dati, "as@15-S09")
    with pytest.raises(RuleViolation) as exc:
        p.correggi(dati, "  ", "as@15-S09")
    assert exc.value.rule == "prestazione.motivo_correzione"
    nuovi, _ = leggi_prestazione({**BASE, "accessi": 150}, oggi=OGGI, appartenenze=SEMPRE)
    p.correggi(nuovi, "conteggio rivisto", "as@15-S09")
    registrata, corretta = p.collect_events()
    assert (type(corretta).__name__, corretta.accessi, corretta.motivo) == ("Corretta", 150, "conteggio rivisto")
    n = Notification(id=7, originator_id=p.id, originator_version=2, topic="t", state=b"{}")
    ce = to_integration_event(corretta, n)
    assert ce.type == "monitoring.prestazione.corretta" and ce.data["versione"] == 2
    assert ce.data["ore"] == "210.50" and ce.tenantid == "15-S09"
    assert to_integration_event(registrata, n).data["utenti"] == {"anziani": {"0-17": 0, "18-64": 0, "65+": 12}}


def test_staff_rules() -> None:
    comuni = {"065134"}
    d = leggi_dotazione("065134", "assistente_sociale", "anziani", "1.50", "20", comuni)
    assert (d.fte, d.ore_settimanali_piano) == (Decimal("1.50"), Decimal("20.00"))
    for args, rule in [(("099999", "assistente_sociale", "anziani", "1", "1"), "personale.comune_fuori_ambito"),
                       (("065134", "astronauta", "anziani", "1", "1"), "personale.profilo"),
                       (("065134", "assistente_sociale", "anziani", "-1", "1"), "personale.negativo"),
                       (("065134", "assistente_sociale", "anziani", 1.5, "1"), "personale.formato"),
                       (("065134", "assistente_sociale", "anziani", "1", "37"), "personale.ore_oltre_fte")]:
        with pytest.raises(RuleViolation) as exc:
            leggi_dotazione(*args, comuni)
        assert exc.value.rule == rule
    dot = dichiara("15-S09", d, "coord")
    with pytest.raises(RuleViolation):
        dot.aggiorna(d, None, "coord")


def test_the_name_screen_lets_service_names_through_and_still_stops_a_person_s_name() -> None:
    for servizio in ("Centro Diurno", "Casa Famiglia", "inserimento in Casa Famiglia dal 3 marzo",
                     "Centro Diurno Arcobaleno chiuso ad Agosto", "Servizio Sociale Professionale", "Pronto Intervento"):
        assert nota_valida(servizio) == [], servizio
    for persona in ("Mario Rossi", "colloquio con Anna Bianchi", "sig. Verdi", "Dott.ssa Neri", "Casa Famiglia e Luca Neri"):
        assert [e.regola for e in nota_valida(persona)] == ["dati_personali.nome"], persona
