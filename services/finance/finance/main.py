"""Composition root of the finance service: `uvicorn finance.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from finance.api import atti, budget, contributi, elenchi, fondi, rendicontazione, riparti, spese, storia, vincoli
from finance.application import Finance
from finance.integration.inbound import consumers
from finance.integration.outbound import to_integration_event
from finance.projections import OWN, SCHEMA


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="finance"),
        application=Finance, schema=SCHEMA, mapper=to_integration_event,
        routers=[elenchi.router, fondi.router, budget.router, spese.router, spese.fornitori, contributi.router,
                 riparti.router, riparti.regione, rendicontazione.router, vincoli.router, storia.router,
                 atti.router],
        consumers=consumers, own=OWN, title="Ambiti · finance",
        description="Fondi, riparto, budget, impegni, liquidazioni, mandati e rendicontazione.", **options)


app = build()
