"""Opening a service's event store on PostgreSQL, append-only for real.

``migrate`` (run by ``open_event_store`` at start, or beforehand by ``python -m ambiti_kit.migrate``)
creates the service's schema (the library needs it beforehand), constructs the `eventsourcing`
Application once as the owner role (events and tracking tables), then — all of it under one advisory
lock, so that instances starting together do not race:

- installs a trigger that rejects UPDATE, DELETE and TRUNCATE on the events table and
  on the audit chain (the library's write lock needs UPDATE privilege on the table, so
  privileges alone cannot make it append-only);
- creates the kit's own tables (relay position, audit chain) and the service's
  read-model tables, with row-level security where declared (see ``readmodel``);
- with a separate owner (``AMBITI_DATABASE_OWNER_URL``), grants the service's runtime role
  (``DATABASE_URL``) rows only: not owning the tables, it cannot disable triggers or RLS.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg import sql

from ambiti_kit import deadletters, readmodel
from ambiti_kit.settings import ServiceSettings
from ambiti_kit.tenancy import TenantApplication

_log = logging.getLogger("ambiti.eventstore")
DDL_LOCK = 0x616D6269  # 'ambi': serialises schema changes of the services sharing a database

T = TypeVar("T", bound=TenantApplication)


@dataclass
class Schema:
    """What a service declares about its own tables beyond the event store."""

    #: statements run once per start (use IF NOT EXISTS); ``{schema}`` is substituted
    ddl: list[str] = field(default_factory=list)
    #: read-model tables protected by RLS on ``tenant_id`` / on ``regione``
    tenant_tables: list[str] = field(default_factory=list)
    regional_tables: list[str] = field(default_factory=list)


def events_table(app_name: str) -> str:
    return f"{app_name.lower()}_events"


def tracking_table(app_name: str) -> str:
    return f"{app_name.lower()}_tracking"


KIT_DDL = [
    # Where the relay has got to in the notification log (reset when the broker lost data).
    """CREATE TABLE IF NOT EXISTS {schema}.relay_position (
        topic text PRIMARY KEY, notification_id bigint NOT NULL, epoch text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    # The per-tenant hash chain over the notification log (see ambiti_kit.audit).
    """CREATE TABLE IF NOT EXISTS {schema}.audit_chain (
        notification_id bigint PRIMARY KEY, tenant_id text NOT NULL,
        originator_id uuid NOT NULL, originator_version bigint NOT NULL,
        link bytea NOT NULL, chained_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS audit_chain_tenant ON {schema}.audit_chain (tenant_id, notification_id)",
    # The store's incarnations: a new one begins when the store is found behind what it had already
    # published (restored from a backup), so that positions it reuses are never taken for old ones.
    """CREATE TABLE IF NOT EXISTS {schema}.store_incarnations (
        incarnation uuid PRIMARY KEY, starts_after bigint NOT NULL, witness bigint, reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())""",
    """INSERT INTO {schema}.store_incarnations (incarnation, starts_after, reason)
        SELECT gen_random_uuid(), 0, 'primo avvio' WHERE NOT EXISTS (SELECT 1 FROM {schema}.store_incarnations)""",
    # Messages a consumer could never apply (their data breaks a rule of this service):
    # recorded with their tracking so that one bad message cannot stop every tenant.
    """CREATE TABLE IF NOT EXISTS {schema}.dead_letters (
        application_name text NOT NULL, notification_id bigint NOT NULL, ce_type text NOT NULL,
        ce_id text NOT NULL, tenant_id text NOT NULL, error text NOT NULL, data text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (application_name, notification_id))""",
]

REJECT_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.reject_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$"""


def make_append_only(curs: psycopg.Cursor, schema: str, *tables: str) -> None:
    """Install the trigger that rejects UPDATE, DELETE and TRUNCATE on ``tables``."""
    curs.execute(REJECT_FUNCTION.format(schema=sql.Identifier(schema).as_string(curs)))
    for table in tables:
        _append_only(curs, schema, table)


def _append_only(curs: psycopg.Cursor, schema: str, table: str) -> None:
    for kind, level in (("rows", "FOR EACH ROW"), ("truncate", "FOR EACH STATEMENT")):
        ops = "UPDATE OR DELETE" if kind == "rows" else "TRUNCATE"
        name = f"{table}_append_only_{kind}"
        curs.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}.{}").format(
            sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table)))
        curs.execute(sql.SQL("CREATE TRIGGER {} BEFORE {} ON {}.{} {} EXECUTE FUNCTION {}.reject_mutation()").format(
            sql.Identifier(name), sql.SQL(ops), sql.Identifier(schema), sql.Identifier(table),
            sql.SQL(level), sql.Identifier(schema)))
        # ALWAYS: fires even under session_replication_role = replica, which would otherwise
        # let a superuser connection skip ordinary triggers without any DDL.
        curs.execute(sql.SQL("ALTER TABLE {}.{} ENABLE ALWAYS TRIGGER {}").format(
            sql.Identifier(schema), sql.Identifier(table), sql.Identifier(name)))


