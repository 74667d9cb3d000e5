"""Accreditations and awards gate commitments to the providers under that regime (no I/O)."""

from __future__ import annotations

from datetime import date

import pytest

from ambiti_kit.errors import RuleViolation
from finance.domain.abilitazioni import verifica_abilitazione

OGGI = date(2026, 3, 1)


def titolo(intervento: str | None = "A.1.1", dal: date = date(2025, 1, 1), al: date = date(2026, 12, 31),
           revocato_il: date | None = None) -> dict:
    return {"intervento": intervento, "valido_dal": dal, "valido_al": al, "revocato_il": revocato_il}


def test_a_provider_outside_the_regime_is_not_checked() -> None:
    verifica_abilitazione([], "A.1.1", OGGI)


@pytest.mark.parametrize("titoli", [[titolo()], [titolo(intervento=None)],
                                    [titolo(al=date(2025, 12, 31)), titolo(dal=date(2026, 1, 1))]])
def test_a_valid_title_for_the_intervento_on_the_day_allows_the_commitment(titoli: list[dict]) -> None:
    verifica_abilitazione(titoli, "A.1.1", OGGI)


@pytest.mark.parametrize("titoli, rule", [
    ([titolo(al=date(2026, 2, 28))], "impegno.accreditamento_scaduto"),        # expired the day before
    ([titolo(dal=date(2026, 3, 2))], "impegno.accreditamento_scaduto"),        # not yet valid
    ([titolo(revocato_il=date(2026, 1, 10))], "impegno.accreditamento_revocato"),
    ([titolo(intervento="B.2.1")], "impegno.fornitore_non_abilitato"),          # accredited for something else
])
def test_an_expired_revoked_or_unrelated_title_blocks_new_commitments(titoli: list[dict], rule: str) -> None:
    with pytest.raises(RuleViolation) as err:
        verifica_abilitazione(titoli, "A.1.1", OGGI)
    assert (err.value.rule, err.value.field) == (rule, "beneficiario.codice_fiscale")


def test_the_last_day_of_validity_still_counts() -> None:
    verifica_abilitazione([titolo(al=OGGI)], "A.1.1", OGGI)
