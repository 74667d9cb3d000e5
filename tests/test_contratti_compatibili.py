"""A published schema version changes only compatibly; a breaking change needs a new version.

The checker is proved on fixtures first (an additive change passes, a breaking one is caught field by
field), then applied to every schema in contracts/ against what contracts/published.lock.json records
as published.
"""

from __future__ import annotations

import json
from pathlib import Path

from ambiti_kit.testing.compat import breaking_changes, current_schemas, published

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "contratti"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.schema.json").read_text())


def test_an_additive_change_passes() -> None:
    assert breaking_changes(load("pubblicato"), load("additivo")) == []


def test_a_breaking_change_is_caught_naming_each_field() -> None:
    problems = breaking_changes(load("pubblicato"), load("incompatibile"))
    assert sorted(problems) == sorted([
        "/importo: tipo ['string'] → ['number']",
        "/importo: pattern '^\\\\d+\\\\.\\\\d{2}$' → None",
        "/stato: non è più obbligatorio",
        "/stato: enum accetta valori nuovi ['annullato']",
        "/beneficiario/codice_fiscale: campo tolto",
        "/righe: maxItems 20 → nessuno",
        "/righe[]/capitolo: maxLength 20 → 40",
    ])
    moved = dict(load("additivo"), **{"$id": "https://contracts.ambiti.example/prova/altro.v1.schema.json"})
    assert breaking_changes(load("pubblicato"), moved)[0].startswith("$id cambiato")


def test_every_published_schema_changed_only_compatibly() -> None:
    lock, current = published(), current_schemas()
    assert len(lock) > 40
    gone = sorted(set(lock) - set(current))
    assert not gone, f"schemi pubblicati tolti (servono ancora ai consumatori): {gone}"
    broken = {path: problems for path in lock if (problems := breaking_changes(lock[path], current[path]))}
    assert not broken, "cambiamenti incompatibili di versioni pubblicate (serve un nuovo tipo .v2):\n" + \
        json.dumps(broken, ensure_ascii=False, indent=1)
    unpublished = sorted(set(current) - set(lock))
    assert not unpublished, f"schemi nuovi non ancora registrati come pubblicati (`make contracts-publish`): {unpublished}"
