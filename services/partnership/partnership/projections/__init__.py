"""Read models of partnership: its lists, fed in process from its own notification log."""

from __future__ import annotations

from ambiti_kit.service import OwnReadModels

from partnership.projections import elenchi

SCHEMA = elenchi.SCHEMA
#: every read-model table, for rebuild comparisons
TABLES = tuple(SCHEMA.tenant_tables)


def _own(schema: str) -> dict:
    project = elenchi.project_elenchi(schema)
    return {tipo: project for tipo in elenchi.TIPI}


#: partnership's own events into its lists (read-your-writes; see ``ambiti_kit.projector``)
OWN = OwnReadModels(projections=_own)
