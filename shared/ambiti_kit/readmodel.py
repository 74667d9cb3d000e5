"""Read models guarded by PostgreSQL row-level security.

Every read-model table carries ``tenant_id`` (or, for the regional model, ``regione``)
and has RLS ENABLEd and FORCEd with a policy comparing that column to a per-transaction
setting. Reads and projection writes run as the unprivileged role ``ambiti_app`` (``SET
LOCAL ROLE``), so that even a superuser connection, which bypasses RLS, is filtered:
a query that forgets its ``WHERE tenant_id = …`` returns nothing of other tenants.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import psycopg
from psycopg import sql

APP_ROLE = "ambiti_app"
TENANT_SETTING = "ambiti.tenant_id"
REGIONE_SETTING = "ambiti.regione"


def ensure_app_role(curs: psycopg.Cursor) -> None:
    """Create the role (cluster-wide, no login) unless it exists."""
    curs.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
    if curs.fetchone() is None:
        # Roles are cluster-wide but advisory locks per database: services with databases
        # of their own may race here, and the loser finds the role made.
        curs.execute("SAVEPOINT create_role")
        try:
            curs.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(APP_ROLE)))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            curs.execute("ROLLBACK TO SAVEPOINT create_role")
    # A non-superuser owner must be a member to SET ROLE; granting needs ADMIN OPTION on
    # PostgreSQL 16+, so a deployment that provisioned the membership already is left alone.
    curs.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (APP_ROLE,))
    if not curs.fetchone()[0]:
        curs.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(APP_ROLE)))


def grant_app_role(curs: psycopg.Cursor, schema: str, table: str) -> None:
    curs.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(APP_ROLE)))
    curs.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO {}").format(
        sql.Identifier(schema), sql.Identifier(table), sql.Identifier(APP_ROLE)))


def protect(curs: psycopg.Cursor, schema: str, table: str, *, column: str, setting: str) -> None:
    """ENABLE and FORCE row-level security on a table, with one policy on ``column``."""
    ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    grant_app_role(curs, schema, table)
    curs.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    curs.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(ident))
    policy = sql.Identifier(f"{table}_by_{column}")
    curs.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, ident))
    curs.execute(sql.SQL(
        "CREATE POLICY {} ON {} USING ({} = current_setting({}, true)) "
        "WITH CHECK ({} = current_setting({}, true))").format(
        policy, ident, sql.Identifier(column), sql.Literal(setting),
        sql.Identifier(column), sql.Literal(setting)))


def enter_scope(curs: psycopg.Cursor, *, tenant: str | None = None, regione: str | None = None) -> None:
    """Within the current transaction: act as ``ambiti_app`` for one tenant and/or Region."""
    curs.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
    curs.execute("SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                 (TENANT_SETTING, tenant or "", REGIONE_SETTING, regione or ""))


class ReadModel:
    """Scoped access to a service's read-model tables, on the service's connection pool."""

    def __init__(self, datastore: Any, schema: str) -> None:
        self.datastore = datastore  # eventsourcing's PostgresDatastore (psycopg pool)
        self.schema = schema

    def table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    @contextmanager
    def scoped(self, *, tenant: str | None = None, regione: str | None = None,
               commit: bool = False) -> Iterator[psycopg.Cursor]:
        """A transaction that sees only one tenant's (or one Region's) rows."""
        if not tenant and not regione:
            raise ValueError("a read-model transaction needs a tenant or a Region")
        with self.datastore.transaction(commit=commit) as curs:
            enter_scope(curs, tenant=tenant, regione=regione)
            yield curs

    def fetch_all(self, query: sql.Composable, params: Any = (), **scope: str | None) -> list[dict]:
        with self.scoped(**scope) as curs:
            curs.execute(query, params)
            return list(curs.fetchall())
