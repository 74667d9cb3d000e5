"""Italian formats of amounts, numbers and dates (Babel, CLDR it_IT)."""

from __future__ import annotations

import pytest

from console import formati


@pytest.mark.parametrize("valore, atteso", [
    ("1234.5", "€\u00a01.234,50"),
    ("0", "€\u00a00,00"),
    ("1000000", "€\u00a01.000.000,00"),
    ("0.005", "€\u00a00,00"),  # half-even, as the service's own amounts are already at the cent
    (None, "—"),
    ("non un numero", "—"),
])
def test_importo_in_euro_con_il_simbolo_davanti(valore, atteso) -> None:
    assert formati.importo(valore) == atteso


def test_numeri_e_percentuali_all_italiana() -> None:
    assert formati.numero("12345.6", 1) == "12.345,6"
    assert formati.numero("12345", 0) == "12.345"
    assert formati.percentuale("0.425") == "42,5%"
    assert formati.percentuale("1", 0) == "100%"


def test_date_gg_mm_aaaa_nel_fuso_italiano() -> None:
    assert formati.data("2026-12-04") == "04/12/2026"
    # 23:30 UTC on 4 December is already the 5th in Rome (CET, UTC+1)
    assert formati.data("2026-12-04T23:30:00Z") == "05/12/2026"
    assert formati.data_ora("2026-07-01T10:00:00+00:00") == "01/07/2026 12:00"  # CEST
    assert formati.data("") == formati.data(None) == "—"


def test_datetime_local_andata_e_ritorno_in_ora_italiana() -> None:
    iso = formati.da_input_datetime("2026-12-04T18:30")
    assert iso == "2026-12-04T18:30:00+01:00"
    assert formati.per_input_datetime(iso) == "2026-12-04T18:30"
    assert formati.da_input_datetime("") is None
    assert formati.da_input_datetime("domani") == "domani"  # passed on: the service names the field


@pytest.mark.parametrize("digitato, inviato", [
    ("1.234,56", "1234.56"), ("€ 250.000", "250000"), ("250.000,00", "250000.00"), ("80000.50", "80000.50"),
    ("12,5", "12.5"), ("\u00a01 000,00", "1000.00"), ("dieci euro", "diecieuro"),  # not an amount: sent on, the service names the field
    (None, None),
])
def test_un_importo_digitato_cambia_solo_notazione(digitato, inviato) -> None:
    assert formati.importo_digitato(digitato) == inviato
