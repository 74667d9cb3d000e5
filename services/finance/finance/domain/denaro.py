"""Money and the identifiers that travel with it: amounts in euro cents, CIG, CUP, codice fiscale.

Amounts are ``Decimal`` end to end; on the wire they are strings with two decimals.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import codice_fiscale_ente_valido

CENTESIMO = Decimal("0.01")
ZERO = Decimal("0.00")
#: CIG (Codice Identificativo Gara, ANAC): 10 characters, upper-case letters and digits.
CIG = re.compile(r"^[A-Z0-9]{10}$")
#: CUP (Codice Unico di Progetto): 15 characters, letter, 2 digits, letter, 11 digits (e.g. J51B21005460006).
CUP = re.compile(r"^[A-Z]\d{2}[A-Z]\d{11}$")


def importo(valore: object, field: str) -> Decimal:
    """A positive amount in euro with at most two decimals, from a string or a Decimal (never a float)."""
    if isinstance(valore, float) or isinstance(valore, bool):
        raise RuleViolation("Gli importi si scrivono come stringhe decimali (es. \"1250.00\"), non come numeri "
                            "in virgola mobile.", rule="importo.formato", field=field)
    testo = str(valore).strip()
    if not (testo.isascii() and "_" not in testo):  # Decimal() also reads "١٠٠" and "1_000": an amount does not
        raise RuleViolation(f"Importo non valido: {valore!r}.", rule="importo.formato", field=field)
    try:
        d = Decimal(testo)
    except InvalidOperation:
        raise RuleViolation(f"Importo non valido: {valore!r}.", rule="importo.formato", field=field) from None
    if not d.is_finite():
        raise RuleViolation(f"Importo non valido: {valore!r}.", rule="importo.formato", field=field)
    if d <= 0:
        raise RuleViolation("L'importo deve essere maggiore di zero.", rule="importo.positivo", field=field)
    if d.as_tuple().exponent < -2:
        raise RuleViolation("L'importo ha al massimo due decimali (centesimi).", rule="importo.centesimi",
                            field=field)
    if d >= Decimal("1e12"):
        raise RuleViolation("Importo fuori scala.", rule="importo.massimo", field=field)
    return d.quantize(CENTESIMO)


def positivo(importo: Decimal, field: str = "importo") -> Decimal:
    """Aggregates check the amounts they record themselves, however they were parsed."""
    if (not isinstance(importo, Decimal) or not importo.is_finite() or importo <= 0
            or importo.as_tuple().exponent < -2):
        raise RuleViolation("L'importo è positivo, in euro con al più due decimali.", rule="importo.positivo",
                            field=field)
    return importo


def euro(d: Decimal) -> str:
    """An amount on the wire: two decimals, no exponent."""
    return str(d.quantize(CENTESIMO, rounding=ROUND_HALF_UP))


def verifica_cig(cig: str, field: str = "cig") -> str:
    if not CIG.match(cig):
        raise RuleViolation("Il CIG è di 10 caratteri (lettere maiuscole e cifre).", rule="impegno.cig", field=field)
    return cig


def verifica_cup(cup: str, field: str = "cup") -> str:
    if not CUP.match(cup):
        raise RuleViolation("Il CUP è di 15 caratteri: lettera, 2 cifre, lettera, 11 cifre.", rule="impegno.cup",
                            field=field)
    return cup


def verifica_codice_fiscale_ente(cf: str, field: str = "beneficiario.codice_fiscale") -> str:
    if not codice_fiscale_ente_valido(cf):
        raise RuleViolation("Il codice fiscale di un ente ha 11 cifre e l'ultima è il carattere di controllo.",
                            rule="ente.codice_fiscale", field=field)
    return cf
