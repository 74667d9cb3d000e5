"""Owner and runtime roles: the service reads and writes rows as a role that cannot undo what protects them.

The owner role migrates (schema, the library's tables, append-only triggers, row-level security) and
grants the runtime role rows only. As the runtime role, disabling or dropping a trigger, switching off
row-level security, truncating or rewriting events all fail; in production the service refuses to start as
a role that owns its tables. Real PostgreSQL roles with passwords, real connections.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import replace

import psycopg
import pytest
from eventsourcing.domain import event
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ambiti_kit import readmodel
from ambiti_kit.eventstore import Schema, open_event_store
from ambiti_kit.tenancy import TenantAggregate, TenantApplication
from ambiti_kit.testing.fixtures import Infra
from planning.application import Planning
from planning.projections import SCHEMA as PLANNING_SCHEMA

pytestmark = pytest.mark.integration


class Registrazione(TenantAggregate):
    @event("Annotata")
    def __init__(self, tenant_id: str, voce: str) -> None:
        self.tenant_id = tenant_id
        self.voce = voce


class Registro(TenantApplication):
    name = "registroruoli"


SCHEMA = Schema(ddl=["CREATE TABLE IF NOT EXISTS {schema}.voci (tenant_id text NOT NULL, voce text NOT NULL)"],
                tenant_tables=["voci"])
PROTECTIONS = [
    "ALTER TABLE {s}.registroruoli_events DISABLE TRIGGER ALL",
    "DROP TRIGGER registroruoli_events_append_only_rows ON {s}.registroruoli_events",
    "ALTER TABLE {s}.voci NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE {s}.voci DISABLE ROW LEVEL SECURITY",
    "DROP POLICY voci_by_tenant_id ON {s}.voci",
    "TRUNCATE {s}.registroruoli_events",
    "ALTER TABLE {s}.audit_chain DISABLE TRIGGER ALL",
    "DROP TABLE {s}.dead_letter_actions",
]


@pytest.fixture
def roles(infra: Infra):
    suffix = uuid.uuid4().hex[:8]
    owner, runtime = f"ambiti_owner_{suffix}", f"ambiti_runtime_{suffix}"
    params = conninfo_to_dict(infra.database_url)
    with infra.connect() as su:
        su.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'proprietario-prova'").format(sql.Identifier(owner)))
        su.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'esercizio-prova'").format(sql.Identifier(runtime)))
        su.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(params["dbname"]),
                                                                        sql.Identifier(owner)))
        with psycopg.connect(infra.database_url) as tx, tx.cursor() as curs:  # as a DBA provisions it
            readmodel.ensure_app_role(curs)
        su.execute(sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(sql.Identifier(readmodel.APP_ROLE),
                                                                      sql.Identifier(owner)))
    urls = {who: make_conninfo(infra.database_url, user=who, password=pw)
            for who, pw in ((owner, "proprietario-prova"), (runtime, "esercizio-prova"))}
    yield owner, runtime, urls
    with infra.connect() as su:
        for who in (runtime, owner):
            su.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(who)))
            su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(who)))


def test_the_runtime_role_writes_rows_but_cannot_disable_triggers_or_rls(infra: Infra, roles) -> None:
    owner, runtime, urls = roles
    ns = replace(infra, namespace=f"{infra.namespace}ruoli{uuid.uuid4().hex[:4]}_")
    settings = ns.settings("registroruoli", DATABASE_URL=urls[runtime], AMBITI_DATABASE_OWNER_URL=urls[owner])
    schema = settings.db_schema
    app = open_event_store(settings, Registro, SCHEMA)
    try:
        voce = Registrazione(tenant_id="15-RUO", voce="prima")
        app.save(voce)
        assert app.repository.get(voce.id).voce == "prima"
        with app.recorder.datastore.transaction(commit=True) as curs:  # the runtime role's own pool
            curs.execute("SELECT current_user AS u")
            assert curs.fetchone()["u"] == runtime
            readmodel.enter_scope(curs, tenant="15-RUO", regione="15")
            curs.execute(sql.SQL("INSERT INTO {}.voci VALUES ('15-RUO', 'prima')").format(sql.Identifier(schema)))
    finally:
        app.close()

    with infra.connect() as su:
        owners = dict(su.execute("SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                                 (schema,)).fetchall())
    assert set(owners.values()) == {owner} and {"registroruoli_events", "voci", "audit_chain"} <= set(owners)

    refused = []
    for statement in PROTECTIONS:
        with psycopg.connect(urls[runtime], autocommit=True) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement.format(s=sql.Identifier(schema).as_string(conn)))
            refused.append(statement)
    assert refused == PROTECTIONS
    with psycopg.connect(urls[runtime], autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(sql.SQL("UPDATE {}.registroruoli_events SET state = 'x'").format(sql.Identifier(schema)))
        # row-level security still on: without a tenant in scope the runtime role (as ambiti_app) sees nothing
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(readmodel.APP_ROLE)))
        assert conn.execute(sql.SQL("SELECT count(*) FROM {}.voci").format(sql.Identifier(schema))).fetchone()[0] == 0


def test_production_refuses_a_runtime_role_that_owns_its_tables(infra: Infra, roles) -> None:
    owner, runtime, urls = roles
    ns = replace(infra, namespace=f"{infra.namespace}ruolp{uuid.uuid4().hex[:4]}_")
    production = {"AMBITI_ENVIRONMENT": "production", "AMBITI_JWT_SECRET": base64.b64encode(os.urandom(33)).decode()}
    with pytest.raises(SystemExit, match="must not connect as the owner"):
        open_event_store(ns.settings("registroruoli", DATABASE_URL=urls[owner], **production), Registro, SCHEMA)

    # a real service, migrated beforehand by the owner (as an init container does), then started with rows only
    external = {"DATABASE_URL": urls[runtime], "AMBITI_DB_MIGRATIONS": "external", **production}
    with pytest.raises(SystemExit, match="run the migration first"):
        open_event_store(ns.settings("planning", **external), Planning, PLANNING_SCHEMA)
    done = subprocess.run([sys.executable, "-m", "ambiti_kit.migrate", "planning.main:app"], capture_output=True,
                          text=True, timeout=120, env=ns.env(**external, AMBITI_DATABASE_OWNER_URL=urls[owner]))
    assert done.returncode == 0 and f"schema {ns.namespace}planning migrato" in done.stdout, done.stderr
    app = open_event_store(ns.settings("planning", **external), Planning, PLANNING_SCHEMA)
    try:
        with app.recorder.datastore.transaction() as curs:
            curs.execute("SELECT current_user AS u")
            assert curs.fetchone()["u"] == runtime
        piano = app.redigi_piano("15-RUO", "Piano in produzione", 2025, 2027, "prova")
        assert app.piano("15-RUO", piano.id).titolo == "Piano in produzione"
    finally:
        app.close()
