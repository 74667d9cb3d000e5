"""Field types shared by the services' request models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

#: no control characters (NUL and friends cannot be stored in PostgreSQL text columns, and
#: have no place in a title or a name)
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


def testo(min_length: int = 1, max_length: int = 200) -> Any:
    """A single-line human text: trimmed, bounded, without control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length,
                                            pattern=NO_CONTROL_CHARACTERS)]


def codice_fiscale_ente_valido(value: str) -> bool:
    """An organisation's codice fiscale: 11 digits whose last is the Luhn check digit of the others.

    (The same algorithm as the partita IVA; bodies without VAT, e.g. associations, have one too.)
    """
    from stdnum import luhn

    return len(value) == 11 and value.isdigit() and luhn.is_valid(value)
