"""The kit's values and request field types: one guard per field, the same in every service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from ambiti_kit import values
from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import Cig, CodiceFiscaleEnte, Cup, Importo, IstatComune, StrictIn


class Corpo(StrictIn):
    importo: Importo
    codice_fiscale: CodiceFiscaleEnte | None = None
    cig: Cig | None = None
    cup: Cup | None = None
    comune: IstatComune | None = None


@pytest.mark.parametrize("testo, atteso", [("1250", "1250.00"), ("0.01", "0.01"), (" 3.5 ", "3.50"),
                                           ("999999999999.99", "999999999999.99")])
def test_an_amount_is_a_decimal_with_cents(testo: str, atteso: str) -> None:
    assert values.importo(testo) == Decimal(atteso)
    assert str(values.importo(testo)) == atteso


@pytest.mark.parametrize("valore, regola", [
    (12.5, "importo.formato"), (True, "importo.formato"), (12, "importo.formato"), ("1_000", "importo.formato"),
    ("١٠٠", "importo.formato"), ("1e3x", "importo.formato"), ("NaN", "importo.formato"), ("Infinity", "importo.formato"),
    ("0", "importo.positivo"), ("-5.00", "importo.positivo"), ("1.001", "importo.centesimi"),
    ("1e12", "importo.massimo"), ("9" * 50, "importo.formato"), ("1e9999999", "importo.massimo")])
def test_an_amount_refuses_what_is_not_money(valore: object, regola: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        values.importo(valore, "linee.0.importo")
    assert (caught.value.rule, caught.value.field) == (regola, "linee.0.importo")


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2))
def test_every_amount_in_cents_round_trips_through_the_wire(d: Decimal) -> None:
    assert values.importo(values.euro(d)) == d


def test_codes() -> None:
    assert values.verifica_codice_fiscale_ente("00743110157") == "00743110157"
    for cattivo in ("00743110158", "0074311015", "RSSMRA80A01H501U", "００743110157"):
        with pytest.raises(RuleViolation):
            values.verifica_codice_fiscale_ente(cattivo)
    assert values.verifica_cig("B1C2D3E4F5") == "B1C2D3E4F5"
    assert values.verifica_cup("J51B21005460006") == "J51B21005460006"
    assert values.verifica_istat_comune("065134") == "065134"
    for guard, cattivo in ((values.verifica_cig, "B1C2D3E4F5\n"), (values.verifica_cup, "J51B2100546000"),
                           (values.verifica_istat_comune, "65134"), (values.verifica_cig, "b1c2d3e4f5")):
        with pytest.raises(RuleViolation):
            guard(cattivo)


def test_request_types_parse_once_and_name_field_and_rule() -> None:
    corpo = Corpo.model_validate({"importo": "10.5", "codice_fiscale": "00743110157", "cig": "B1C2D3E4F5",
                                  "cup": "J51B21005460006", "comune": "065134"})
    assert corpo.importo == Decimal("10.50") and corpo.model_dump(mode="json")["importo"] == "10.50"
    for body, campo, regola in (({"importo": 10.5}, "importo", "tipo.stringa"),
                                ({"importo": "1.234"}, "importo", "importo.centesimi"),
                                ({"importo": "1", "cig": "corto"}, "cig", "codice.cig"),
                                ({"importo": "1", "codice_fiscale": "00743110158"}, "codice_fiscale",
                                 "ente.codice_fiscale"),
                                ({"importo": "1", "comune": 65134}, "comune", "tipo.stringa"),
                                ({"importo": "1", "altro": 1}, "altro", "extra_forbidden")):
        with pytest.raises(ValidationError) as caught:
            Corpo.model_validate(body)
        errore = caught.value.errors()[0]
        assert (errore["loc"], errore["type"]) == ((campo,), regola), errore


def test_openapi_of_the_types_says_what_the_server_takes() -> None:
    schema = Corpo.model_json_schema()["properties"]
    importo = {k: v for k, v in schema["importo"].items() if k not in ("title", "description")}
    assert importo == {"type": "string", "pattern": values.IMPORTO, "maxLength": 15, "examples": ["125000.00"]}
    assert schema["cig"]["anyOf"][0]["maxLength"] == 10
