"""Italian formats for people, with Babel (CLDR): amounts ``€ 1.234,56``, dates ``gg/mm/aaaa``.

The services speak ISO dates and decimal strings; only the console turns them into what a
person reads. Nothing here computes: it formats what a service answered.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = "it_IT"
FUSO = ZoneInfo("Europe/Rome")
VUOTO = "—"


def _decimale(valore: Any) -> Decimal | None:
    if valore is None or valore == "":
        return None
    try:
        return Decimal(str(valore))
    except InvalidOperation:
        return None


def importo(valore: Any) -> str:
    """``"1234.5"`` → ``€ 1.234,50`` (the symbol first, as Italian administrative acts write it)."""
    d = _decimale(valore)
    return VUOTO if d is None else format_currency(d, "EUR", format="¤\u00a0#,##0.00", locale=LOCALE,
                                                   currency_digits=False)


def numero(valore: Any, cifre: int | None = None) -> str:
    d = _decimale(valore)
    if d is None:
        return VUOTO
    if cifre is None:
        return format_decimal(d, locale=LOCALE)
    return format_decimal(d, format="#,##0." + "0" * cifre if cifre else "#,##0", locale=LOCALE)


def percentuale(valore: Any, cifre: int = 1) -> str:
    """A ratio (``0.425``) as ``42,5%``."""
    d = _decimale(valore)
    return VUOTO if d is None else format_percent(d, format="#,##0." + "0" * cifre + "%" if cifre else "#,##0%",
                                                  locale=LOCALE)


def _come_data(valore: Any) -> date | datetime | None:
    if valore in (None, ""):
        return None
    if isinstance(valore, (date, datetime)):
        return valore
    testo = str(valore)
    try:
        return datetime.fromisoformat(testo.replace("Z", "+00:00")) if "T" in testo else date.fromisoformat(testo)
    except ValueError:
        return None


def data(valore: Any) -> str:
    """An ISO date or timestamp as ``gg/mm/aaaa`` (timestamps in Italian time)."""
    d = _come_data(valore)
    if d is None:
        return VUOTO
    if isinstance(d, datetime):
        d = d.astimezone(FUSO) if d.tzinfo else d
        return format_date(d.date(), "dd/MM/yyyy", locale=LOCALE)
    return format_date(d, "dd/MM/yyyy", locale=LOCALE)


def data_ora(valore: Any) -> str:
    """An ISO timestamp as ``gg/mm/aaaa hh:mm`` in Italian time."""
    d = _come_data(valore)
    if d is None:
        return VUOTO
    if not isinstance(d, datetime):
        return data(d)
    return format_datetime(d.astimezone(FUSO) if d.tzinfo else d, "dd/MM/yyyy HH:mm", tzinfo=None, locale=LOCALE)


def per_input_datetime(valore: Any) -> str:
    """An ISO timestamp as a ``datetime-local`` input's value (Italian time, minutes)."""
    d = _come_data(valore)
    if not isinstance(d, datetime):
        return ""
    return (d.astimezone(FUSO) if d.tzinfo else d).strftime("%Y-%m-%dT%H:%M")


def da_input_datetime(valore: str) -> str | None:
    """A ``datetime-local`` value typed in Italian time, as the ISO timestamp the services take."""
    if not valore:
        return None
    try:
        return datetime.fromisoformat(valore).replace(tzinfo=FUSO).isoformat()
    except ValueError:
        return valore  # the service names the field and the rule


_MIGLIAIA = re.compile(r"\d{1,3}(\.\d{3})+")


def importo_digitato(valore: Any) -> Any:
    """An amount as a person types it in Italy, in the notation the services take: ``"1.234,56"`` →
    ``"1234.56"``, ``"€ 250.000"`` → ``"250000"``.

    Only the notation changes, never the value: spaces and a leading ``€`` go; with a decimal comma the
    dots are thousands separators (removed) and the comma becomes the decimal point; without a comma,
    dots grouping digits by three are thousands separators, since an amount in euro has at most two
    decimals. Anything else (not a string included) is sent as typed, and the service says what is wrong."""
    if not isinstance(valore, str):
        return valore
    t = valore.strip().removeprefix("€").replace("\u00a0", "").replace(" ", "")
    if "," in t:
        return t.replace(".", "").replace(",", ".")
    if _MIGLIAIA.fullmatch(t):
        return t.replace(".", "")
    return t


FILTRI = {"importo": importo, "numero": numero, "percentuale": percentuale, "data": data, "data_ora": data_ora,
          "per_input_datetime": per_input_datetime}