def connect_admin(settings: ServiceSettings) -> psycopg.Connection:
    """A connection as the role that migrates (the owner, when one is configured)."""
    return _connect(settings.owner_database_url)


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL is not reachable at {_without_password(url)!r}: {exc}\n"
            "Start the embedded one with `make run` (or `.venv/bin/ambiti infra`), "
            "or set DATABASE_URL to a running server."
        ) from exc


def _without_password(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo(**params)


def create_schema(settings: ServiceSettings) -> None:
    with connect_admin(settings) as conn, conn.cursor() as curs:
        curs.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(settings.db_schema)))
        readmodel.ensure_app_role(curs)


def migrate(settings: ServiceSettings, app_class: type[TenantApplication], schema: Schema | None = None) -> None:
    """Create or update the service's tables, triggers and row-level security, as the owner role.

    A session-level advisory lock (per database) is held from the schema's creation to the
    last statement, so instances of services starting together never race on DDL — the
    library's own CREATE TABLEs included. With a separate owner, the service's runtime role
    (DATABASE_URL's user) is granted what it needs on rows and nothing on the tables themselves:
    not being their owner, it cannot drop the append-only triggers or row-level security.
    """
    schema = schema or Schema()
    os.environ.update(settings.libpq_tls())  # one service per process: its pool then connects with TLS too
    with connect_admin(settings) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
        lock.commit()
        try:
            create_schema(settings)
            owner_app = app_class(env=settings.eventsourcing_owner_env)  # creates the library's tables
            try:
                assert owner_app.name == settings.service, "pin the Application's name to the service's name"
                _prepare(settings, owner_app, schema)
            finally:
                owner_app.close()
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))
            lock.commit()


def open_event_store(settings: ServiceSettings, app_class: type[T], schema: Schema | None = None) -> T:
    """Construct the service's Application on a migrated, append-only store.

    Migrations run first (as the owner) unless ``AMBITI_DB_MIGRATIONS=external``; in production
    the service refuses to run as a role that owns its tables or is a superuser.
    """
    if settings.db_migrations == "at_start":
        migrate(settings, app_class, schema)
    os.environ.update(settings.libpq_tls())
    runtime_role_checks(settings, events_table(settings.service))
    app = app_class(env=settings.eventsourcing_env)
    _log.info("event store ready", extra={"schema": settings.db_schema, "table": events_table(app.name)})
    return app


def runtime_role_checks(settings: ServiceSettings, events: str) -> None:
    """The store must be migrated; in production the runtime role must neither own it nor be a superuser."""
    with _connect(settings.service_database_url) as conn:
        row = conn.execute(
            "SELECT pg_get_userbyid(c.relowner) = current_user AS owns, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (settings.db_schema, events)).fetchone()
    if row is None:
        raise SystemExit(f"the event store {settings.db_schema}.{events} does not exist: run the migration first "
                         f"(`python -m ambiti_kit.migrate {settings.service}.main:app` as the owner role), or leave "
                         "AMBITI_DB_MIGRATIONS at its default (at_start)")
    owns, superuser = row
    if settings.environment == "production" and (owns or superuser):
        raise SystemExit(
            f"in production {settings.service} must not connect as {'a superuser' if superuser else 'the owner'} "
            "of its tables (it could disable the append-only triggers and row-level security): set "
            "AMBITI_DATABASE_OWNER_URL to the owner role that migrates and DATABASE_URL to a runtime role")


def _prepare(settings: ServiceSettings, app: TenantApplication, schema: Schema) -> None:
    from ambiti_kit import webhooks  # its module reads the store through the feed, which needs this one

    s = settings.db_schema
    with connect_admin(settings) as conn, conn.cursor() as curs:
        for statement in [*KIT_DDL, *deadletters.DDL, *webhooks.DDL, *schema.ddl]:
            curs.execute(statement.format(schema=sql.Identifier(s).as_string(curs)))
        make_append_only(curs, s, events_table(app.name), "audit_chain", "dead_letters", "dead_letter_actions",
                         "store_incarnations")
        readmodel.grant_app_role(curs, s, tracking_table(app.name))
        for table in schema.tenant_tables:
            readmodel.protect(curs, s, table, column="tenant_id", setting=readmodel.TENANT_SETTING)
        for table in schema.regional_tables:
            readmodel.protect(curs, s, table, column="regione", setting=readmodel.REGIONE_SETTING)
        if settings.separate_owner:
            grant_runtime_role(curs, s, psycopg.conninfo.conninfo_to_dict(settings.service_database_url).get("user"))


def grant_runtime_role(curs: psycopg.Cursor, schema: str, role: str | None) -> None:
    """What the service's runtime role may do: read and write rows (the library's write lock needs UPDATE on
    the events table, which the trigger still refuses), use sequences, act as ``ambiti_app`` for the read
    models. No ownership, so no ALTER, DROP, DISABLE TRIGGER, or row-level security switched off."""
    if not role:
        raise SystemExit("DATABASE_URL must name its user when a separate owner migrates the tables")
    who = sql.Identifier(role)
    curs.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), who))
    curs.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
        sql.Identifier(schema), who))
    curs.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
        sql.Identifier(schema), who))
    curs.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (role, readmodel.APP_ROLE))
    if not curs.fetchone()[0]:
        curs.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(readmodel.APP_ROLE), who))
