"""Read models of monitoring: tables (RLS-protected), the projections that fill them, their queries.

Two feeds, as the architecture has it:

- monitoring's own events (services delivered, staff: ``prestazioni``) are projected in
  process from its own notification log by the kit's projector (``OWN``), before a write's
  response leaves (read-your-writes); tracking records name the application ``monitoring``;
- planning's and finance's events (plans, deliberations, the Ambito's composition, execution,
  open data) come from Kafka through the tracked consumer of ``monitoring.integration.inbound``
  (tracking records name ``planning`` and ``finance``).

Each module holds one read model's DDL, its projection and the queries the API calls;
``dati_indicatori`` reads the figures of several for the indicators (``indicatori``, pure).
"""

from __future__ import annotations

from ambiti_kit.eventstore import Schema
from ambiti_kit.service import OwnReadModels

from monitoring.projections import ambiti, deliberazioni, esecuzione, opendata, piani, prestazioni

_MODULES = (piani, ambiti, deliberazioni, esecuzione, prestazioni, opendata)

SCHEMA = Schema(
    ddl=[statement for module in _MODULES for statement in module.DDL],
    tenant_tables=[table for module in _MODULES for table in module.TENANT_TABLES],
    regional_tables=[table for module in _MODULES for table in module.REGIONAL_TABLES],
)
#: every read-model table, for rebuild comparisons
TABLES = tuple(SCHEMA.tenant_tables + SCHEMA.regional_tables)


def _own(schema: str) -> dict:
    project = prestazioni.project_monitoring(schema)
    return {tipo: project for tipo in prestazioni.TIPI}


#: monitoring's own events into its read models (read-your-writes; see ``ambiti_kit.projector``)
OWN = OwnReadModels(projections=_own)
