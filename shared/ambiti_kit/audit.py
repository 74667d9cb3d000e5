"""The per-tenant audit hash chain over a service's notification log.

Each stored event gets one link, in notification order, in its tenant's chain::

    link = SHA-256(previous link of the tenant || originator_id || version || topic || state)

(the first link of a tenant starts from 32 zero bytes). Links are written by the
service's outbox worker shortly after the event commits (``AuditChain.advance``), into
``audit_chain`` beside the events table; both tables are append-only by trigger. Each
tenant's head is published to Kafka (``audit.chainheads.v1``) so that a third party can
hold it. ``verify`` recomputes one tenant's chain from the stored events and names every
event that was altered, deleted, re-ordered or slipped in; its report shows only that
tenant's events, so an Ambito's auditor can run it. (To find events slipped in without a
link it reads the unlinked rows of every tenant, and reports only its own.) Given the head
a third party holds (``witness``) it also catches a chain cut short with its events.

Heads are signed (Ed25519) with a per-service key kept outside the database
(``AMBITI_CHAIN_SIGNING_KEY``): a database owner who rewrites events *and* recomputes their links
cannot publish a head that matches the rewritten chain, so the last genuinely signed head on Kafka
exposes the rewrite. The public key is served at ``GET /audit/chiave`` for auditors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from psycopg import sql

from ambiti_kit.eventstore import events_table

GENESIS = bytes(32)
NO_TENANT = "_piattaforma"


def link_of(previous: bytes, originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    h = hashlib.sha256()
    h.update(previous)
    for part in (str(originator_id).encode(), str(version).encode(), topic.encode()):
        h.update(len(part).to_bytes(4, "big"))  # length-prefixed: no ambiguity between fields
        h.update(part)
    h.update(len(state).to_bytes(8, "big"))
    h.update(bytes(state))
    return h.digest()


def tenant_of_state(state: bytes) -> str:
    """The tenant of a stored event (the services store plain JSON event state)."""
    try:
        value = json.loads(bytes(state))
    except ValueError:
        return NO_TENANT
    tenant = value.get("tenant_id") if isinstance(value, dict) else None
    return tenant if isinstance(tenant, str) else NO_TENANT


@dataclass
class ChainHead:
    service: str
    tenant_id: str
    notification_id: int
    length: int
    head: str

    def as_message(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Problem:
    notification_id: int
    originator_id: str | None
    originator_version: int | None
    problem: str


@dataclass
class Verification:
    service: str
    tenant_id: str
    ok: bool
    events_verified: int
    head: str | None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditChain:
    """Writes and verifies the chains of one service's event store."""

    def __init__(self, datastore: Any, schema: str, service: str) -> None:
        self.datastore = datastore
        self.schema = schema
        self.service = service
        self._events = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(events_table(service)))
        self._chain = sql.SQL("{}.audit_chain").format(sql.Identifier(schema))
        self._last: int | None = None
        self._tails: dict[str, dict] = {}

    def advance(self, limit: int = 2000) -> list[ChainHead]:
        """Chain the next events; return the new head of every tenant touched.

        Only one writer may run per service (the outbox worker holds the service's
        leadership lock); notification ids are committed in order (the library locks
        the table on insert), so reading ``> last chained`` never skips an event. The
        writer keeps the chain's tail in memory; ``forget`` drops it (on leadership
        changes and errors) so that it is read again from the table.
        """
        with self.datastore.transaction(commit=True) as curs:
            # Links are a pure function of the stored events: a link lost in a crash is
            # recomputed identically by the next advance, so no need to wait for the disk.
            curs.execute("SET LOCAL synchronous_commit = off")
            last = self._last
            if last is None:
                curs.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS last FROM {}").format(self._chain))
                last = curs.fetchone()["last"]
            curs.execute(sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s").format(self._events),
                (last, limit))
            rows = curs.fetchall()
            if not rows:
                self._last = last
                return []
            tenants = {tenant_of_state(r["state"]) for r in rows}
            tails = dict(self._tails)
            unknown = tenants - tails.keys()
            if unknown:
                tails.update(self._heads(curs, unknown))
            links = []
            for r in rows:
                tenant = tenant_of_state(r["state"])
                prev = tails[tenant]
                link = link_of(prev.get("link", GENESIS), r["originator_id"], r["originator_version"],
                               r["topic"], r["state"])
                tails[tenant] = {"link": link, "notification_id": r["notification_id"],
                                 "length": prev.get("length", 0) + 1}
                links.append((r["notification_id"], tenant, r["originator_id"], r["originator_version"], link))
            with curs.copy(sql.SQL("COPY {} (notification_id, tenant_id, originator_id, originator_version, link) "
                                   "FROM STDIN").format(self._chain)) as copy:
                for row in links:
                    copy.write_row(row)
        self._tails, self._last = tails, rows[-1]["notification_id"]  # committed: now they are true
        return [ChainHead(self.service, t, h["notification_id"], h["length"], h["link"].hex())
                for t, h in tails.items() if t in tenants]

    def forget(self) -> None:
        """Drop the in-memory tail: the next ``advance`` reads it from the table."""
        self._last, self._tails = None, {}

    def _heads(self, curs: Any, tenants: set[str]) -> dict[str, dict]:
        curs.execute(sql.SQL(
            "SELECT DISTINCT ON (tenant_id) tenant_id, link, notification_id, "
            "count(*) OVER (PARTITION BY tenant_id) AS length FROM {} WHERE tenant_id = ANY(%s) "
            "ORDER BY tenant_id, notification_id DESC").format(self._chain), (list(tenants),))
        found = {r["tenant_id"]: {"link": bytes(r["link"]), "notification_id": r["notification_id"],
                                  "length": r["length"]} for r in curs.fetchall()}
        return {t: found.get(t, {}) for t in tenants}

    def all_heads(self) -> list[ChainHead]:
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL("SELECT DISTINCT tenant_id FROM {}").format(self._chain))
            tenants = {r["tenant_id"] for r in curs.fetchall()}
            heads = self._heads(curs, tenants) if tenants else {}
        return [ChainHead(self.service, t, h["notification_id"], h["length"], h["link"].hex())
                for t, h in heads.items()]

    def verify_aggregates(self, tenant_id: str, originator_ids: list[Any]) -> list[dict[str, Any]]:
        """The chain link of every event of some aggregates, each checked on its own.

        Proves the events of one deliberation or payment without recomputing the whole
        chain (``verify`` does that). One entry per event, in notification order, with a
        ``stato``: ``verificato`` (its link is the hash of the tenant's previous link and the
        event as stored now), ``in_attesa`` (committed after the outbox worker's last round),
        ``alterato`` (changed, or moved to another tenant), ``cancellato`` (its link remains,
        the event does not), ``fuori_catena`` (slipped in below the chained position), or
        ``mancante`` (a gap in the aggregate's versions, whatever removed it).
        """
        ids = list(originator_ids)
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL(
                "SELECT coalesce(e.notification_id, c.notification_id) AS notification_id, "
                "coalesce(e.originator_id, c.originator_id) AS originator_id, "
                "coalesce(e.originator_version, c.originator_version) AS originator_version, "
                "e.topic, e.state, c.link, c.tenant_id AS chained_tenant, c.originator_id AS chained_id, "
                "c.originator_version AS chained_version, "
                "(SELECT p.link FROM {chain} p WHERE p.tenant_id = c.tenant_id AND p.notification_id < c.notification_id "
                " ORDER BY p.notification_id DESC LIMIT 1) AS previous "
                "FROM (SELECT * FROM {events} WHERE originator_id = ANY(%s)) e "
                "FULL JOIN (SELECT * FROM {chain} WHERE originator_id = ANY(%s)) c "
                "ON c.notification_id = e.notification_id ORDER BY 1").format(chain=self._chain, events=self._events),
                (ids, ids))
            rows = curs.fetchall()
            curs.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS last FROM {}").format(self._chain))
            last_chained = curs.fetchone()["last"]
        result: list[dict[str, Any]] = []
        versions: dict[str, set[int]] = {}
        for r in rows:
            entry = {"notification_id": r["notification_id"], "originator_id": str(r["originator_id"]),
                     "originator_version": r["originator_version"], "topic": r["topic"],
                     "link": bytes(r["link"]).hex() if r["link"] is not None else None}
            versions.setdefault(entry["originator_id"], set()).add(r["originator_version"])
            if r["state"] is None:
                entry["stato"] = "cancellato"
            elif r["link"] is None:
                entry["stato"] = "fuori_catena" if r["notification_id"] <= last_chained else "in_attesa"
            else:
                previous = bytes(r["previous"]) if r["previous"] is not None else GENESIS
                expected = link_of(previous, r["originator_id"], r["originator_version"], r["topic"], r["state"])
                intact = (expected == bytes(r["link"]) and r["chained_tenant"] == tenant_id
                          and tenant_of_state(r["state"]) == tenant_id)
                entry["stato"] = "verificato" if intact else "alterato"
            result.append(entry)
        for originator_id, seen in versions.items():
            for missing in sorted(set(range(1, max(seen) + 1)) - seen):
                result.append({"notification_id": None, "originator_id": originator_id,
                               "originator_version": missing, "topic": None, "link": None, "stato": "mancante"})
        return result

    def verify(self, tenant_id: str, witness: dict[str, Any] | None = None) -> Verification:
        """Recompute ``tenant_id``'s chain from the stored events and compare.

        ``witness`` is a head held by a third party (the latest one published to Kafka,
        ``ChainHead.as_message()``): the stored chain must still contain that exact link
        at that position, which catches a chain cut short together with its events.
        """
        problems: list[Problem] = []
        with self.datastore.transaction() as curs:
            curs.execute(sql.SQL(
                "SELECT c.notification_id, c.originator_id AS chained_id, c.originator_version AS chained_version, "
                "c.link, e.originator_id, e.originator_version, e.topic, e.state "
                "FROM {} c LEFT JOIN {} e ON e.notification_id = c.notification_id "
                "WHERE c.tenant_id = %s ORDER BY c.notification_id").format(self._chain, self._events),
                (tenant_id,))
            rows = curs.fetchall()
            prev, verified = GENESIS, 0
            for r in rows:
                nid = r["notification_id"]
                if r["state"] is None:
                    problems.append(Problem(nid, str(r["chained_id"]), r["chained_version"],
                                            "evento cancellato: il link esiste ma l'evento non è più nel registro"))
                    prev = bytes(r["link"])
                    continue
                expected = link_of(prev, r["originator_id"], r["originator_version"], r["topic"], r["state"])
                if expected != bytes(r["link"]):
                    problems.append(Problem(nid, str(r["originator_id"]), r["originator_version"],
                                            "evento alterato o riordinato: l'hash non corrisponde"))
                elif tenant_of_state(r["state"]) != tenant_id:
                    problems.append(Problem(nid, str(r["originator_id"]), r["originator_version"],
                                            "evento spostato ad altro Ambito"))
                else:
                    verified += 1
                prev = bytes(r["link"])
            # Events of this tenant that were slipped in below the chained position.
            curs.execute(sql.SQL(
                "SELECT e.notification_id, e.originator_id, e.originator_version, e.state FROM {} e "
                "WHERE e.notification_id <= (SELECT coalesce(max(notification_id), 0) FROM {}) "
                "AND NOT EXISTS (SELECT 1 FROM {} c WHERE c.notification_id = e.notification_id)").format(
                self._events, self._chain, self._chain))
            for r in curs.fetchall():
                if tenant_of_state(r["state"]) == tenant_id:
                    problems.append(Problem(r["notification_id"], str(r["originator_id"]), r["originator_version"],
                                            "evento inserito fuori catena"))
        if witness is not None:
            at = {r["notification_id"]: r for r in rows}.get(witness["notification_id"])
            if at is None or bytes(at["link"]).hex() != witness["head"]:
                problems.append(Problem(witness["notification_id"], None, None,
                                        "la testa pubblicata non è più nella catena: eventi rimossi o riscritti"))
            elif sum(1 for r in rows if r["notification_id"] <= witness["notification_id"]) != witness["length"]:
                problems.append(Problem(witness["notification_id"], None, None,
                                        "la lunghezza della catena non corrisponde alla testa pubblicata"))
        problems.sort(key=lambda p: p.notification_id)
        head = bytes(rows[-1]["link"]).hex() if rows else None
        return Verification(self.service, tenant_id, not problems, verified, head, problems)


