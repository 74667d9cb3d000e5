"""Read models of monitoring: tables (RLS-protected) and the projections that fill them."""

from __future__ import annotations

from ambiti_kit.eventstore import Schema

from monitoring.projections import ambiti, deliberazioni, esecuzione, opendata, piani, prestazioni

_MODULES = (piani, ambiti, deliberazioni, esecuzione, prestazioni, opendata)

SCHEMA = Schema(
    ddl=[statement for module in _MODULES for statement in module.DDL],
    tenant_tables=[table for module in _MODULES for table in module.TENANT_TABLES],
    regional_tables=[table for module in _MODULES for table in module.REGIONAL_TABLES],
)
#: every read-model table, for rebuild comparisons
TABLES = tuple(SCHEMA.tenant_tables + SCHEMA.regional_tables)
