"""Small counts: primary and complementary suppression of a table of counts with its totals (pure).

Why: a per-Comune count of 1 or 2 users of a sensitive area (mental health, addictions) in a small
Comune can identify a person, and health data are a special category (GDPR art. 9, Reg. UE 2016/679;
D.Lgs. 196/2003 art. 2-sexies and the Garante's rules on statistical dissemination, which ask that
published aggregates not allow a person to be identified — the "regola della soglia"). So:

- **primary suppression**: every published count ``n`` with ``0 < n < soglia`` (cells and totals) is
  shown as ``<soglia`` (``"<3"`` by default; the threshold is the setting
  ``AMBITI_MONITORING_SOGLIA_RISERVATEZZA``). A zero identifies no one and is shown;
- **complementary suppression**: a suppressed cell must not be derivable from what is published.
  The published totals are linear relations (each row's cells add up to its total, each column's to
  its, the totals to the grand total). A suppressed entry is derivable exactly when, in the graph whose
  vertices are the relations and whose edges are the suppressed entries (an entry joins the two
  relations it belongs to; an entry in only one relation joins it to a free vertex), its edge is a
  *bridge*: then summing the relations on one side gives its value. Otherwise it lies on a cycle, and
  moving ±1 alternately around the cycle keeps every published total and, since every suppressed
  entry is ≥ 1, every count non-negative: the entry cannot be told. ``sopprimi`` adds suppressed
  entries (the smallest positive ones that close a cycle) until no suppressed entry is a bridge; they
  are shown as ``n.d.`` (not disclosed), never as ``<soglia`` (they are not small).

The property tests check the result against an independent search of every table consistent with
what is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable, Sequence

SOGLIA_PREDEFINITA = 3
#: how a complementary suppression is shown
NON_DIVULGATO = "n.d."

Voce = tuple  # ("c", i, j) cell, ("r", i) row total, ("k", j) column total, ("t",) grand total
_LIBERO = ("libero",)


def segno_piccolo(soglia: int) -> str:
    return f"<{soglia}"


@dataclass(frozen=True)
class Tabella:
    """A published table: each value is the count, or its marker (``<soglia`` or ``n.d.``)."""

    celle: list[list[int | str]]
    #: None when the table publishes no row totals (or no column totals)
    totali_riga: list[int | str] | None
    totali_colonna: list[int | str] | None
    totale: int | str
    #: the entries suppressed: primary (small) and complementary
    primarie: frozenset[Voce]
    complementari: frozenset[Voce]


def relazioni(righe: int, colonne: int, *, totali_riga: bool, totali_colonna: bool) -> dict[Voce, tuple]:
    """For each entry of the table, the (two) published relations it belongs to (padded with the free vertex).

    Relations: ``("riga", i)``: cells of row i = its total; ``("colonna", j)``; ``("totali_colonna",)``:
    column totals = grand total; ``("totali_riga",)``: row totals = grand total; with no margins at all,
    ``("tutto",)``: every cell = grand total.
    """
    out: dict[Voce, list] = {}
    for i in range(righe):
        for j in range(colonne):
            out[("c", i, j)] = [("riga", i)] if totali_riga else []
            if totali_colonna:
                out[("c", i, j)].append(("colonna", j))
    if totali_riga:
        for i in range(righe):
            out[("r", i)] = [("riga", i), ("totali_riga",)]
    if totali_colonna:
        for j in range(colonne):
            out[("k", j)] = [("colonna", j), ("totali_colonna",)]
    out[("t",)] = [r for r, presente in ((("totali_riga",), totali_riga), (("totali_colonna",), totali_colonna))
                   if presente]
    if not totali_riga and not totali_colonna:
        for voce in out:
            out[voce] = [("tutto",)]
    return {v: tuple(r + [_LIBERO] * (2 - len(r))) for v, r in out.items()}


def ponti(archi: dict[Voce, tuple]) -> set[Voce]:
    """The entries whose edge is a bridge of the multigraph ``archi`` (entry -> its two vertices).

    Tarjan's lowlink, iterative, on edge ids (parallel edges are a cycle; a self-loop never a bridge).
    """
    adiacenti: dict[Hashable, list[tuple[Hashable, Voce]]] = {}
    for voce, (u, v) in archi.items():
        adiacenti.setdefault(u, []).append((v, voce))
        adiacenti.setdefault(v, []).append((u, voce))
    ordine: dict[Hashable, int] = {}
    basso: dict[Hashable, int] = {}
    trovati: set[Voce] = set()
    contatore = 0
    for radice in adiacenti:
        if radice in ordine:
            continue
        ordine[radice] = basso[radice] = contatore
        contatore += 1
        pila: list[tuple[Hashable, Voce | None, int]] = [(radice, None, 0)]
        while pila:
            nodo, arrivo, k = pila[-1]
            if k < len(adiacenti[nodo]):
                pila[-1] = (nodo, arrivo, k + 1)
                vicino, voce = adiacenti[nodo][k]
                if voce == arrivo:
                    continue
                if vicino in ordine:
                    basso[nodo] = min(basso[nodo], ordine[vicino])
                else:
                    ordine[vicino] = basso[vicino] = contatore
                    contatore += 1
                    pila.append((vicino, voce, 0))
            else:
                pila.pop()
                if pila:
                    genitore = pila[-1][0]
                    basso[genitore] = min(basso[genitore], basso[nodo])
                    if basso[nodo] > ordine[genitore]:
                        assert arrivo is not None
                        trovati.add(arrivo)
    return {v for v in trovati if archi[v][0] != archi[v][1]}


def valori(celle: Sequence[Sequence[int]], *, totali_riga: bool, totali_colonna: bool) -> dict[Voce, int]:
    """Every entry of the table (cells and the totals it publishes) with its count."""
    out: dict[Voce, int] = {}
    for i, riga in enumerate(celle):
        for j, n in enumerate(riga):
            out[("c", i, j)] = int(n)
    colonne = len(celle[0]) if celle else 0
    if totali_riga:
        for i, riga in enumerate(celle):
            out[("r", i)] = sum(riga)
    if totali_colonna:
        for j in range(colonne):
            out[("k", j)] = sum(riga[j] for riga in celle)
    out[("t",)] = sum(map(sum, celle))
    return out


def da_sopprimere(celle: Sequence[Sequence[int]], soglia: int = SOGLIA_PREDEFINITA, *, totali_riga: bool = True,
                  totali_colonna: bool = True) -> tuple[frozenset[Voce], frozenset[Voce]]:
    """The primary and complementary suppressions of a table of non-negative counts (see the module)."""
    if any(n < 0 for riga in celle for n in riga):
        raise ValueError("counts are never negative")
    righe, colonne = len(celle), (len(celle[0]) if celle else 0)
    valore = valori(celle, totali_riga=totali_riga, totali_colonna=totali_colonna)
    rel = relazioni(righe, colonne, totali_riga=totali_riga, totali_colonna=totali_colonna)
    ordine = {voce: k for k, voce in enumerate(valore)}
    primarie = {v for v, n in valore.items() if 0 < n < soglia}
    soppresse = set(primarie)

    def ponti_di(insieme: Iterable[Voce]) -> set[Voce]:
        return ponti({v: rel[v] for v in insieme})

    while aperti := ponti_di(soppresse):
        voce = min(aperti, key=ordine.__getitem__)
        vicine = {r for r in rel[voce] if r != _LIBERO}
        candidate = sorted((v for v, n in valore.items() if v not in soppresse and n > 0 and vicine & set(rel[v])),
                           key=lambda v: (valore[v], ordine[v]))
        if not candidate:
            candidate = sorted((v for v, n in valore.items() if v not in soppresse and n > 0),
                               key=lambda v: (valore[v], ordine[v]))
        if not candidate:  # pragma: no cover - every positive entry suppressed leaves no bridge (see tests)
            break
        scelta = next((c for c in candidate if voce not in ponti_di(soppresse | {c})), candidate[0])
        soppresse.add(scelta)
    return frozenset(primarie), frozenset(soppresse - primarie)


def sopprimi(celle: Sequence[Sequence[int]], soglia: int = SOGLIA_PREDEFINITA, *, totali_riga: bool = True,
             totali_colonna: bool = True) -> Tabella:
    """The table as published: small counts as ``<soglia``, complementary suppressions as ``n.d.``."""
    primarie, complementari = da_sopprimere(celle, soglia, totali_riga=totali_riga, totali_colonna=totali_colonna)
    valore = valori(celle, totali_riga=totali_riga, totali_colonna=totali_colonna)
    piccolo = segno_piccolo(soglia)

    def mostra(voce: Voce) -> int | str:
        return piccolo if voce in primarie else NON_DIVULGATO if voce in complementari else valore[voce]

    colonne = len(celle[0]) if celle else 0
    return Tabella(
        celle=[[mostra(("c", i, j)) for j in range(colonne)] for i in range(len(celle))],
        totali_riga=[mostra(("r", i)) for i in range(len(celle))] if totali_riga else None,
        totali_colonna=[mostra(("k", j)) for j in range(colonne)] if totali_colonna else None,
        totale=mostra(("t",)), primarie=primarie, complementari=complementari)
