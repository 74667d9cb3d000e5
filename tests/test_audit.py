"""Acceptance of the audit trail: append-only stores and per-tenant hash chains.

Against the real PostgreSQL and the services of the session's ``platform``. The platform
is shared by the whole run and tampering leaves the store altered, so every test works
with tenants of its own (``15-AUD<n>``) and only ever tampers with their events.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from ambiti_kit.errors import PROBLEM_JSON
from ambiti_kit.eventstore import events_table
from ambiti_kit.testing.fixtures import Infra, Platform, wait_until

TRIENNI = [(2025, 2027), (2028, 2030), (2031, 2033)]
EVENTS = events_table("planning")
CHAIN = "audit_chain"
AMBITI_CLI = Path(sys.executable).with_name("ambiti")


# -- helpers ---------------------------------------------------------------------------

def planning_table(infra: Infra, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(infra.settings("planning").db_schema), sql.Identifier(name))


def redigi_piani(platform: Platform, tenant: str, count: int) -> list[dict[str, Any]]:
    """Draft ``count`` plans of ``tenant`` (one per triennium) through the planning API."""
    coordinatore = platform.infra.auth(tenant, "coordinatore")
    piani = []
    for inizio, fine in TRIENNI[:count]:
        created = httpx.post(f"{platform.url('planning')}/piani", headers=coordinatore, json={
            "titolo": f"Piano di Zona {tenant} {inizio}-{fine}", "anno_inizio": inizio, "anno_fine": fine})
        assert created.status_code == 201, created.text
        piani.append(created.json())
    return piani


def verify(platform: Platform, tenant: str, role: str = "coordinatore", **params: str) -> dict[str, Any]:
    response = httpx.get(f"{platform.url('planning')}/audit/verify", params=params,
                         headers=platform.infra.auth(tenant, role))
    assert response.status_code == 200, response.text
    return response.json()


def wait_chained(platform: Platform, tenant: str, count: int) -> dict[str, Any]:
    """Poll the verification until the outbox worker has linked ``count`` events of ``tenant``."""
    return wait_until(lambda: (report := verify(platform, tenant))["events_verified"] == count and report,
                      message=f"{count} chained events of {tenant}")


def stored_event(db: psycopg.Connection, infra: Infra, piano_id: str) -> dict[str, Any]:
    """The stored ``Creato`` event of a plan (its first and only event)."""
    row = db.execute(sql.SQL("SELECT * FROM {} WHERE originator_id = %s").format(
        planning_table(infra, EVENTS)), (piano_id,)).fetchone()
    assert row is not None and row["originator_version"] == 1
    return row


@contextmanager
def tampering(db: psycopg.Connection, infra: Infra, table: str) -> Iterator[sql.Composed]:
    """As superuser, in one transaction: disable the table's user triggers, tamper, re-enable."""
    ident = planning_table(infra, table)
    with db.transaction():
        db.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(ident))
        yield ident
        for kind in ("rows", "truncate"):  # back as the kit installs them: ENABLE ALWAYS
            db.execute(sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(
                ident, sql.Identifier(f"{table}_append_only_{kind}")))


def audit_cli(infra: Infra, tenant: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AMBITI_CLI), "audit", "verify", "--tenant", tenant, "--service", "planning"],
                          env=infra.env(), capture_output=True, text=True, timeout=60)


def scalar(db: psycopg.Connection, query: sql.Composable, *params: Any) -> Any:
    return next(iter(db.execute(query, params).fetchone().values()))


def problems_of(report: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(p["notification_id"], p["originator_id"], p["originator_version"]) for p in report["problems"]]


