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
- ``utenze_mensili`` = Σ of the monthly user counts of every record of the period: the platform holds
  no persons, so a user served in two months (or by two interventi) counts twice — a count of
  *utenze*, not of people (distinct users cannot be known here); ``accessi`` = Σ accesses.
  ``utenze_mensili_per_mille`` = utenze_mensili × 1000 / residenti, two decimals. The old names
  ``utenti`` and ``utenti_per_mille`` carry the same figures and are deprecated.
- LEPS (Ambito only): ``monitoring.domain.personale.leps`` (eligible FTE of social workers vs residents
  at 1:6,500, 1:5,000, 1:4,000, and the State contribution of L. 178/2020 art. 1 c. 797).
- per Comune, counts are suppressed below the confidentiality threshold
  (``monitoring.domain.riservatezza``).
- ``copertura`` = Comuni with at least one record of the intervento in the period / Comuni of
  the Ambito, four decimals; None for an Ambito without Comuni.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from monitoring.domain.personale import FONTE_LEPS, Leps, leps
from monitoring.domain.riservatezza import SOGLIA_PREDEFINITA, sopprimi
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
    """The Ambito's LEPS as the API shows it (``monitoring.api.deps.Leps``)."""
    c = valore.contributo
    return {"fte_assistenti_sociali": str(valore.fte),
            "fte_assistenti_sociali_non_conteggiati": str(valore.fte_non_conteggiati), "residenti": valore.residenti,
            "residenti_per_assistente": testo(valore.residenti_per_assistente),
            "fte_per_5000": testo(valore.fte_per_5000),
            "fte_richiesti_1_6500": str(valore.soglia_contributo.fte_richiesti),
            "fte_richiesti_1_5000": str(valore.leps.fte_richiesti),
            "fte_richiesti_1_4000": str(valore.obiettivo_ulteriore.fte_richiesti),
            "soglia_1_6500_raggiunta": valore.soglia_contributo.raggiunta,
            "leps_1_5000_raggiunto": valore.leps.raggiunta, "obiettivo_1_5000_raggiunto": valore.leps.raggiunta,
            "obiettivo_1_4000_raggiunto": valore.obiettivo_ulteriore.raggiunta,
            "contributo_statale": {"fte_fascia_6500_5000": str(c.fte_fascia_a), "importo_fascia_6500_5000":
                                   str(c.importo_fascia_a), "fte_fascia_5000_4000": str(c.fte_fascia_b),
                                   "importo_fascia_5000_4000": str(c.importo_fascia_b), "totale": str(c.totale)},
            "fonte": FONTE_LEPS}


def indicatori(*, residenti: int, comuni: int, assegnato: Decimal, impegnato: Decimal, pagato: Decimal,
               utenze: int, accessi: int, comuni_coperti: Mapping[str, int]) -> dict[str, Any]:
    """The indicators of one unit (an Ambito, or a Comune with ``comuni`` = 1) that do not depend on its staff,
    as the API shows them before suppression. ``utenti`` and ``utenti_per_mille`` are the deprecated names of
    ``utenze_mensili`` and ``utenze_mensili_per_mille``: the figure sums monthly counts, it is not people."""
    per_mille = testo(utenti_per_mille(utenze, residenti))
    return {
        "residenti": residenti,
        "spesa_pro_capite_pagato": testo(spesa_pro_capite(pagato, residenti)),
        "spesa_pro_capite_impegnato": testo(spesa_pro_capite(impegnato, residenti)),
        "tasso_impegno": testo(tasso_impegno(impegnato, assegnato)),
        "tasso_pagamento": testo(tasso_pagamento(pagato, impegnato)),
        "utenze_mensili": utenze, "utenze_mensili_per_mille": per_mille, "accessi": accessi,
        "utenti": utenze, "utenti_per_mille": per_mille,
        "copertura": {intervento: testo(copertura(n, comuni)) for intervento, n in sorted(comuni_coperti.items())},
    }


def sopprimi_colonna(valori: list[int], soglia: int) -> tuple[list[int | str], int | str]:
    """One column of counts (one per Comune, the last possibly a row never shown) and its published total,
    with primary and complementary suppression (``monitoring.domain.riservatezza``)."""
    tabella = sopprimi([[v] for v in valori], soglia, totali_riga=False, totali_colonna=False)
    return [r[0] for r in tabella.celle], tabella.totale


