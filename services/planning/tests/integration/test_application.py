"""The planning application on the real PostgreSQL store (no broker involved)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ambiti_kit.errors import Conflict, NotFound
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.testing.fixtures import Infra
from planning.application import Planning
from planning.domain.piano import PianoDiZona

COMUNI = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373},
          {"istat": "065154", "nome": "Vibonati", "popolazione": 3151}]


@pytest.fixture(scope="module")
def app(infra: Infra) -> Planning:
    app = open_event_store(replace(infra, namespace=f"{infra.namespace}papp_").settings("planning"), Planning)
    yield app
    app.close()


def test_the_same_composition_again_records_nothing_and_a_change_is_a_new_version(app: Planning) -> None:
    ambito, created = app.registra_ambito("15-APP1", "Ambito S09", "065134", date(2023, 1, 1), COMUNI)
    assert created and ambito.version == 1
    again, created = app.registra_ambito("15-APP1", "Ambito S09", "065134", date(2023, 1, 1), COMUNI)
    assert not created and again.version == 1
    changed, _ = app.registra_ambito("15-APP1", "Ambito S09", "065134", date(2024, 1, 1), COMUNI)
    assert changed.version == 2 and app.ambito("15-APP1").popolazione_al == date(2024, 1, 1)


def test_one_plan_per_triennium_and_other_tenants_get_404(app: Planning) -> None:
    piano = app.redigi_piano("15-APP2", "Piano", 2025, 2027, "x")
    with pytest.raises(Conflict):
        app.redigi_piano("15-APP2", "Altro", 2025, 2027, "x")
    assert app.piano("15-APP2", piano.id).titolo == "Piano"
    with pytest.raises(NotFound):
        app.piano("15-APP3", piano.id)


def test_an_event_without_a_valid_tenant_is_never_stored(app: Planning) -> None:
    piano = PianoDiZona(tenant_id="not-a-tenant", titolo="x", anno_inizio=2025, anno_fine=2027, creato_da="x")
    with pytest.raises(TypeError, match="tenant_id"):
        app.save(piano)
    assert not app.exists(piano.id)
