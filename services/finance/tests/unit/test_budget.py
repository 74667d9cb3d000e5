"""The budget aggregate (no I/O)."""

from __future__ import annotations

import uuid

from finance.domain.budget import Budget


def test_one_budget_per_plan_and_tenant() -> None:
    piano = uuid.uuid4()
    budget = Budget(tenant_id="15-S09", piano_id=piano, anno_inizio=2025, anno_fine=2027)
    assert budget.id == Budget.create_id("15-S09", piano)
    assert budget.id != Budget.create_id("15-S10", piano)
    assert budget.righe == [] and budget.piano_id == piano
    [aperto] = budget.collect_events()
    assert isinstance(aperto, Budget.Aperto) and aperto.tenant_id == "15-S09"