def per_ambito(dati: DatiAmbito, soglia: int = SOGLIA_PREDEFINITA) -> dict[str, Any]:
    """The Ambito's indicators and each Comune's (by name), and the newest event behind them.

    Per Comune, spend is what the commitments naming it add up to, and execution rates are
    None (assignments are to the Ambito, not to a Comune). The Ambito's counts include the
    months of Comuni that have since left it: those months belonged to it. The LEPS is the
    Ambito's only: no Comune has one (L. 178/2020 art. 1 c. 797 measures the Ambito).

    Counts per Comune (``utenze_mensili``, ``accessi``) are suppressed below ``soglia`` with
    complementary suppression against the Ambito's total; the months of Comuni that have left are
    one more row of that table, never shown (so the suppression counts them as unknown to a reader).
    A suppressed count also hides the rate computed from it (``utenze_mensili_per_mille``).
    """
    zero = Decimal("0")
    membri = [c["istat"] for c in dati.comuni]
    interventi = sorted({i for i, _ in dati.coperti})
    e = dati.esecuzione
    ambito = indicatori(
        residenti=sum(c["popolazione"] for c in dati.comuni), comuni=len(dati.comuni), assegnato=e["assegnato"],
        impegnato=e["impegnato"], pagato=e["pagato"], utenze=sum(dati.utenti_per_comune.values()),
        accessi=sum(dati.accessi_per_comune.values()),
        comuni_coperti={i: len({c for x, c in dati.coperti if x == i and c in membri}) for i in interventi})
    ambito["leps"] = leps_dict(leps(dati.fte_leps, ambito["residenti"], dati.fte_non_conteggiati))
    pubblicati: dict[str, tuple[list[int | str], int | str]] = {}
    for figura, per_comune in (("utenze_mensili", dati.utenti_per_comune), ("accessi", dati.accessi_per_comune)):
        altri = sum(n for istat, n in per_comune.items() if istat not in membri)
        pubblicati[figura] = sopprimi_colonna([per_comune.get(i, 0) for i in membri] + [altri], soglia)
    for figura, (_, totale) in pubblicati.items():
        if isinstance(totale, str):
            ambito[figura] = totale
    if isinstance(ambito["utenze_mensili"], str):
        ambito["utenze_mensili_per_mille"] = ambito["utenti"] = ambito["utenti_per_mille"] = ambito["utenze_mensili"]
    comuni = []
    for k, c in enumerate(dati.comuni):
        istat = c["istat"]
        valori = indicatori(
            residenti=c["popolazione"], comuni=1, assegnato=zero, impegnato=dati.impegnato_per_comune.get(istat, zero),
            pagato=dati.pagato_per_comune.get(istat, zero), utenze=dati.utenti_per_comune.get(istat, 0),
            accessi=dati.accessi_per_comune.get(istat, 0),
            comuni_coperti={i: int((i, istat) in dati.coperti) for i in interventi})
        for figura in ("utenti", "utenti_per_mille"):
            valori.pop(figura)
        valori["utenze_mensili"] = pubblicati["utenze_mensili"][0][k]
        valori["accessi"] = pubblicati["accessi"][0][k]
        if isinstance(valori["utenze_mensili"], str):
            valori["utenze_mensili_per_mille"] = valori["utenze_mensili"]
        comuni.append({"istat": istat, "nome": c["nome"], **valori, "tasso_impegno": None})
    tempi = [t for t in (e["ultimo"], *dati.ultimi_utenti, dati.ultimo_personale) if t]
    return {"ambito": dati.ambito, "anno": dati.anno, "aggiornato_al": max(tempi, default=None),
            "soglia_riservatezza": soglia, "ambito_indicatori": ambito, "comuni": comuni}


def per_regione(dati: DatiRegione) -> list[dict[str, Any]]:
    """The indicators of every Ambito of the Region with a figure, by code, from aggregates only."""
    zero = Decimal("0")
    ambiti = []
    for tenant in sorted(dati.freschezza):
        c = dati.composizioni.get(tenant) or {}
        s = dati.spesa.get(tenant) or {}
        valori = indicatori(
            residenti=c.get("popolazione") or 0, comuni=c.get("comuni") or 0, assegnato=s.get("assegnato") or zero,
            impegnato=s.get("impegnato") or zero, pagato=s.get("pagato") or zero, utenze=dati.utenti.get(tenant, 0),
            accessi=dati.accessi.get(tenant, 0), comuni_coperti=dati.copertura.get(tenant, {}))
        valori["leps"] = leps_dict(leps(dati.fte_assistenti_sociali.get(tenant, zero), valori.pop("residenti"),
                                        dati.fte_non_conteggiati.get(tenant, zero)))
        ambiti.append({"ambito": tenant, "nome": c.get("nome"), "comuni": c.get("comuni"),
                       "residenti": c.get("popolazione"), "ultimo_evento": dati.freschezza[tenant], **valori})
    return ambiti
