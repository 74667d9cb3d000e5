"""Idempotency keys: a repeated request returns the first result instead of acting twice.

A client sends ``Idempotency-Key: <key>`` with a command that moves money. The first
request stores, in the same transaction as its events, a record keyed by (tenant, client,
key) — a key is the client's own, as in the IETF draft — holding a fingerprint of the
operation and request and the response it produced. A repetition of the same request gets
that stored response; the same key on another request (another body, operation or ledger)
is refused: the key was meant for something else. Two identical requests racing each
other cannot both act: the record's id is derived from the key, so the second save fails
on the event store's uniqueness and the retry finds the first one's record.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any, Callable, Sequence

from eventsourcing.domain import event

from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, TenantApplication, tenant_uuid

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


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


def run_once(app: TenantApplication, tenant_id: str, operation: str, key: str, body: Any, principal: str,
             command: Callable[[], tuple[Sequence[Any], dict]], *, lock_key: Any = None,
             conflict_rule: str = "concorrenza.versione") -> tuple[dict, bool]:
    """Run ``command`` at most once for ``key``; returns (result, replayed).

    ``command`` decides and returns the aggregates to save and the JSON-safe result; it
    must not save them itself: they are saved here together with the key's record.
    """
    if not KEY_PATTERN.match(key):
        raise RuleViolation("La chiave di idempotenza ha da 8 a 128 caratteri tra lettere, cifre e . _ : -.",
                            rule="idempotenza.formato", field=HEADER)
    record_id = IdempotentRequest.create_id(tenant_id, principal, key)
    print_ = fingerprint({"operation": operation, "body": body})

    def attempt() -> tuple[dict, bool]:
        if app.exists(record_id):
            record = app.get_for_tenant(tenant_id, record_id, IdempotentRequest)
            if record.fingerprint != print_:
                raise RuleViolation("Questa chiave di idempotenza è già stata usata per una richiesta diversa.",
                                    rule="idempotenza.corpo_diverso", field=HEADER)
            return record.result, True
        aggregates, result = command()
        record = IdempotentRequest(tenant_id=tenant_id, operation=operation, key=key, fingerprint=print_,
                                   result=result, principal=principal)
        app.save(*aggregates, record)
        return result, False

    return app.retrying(attempt, message="Operazione molto contesa: riprovare.", rule=conflict_rule,
                        key=lock_key if lock_key is not None else record_id)
