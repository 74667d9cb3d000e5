"""Composition root of the monitoring service: `uvicorn monitoring.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from monitoring.api import ambito, deliberazioni, esecuzione, indicatori, opendata, personale, piani, prestazioni
from monitoring.api import pubblici, regione
from monitoring.application import Monitoring
from monitoring.integration.inbound import consumers
from monitoring.integration.outbound import to_integration_event
from monitoring.projections import OWN, SCHEMA


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="monitoring"),
        application=Monitoring, schema=SCHEMA, mapper=to_integration_event,
        routers=[ambito.router, piani.router, deliberazioni.router, esecuzione.router, prestazioni.router,
                 personale.router, indicatori.router, opendata.router, regione.router, pubblici.router],
        consumers=consumers, own=OWN,
        title="Ambiti · monitoring",
        description="Servizi erogati, indicatori e modello di lettura regionale.", **options)


app = build()