def _signed_text(head: dict[str, Any]) -> bytes:
    return "\n".join(str(head[k]) for k in ("service", "tenant_id", "notification_id", "length", "head")).encode()


class HeadSigner:
    """Signs and verifies chain heads with the service's Ed25519 key (32-byte seed, base64)."""

    def __init__(self, seed_b64: str) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = base64.b64decode(seed_b64, validate=True)
        if len(seed) != 32:
            raise ValueError("AMBITI_CHAIN_SIGNING_KEY must be 32 bytes, base64-encoded")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._private.public_key()

    def sign(self, head: dict[str, Any]) -> dict[str, Any]:
        firma = base64.b64encode(self._private.sign(_signed_text(head))).decode()
        return {**head, "firma": firma, "algoritmo_firma": "Ed25519"}

    def valid(self, head: dict[str, Any]) -> bool:
        from cryptography.exceptions import InvalidSignature
        try:
            self.public.verify(base64.b64decode(str(head.get("firma", "")), validate=True), _signed_text(head))
            return True
        except (InvalidSignature, ValueError, KeyError, TypeError):
            return False

    def public_key_b64(self) -> str:
        from cryptography.hazmat.primitives import serialization
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def signer(settings: Any) -> HeadSigner | None:
    key = getattr(settings, "chain_signing_key", None)
    return HeadSigner(key.get_secret_value()) if key else None


