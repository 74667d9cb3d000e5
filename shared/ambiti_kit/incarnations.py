"""A store's incarnations: which positions of its notification log belong to which life of the store.

A store restored from a backup writes new events at positions its lost events had taken. The relay
notices it (see ``OutboxRelay._check_incarnation``) and records a new incarnation that starts after the
store's head; events from there on carry ``ce_incarnation`` and ``ce_id``s of their own. The first
incarnation's events carry nothing, so that their ids never change. Cursors of the HTTP feed name the
incarnation too, so a reader past a restore point resumes from it (``resume_after``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from psycopg import sql

from ambiti_kit.envelope import INCARNATION, CloudEvent


class Incarnations:
    #: how long a reader (the feed, the webhooks) trusts what it read: a restore is noticed by another process
    FRESH_SECONDS = 1.0

    def __init__(self, datastore: Any, schema: str) -> None:
        self.datastore = datastore
        self.table = sql.SQL("{}.store_incarnations").format(sql.Identifier(schema))
        self._later: list[tuple[int, str]] | None = None  # (starts after, id), in the order they began
        self._read_at = 0.0

    def forget(self) -> None:
        self._later = None

    def refresh(self) -> None:
        """Read them again if what this process holds is older than ``FRESH_SECONDS``."""
        if time.monotonic() - self._read_at > self.FRESH_SECONDS:
            self._later = None

    def later(self) -> list[tuple[int, str]]:
        later = self._later  # one snapshot: other threads may forget it meanwhile
        if later is None:
            with self.datastore.transaction() as curs:
                curs.execute(sql.SQL("SELECT starts_after, incarnation::text AS id FROM {} "
                                     "ORDER BY created_at, starts_after").format(self.table))
                later = [(r["starts_after"], r["id"]) for r in curs.fetchall()][1:]
            self._later, self._read_at = later, time.monotonic()
        return later

    def of(self, notification_id: int) -> str | None:
        """The later incarnation a position belongs to: the last one begun before it (None: the first)."""
        found = None
        for starts_after, incarnation in self.later():
            if notification_id > starts_after:
                found = incarnation
        return found

    def stamp(self, event: CloudEvent | None, notification_id: int) -> CloudEvent | None:
        incarnation = self.of(notification_id) if event is not None else None
        if incarnation is None:
            return event
        return replace(event, id="", extensions={**event.extensions, INCARNATION: incarnation})

    def resume_after(self, position: int, incarnation: str | None) -> int:
        """Where a reader whose cursor is (``position``, ``incarnation``) goes on: from ``position``, unless an
        incarnation it has not seen began before it — then from that restore point (what it read after it
        was lost with the old store)."""
        later = self.later()
        seen = next((i for i, (_, ident) in enumerate(later) if ident == incarnation), -1) if incarnation else -1
        unseen = [starts_after for starts_after, _ in later[seen + 1:] if starts_after < position]
        return min(unseen) if unseen else position

    def cursor(self, position: int) -> str:
        incarnation = self.of(position)
        return f"{position}" if incarnation is None else f"{position}~{incarnation}"

    def record(self, curs: Any, starts_after: int, witness: int, reason: str) -> None:
        curs.execute(sql.SQL("INSERT INTO {} (incarnation, starts_after, witness, reason) "
                             "VALUES (gen_random_uuid(), %s, %s, %s)").format(self.table),
                     (starts_after, witness, reason))
        self._later = None

    def latest_witness(self, curs: Any) -> int | None:
        curs.execute(sql.SQL("SELECT witness FROM {} ORDER BY created_at DESC, starts_after DESC LIMIT 1")
                     .format(self.table))
        row = curs.fetchone()
        return row["witness"] if row else None
