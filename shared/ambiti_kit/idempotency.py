"""Idempotency keys: a repeated request returns the first result instead of acting twice.

A client sends ``Idempotency-Key: <key>`` with a command that moves money. The first
request stores, in the same transaction as its events, a record keyed by (tenant, client,
key) — a key is the client's own, as in the IETF draft — holding a fingerprint of the
operation and request and the response it produced. A repetition of the same request gets
that stored response; the same key on another request (another body, operation or ledger)
is refused: the key was meant for something else. Two identical requests racing each
other cannot both act: the record's id is derived from the key, so the second save fails
on the event store's uniqueness and the retry finds the first one's record.

Over HTTP: a route takes :data:`IdempotencyKey` (the header, declared required in the
OpenAPI; a request without it is answered 428, one with a malformed key 422), passes the
key to the use case, answers with :func:`idempotent_answer` (201 the first time, 200 with
the same body on a repeat, ``Idempotent-Replayed`` saying which) and declares
``responses=IDEMPOTENT_RESPONSES`` so that its OpenAPI says all of this.

In the application, a use case is made idempotent by decorating it with :func:`idempotent`:
it takes the request's :class:`Once` (tenant, client, key) and its typed command, loads,
decides and saves its aggregates together with ``once.record(result)``; the decorator
answers a repeat from the record, refuses a reused key and retries a lost version race.
:func:`run_once` is the same for a command given as a function.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Concatenate, ParamSpec, Sequence, TypeVar

from eventsourcing.domain import event
from fastapi import Depends, Header, Response

from ambiti_kit.errors import PROBLEM_JSON, Problem, RuleViolation, precondition_header
from ambiti_kit.tenancy import TenantAggregate, TenantApplication, tenant_uuid

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")
KEY_FORMAT = "La chiave di idempotenza ha da 8 a 128 caratteri tra lettere, cifre e . _ : -."
MISSING_KEY = (f"Le operazioni che muovono denaro richiedono l'intestazione {HEADER}: una chiave scelta dal "
               "client per questa richiesta, da ripetere identica nei tentativi successivi.")

# A request without the key is a missing precondition (428), one with a bad key invalid data (422).
precondition_header(HEADER, rule_missing="idempotenza.chiave_richiesta", message_missing=MISSING_KEY,
                    rule_invalid="idempotenza.formato", message_invalid=KEY_FORMAT)


def idempotency_key(key: Annotated[str, Header(
        alias=HEADER, pattern=f"^{KEY_PATTERN.pattern}$",
        description="Chiave scelta dal client per questa richiesta (8–128 caratteri tra lettere, cifre e . _ : -). "
                    "Ripetere la stessa chiave con lo stesso corpo restituisce la prima risposta senza ripetere "
                    "l'operazione; la stessa chiave con un corpo diverso è rifiutata (422). Senza chiave: 428.",
        examples=["impegno-2026-000118"])]) -> str:
    """Money moves at most once per request: the client names each request with a key it repeats on retry."""
    return key


#: the Idempotency-Key header of a route that moves money (required: 428 without it)
IdempotencyKey = Annotated[str, Depends(idempotency_key)]

_REPLAYED = {REPLAYED_HEADER: {
    "description": "`true` se la risposta è quella, memorizzata, di una richiesta già eseguita con la stessa "
                   "chiave; `false` se l'operazione è stata eseguita ora.",
    "schema": {"type": "string", "enum": ["true", "false"]}}}

#: for a route's ``responses=``: the 201/200 pair with ``Idempotent-Replayed``, and the 428
IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "Eseguita ora (`Idempotent-Replayed: false`).", "headers": _REPLAYED},
    200: {"description": "Ripetizione di una richiesta già eseguita con la stessa chiave e lo stesso corpo: lo "
                         "stesso corpo della prima risposta, nulla è eseguito di nuovo "
                         "(`Idempotent-Replayed: true`).",
          "headers": _REPLAYED, "content": {"application/json": {"schema": {"type": "object"}}}},
    428: {"model": Problem, "description": f"Manca l'intestazione {HEADER}.", "content": {PROBLEM_JSON: {}}},
}


def idempotent_answer(response: Response, outcome: tuple[dict, bool]) -> dict:
    """The body of :func:`run_once`'s ``outcome``: 201 the first time, 200 on a repeat, and the header saying which."""
    result, replayed = outcome
    response.status_code = 200 if replayed else 201
    response.headers[REPLAYED_HEADER] = "true" if replayed else "false"
    return result


