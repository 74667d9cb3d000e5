"""Composition root of the partnership service: `uvicorn partnership.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from partnership.api import accreditamenti, elenchi, enti, procedure, tavoli
from partnership.application import Partnership
from partnership.integration.inbound import consumers
from partnership.integration.outbound import to_integration_event
from partnership.projections import OWN, SCHEMA


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="partnership"),
        application=Partnership, schema=SCHEMA, mapper=to_integration_event,
        routers=[elenchi.router, enti.router, tavoli.router, procedure.router, accreditamenti.router],
        consumers=consumers, own=OWN, title="Ambiti · partnership",
        description="Terzo settore, tavoli, co-progettazione, accreditamento e affidamenti.", **options)


app = build()
