"""Values every service handles alike: amounts in euro, and the codes that travel with them.

Written once, with their guards, and used by every service's domain and API (``fields``
wraps them as request types): an amount is a ``Decimal`` with at most two decimals,
positive, bounded, parsed only from ASCII decimal text (never a float, a bool, "1_000" or
"١٠٠"); a codice fiscale of an organisation has 11 digits with its check digit; a CIG has 10
characters, a CUP 15, a Comune's ISTAT code 6 digits. Each guard raises ``RuleViolation``
with its rule and the field it was given, in Italian.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from ambiti_kit import errors  # a module, not its names: errors imports the kit's fields, which import this

CENTESIMO = Decimal("0.01")
ZERO = Decimal("0.00")
#: the largest amount the platform records (exclusive): no public budget line comes near it
MASSIMO = Decimal("1e12")
#: CIG (Codice Identificativo Gara, ANAC): 10 characters, upper-case letters and digits.
CIG = re.compile(r"[A-Z0-9]{10}")
#: CUP (Codice Unico di Progetto): letter, 2 digits, letter, 11 digits (e.g. J51B21005460006).
CUP = re.compile(r"[A-Z]\d{2}[A-Z]\d{11}")
ISTAT_COMUNE = re.compile(r"\d{6}")
#: an amount on the wire: ASCII digits, at most two decimals (positivity and scale are checked on the value)
IMPORTO = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
#: what is read as an amount's text before its value is checked: plain decimal notation, no exponent, no
#: thousands separator; a sign is read so that "-5.00" is refused as not positive rather than as unreadable
_TESTO_IMPORTO = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ILLEGGIBILE = "Importo non valido: si scrive in cifre, con il punto per i decimali (es. \"1250.00\")."


def importo(valore: object, field: str = "importo") -> Decimal:
    """A positive amount in euro with at most two decimals, from a string or a Decimal (never a float).

    Text is read only in plain decimal notation ("1250", "1250.5", "1250.00", trimmed): never a
    float, an int or a bool, an exponent ("1e3"), a comma, "1_000" or non-ASCII digits. The
    result is quantized to the cent ("1250" -> Decimal("1250.00")).
    """
    if isinstance(valore, str):
        testo = valore.strip()
        # Decimal() also reads "١٠٠", "1_000" and "1e3": text is read only in the notation the wire documents
        if len(testo) > 40 or not _TESTO_IMPORTO.fullmatch(testo):
            raise errors.RuleViolation(_ILLEGGIBILE, rule="importo.formato", field=field)
        d = Decimal(testo)
    elif isinstance(valore, Decimal):
        d = valore
    elif isinstance(valore, (int, float)):  # bool too
        raise errors.RuleViolation("Gli importi si scrivono come stringhe decimali (es. \"1250.00\"), non come numeri.",
                                   rule="importo.formato", field=field)
    else:
        raise errors.RuleViolation(_ILLEGGIBILE, rule="importo.formato", field=field)
    if not d.is_finite():
        raise errors.RuleViolation("Importo non valido.", rule="importo.formato", field=field)
    if d <= 0:
        raise errors.RuleViolation("L'importo deve essere maggiore di zero.", rule="importo.positivo", field=field)
    if d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise errors.RuleViolation("L'importo ha al massimo due decimali (centesimi).", rule="importo.centesimi",
                            field=field)
    if d >= MASSIMO:
        raise errors.RuleViolation("Importo fuori scala (al massimo 999.999.999.999,99 euro).", rule="importo.massimo",
                            field=field)
    return d.quantize(CENTESIMO)


def positivo(valore: Decimal, field: str = "importo") -> Decimal:
    """The invariant an aggregate keeps on every amount it records, however it was parsed."""
    if (not isinstance(valore, Decimal) or not valore.is_finite() or valore <= 0
            or valore.as_tuple().exponent < -2 or valore >= MASSIMO):  # type: ignore[operator]
        raise errors.RuleViolation("L'importo è positivo, in euro con al più due decimali.", rule="importo.positivo",
                            field=field)
    return valore


def euro(valore: Decimal | int | str) -> str:
    """An amount on the wire: two decimals, no exponent."""
    return str(Decimal(valore).quantize(CENTESIMO, rounding=ROUND_HALF_UP))


def codice_fiscale_ente_valido(value: str) -> bool:
    """An organisation's codice fiscale: 11 digits whose last is the Luhn check digit of the others.

    (The same algorithm as the partita IVA; bodies without VAT, e.g. associations, have one too.)
    """
    from stdnum import luhn

    return isinstance(value, str) and len(value) == 11 and value.isascii() and value.isdigit() and luhn.is_valid(value)


def verifica_codice_fiscale_ente(cf: str, field: str = "codice_fiscale") -> str:
    if not codice_fiscale_ente_valido(cf):
        raise errors.RuleViolation("Il codice fiscale di un ente ha 11 cifre e l'ultima è il carattere di controllo.",
                            rule="ente.codice_fiscale", field=field)
    return cf


def verifica_codice_fiscale_beneficiario(cf: str, field: str = "codice_fiscale") -> str:
    """A payee's codice fiscale: an organisation's 11 digits (Luhn check digit, as the partita IVA), or a
    person's 16 characters — professionals and sole traders — with the check character of D.M. 23/12/1976
    (omocodia letters accepted). Each form has its own check and its own message."""
    from stdnum.it import codicefiscale

    if isinstance(cf, str) and len(cf) == 16:
        if not (cf.isascii() and cf.isalnum() and cf == cf.upper() and codicefiscale.is_valid(cf)):
            raise errors.RuleViolation("Il codice fiscale di una persona ha 16 caratteri (lettere maiuscole e cifre) "
                                       "e l'ultimo è il carattere di controllo.", rule="codice_fiscale.persona",
                                       field=field)
        return cf
    if isinstance(cf, str) and len(cf) == 11:
        return verifica_codice_fiscale_ente(cf, field)
    raise errors.RuleViolation("Il codice fiscale ha 11 cifre (un ente, una società) o 16 caratteri (una persona).",
                               rule="codice_fiscale.lunghezza", field=field)


def verifica_cig(cig: str, field: str = "cig") -> str:
    if not (isinstance(cig, str) and CIG.fullmatch(cig)):
        raise errors.RuleViolation("Il CIG è di 10 caratteri (lettere maiuscole e cifre).", rule="codice.cig",
                                   field=field)
    return cig


def verifica_cup(cup: str, field: str = "cup") -> str:
    if not (isinstance(cup, str) and CUP.fullmatch(cup)):
        raise errors.RuleViolation("Il CUP è di 15 caratteri: lettera, 2 cifre, lettera, 11 cifre.", rule="codice.cup",
                            field=field)
    return cup


def verifica_istat_comune(istat: str, field: str = "istat") -> str:
    if not (isinstance(istat, str) and ISTAT_COMUNE.fullmatch(istat)):
        raise errors.RuleViolation("Il codice ISTAT di un Comune è di 6 cifre.", rule="codice.istat", field=field)
    return istat