def fingerprint(body: Any) -> str:
    """SHA-256 of the request's canonical JSON (keys sorted): equal bodies, equal fingerprints."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class IdempotentRequest(TenantAggregate):
    """The first outcome of one (tenant, operation, key): infrastructure, not a business fact."""

    @staticmethod
    def create_id(tenant_id: str, principal: str, key: str) -> uuid.UUID:
        return tenant_uuid(tenant_id, "idempotency", principal, key)

    @event("Recorded")
    def __init__(self, tenant_id: str, operation: str, key: str, fingerprint: str, result: dict,
                 principal: str) -> None:
        self.tenant_id = tenant_id
        self.operation = operation
        self.key = key
        self.fingerprint = fingerprint
        self.result = result
        self.principal = principal


@dataclass(frozen=True)
class Once:
    """A request under an Idempotency-Key, as an :func:`idempotent` use case receives it.

    The route builds it from the caller (``Once(tenant_id, principal.subject, key)``); the
    decorator adds the operation and the request's fingerprint before the use case runs. The
    use case saves :meth:`record` of its result together with the aggregates it changed.
    """

    tenant_id: str
    principal: str
    key: str
    operation: str = ""
    fingerprint: str = ""
    _recorded: list[dict] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def record_id(self) -> uuid.UUID:
        return IdempotentRequest.create_id(self.tenant_id, self.principal, self.key)

    def of(self, operation: str, request: Any) -> "Once":
        """This key for ``operation`` on ``request`` (a JSON-able value or a dataclass, e.g. a command)."""
        body = dataclasses.asdict(request) if dataclasses.is_dataclass(request) and not isinstance(request, type) \
            else request
        return Once(self.tenant_id, self.principal, self.key, operation,
                    fingerprint({"operation": operation, "body": body}))

    def record(self, result: dict) -> IdempotentRequest:
        """The key's record of ``result`` (JSON-safe): save it in the same ``save()`` as the use case's aggregates."""
        if not self.operation:
            raise TypeError("Once.record() belongs to a use case decorated with @idempotent (or run_once)")
        self._recorded.append(result)
        return IdempotentRequest(tenant_id=self.tenant_id, operation=self.operation, key=self.key,
                                 fingerprint=self.fingerprint, result=result, principal=self.principal)


def _at_most_once(app: TenantApplication, once: Once, decide: Callable[[], dict], *, lock_key: Any,
                  conflict_rule: str, message: str) -> tuple[dict, bool]:
    """The stored result of ``once``'s key, or ``decide()`` (which saves the record); retried on lost races."""
    if not KEY_PATTERN.fullmatch(once.key):
        raise RuleViolation(KEY_FORMAT, rule="idempotenza.formato", field=HEADER)

    def attempt() -> tuple[dict, bool]:
        if app.exists(once.record_id):
            record = app.get_for_tenant(once.tenant_id, once.record_id, IdempotentRequest)
            if record.fingerprint != once.fingerprint:
                raise RuleViolation("Questa chiave di idempotenza è già stata usata per una richiesta diversa.",
                                    rule="idempotenza.corpo_diverso", field=HEADER)
            return record.result, True
        recorded = len(once._recorded)
        result = decide()
        if len(once._recorded) == recorded:
            raise TypeError(f"the use case of {once.operation!r} returned without saving once.record(result)")
        return result, False

    return app.retrying(attempt, message=message, rule=conflict_rule,
                        key=lock_key if lock_key is not None else once.record_id)


App = TypeVar("App", bound=TenantApplication)
Command = TypeVar("Command")
Args = ParamSpec("Args")
UseCase = Callable[Concatenate[App, Once, Command, Args], dict]
IdempotentUseCase = Callable[Concatenate[App, Once, Command, Args], tuple[dict, bool]]


def idempotent(operation: str, *, lock: Callable[[Once, Any], Any] | None = None,
               conflict_rule: str = "concorrenza.versione",
               message: str = "Operazione molto contesa: riprovare.") -> Callable[[UseCase], IdempotentUseCase]:
    """Run an application's use case at most once per Idempotency-Key, retried when it loses a version race.

    The use case is a method ``(self, once, command, *args) -> dict`` that loads its
    aggregates, decides, and saves them with ``once.record(result)`` in one ``save()``,
    returning ``result`` (JSON-safe). Decorated, it is called with the route's
    :class:`Once` and returns ``(result, replayed)``:

    - a repeat of the same request under the same key gets the stored result
      (``replayed``), and nothing runs;
    - the same key on another request (``operation`` and ``command`` make the fingerprint;
      the other arguments, e.g. data read from a read model, do not) is a 422
      ``idempotenza.corpo_diverso``; a malformed key a 422 ``idempotenza.formato``;
    - a lost version race runs the whole use case again on the new state (serialised in
      this process per ``lock(once, command)``, the contended aggregate's id), then a 409
      ``conflict_rule`` after the application's attempts.
    """
    def decorate(use_case: UseCase) -> IdempotentUseCase:
        @functools.wraps(use_case)
        def at_most_once(app: App, once: Once, command: Command, *args: Any, **kwargs: Any) -> tuple[dict, bool]:
            bound = once.of(operation, command)
            return _at_most_once(app, bound, lambda: use_case(app, bound, command, *args, **kwargs),
                                 lock_key=lock(bound, command) if lock is not None else None,
                                 conflict_rule=conflict_rule, message=message)
        return at_most_once
    return decorate


def run_once(app: TenantApplication, tenant_id: str, operation: str, key: str, body: Any, principal: str,
             command: Callable[[], tuple[Sequence[Any], dict]], *, lock_key: Any = None,
             conflict_rule: str = "concorrenza.versione") -> tuple[dict, bool]:
    """Run ``command`` at most once for ``key``; returns (result, replayed).

    ``command`` decides and returns the aggregates to save and the JSON-safe result; it
    must not save them itself: they are saved here together with the key's record. (A use
    case of an application reads better as an :func:`idempotent` method.)
    """
    once = Once(tenant_id, principal, key).of(operation, body)

    def decide() -> dict:
        aggregates, result = command()
        app.save(*aggregates, once.record(result))
        return result

    return _at_most_once(app, once, decide, lock_key=lock_key, conflict_rule=conflict_rule,
                         message="Operazione molto contesa: riprovare.")
