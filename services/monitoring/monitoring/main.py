"""Composition root of the monitoring service: `uvicorn monitoring.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from monitoring.api import ambito, deliberazioni, esecuzione, indicatori, personale, prestazioni, regione
from monitoring.api import piani as piani_api
from monitoring.application import Monitoring
from monitoring.integration.inbound import consumers
from monitoring.integration.outbound import to_integration_event
from monitoring.projections import SCHEMA


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="monitoring"),
        application=Monitoring, schema=SCHEMA, mapper=to_integration_event,
        routers=[ambito.router, piani_api.router, deliberazioni.router, esecuzione.router, prestazioni.router,
                 personale.router, indicatori.router, regione.router],
        consumers=consumers,
        title="Ambiti · monitoring",
        description="Servizi erogati, indicatori e modello di lettura regionale.", **options)


app = build()
