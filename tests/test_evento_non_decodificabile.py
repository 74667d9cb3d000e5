"""A stored event that can no longer be decoded (its class is gone, its state is broken) must not block
its service's outbox: the relay and the own-log projector dead-letter it with an alert and go on."""

from __future__ import annotations

import json
import uuid

import httpx
from psycopg import sql

from ambiti_kit.testing.fixtures import Platform, wait_until

TENANT = "15-UND1"


def test_an_undecodable_event_is_dead_lettered_and_the_log_goes_on(platform: Platform) -> None:
    infra = platform.infra
    auth = infra.auth(TENANT, "coordinatore")
    planning, monitoring = platform.url("planning"), platform.url("monitoring")
    schema = sql.Identifier(f"{infra.namespace}planning")
    with infra.connect() as conn:
        bad_id = conn.execute(sql.SQL(
            "INSERT INTO {}.planning_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s) RETURNING notification_id").format(schema),
            (uuid.uuid4(), "planning.domain.scomparso:EventoRimosso",
             json.dumps({"tenant_id": TENANT, "non": "più leggibile"}).encode())).fetchone()[0]

    r = httpx.post(f"{planning}/piani", headers=auth, timeout=30,
                   json={"titolo": "Piano dopo l'evento illeggibile", "anno_inizio": 2025, "anno_fine": 2027})
    assert r.status_code == 201, r.text
    piano = r.json()["id"]
    # published and projected past the bad event: monitoring sees the plan, planning's own list too
    wait_until(lambda: any(p["id"] == piano for p in httpx.get(f"{monitoring}/piani", headers=auth).json()["elementi"]),
               timeout=60, message="the plan in monitoring past the undecodable event")
    assert any(p["id"] == piano for p in httpx.get(f"{planning}/piani", headers=auth).json()["elementi"])

    with infra.connect() as conn:
        letters = conn.execute(sql.SQL(
            "SELECT application_name, ce_type, tenant_id, error FROM {}.dead_letters WHERE notification_id = %s "
            "ORDER BY application_name").format(schema), (bad_id,)).fetchall()
    assert {name for name, *_ in letters} >= {"planning:relay"}
    assert all(ce_type == "planning.domain.scomparso:EventoRimosso" and tenant == TENANT
               and error.startswith("evento non decodificabile") for _, ce_type, tenant, error in letters)
    ready = httpx.get(f"{planning}/health/ready", timeout=10).json()
    assert ready["dead_letters"] >= 1 and ready["relay"]["lag"] == 0
    assert "evento_non_decodificabile" in platform.services["planning"].log.read_text()
