"""Read models of monitoring: tables (RLS-protected) and the projections that fill them."""

from __future__ import annotations

from ambiti_kit.eventstore import Schema

from monitoring.projections import ambiti, piani

SCHEMA = Schema(
    ddl=[*piani.DDL, *ambiti.DDL],
    tenant_tables=[*piani.TENANT_TABLES, *ambiti.TENANT_TABLES],
    regional_tables=[*piani.REGIONAL_TABLES, *ambiti.REGIONAL_TABLES],
)
#: every read-model table, for rebuild comparisons
TABLES = tuple(SCHEMA.tenant_tables + SCHEMA.regional_tables)
