"""What becomes of a dead letter: replayed after a fix, or discarded with a reason.

A dead letter is a message a consumer or projection could never apply, or a stored event the
relay could not decode (``ambiti_kit.consumer.Tracker``). Its row — the error that stopped it
and, for a message, the whole envelope as it arrived — is never changed. What operators and
workers do with it is an append-only log of actions beside it (``dead_letter_actions``), each
with who and why, so an auditor reads years later why a message was skipped or applied late:

    riprova_richiesta  an operator asked for a replay (``ambiti dead-letters replay``)
    riprova_in_corso   the worker that owns the message took it (tracking record removed)
    riapplicato        applied this time (tracking recorded with the effects, as for any message)
    ancora_rifiutato   refused again: the new error is the action's reason; the letter is open again
    scartato           an operator discarded it (``ambiti dead-letters discard``) with a reason

A replay is exactly-once by the same means as normal delivery: the worker removes the
tracking record and logs ``riprova_in_corso`` in one transaction; the handler records
tracking together with its effects. After a crash, ``riprova_in_corso`` with a tracking record
means it was applied; without one, it is applied again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from psycopg import sql

from ambiti_kit.envelope import CloudEvent

_log = logging.getLogger("ambiti.deadletters")

ACTIONS = ("riprova_richiesta", "riprova_in_corso", "riapplicato", "ancora_rifiutato", "scartato")
#: a letter's state is named by its last action (none: ``aperto``)
STATE_OF_ACTION = {None: "aperto", "riprova_richiesta": "da_riprovare", "riprova_in_corso": "in_riprova",
                   "riapplicato": "riapplicato", "ancora_rifiutato": "aperto", "scartato": "scartato"}
OPEN_STATES = ("aperto", "da_riprovare", "in_riprova")
#: suffix of the application name under which the relay records the events it could not decode
RELAY_SUFFIX = ":relay"

DDL = [
    # the envelope as it arrived (key, headers, value): what a replay hands to the handler again
    "ALTER TABLE {schema}.dead_letters ADD COLUMN IF NOT EXISTS envelope jsonb",
    """CREATE TABLE IF NOT EXISTS {schema}.dead_letter_actions (
        id bigserial PRIMARY KEY, application_name text NOT NULL, notification_id bigint NOT NULL,
        azione text NOT NULL CHECK (azione IN ('riprova_richiesta', 'riprova_in_corso', 'riapplicato',
                                               'ancora_rifiutato', 'scartato')),
        motivo text NOT NULL CHECK (length(motivo) BETWEEN 1 AND 2000), da_chi text NOT NULL,
        registrata_il timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (application_name, notification_id) REFERENCES {schema}.dead_letters)""",
    "CREATE INDEX IF NOT EXISTS dead_letter_actions_letter ON {schema}.dead_letter_actions "
    "(application_name, notification_id, id)",
]


class DeadLetterError(Exception):
    """An operator's request that the letter's state does not allow (message in Italian)."""


def envelope_of(event: CloudEvent) -> str:
    key, value, headers = event.to_kafka()
    return json.dumps({"key": key.decode(), "value": value.decode(),
                       "headers": [[k, v.decode()] for k, v in headers]}, ensure_ascii=False)


def event_of(envelope: dict[str, Any]) -> CloudEvent:
    return CloudEvent.from_kafka([(k, v.encode()) for k, v in envelope["headers"]],
                                 envelope["value"].encode(), envelope["key"].encode())


def _t(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


_LETTERS = """SELECT d.application_name, d.notification_id, d.ce_type, d.ce_id, d.tenant_id, d.error,
       d.recorded_at, d.envelope IS NOT NULL AS ha_envelope, a.azione AS ultima_azione,
       a.motivo AS ultimo_motivo, a.da_chi AS ultimo_da_chi, a.registrata_il AS ultima_il
  FROM {letters} d LEFT JOIN LATERAL (
       SELECT azione, motivo, da_chi, registrata_il FROM {actions} x
        WHERE x.application_name = d.application_name AND x.notification_id = d.notification_id
        ORDER BY x.id DESC LIMIT 1) a ON true"""


@dataclass(frozen=True)
class Letter:
    application_name: str
    notification_id: int
    ce_type: str
    ce_id: str
    tenant_id: str
    error: str
    recorded_at: Any
    ha_envelope: bool
    ultima_azione: str | None
    ultimo_motivo: str | None
    ultimo_da_chi: str | None
    ultima_il: Any

    @property
    def stato(self) -> str:
        return STATE_OF_ACTION[self.ultima_azione]

    @property
    def ref(self) -> str:
        return f"{self.application_name}/{self.notification_id}"

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "stato": self.stato, "applicazione": self.application_name,
                "notifica": self.notification_id, "tipo": self.ce_type, "ce_id": self.ce_id,
                "ambito": self.tenant_id, "errore": self.error, "registrato_il": str(self.recorded_at),
                "ultima_azione": self.ultima_azione, "motivo": self.ultimo_motivo, "da_chi": self.ultimo_da_chi,
                "il": None if self.ultima_il is None else str(self.ultima_il)}


class DeadLetters:
    """The dead letters of one service's schema, read and acted on through a cursor's transaction.

    ``transaction`` is a context manager factory yielding a dict-row cursor and committing on
    exit (the eventsourcing datastore's ``transaction(commit=True)``, or the CLI's connection).
    """

    def __init__(self, transaction: Callable[[], Any], schema: str) -> None:
        self.transaction = transaction
        self.schema = schema
        self.letters = _t(schema, "dead_letters")
        self.actions = _t(schema, "dead_letter_actions")
        self._select = sql.SQL(_LETTERS).format(letters=self.letters, actions=self.actions)

    # -- reading -------------------------------------------------------------------------------
    def list(self, *, states: Iterable[str] | None = OPEN_STATES, tenant: str | None = None) -> list[Letter]:
        with self.transaction() as curs:
            curs.execute(sql.SQL("{} ORDER BY d.recorded_at, d.application_name, d.notification_id").format(
                self._select))
            letters = [Letter(**row) for row in curs.fetchall()]
        wanted = set(states) if states is not None else None
        return [x for x in letters if (wanted is None or x.stato in wanted)
                and (tenant is None or x.tenant_id == tenant)]

    def count_open(self) -> int:
        with self.transaction() as curs:
            curs.execute(sql.SQL("SELECT count(*) AS n FROM ({}) l WHERE l.ultima_azione IS NULL "
                                 "OR l.ultima_azione NOT IN ('riapplicato', 'scartato')").format(self._select))
            return curs.fetchone()["n"]

    def history(self, application_name: str, notification_id: int) -> list[dict[str, Any]]:
        with self.transaction() as curs:
            curs.execute(sql.SQL("SELECT azione, motivo, da_chi, registrata_il FROM {} WHERE application_name = %s "
                                 "AND notification_id = %s ORDER BY id").format(self.actions),
                         (application_name, notification_id))
            return list(curs.fetchall())

    # -- an operator's requests ----------------------------------------------------------------
    def request_replay(self, ref: str, motivo: str, da_chi: str) -> Letter:
        return self._request(ref, "riprova_richiesta", motivo, da_chi)

    def discard(self, ref: str, motivo: str, da_chi: str) -> Letter:
        return self._request(ref, "scartato", motivo, da_chi)

    def _request(self, ref: str, azione: str, motivo: str, da_chi: str) -> Letter:
        application_name, notification_id = parse_ref(ref)
        motivo = (motivo or "").strip()
        if not motivo:
            raise DeadLetterError("motivo: obbligatorio (si conserva con la lettera, per chi la rileggerà)")
        if len(motivo) > 2000:
            raise DeadLetterError("motivo: al massimo 2000 caratteri")
        with self.transaction() as curs:
            letter = self._locked(curs, application_name, notification_id)
            if letter is None:
                raise DeadLetterError(f"{ref}: nessuna lettera non recapitata con questo riferimento")
            if letter.stato != "aperto":
                raise DeadLetterError(f"{ref}: è «{letter.stato}», si può riprovare o scartare solo una lettera aperta")
            self._log_action(curs, application_name, notification_id, azione, motivo, da_chi)
        return self.get(ref)

    def get(self, ref: str) -> Letter:
        application_name, notification_id = parse_ref(ref)
        with self.transaction() as curs:
            curs.execute(sql.SQL("{} WHERE d.application_name = %s AND d.notification_id = %s").format(self._select),
                         (application_name, notification_id))
            row = curs.fetchone()
        if row is None:
            raise DeadLetterError(f"{ref}: nessuna lettera non recapitata con questo riferimento")
        return Letter(**row)

    # -- the owner's side (a consumer, the projector, the relay) --------------------------------
    def claim(self, applications: Iterable[str], limit: int = 20) -> list[tuple[Letter, dict[str, Any] | None]]:
        """Letters of ``applications`` whose replay was asked for (or cut short by a crash), with their
        envelope. Rows are locked only while reading: two workers may claim the same letter, and the
        tracking record decides which applies it."""
        with self.transaction() as curs:
            # a consumer's letters of a later incarnation of its producer's store are named <producer>@<id>
            curs.execute(sql.SQL("SELECT * FROM ({}) l WHERE split_part(l.application_name, '@', 1) = ANY(%s) "
                                 "AND l.ultima_azione IN ('riprova_richiesta', 'riprova_in_corso') "
                                 "ORDER BY l.notification_id LIMIT %s").format(self._select),
                         (list(applications), limit))
            letters = [Letter(**row) for row in curs.fetchall()]
            found = []
            for letter in letters:
                curs.execute(sql.SQL("SELECT envelope FROM {} WHERE application_name = %s AND notification_id = %s")
                             .format(self.letters), (letter.application_name, letter.notification_id))
                found.append((letter, curs.fetchone()["envelope"]))
            return found

    def start(self, curs: Any, letter: Letter, tracking_table: sql.Composable | None, worker: str) -> bool:
        """In the caller's transaction: take a requested replay (remove its tracking record, log
        ``riprova_in_corso``). False if another worker changed it meanwhile."""
        current = self._locked(curs, letter.application_name, letter.notification_id)
        if current is None or current.ultima_azione != "riprova_richiesta":
            return False
        if tracking_table is not None:
            curs.execute(sql.SQL("DELETE FROM {} WHERE application_name = %s AND notification_id = %s").format(
                tracking_table), (letter.application_name, letter.notification_id))
        self._log_action(curs, letter.application_name, letter.notification_id, "riprova_in_corso",
                         "riprova presa in carico", worker)
        return True

    def finish(self, letter: Letter, azione: str, motivo: str, worker: str,
               before: Callable[[Any], None] | None = None) -> bool:
        """Log the outcome once (``riapplicato`` or ``ancora_rifiutato``), if the letter is still in progress;
        ``before(curs)`` runs in the same transaction (re-recording tracking for a refused replay)."""
        with self.transaction() as curs:
            current = self._locked(curs, letter.application_name, letter.notification_id)
            if current is None or current.ultima_azione != "riprova_in_corso":
                return False
            if before is not None:
                before(curs)
            self._log_action(curs, letter.application_name, letter.notification_id, azione, motivo[:2000], worker)
        return True

    # -- helpers ---------------------------------------------------------------------------------
    def _locked(self, curs: Any, application_name: str, notification_id: int) -> Letter | None:
        curs.execute(sql.SQL("SELECT 1 FROM {} WHERE application_name = %s AND notification_id = %s FOR UPDATE")
                     .format(self.letters), (application_name, notification_id))
        if curs.fetchone() is None:
            return None
        curs.execute(sql.SQL("{} WHERE d.application_name = %s AND d.notification_id = %s").format(self._select),
                     (application_name, notification_id))
        return Letter(**curs.fetchone())

    def _log_action(self, curs: Any, application_name: str, notification_id: int, azione: str, motivo: str,
                    da_chi: str) -> None:
        assert azione in ACTIONS
        curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id, azione, motivo, da_chi) "
                             "VALUES (%s, %s, %s, %s, %s)").format(self.actions),
                     (application_name, notification_id, azione, motivo, da_chi))
        _log.info("dead letter %s/%s: %s", application_name, notification_id, azione,
                  extra={"motivo": motivo, "da_chi": da_chi})


def parse_ref(ref: str) -> tuple[str, int]:
    """``<application>/<notification id>`` as ``list`` prints it (e.g. ``planning/42``, ``finance:relay/7``)."""
    application_name, sep, number = (ref or "").rpartition("/")
    if not sep or not application_name or not number.isdigit():
        raise DeadLetterError(f"{ref!r}: il riferimento è <applicazione>/<notifica>, come lo mostra `list`")
    return application_name, int(number)


class Replayer:
    """Runs, in the worker that owns a kind of letter, the replays operators asked for.

    ``apply(letter, envelope)`` applies the message as normal delivery would, recording its
    tracking with its effects; it raises one of ``refused`` when the message is still refused,
    anything else for trouble worth retrying at the next round (the letter stays in progress).
    """

    def __init__(self, letters: DeadLetters, applications: Iterable[str], worker: str, *,
                 apply: Callable[[Letter, dict[str, Any] | None], None], refused: tuple[type[BaseException], ...],
                 tracking_table: sql.Composable | None, applied: Callable[[Letter], bool],
                 every_seconds: float = 2.0) -> None:
        self.letters = letters
        self.applications = list(applications)
        self.worker = worker
        self.apply = apply
        self.refused = refused
        self.tracking_table = tracking_table
        self.applied = applied
        self.every_seconds = every_seconds
        self._checked_at = float("-inf")
        self.replayed = 0

    def run_once(self, now: float) -> int:
        if now - self._checked_at < self.every_seconds:
            return 0
        self._checked_at = now
        done = 0
        for letter, envelope in self.letters.claim(self.applications):
            if letter.ultima_azione == "riprova_richiesta":
                with self.letters.transaction() as curs:
                    if not self.letters.start(curs, letter, self.tracking_table, self.worker):
                        continue
            elif self.applied(letter):  # taken before a crash, and applied then
                self.letters.finish(letter, "riapplicato", "applicato prima dell'interruzione del lavoro",
                                    self.worker)
                continue
            try:
                self.apply(letter, envelope)
            except self.refused as exc:
                self.letters.finish(letter, "ancora_rifiutato", f"{type(exc).__name__}: {exc}", self.worker,
                                    before=self._record_tracking(letter))
                _log.error("replayed dead letter refused again: %s", exc,
                           extra={"alert": "lettera_ancora_rifiutata", "ref": letter.ref})
                continue
            except Exception as exc:  # noqa: BLE001 - retried at the next round, the letter stays in progress
                if self.applied(letter):  # applied by another worker meanwhile
                    self.letters.finish(letter, "riapplicato", "applicato da un'altra istanza", self.worker)
                else:
                    _log.warning("replay of %s failed, retrying: %r", letter.ref, exc)
                continue
            self.letters.finish(letter, "riapplicato", "riapplicato", self.worker)
            self.replayed += 1
            done += 1
        return done

    def _record_tracking(self, letter: Letter) -> Callable[[Any], None] | None:
        if self.tracking_table is None:
            return None

        def record(curs: Any) -> None:  # skipped again, as before the replay
            curs.execute(sql.SQL("INSERT INTO {} (application_name, notification_id) VALUES (%s, %s) "
                                 "ON CONFLICT DO NOTHING").format(self.tracking_table),
                         (letter.application_name, letter.notification_id))
        return record