def published_heads(bootstrap: str, topic: str, service: str, timeout: float = 10.0,
                    accept: Any = None, last_written: bool = False) -> dict[str, dict[str, Any]]:
    """The latest head per tenant of ``service`` as published on ``topic`` (read from the start): the
    longest one, or with ``last_written`` the one written last; with ``accept`` (a head -> bool), of those
    it accepts; the others are counted under ``_rifiutate`` in the head returned."""
    from ambiti_kit import kafka  # the chain itself needs no broker: import only for witnesses
    from kafka import TopicPartition

    consumer = kafka.consumer(bootstrap, group_id=None)
    heads: dict[str, dict[str, Any]] = {}
    refused: dict[str, int] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:  # nothing published yet
            return {}
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        # Read until the topic stays quiet (end offsets are not trusted: Tansu under-reports them).
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and quiet < 4:
            batch = consumer.poll(timeout_ms=250)
            quiet = 0 if batch else quiet + 1
            for records in batch.values():
                for record in records:
                    head = json.loads(record.value)
                    if head.get("service") != service:
                        continue
                    if accept is not None and not accept(head):
                        refused[head["tenant_id"]] = refused.get(head["tenant_id"], 0) + 1
                        continue
                    known = heads.get(head["tenant_id"])
                    if known is None or last_written or head["notification_id"] >= known["notification_id"]:
                        heads[head["tenant_id"]] = head
    finally:
        consumer.close()
    for tenant, count in refused.items():
        heads.setdefault(tenant, {"tenant_id": tenant, "notification_id": None})["_rifiutate"] = count
    return heads


