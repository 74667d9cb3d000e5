"""The pure rules of monitoring's projections: plan states, counters, vote summaries (no I/O)."""

from __future__ import annotations

import pytest

from monitoring.projections import conteggi, deliberazioni, piani
from monitoring.projections.piani import (CONCLUSO, IN_ATTUAZIONE, PROPOSTA_RESPINTA, PROPOSTO, VERSIONE_APPROVATA,
                                          stato_dopo, vigente_dopo)


def test_the_plan_follows_version_1_through_its_whole_life() -> None:
    stato = "bozza"
    trail = []
    for tipo in (PROPOSTO, PROPOSTA_RESPINTA, PROPOSTO, VERSIONE_APPROVATA, IN_ATTUAZIONE, CONCLUSO):
        stato = stato_dopo(stato, tipo, 1 if tipo not in (IN_ATTUAZIONE, CONCLUSO) else None)
        trail.append(stato)
    assert trail == ["proposto", "bozza", "proposto", "approvato", "in_attuazione", "concluso"]


@pytest.mark.parametrize("tipo", [PROPOSTO, VERSIONE_APPROVATA, PROPOSTA_RESPINTA])
@pytest.mark.parametrize("stato", ["approvato", "in_attuazione"])
def test_later_versions_do_not_move_the_plan_s_own_state(tipo: str, stato: str) -> None:
    assert stato_dopo(stato, tipo, 2) == stato


def test_an_event_that_does_not_move_the_state_leaves_it() -> None:
    assert stato_dopo("proposto", "planning.piano_di_zona.contenuto_aggiornato", 1) == "proposto"


def test_the_version_in_force_is_the_latest_approved() -> None:
    assert vigente_dopo(None, 1)
    assert vigente_dopo(1, 2)
    assert not vigente_dopo(3, 2)


def test_a_transition_moves_one_unit_between_counters_and_a_new_record_adds_one() -> None:
    assert conteggi.delta(None, "bozza", piani.COLONNE) == {"bozza": 1}
    assert conteggi.delta("bozza", "proposto", piani.COLONNE) == {"proposto": 1, "bozza": -1}
    assert conteggi.delta("approvato", "approvato", piani.COLONNE) == {}
    assert conteggi.delta("proposta", "respinta", deliberazioni.COLONNE) == {"respinte": 1, "proposte": -1}
    with pytest.raises(KeyError):
        conteggi.delta("bozza", "sconosciuto", piani.COLONNE)


def test_every_state_has_a_counter_column_added_idempotently_and_backfilled_only_where_needed() -> None:
    assert set(piani.COLONNE) == set(piani.STATI)
    [regional] = [s for s in piani.DDL if s.startswith("ALTER TABLE {schema}.regionale_piani ADD")]
    assert all(f"ADD COLUMN IF NOT EXISTS {c} int NOT NULL DEFAULT 0" in regional for c in piani.STATI)
    [backfill] = [s for s in piani.DDL if s.startswith("UPDATE")]
    assert backfill.endswith("WHERE bozza + proposto + approvato + in_attuazione + concluso <> piani")
    for statement in [*piani.DDL, *deliberazioni.DDL]:
        assert statement.startswith(("CREATE TABLE IF NOT EXISTS", "CREATE INDEX IF NOT EXISTS", "ALTER TABLE",
                                     "UPDATE")), statement
        if "ADD COLUMN" in statement:
            assert all(part.startswith(" IF NOT EXISTS") for part in statement.split("ADD COLUMN")[1:])


ESITO = {"approvata": True, "famiglia": "doppia_maggioranza",
         "per_testa": {"favorevoli": 3, "contrari": 1, "astenuti": 0, "non_votanti": 0, "base": 4,
                       "maggioranza": True},
         "ponderato": {"favorevoli": 61000, "contrari": 9000, "astenuti": 0, "non_votanti": 0, "base": 70000,
                       "maggioranza": True},
         "motivazione": "Approvata: componenti favorevoli 3 su 4 dei presenti."}


def test_the_vote_summary_flattens_to_columns_and_back() -> None:
    esito = deliberazioni.Esito.model_validate(ESITO)
    columns = deliberazioni.colonne_esito(esito)
    assert set(columns) == set(deliberazioni.COLONNE_ESITO)
    assert (columns["per_testa_favorevoli"], columns["ponderato_favorevoli"]) == (3, 61000)
    assert deliberazioni.esito_da_colonne(columns) == {
        "famiglia": "doppia_maggioranza", "motivazione": ESITO["motivazione"],
        "per_testa": {"favorevoli": 3, "contrari": 1, "astenuti": 0, "base": 4},
        "ponderato": {"favorevoli": 61000, "contrari": 9000, "astenuti": 0, "base": 70000}}
    assert deliberazioni.esito_da_colonne({"famiglia": None}) is None


def test_an_outcome_without_its_figures_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        deliberazioni.DeliberazioneApprovata.model_validate(
            {"deliberazione_id": "8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11",
             "seduta_id": "8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e12", "data": "2026-03-02", "numero": "1/2026",
             "esito": {"famiglia": "per_testa"}})
