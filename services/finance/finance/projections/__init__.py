"""Read models of finance: tables (RLS-protected) and the projections that fill them.

- ``registro`` (the ledger behind the rendicontazione) and ``elenchi`` (the lists) are fed in
  process from finance's own notification log (``OWN``: read-your-writes, broker or not);
- ``abilitazioni`` (partnership's accreditations and awards) and ``deliberazioni`` (planning's Comitato
  deliberations, for the acts finance checks) come from Kafka (``finance.integration.inbound``).
"""

from __future__ import annotations

from typing import Any

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema
from ambiti_kit.projector import Project
from ambiti_kit.service import OwnReadModels

from finance.projections import abilitazioni, deliberazioni, elenchi, registro

_MODULES = (registro, elenchi, abilitazioni, deliberazioni)

SCHEMA = Schema(ddl=[statement for module in _MODULES for statement in module.DDL],
                tenant_tables=[table for module in _MODULES for table in module.TENANT_TABLES])
#: every read-model table, for rebuild comparisons
TABLES = tuple(SCHEMA.tenant_tables)
#: the tables fed from finance's own log
OWN_TABLES = tuple(registro.TENANT_TABLES + elenchi.TENANT_TABLES)


def _own(schema: str) -> dict[str, Project]:
    """Per event type: the ledger first, then the lists (which read the ledger's rows)."""
    ledger = registro.project_registro(schema)
    lists = elenchi.project_elenchi(schema)
    projections: dict[str, Project] = {tipo: ledger for tipo in registro.TIPI}
    for tipo, project in lists.items():
        if tipo in projections:
            projections[tipo] = _both(projections[tipo], project)
        else:
            projections[tipo] = project
    return projections


def _both(first: Project, second: Project) -> Project:
    def project(curs: Any, event: CloudEvent) -> None:
        first(curs, event)
        second(curs, event)
    return project


OWN = OwnReadModels(projections=_own)
