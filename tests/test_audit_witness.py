"""A chain cut short together with its events is caught only by a head held outside the database.

Deleting a tenant's newest event *and* its chain link (triggers disabled by a superuser)
leaves a chain that is consistent in itself; the head published to Kafka still names the
removed link, and both `GET /audit/verify` (which compares with it by default) and
`ambiti audit verify --against-kafka` report it, each saying what it compared.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from psycopg import sql

from ambiti_kit.audit import published_heads
from ambiti_kit.eventstore import make_append_only
from ambiti_kit.testing.fixtures import Platform, wait_until

TENANT = "15-WIT1"
AMBITI = str(Path(sys.executable).with_name("ambiti"))


def verify_cli(platform: Platform, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AMBITI, "audit", "verify", "--tenant", TENANT, "--service", "planning", *extra],
                          env=platform.infra.env(), capture_output=True, text=True, timeout=60)


def test_truncated_chain_is_caught_by_the_published_head(platform: Platform) -> None:
    infra = platform.infra
    auth = infra.auth(TENANT, "coordinatore")
    for start in (2025, 2028, 2031):
        r = httpx.post(f"{platform.url('planning')}/piani", headers=auth,
                       json={"titolo": f"Piano {start}", "anno_inizio": start, "anno_fine": start + 2})
        assert r.status_code == 201, r.text
    topic = infra.namespace + "audit.chainheads.v1"
    head = wait_until(lambda: (h := published_heads(infra.kafka_bootstrap, topic, "planning").get(TENANT))
                      and h["length"] == 3 and h, timeout=60, message="the third head published")
    before = verify_cli(platform, "--against-kafka")
    assert before.returncode == 0
    assert f"confrontata con la testa pubblicata su Kafka (notifica {head['notification_id']}, lunghezza 3)" \
        in before.stdout
    auditor = infra.auth(TENANT, "revisore")
    whole = httpx.get(f"{platform.url('planning')}/audit/verify", headers=auditor, timeout=30).json()
    assert whole["ok"] and whole["testimone"]["confrontato"] and whole["testimone"]["lunghezza"] == 3

    schema = sql.Identifier(f"{infra.namespace}planning")
    with infra.connect() as conn, conn.transaction():
        for table in ("planning_events", "audit_chain"):
            conn.execute(sql.SQL("ALTER TABLE {}.{} DISABLE TRIGGER ALL").format(schema, sql.Identifier(table)))
        conn.execute(sql.SQL("DELETE FROM {}.planning_events WHERE notification_id = %s").format(schema),
                     (head["notification_id"],))
        conn.execute(sql.SQL("DELETE FROM {}.audit_chain WHERE notification_id = %s").format(schema),
                     (head["notification_id"],))
        with conn.cursor() as curs:  # back as the kit installs them (ENABLE ALWAYS)
            make_append_only(curs, f"{infra.namespace}planning", "planning_events", "audit_chain")

    alone = verify_cli(platform)
    assert alone.returncode == 0, "without a witness the shortened chain looks whole"
    assert "solo la catena nel database (senza --against-kafka)" in alone.stdout  # and it says so

    # Over HTTP the witness is compared by default: the truncation is reported.
    report = httpx.get(f"{platform.url('planning')}/audit/verify", headers=auditor, timeout=30).json()
    assert not report["ok"] and report["testimone"]["confrontato"]
    assert any(p["notification_id"] == head["notification_id"] and "testa pubblicata" in p["problem"]
               for p in report["problems"])
    unwitnessed = httpx.get(f"{platform.url('planning')}/audit/verify", params={"testimone": "false"},
                            headers=auditor, timeout=30).json()
    assert unwitnessed["ok"] and unwitnessed["testimone"] == {"fonte": "kafka", "confrontato": False,
                                                              "motivo": "non richiesto"}
    witnessed = verify_cli(platform, "--against-kafka")
    assert witnessed.returncode == 1
    assert f"notifica {head['notification_id']}" in witnessed.stdout and "testa pubblicata" in witnessed.stdout


def test_a_chain_rewritten_by_the_database_owner_is_caught_by_the_signed_heads(platform: Platform) -> None:
    """The owner of the database rewrites an event and recomputes every link after it, then publishes a
    head matching the rewritten chain: inside the database all is consistent, but the forged head is not
    signed with the service's key (kept outside the database), and the last genuinely signed head does
    not match the rewritten chain."""
    import base64
    import json
    import os

    from ambiti_kit import kafka
    from ambiti_kit.audit import GENESIS, ChainHead, HeadSigner, link_of
    from ambiti_kit.relay import head_event

    infra, tenant = platform.infra, "15-WIT2"
    auth = infra.auth(tenant, "coordinatore")
    for start in (2025, 2028):
        r = httpx.post(f"{platform.url('planning')}/piani", headers=auth,
                       json={"titolo": f"Piano {start}", "anno_inizio": start, "anno_fine": start + 2})
        assert r.status_code == 201, r.text
    topic = infra.namespace + "audit.chainheads.v1"
    signed = wait_until(lambda: (h := published_heads(infra.kafka_bootstrap, topic, "planning").get(tenant))
                        and h["length"] == 2 and h, timeout=60, message="the second head published")
    assert signed["algoritmo_firma"] == "Ed25519" and signed["firma"]
    key = httpx.get(f"{platform.url('planning')}/audit/chiave", headers=auth).json()
    assert key["algoritmo"] == "Ed25519" and len(base64.b64decode(key["chiave_pubblica"])) == 32

    schema = sql.Identifier(f"{infra.namespace}planning")
    with infra.connect() as conn, conn.transaction():
        for table in ("planning_events", "audit_chain"):
            conn.execute(sql.SQL("ALTER TABLE {}.{} DISABLE TRIGGER ALL").format(schema, sql.Identifier(table)))
        rows = conn.execute(sql.SQL(
            "SELECT c.notification_id, e.originator_id, e.originator_version, e.topic, e.state FROM {s}.audit_chain c "
            "JOIN {s}.planning_events e USING (notification_id) WHERE c.tenant_id = %s ORDER BY 1").format(s=schema),
            (tenant,)).fetchall()
        first = json.loads(bytes(rows[0][4]))
        first["titolo"] = "Piano riscritto dal proprietario del database"
        rewritten = json.dumps(first).encode()
        conn.execute(sql.SQL("UPDATE {}.planning_events SET state = %s WHERE notification_id = %s").format(schema),
                     (rewritten, rows[0][0]))
        prev = GENESIS
        for i, (nid, originator, version, topic_name, state) in enumerate(rows):
            prev = link_of(prev, originator, version, topic_name, rewritten if i == 0 else bytes(state))
            conn.execute(sql.SQL("UPDATE {}.audit_chain SET link = %s WHERE notification_id = %s").format(schema),
                         (prev, nid))
        with conn.cursor() as curs:
            make_append_only(curs, f"{infra.namespace}planning", "planning_events", "audit_chain")
    forged = ChainHead("planning", tenant, rows[-1][0], len(rows), prev.hex())

    verify_url, auditor = f"{platform.url('planning')}/audit/verify", infra.auth(tenant, "revisore")
    inside = httpx.get(verify_url, params={"testimone": "false"}, headers=auditor, timeout=30).json()
    assert inside["ok"], "the rewrite is consistent inside the database"
    caught = httpx.get(verify_url, headers=auditor, timeout=30).json()
    assert not caught["ok"] and caught["testimone"]["notification_id"] == signed["notification_id"]

    # The owner publishes heads matching the rewritten chain: unsigned, and signed with a key of its own.
    producer = kafka.producer(infra.kafka_bootstrap)
    for firme in (None, HeadSigner(base64.b64encode(os.urandom(32)).decode())):
        k, value, headers = head_event(forged, firme).to_kafka()
        producer.send(topic, key=k, value=value, headers=headers)
    producer.flush(10)
    producer.close()
    report = httpx.get(verify_url, headers=auditor, timeout=30).json()
    assert not report["ok"]
    assert report["testimone"]["teste_con_firma_non_valida"] == 2
    assert report["testimone"]["notification_id"] == signed["notification_id"]  # the genuine head still counts
    assert any("firma non valida" in p["problem"] for p in report["problems"])
