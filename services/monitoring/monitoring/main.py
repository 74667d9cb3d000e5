"""Composition root of the monitoring service: `uvicorn monitoring.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from monitoring.api import piani as piani_api
from monitoring.api import regione
from monitoring.application import Monitoring
from monitoring.integration.inbound import consumers
from monitoring.integration.outbound import to_integration_event
from monitoring.projections import piani


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="monitoring"),
        application=Monitoring, schema=piani.SCHEMA, mapper=to_integration_event,
        routers=[piani_api.router, regione.router], consumers=consumers, title="Ambiti · monitoring",
        description="Servizi erogati, indicatori e modello di lettura regionale.", **options)


app = build()