def external_witness(settings: Any, tenant_id: str, timeout: float = 5.0) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The head of ``tenant_id``'s chain last published on Kafka (the witness outside the database), and
    a description of what was compared, for the verification's report (Italian, for the auditor)."""
    firme = signer(settings)
    esterno: dict[str, Any] = {"fonte": "kafka", "topic": settings.chain_heads_topic, "confrontato": False,
                               "firma": "Ed25519" if firme else "non configurata"}
    try:
        witness = published_heads(settings.kafka_bootstrap_servers, settings.chain_heads_topic, settings.service,
                                  timeout=timeout, accept=firme.valid if firme else None).get(tenant_id)
    except Exception as exc:  # noqa: BLE001 - the chain is still verified; the report says the witness was missing
        esterno["motivo"] = f"broker non raggiungibile ({type(exc).__name__}): testimone esterno non confrontato"
        return None, esterno
    if witness and witness.get("_rifiutate"):
        esterno["teste_con_firma_non_valida"] = witness.pop("_rifiutate")
        if witness.get("notification_id") is None:
            witness = None
    if witness is None:
        esterno["motivo"] = "nessuna testa pubblicata per questo Ambito"
        return None, esterno
    esterno.update(confrontato=True, notification_id=witness["notification_id"], lunghezza=witness["length"],
                   testa=witness["head"])
    return witness, esterno
