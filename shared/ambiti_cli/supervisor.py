"""Supervision of what the launcher started: a child that stops is started again, the others go on.

`ambiti run` starts PostgreSQL, the broker, the four services and the console; each becomes a
:class:`Child` with three functions (start, alive, stop). :meth:`Supervisor.tick`, called twice a
second, notices a child that is no longer alive, logs it, and starts it again after a backoff that
doubles on each failure in a row (1 s, 2 s, 4 s … up to 30 s) and resets once the child has run
for a minute. The launcher writes :meth:`Supervisor.state` to ``var/run/state.json`` on every change,
which ``ambiti status`` reads.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
#: a child that has run this long is healthy again: its next failure waits BACKOFF_FIRST
STABLE_AFTER = 60.0


@dataclass
class Child:
    name: str
    start: Callable[[], None]
    alive: Callable[[], bool]
    stop: Callable[[], None]
    pid: Callable[[], int | None] = lambda: None
    url: str | None = None
    #: what the launcher does when it restarts this child, for the log (e.g. "broker vuoto: le relay ripubblicano")
    note: str = ""
    restarts: int = 0
    state: str = "in esecuzione"
    started_at: float = 0.0
    retry_at: float | None = None
    backoff: float = BACKOFF_FIRST
    last_error: str | None = None


@dataclass
class Supervisor:
    children: list[Child]
    log: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    on_change: Callable[["Supervisor"], None] = lambda supervisor: None
    stopping: bool = False
    changed: bool = field(default=False, repr=False)

    def started(self) -> None:
        """Every child has just been started by the launcher."""
        now = self.clock()
        for child in self.children:
            child.started_at, child.state = now, "in esecuzione"
        self.on_change(self)

    def tick(self) -> None:
        if self.stopping:
            return
        now = self.clock()
        changed = False
        for child in self.children:
            if child.retry_at is None:
                if child.alive():
                    if now - child.started_at >= STABLE_AFTER:
                        child.backoff = BACKOFF_FIRST
                    continue
                child.retry_at = now + child.backoff
                child.state = f"fermo: riavvio tra {child.backoff:g} s"
                self.log(f"{child.name} si è fermato: lo riavvio tra {child.backoff:g} s"
                         + (f" ({child.note})" if child.note else ""))
                changed = True
            elif now >= child.retry_at:
                changed = True
                try:
                    child.start()
                except Exception as exc:  # a start that fails is retried later, never fatal
                    child.last_error = f"{type(exc).__name__}: {exc}"
                    child.backoff = min(child.backoff * 2, BACKOFF_MAX)
                    child.retry_at = self.clock() + child.backoff
                    child.state = f"avvio fallito: nuovo tentativo tra {child.backoff:g} s"
                    self.log(f"{child.name}: riavvio fallito ({child.last_error}); nuovo tentativo tra "
                             f"{child.backoff:g} s")
                    continue
                child.restarts += 1
                child.retry_at = None
                child.started_at = self.clock()
                child.state = "in esecuzione"
                child.last_error = None
                self.log(f"{child.name} riavviato (riavvio n. {child.restarts})")
                child.backoff = min(child.backoff * 2, BACKOFF_MAX)
        if changed:
            self.on_change(self)

    def stop_all(self) -> None:
        """Stop every child, the last started first (the console before the services before the servers)."""
        self.stopping = True
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception as exc:
                self.log(f"{child.name}: arresto non riuscito ({exc})")

    def state(self) -> dict[str, Any]:
        return {
            "launcher_pid": os.getpid(),
            "children": [{"name": c.name, "pid": c.pid(), "url": c.url, "state": c.state, "restarts": c.restarts,
                          "last_error": c.last_error} for c in self.children],
        }


def write_state(path: Path, supervisor: Supervisor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(supervisor.state(), ensure_ascii=False, indent=1))
    tmp.replace(path)
