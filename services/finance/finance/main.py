"""Composition root of the finance service: `uvicorn finance.main:app`."""

from __future__ import annotations

from ambiti_kit.eventstore import Schema
from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from finance.api import budget, contributi, fondi, rendicontazione, riparti, spese
from finance.application import Finance
from finance.integration.inbound import consumers
from finance.integration.outbound import to_integration_event
from finance.projections import abilitazioni, registro

#: finance's read models: its own ledger (rendicontazione) and partnership's accreditations
SCHEMA = Schema(ddl=[*registro.DDL, *abilitazioni.DDL],
                tenant_tables=[*registro.TENANT_TABLES, *abilitazioni.TENANT_TABLES])


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="finance"),
        application=Finance, schema=SCHEMA, mapper=to_integration_event,
        routers=[fondi.router, budget.router, spese.router, spese.fornitori, contributi.router, riparti.router,
                 rendicontazione.router],
        consumers=consumers, title="Ambiti · finance",
        description="Fondi, riparto, budget, impegni, liquidazioni, mandati e rendicontazione.", **options)


app = build()
