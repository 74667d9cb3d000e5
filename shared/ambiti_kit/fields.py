"""Request field types shared by every service: each validates its field once, at the edge.

Each type is a pydantic ``Annotated`` type whose OpenAPI says exactly what the server accepts
(type, pattern, length, an example) and whose validation is the kit's own guard from
``ambiti_kit.values``: a wrong value is a 422 naming the field (its full path) and the rule
(e.g. ``importo.centesimi``), in Italian, and the route receives the parsed value (an amount
as a ``Decimal``). ``StrictIn`` is the base of every request body: unknown fields refused,
no coercion between types, text trimmed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Callable

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from ambiti_kit import errors, values  # modules, not names: errors imports this module

#: no control characters (NUL and friends cannot be stored in PostgreSQL text columns, and
#: have no place in a title or a name)
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


class StrictIn(BaseModel):
    """Base of request bodies: unknown fields are refused, types are not coerced, text is trimmed."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def testo(min_length: int = 1, max_length: int = 200) -> Any:
    """A single-line human text: trimmed, bounded, without control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length,
                                            pattern=NO_CONTROL_CHARACTERS)]


def _guarded(guard: Callable[..., Any], accepts: tuple[type, ...], message: str) -> Callable[[Any], Any]:
    """A pydantic validator running one of ``values``' guards; its rule and message become the error's."""
    def validate(value: Any) -> Any:
        if not isinstance(value, accepts) or isinstance(value, bool):
            raise PydanticCustomError("tipo.stringa", message)
        try:
            return guard(value.strip() if isinstance(value, str) else value)
        except errors.RuleViolation as exc:
            raise PydanticCustomError(exc.rule or "valore", exc.detail) from None
    return validate


def _code(guard: Callable[..., str], pattern: str, example: str, description: str, max_length: int) -> Any:
    return Annotated[str, PlainValidator(_guarded(guard, (str,), "Va scritto come testo.")),
                     WithJsonSchema({"type": "string", "pattern": pattern, "maxLength": max_length,
                                     "examples": [example], "description": description})]


#: euro as a JSON string with at most two decimals, positive, below 10^12; parsed to ``Decimal``
Importo = Annotated[
    Decimal,
    PlainValidator(_guarded(values.importo, (str, Decimal),
                            "Gli importi si scrivono come stringhe decimali (es. \"1250.00\"), non come numeri.")),
    PlainSerializer(values.euro, return_type=str),
    WithJsonSchema({"type": "string", "pattern": values.IMPORTO, "maxLength": 15, "examples": ["125000.00"],
                    "description": "Euro: stringa decimale positiva con al più due decimali (mai un numero)."}),
]
CodiceFiscaleEnte = _code(values.verifica_codice_fiscale_ente, r"^\d{11}$", "00743110157",
                          "Codice fiscale di un ente: 11 cifre, l'ultima di controllo.", 11)
CodiceFiscaleBeneficiario = _code(
    values.verifica_codice_fiscale_beneficiario, r"^([0-9]{11}|[A-Z0-9]{16})$", "RSSMRA85T10A562S",
    "Codice fiscale del beneficiario: 11 cifre (ente, società; l'ultima di controllo) o 16 caratteri (persona: "
    "professionista, ditta individuale; l'ultimo di controllo).", 16)
Cig = _code(values.verifica_cig, r"^[A-Z0-9]{10}$", "B1C2D3E4F5",
            "CIG (codice identificativo gara, ANAC): 10 caratteri, lettere maiuscole e cifre.", 10)
Cup = _code(values.verifica_cup, r"^[A-Z][0-9]{2}[A-Z][0-9]{11}$", "J51B21005460006",
            "CUP (codice unico di progetto): lettera, 2 cifre, lettera, 11 cifre.", 15)
IstatComune = _code(values.verifica_istat_comune, r"^[0-9]{6}$", "065134",
                    "Codice ISTAT del Comune: 6 cifre.", 6)
