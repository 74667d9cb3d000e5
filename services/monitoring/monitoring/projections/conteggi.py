"""Per-state counters of the regional tables, moved by deltas (pure helpers, no I/O).

A regional row counts, for one Ambito, how many of its records are in each state (one
column per state). A transition moves one unit from the old state's column to the new
one. Counters are changed with ``col = col + delta`` in one UPDATE, never recomputed
from the tenant's rows: two instances of the consumer may apply events of the same
Ambito concurrently (different partitions), and under READ COMMITTED a recount would
not see the other transaction's rows and would lose an update, while increments on the
locked row compose.
"""

from __future__ import annotations

from typing import Mapping

from psycopg import sql


def delta(prima: str | None, dopo: str, colonne: Mapping[str, str]) -> dict[str, int]:
    """Counter changes when one record moves from ``prima`` (None: new) to ``dopo``.

    ``colonne`` maps each state to its counter column; an unknown state is a bug of the
    caller (states come from validated events), so it raises ``KeyError``.
    """
    if prima == dopo:
        return {}
    changes = {colonne[dopo]: 1}
    if prima is not None:
        changes[colonne[prima]] = -1
    return changes


def assignments(changes: Mapping[str, int]) -> list[sql.Composable]:
    """``col = col + %s`` for each changed counter (its parameters: ``changes.values()``)."""
    return [sql.SQL("{c} = {c} + %s").format(c=sql.Identifier(column)) for column in changes]
