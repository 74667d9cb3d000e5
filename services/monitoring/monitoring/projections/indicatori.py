"""Indicators per Ambito and per Comune: pure functions of read-model figures, each formula here.

Inputs come from the read models (read by ``monitoring.projections.dati_indicatori``; no I/O here):

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
from monitoring.projections.dati_indicatori import DatiAmbito, DatiRegione
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


def per_ambito(dati: DatiAmbito) -> dict[str, Any]:
    """The Ambito's indicators and each Comune's (by name), and the newest event behind them.

    Per Comune, spend is what the commitments naming it add up to, and execution rates are
    None (assignments are to the Ambito, not to a Comune). The Ambito's users include the
    months of Comuni that have since left it: those months belonged to it.
    """
    zero = Decimal("0")
    membri = {c["istat"] for c in dati.comuni}
    interventi = sorted({i for i, _ in dati.coperti})
    fte: dict[str, Decimal] = {}
    for r in dati.personale:
        if r["profilo"] == "assistente_sociale":
            fte[r["istat"]] = fte.get(r["istat"], zero) + r["fte"]
    e = dati.esecuzione
    ambito = indicatori(
        residenti=sum(c["popolazione"] for c in dati.comuni), comuni=len(dati.comuni), assegnato=e["assegnato"],
        impegnato=e["impegnato"], pagato=e["pagato"], utenti=sum(dati.utenti_per_comune.values()),
        fte_assistenti_sociali=sum(fte.values(), zero),
        comuni_coperti={i: len({c for x, c in dati.coperti if x == i and c in membri}) for i in interventi})
    comuni = []
    for c in dati.comuni:
        istat = c["istat"]
        valori = indicatori(
            residenti=c["popolazione"], comuni=1, assegnato=zero, impegnato=dati.impegnato_per_comune.get(istat, zero),
            pagato=dati.pagato_per_comune.get(istat, zero), utenti=dati.utenti_per_comune.get(istat, 0),
            fte_assistenti_sociali=fte.get(istat, zero),
            comuni_coperti={i: int((i, istat) in dati.coperti) for i in interventi})
        comuni.append({"istat": istat, "nome": c["nome"], **valori, "tasso_impegno": None})
    tempi = [t for t in (e["ultimo"], *dati.ultimi_utenti, *(r["ultimo_evento"] for r in dati.personale)) if t]
    return {"ambito": dati.ambito, "anno": dati.anno, "aggiornato_al": max(tempi, default=None),
            "ambito_indicatori": ambito, "comuni": comuni}


def per_regione(dati: DatiRegione) -> list[dict[str, Any]]:
    """The indicators of every Ambito of the Region with a figure, by code, from aggregates only."""
    zero = Decimal("0")
    ambiti = []
    for tenant in sorted(dati.freschezza):
        c = dati.composizioni.get(tenant) or {}
        s = dati.spesa.get(tenant) or {}
        valori = indicatori(
            residenti=c.get("popolazione") or 0, comuni=c.get("comuni") or 0, assegnato=s.get("assegnato") or zero,
            impegnato=s.get("impegnato") or zero, pagato=s.get("pagato") or zero, utenti=dati.utenti.get(tenant, 0),
            fte_assistenti_sociali=dati.fte_assistenti_sociali.get(tenant, zero),
            comuni_coperti=dati.copertura.get(tenant, {}))
        valori.pop("residenti")
        ambiti.append({"ambito": tenant, "nome": c.get("nome"), "comuni": c.get("comuni"),
                       "residenti": c.get("popolazione"), "ultimo_evento": dati.freschezza[tenant], **valori})
    return ambiti

