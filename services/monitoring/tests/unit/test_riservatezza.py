"""Small-count suppression: no small count is published, and no suppressed entry can be derived.

The property is checked against an independent computation: a search over every table of
non-negative integers that agrees with what is published (the visible cells and totals, and the
additive relations between them), looking for one where the suppressed entry has another value.
It shares nothing with ``sopprimi`` (no graph, no bridge).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.domain.riservatezza import NON_DIVULGATO, da_sopprimere, sopprimi


def _equazioni(righe: int, colonne: int, totali_riga: bool, totali_colonna: bool) -> list[tuple[list, Any]]:
    """Each published relation as (entries that add up, the entry they add up to)."""
    celle = [[("c", i, j) for j in range(colonne)] for i in range(righe)]
    eq: list[tuple[list, Any]] = []
    if totali_riga:
        eq += [(celle[i], ("r", i)) for i in range(righe)]
        eq.append(([("r", i) for i in range(righe)], ("t",)))
    if totali_colonna:
        eq += [([celle[i][j] for i in range(righe)], ("k", j)) for j in range(colonne)]
        eq.append(([("k", j) for j in range(colonne)], ("t",)))
    if not totali_riga and not totali_colonna:
        eq.append(([c for riga in celle for c in riga], ("t",)))
    return eq


def _vero(tabella: list[list[int]], voce: tuple) -> int:
    if voce[0] == "c":
        return tabella[voce[1]][voce[2]]
    if voce[0] == "r":
        return sum(tabella[voce[1]])
    if voce[0] == "k":
        return sum(r[voce[1]] for r in tabella)
    return sum(map(sum, tabella))


def _altra_soluzione(tabella: list[list[int]], nascoste: set, voce: tuple, eq: list, limite: int) -> bool:
    """Whether some non-negative integer table agreeing with every published entry and relation gives
    ``voce`` another value (values up to ``limite``; a brute-force search with forced-value propagation)."""
    vero = _vero(tabella, voce)
    ignote = sorted(nascoste)

    def risolvi(assegnati: dict) -> bool:
        assegnati = dict(assegnati)
        while True:  # propagate: a relation with one unknown left fixes it
            cambiato = False
            for parti, totale in eq:
                membri = [*parti, totale]
                valori = {m: (assegnati[m] if m in assegnati else None if m in nascoste else _vero(tabella, m))
                          for m in membri}
                ignoti = [m for m, v in valori.items() if v is None]
                noti = sum(valori[m] for m in parti if valori[m] is not None)
                if not ignoti:
                    if noti != valori[totale]:
                        return False
                elif len(ignoti) == 1:
                    m = ignoti[0]
                    v = valori[totale] - noti if m != totale else noti
                    if v < 0 or v > limite:
                        return False
                    assegnati[m] = v
                    cambiato = True
            if not cambiato:
                break
        libere = [m for m in ignote if m not in assegnati]
        if not libere:
            return True
        m = libere[0]
        return any(risolvi({**assegnati, m: v}) for v in range(limite + 1))

    return any(risolvi({voce: v}) for v in range(limite + 1) if v != vero)


tabelle = st.integers(1, 3).flatmap(lambda r: st.integers(1, 3).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 5), min_size=c, max_size=c), min_size=r, max_size=r)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tabelle, st.integers(2, 4), st.booleans(), st.booleans())
def test_no_small_count_is_published_and_no_suppressed_entry_can_be_derived(
        tabella: list[list[int]], soglia: int, totali_riga: bool, totali_colonna: bool) -> None:
    pubblicata = sopprimi(tabella, soglia, totali_riga=totali_riga, totali_colonna=totali_colonna)
    visibili = [v for riga in pubblicata.celle for v in riga] + (pubblicata.totali_riga or []) \
        + (pubblicata.totali_colonna or []) + [pubblicata.totale]
    assert not [v for v in visibili if isinstance(v, int) and 0 < v < soglia]
    nascoste = set(pubblicata.primarie | pubblicata.complementari)
    eq = _equazioni(len(tabella), len(tabella[0]), totali_riga, totali_colonna)
    limite = 2 * sum(map(sum, tabella)) + 2
    for voce in sorted(nascoste):
        assert _altra_soluzione(tabella, nascoste, voce, eq, limite), (voce, pubblicata)


@settings(max_examples=200, deadline=None)
@given(tabelle, st.integers(2, 4))
def test_complementary_suppressions_are_never_small_and_visible_entries_are_the_true_counts(
        tabella: list[list[int]], soglia: int) -> None:
    primarie, complementari = da_sopprimere(tabella, soglia)
    assert not primarie & complementari
    pubblicata = sopprimi(tabella, soglia)
    for i, riga in enumerate(tabella):
        for j, n in enumerate(riga):
            shown = pubblicata.celle[i][j]
            assert shown == n or shown == f"<{soglia}" and 0 < n < soglia or shown == NON_DIVULGATO and n >= soglia


def test_one_small_cell_takes_a_second_one_so_the_total_does_not_reveal_it() -> None:
    # Three Comuni of an Ambito: users of mental health services (one column, the Ambito's total).
    out = sopprimi([[1], [7], [40]], totali_riga=False, totali_colonna=False)
    assert out.celle == [["<3"], [NON_DIVULGATO], [40]] and out.totale == 48
    assert out.totali_riga is None and out.totali_colonna is None


def test_a_small_total_is_suppressed_too() -> None:
    out = sopprimi([[0, 2], [0, 0]])
    assert out.totale != 2 and out.totali_riga[0] != 2 and out.totali_colonna[1] != 2
    assert out.celle[0][0] == 0  # zeros identify no one


def test_nothing_small_nothing_suppressed() -> None:
    out = sopprimi([[3, 4], [5, 0]])
    assert out.celle == [[3, 4], [5, 0]] and out.totali_riga == [7, 5] and out.totali_colonna == [8, 4]
    assert out.totale == 12 and not out.primarie and not out.complementari
