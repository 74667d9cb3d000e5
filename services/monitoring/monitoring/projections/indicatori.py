"""Indicators per Ambito and per Comune: pure functions of read-model figures, each formula here.

Inputs come from the read models (no I/O here):

- residents: ``comuni.popolazione`` (planning's composition, dated ``popolazione_al``);
- spend: ``esecuzione`` (per Ambito) or ``opendata_impegni`` / ``opendata_pagamenti`` (per
  Comune: the Comune a commitment names; commitments for the whole Ambito have none);
- users: ``prestazioni`` (monitoring's own events);
- staff: ``personale``.

Formulas (amounts in euro, ``Decimal`` end to end, rounded half up):

- ``spesa_pro_capite`` = spesa / residenti, two decimals (spesa: pagato, or impegnato net of
  reductions); None when there are no residents.
- ``tasso_impegno`` = impegnato / assegnato, ``tasso_pagamento`` = pagato / impegnato (four
  decimals; see ``monitoring.projections.esecuzione``).
- ``utenti_per_mille`` = Σ utenti × 1000 / residenti, two decimals. Σ utenti sums the monthly
  counts of every record of the period: the platform holds no persons, so a user served in
  two months (or by two interventi) counts twice — it is a count of *utenze*, not of people.
- LEPS: ``monitoring.domain.personale.leps`` (FTE of assistenti sociali vs residents / 6,500
  and / 5,000).
- ``copertura`` = Comuni with at least one record of the intervento in the period / Comuni of
  the Ambito, four decimals; None for an Ambito without Comuni.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from monitoring.domain.personale import Leps, leps
from monitoring.projections.esecuzione import tasso_impegno, tasso_pagamento

CENTESIMO = Decimal("0.01")
DECIMALI_TASSO = Decimal("0.0001")

#: the indicators with a CSV export (``GET /indicatori/{nome}.csv``)
NOMI = ("spesa_pro_capite", "esecuzione", "utenti_per_mille", "leps", "copertura")


def spesa_pro_capite(spesa: Decimal, residenti: int) -> Decimal | None:
    """spesa / residenti, two decimals; None without residents."""
    if not residenti:
        return None
    return (Decimal(spesa) / residenti).quantize(CENTESIMO, rounding=ROUND_HALF_UP)


def utenti_per_mille(utenti: int, residenti: int) -> Decimal | None:
    """utenti × 1000 / residenti, two decimals; None without residents."""
    if not residenti:
        return None
    return (Decimal(utenti) * 1000 / residenti).quantize(CENTESIMO, rounding=ROUND_HALF_UP)


def copertura(comuni_coperti: int, comuni_ambito: int) -> Decimal | None:
    """comuni_coperti / comuni_ambito, four decimals; None for an Ambito without Comuni."""
    if not comuni_ambito:
        return None
    return (Decimal(comuni_coperti) / comuni_ambito).quantize(DECIMALI_TASSO, rounding=ROUND_HALF_UP)


def testo(valore: Decimal | None) -> str | None:
    return None if valore is None else str(valore)


def leps_dict(valore: Leps) -> dict[str, Any]:
    return {"fte_assistenti_sociali": str(valore.fte), "residenti": valore.residenti,
            "residenti_per_assistente": testo(valore.residenti_per_assistente),
            "fte_per_5000": testo(valore.fte_per_5000),
            "fte_richiesti_1_6500": str(valore.fte_richiesti_soglia),
            "fte_richiesti_1_5000": str(valore.fte_richiesti_obiettivo),
            "soglia_1_6500_raggiunta": valore.soglia_raggiunta, "obiettivo_1_5000_raggiunto": valore.obiettivo_raggiunto}


def indicatori(*, residenti: int, comuni: int, assegnato: Decimal, impegnato: Decimal, pagato: Decimal,
               utenti: int, fte_assistenti_sociali: Decimal,
               comuni_coperti: Mapping[str, int]) -> dict[str, Any]:
    """Every indicator of one unit (an Ambito, or a Comune with ``comuni`` = 1), as the API shows them."""
    return {
        "residenti": residenti,
        "spesa_pro_capite_pagato": testo(spesa_pro_capite(pagato, residenti)),
        "spesa_pro_capite_impegnato": testo(spesa_pro_capite(impegnato, residenti)),
        "tasso_impegno": testo(tasso_impegno(impegnato, assegnato)),
        "tasso_pagamento": testo(tasso_pagamento(pagato, impegnato)),
        "utenti": utenti,
        "utenti_per_mille": testo(utenti_per_mille(utenti, residenti)),
        "leps": leps_dict(leps(fte_assistenti_sociali, residenti)),
        "copertura": {intervento: testo(copertura(n, comuni)) for intervento, n in sorted(comuni_coperti.items())},
    }
