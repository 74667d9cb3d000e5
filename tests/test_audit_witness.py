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
