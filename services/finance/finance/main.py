"""Composition root of the finance service: `uvicorn finance.main:app`."""

from __future__ import annotations

from ambiti_kit.eventstore import Schema
from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from finance.api import budget, contributi, fondi, riparti, spese
from finance.application import Finance
from finance.integration.inbound import consumers
from finance.integration.outbound import to_integration_event


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="finance"),
        application=Finance, schema=Schema(), mapper=to_integration_event, routers=[fondi.router, budget.router, spese.router, contributi.router, riparti.router],
        consumers=consumers, title="Ambiti · finance",
        description="Fondi, riparto, budget, impegni, liquidazioni, mandati e rendicontazione.", **options)


app = build()
