"""The kit's values and request field types: one guard per field, the same in every service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from ambiti_kit import values
from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import Cig, CodiceFiscaleBeneficiario, CodiceFiscaleEnte, Cup, Importo, IstatComune, StrictIn


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
    ("1000000000000", "importo.massimo"), ("9" * 50, "importo.formato"), (Decimal("1e9999999"), "importo.massimo"),
    # only the notation the wire documents: no exponent, comma, sign "+" or bare point
    ("1e3", "importo.formato"), ("1E-3", "importo.formato"), ("10,50", "importo.formato"), ("+5", "importo.formato"),
    (".5", "importo.formato"), ("5.", "importo.formato"), ("", "importo.formato"), (None, "importo.formato"),
    (Decimal("NaN"), "importo.formato"), (Decimal("-0"), "importo.positivo"), (Decimal("1.005"), "importo.centesimi")])
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


# -- moved from finance's tests when its copy of these guards (domain/denaro.py) went away ------------

FAST = settings(max_examples=200, deadline=None, database=None)


@pytest.mark.parametrize(("valore", "atteso"), [
    ("1250.00", "1250.00"), ("10", "10.00"), ("7.5", "7.50"), (" 0.01 ", "0.01"),
    ("999999999999.99", "999999999999.99"), (Decimal("3.1"), "3.10"), (Decimal("1E+2"), "100.00"),
])
def test_importo_reads_decimal_strings_into_cents(valore: object, atteso: str) -> None:
    d = values.importo(valore, "importo")
    assert isinstance(d, Decimal) and d == Decimal(atteso) and str(d) == atteso


@pytest.mark.parametrize(("valore", "rule"), [
    (10.5, "importo.formato"), (0.1, "importo.formato"), (10.0, "importo.formato"), (True, "importo.formato"),
    ("abc", "importo.formato"), ("", "importo.formato"), ("12,50", "importo.formato"), ("NaN", "importo.formato"),
    ("Infinity", "importo.formato"), ("-Infinity", "importo.formato"), (None, "importo.formato"),
    ("1E+2", "importo.formato"), ("1E-3", "importo.formato"), ("1e12", "importo.formato"),
    ("0", "importo.positivo"), ("0.00", "importo.positivo"), ("-0", "importo.positivo"),
    ("-5.00", "importo.positivo"), ("-0.01", "importo.positivo"),
    ("10.001", "importo.centesimi"), ("0.001", "importo.centesimi"), (Decimal("1E-3"), "importo.centesimi"),
    (Decimal("1e12"), "importo.massimo"), ("1000000000000.00", "importo.massimo"),
])
def test_importo_refuses_floats_non_positive_sub_cent_and_non_numbers(valore: object, rule: str) -> None:
    with pytest.raises(RuleViolation) as info:
        values.importo(valore, "fattura.importo")
    assert (info.value.rule, info.value.field) == (rule, "fattura.importo")


@FAST
@given(st.integers(1, 10**14 - 1))
def test_any_positive_amount_in_cents_round_trips_exactly(n: int) -> None:
    d = Decimal(n).scaleb(-2)
    assert values.importo(str(d)) == d and values.euro(values.importo(values.euro(d))) == values.euro(d) == str(d)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_ever_an_amount(x: float) -> None:
    with pytest.raises(RuleViolation) as info:
        values.importo(x)
    assert info.value.rule == "importo.formato"


def test_euro_writes_two_decimals_and_no_exponent() -> None:
    assert [values.euro(Decimal(x)) for x in ("1", "1E+3", "0.1", "12345678.90", "0")] == [
        "1.00", "1000.00", "0.10", "12345678.90", "0.00"]


def test_positivo_is_the_invariant_of_recorded_amounts() -> None:
    assert values.positivo(Decimal("0.01")) == Decimal("0.01")
    for cattivo in (Decimal("0"), Decimal("-1"), Decimal("1.001"), Decimal("NaN"), Decimal("1e12"), "10", 10, 10.0):
        with pytest.raises(RuleViolation) as info:
            values.positivo(cattivo, "importo")  # type: ignore[arg-type]
        assert (info.value.rule, info.value.field) == ("importo.positivo", "importo")


@pytest.mark.parametrize("cig", ["ZA12B3C4D5", "0123456789", "8765432ABC"])
def test_a_cig_has_ten_upper_case_letters_or_digits(cig: str) -> None:
    assert values.verifica_cig(cig) == cig


@pytest.mark.parametrize("cig", ["ZA12B3C4D", "ZA12B3C4D56", "za12b3c4d5", "ZA12B3C4D-", "", "ZA12B3 C4D5", None])
def test_a_wrong_cig_is_refused(cig: str) -> None:
    with pytest.raises(RuleViolation) as info:
        values.verifica_cig(cig)
    assert (info.value.rule, info.value.field) == ("codice.cig", "cig")


@pytest.mark.parametrize("cup", ["J51B21005460006", "E19J21010000001"])
def test_a_cup_is_letter_two_digits_letter_eleven_digits(cup: str) -> None:
    assert values.verifica_cup(cup) == cup


@pytest.mark.parametrize("cup", ["J51B2100546000", "J51B210054600061", "151B21005460006", "JA1B21005460006",
                                 "J5112100546000X", "j51b21005460006", ""])
def test_a_wrong_cup_is_refused(cup: str) -> None:
    with pytest.raises(RuleViolation) as info:
        values.verifica_cup(cup)
    assert (info.value.rule, info.value.field) == ("codice.cup", "cup")


@pytest.mark.parametrize("cf", ["00743110157", "80012000826", "02438750586"])
def test_an_organisations_codice_fiscale_has_eleven_digits_and_its_check_digit(cf: str) -> None:
    assert values.verifica_codice_fiscale_ente(cf) == cf


@pytest.mark.parametrize("cf", ["00743110158", "00743110150", "0074311015", "007431101570", "0074311015A",
                                "RSSMRA80A01H501U", "", "٠٠٧٤٣١١٠١٥٧", "００７４３１１０１５７"])
def test_a_wrong_codice_fiscale_is_refused(cf: str) -> None:
    with pytest.raises(RuleViolation) as info:
        values.verifica_codice_fiscale_ente(cf, "beneficiario.codice_fiscale")
    assert (info.value.rule, info.value.field) == ("ente.codice_fiscale", "beneficiario.codice_fiscale")


@FAST
@given(st.from_regex(r"\A[0-9]{10}\Z"), st.integers(0, 9))
def test_exactly_one_check_digit_completes_ten_digits(corpo: str, cifra: int) -> None:
    validi = [d for d in range(10) if values.codice_fiscale_ente_valido(corpo + str(d))]
    assert len(validi) == 1
    assert values.codice_fiscale_ente_valido(corpo + str(cifra)) == (cifra == validi[0])


class Pagamento(StrictIn):
    beneficiario: CodiceFiscaleBeneficiario


@pytest.mark.parametrize("cf", ["00743110157", "RSSMRA85T10A562S", "RSSMRA85T10A56NH"])  # ente; persona; omocodia
def test_a_payee_has_an_11_digit_or_a_16_character_codice_fiscale(cf: str) -> None:
    assert Pagamento(beneficiario=cf).beneficiario == cf


@pytest.mark.parametrize("cf, regola", [("00743110158", "ente.codice_fiscale"), ("RSSMRA85T10A562T", "codice_fiscale.persona"),
                                        ("rssmra85t10a562s", "codice_fiscale.persona"), ("1234567890", "codice_fiscale.lunghezza"),
                                        ("RSSMRA85T10A562SX", "codice_fiscale.lunghezza")])
def test_each_form_of_codice_fiscale_has_its_own_check(cf: str, regola: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Pagamento(beneficiario=cf)
    assert refused.value.errors()[0]["type"] == regola