@pytest.fixture
def db(infra: Infra) -> Iterator[psycopg.Connection]:
    """A superuser connection (the store's owner: privileges alone would not stop it)."""
    with psycopg.connect(infra.database_url, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()["rolsuper"]
        yield conn


# -- append-only -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def chained_piano(platform: Platform) -> dict[str, Any]:
    """One plan of a tenant of its own, already linked into its audit chain."""
    [piano] = redigi_piani(platform, "15-AUD0", 1)
    wait_chained(platform, "15-AUD0", 1)
    return piano


#: column overwritten by the UPDATE attempt, per table
FORGED_COLUMN = {EVENTS: "state", CHAIN: "link"}
MUTATIONS = {
    "UPDATE": "UPDATE {table} SET {column} = %(forged)s WHERE notification_id = %(nid)s",
    "DELETE": "DELETE FROM {table} WHERE notification_id = %(nid)s",
    "TRUNCATE": "TRUNCATE {table}",
}


@pytest.mark.parametrize("table", [EVENTS, CHAIN])
@pytest.mark.parametrize("operation", list(MUTATIONS))
def test_trigger_rejects_mutations_and_the_row_is_unchanged(
        platform: Platform, db: psycopg.Connection, chained_piano: dict[str, Any],
        table: str, operation: str) -> None:
    """UPDATE, DELETE and TRUNCATE on the events table and the audit chain fail, even as superuser."""
    infra = platform.infra
    nid = stored_event(db, infra, chained_piano["id"])["notification_id"]
    ident = planning_table(infra, table)
    select = sql.SQL("SELECT * FROM {} WHERE notification_id = %s").format(ident)
    count = sql.SQL("SELECT count(*) FROM {}").format(ident)
    before, rows_before = db.execute(select, (nid,)).fetchone(), scalar(db, count)
    assert before is not None

    statement = sql.SQL(MUTATIONS[operation]).format(table=ident, column=sql.Identifier(FORGED_COLUMN[table]))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only") as raised:
        db.execute(statement, {"forged": b"forged", "nid": nid})
    schema = infra.settings("planning").db_schema
    assert f"{operation} on {schema}.{table} is not allowed" in str(raised.value)

    assert db.execute(select, (nid,)).fetchone() == before
    assert scalar(db, count) == rows_before


# -- tamper detection ------------------------------------------------------------------

def test_altered_event_is_named_and_the_other_tenants_chain_stays_intact(
        platform: Platform, db: psycopg.Connection) -> None:
    """Rewriting one stored event's state breaks exactly that link of that tenant's chain."""
    infra = platform.infra
    tampered, intact = "15-AUD1", "15-AUD2"
    piani = redigi_piani(platform, tampered, 3)
    redigi_piani(platform, intact, 3)
    for tenant in (tampered, intact):
        report = wait_chained(platform, tenant, 3)
        assert report["ok"] is True and report["problems"] == []

    target = piani[1]
    event = stored_event(db, infra, target["id"])
    forged = bytes(event["state"]).replace(target["titolo"].encode(), b"Piano di Zona riscritto")
    assert forged != bytes(event["state"])
    with tampering(db, infra, EVENTS) as events:
        db.execute(sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(events),
                   (forged, event["notification_id"]))

    report = verify(platform, tampered)
    assert report["ok"] is False
    assert report["events_verified"] == 2
    assert problems_of(report) == [(event["notification_id"], target["id"], 1)]
    assert "alterato" in report["problems"][0]["problem"]

    other = verify(platform, intact)
    assert other["ok"] is True and other["events_verified"] == 3 and other["problems"] == []

    # the trigger is back on: the forged row cannot be quietly restored either
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.execute(sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(
            planning_table(infra, EVENTS)), (bytes(event["state"]), event["notification_id"]))


def test_deleted_event_is_named_by_the_api_and_the_cli(platform: Platform, db: psycopg.Connection) -> None:
    """Deleting one stored event is reported with its notification id; the CLI fails on it."""
    infra = platform.infra
    tampered, intact = "15-AUD3", "15-AUD4"
    piani = redigi_piani(platform, tampered, 3)
    redigi_piani(platform, intact, 2)
    assert wait_chained(platform, tampered, 3)["ok"] is True
    assert wait_chained(platform, intact, 2)["ok"] is True

    target = piani[0]
    nid = stored_event(db, infra, target["id"])["notification_id"]
    with tampering(db, infra, EVENTS) as events:
        db.execute(sql.SQL("DELETE FROM {} WHERE notification_id = %s").format(events), (nid,))

    report = verify(platform, tampered)
    assert report["ok"] is False and report["events_verified"] == 2
    assert problems_of(report) == [(nid, target["id"], 1)]
    assert "cancellato" in report["problems"][0]["problem"]
    other = verify(platform, intact)
    assert other["ok"] is True and other["events_verified"] == 2

    failed = audit_cli(infra, tampered)
    assert failed.returncode == 1, failed.stderr
    assert "catena ALTERATA: 2 eventi verificati" in failed.stdout
    assert f"notifica {nid} (aggregato {target['id']} v1)" in failed.stdout

    passed = audit_cli(infra, intact)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "catena INTEGRA: 2 eventi verificati" in passed.stdout
    assert "notifica" not in passed.stdout


# -- tenant isolation and access -------------------------------------------------------

def test_verification_counts_only_the_requesting_tenants_events(platform: Platform, db: psycopg.Connection) -> None:
    """The tenant comes from the token; the report covers that tenant's events and no other's."""
    infra = platform.infra
    mine, theirs = "15-AUD5", "15-AUD6"
    redigi_piani(platform, mine, 2)
    redigi_piani(platform, theirs, 3)
    report = wait_chained(platform, mine, 2)
    wait_chained(platform, theirs, 3)

    events = planning_table(infra, EVENTS)
    of_tenant = sql.SQL("SELECT count(*) FROM {} WHERE convert_from(state, 'UTF8')::jsonb->>'tenant_id' = %s")
    assert scalar(db, of_tenant.format(events), mine) == report["events_verified"] == 2
    assert scalar(db, sql.SQL("SELECT count(*) FROM {}").format(events)) >= 2 + 3  # one table for all tenants
    head = scalar(db, sql.SQL("SELECT link FROM {} WHERE tenant_id = %s ORDER BY notification_id DESC LIMIT 1")
                  .format(planning_table(infra, CHAIN)), mine)
    testimone = report.pop("testimone")
    assert report == {"service": "planning", "tenant_id": mine, "ok": True, "events_verified": 2,
                      "head": bytes(head).hex(), "problems": []}
    assert testimone["fonte"] == "kafka" and set(testimone) >= {"confrontato", "topic"}

    # asking for another tenant changes nothing; a revisore of the Ambito gets the same report
    def senza_testimone(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "testimone"}

    assert senza_testimone(verify(platform, mine, tenant_id=theirs)) == report
    assert senza_testimone(verify(platform, mine, "revisore")) == report
    assert verify(platform, theirs)["events_verified"] == 3


@pytest.mark.parametrize("who, status", [
    ("regione", 403), ("assistente_sociale", 403), ("amministrativo", 403), (None, 401)])
def test_audit_verify_is_only_for_auditors_of_an_ambito(platform: Platform, who: str | None, status: int) -> None:
    """A Region, other roles and anonymous callers get a problem+json, not a report."""
    infra = platform.infra
    if who is None:
        headers = {}
    elif who == "regione":
        headers = infra.auth(None, "regione", regione="15")
    else:
        headers = infra.auth("15-AUD7", who)
    response = httpx.get(f"{platform.url('planning')}/audit/verify", headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == "/audit/verify"
    assert "events_verified" not in problem
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert problem["rule"] == "token.missing"
    else:
        assert problem["rule"] == "role.required"


def test_replica_mode_does_not_switch_the_append_only_trigger_off(infra: Infra, chained_piano: Any) -> None:
    """``session_replication_role = replica`` skips ordinary triggers; ours fire ALWAYS."""
    table = sql.SQL("{}.{}").format(sql.Identifier(f"{infra.namespace}planning"), sql.Identifier("planning_events"))
    with infra.connect() as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in ("UPDATE {} SET topic = topic", "DELETE FROM {}"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql.SQL(statement).format(table))
