"""Composition root of the planning service: `uvicorn planning.main:app`."""

from __future__ import annotations

from ambiti_kit.service import create_service
from ambiti_kit.settings import ServiceSettings

from planning.api import accordi, ambito, comitato, coordinatore, deliberazioni, elenchi, piani, proposte, sedute
from planning.application import Planning
from planning.integration.inbound import consumers
from planning.integration.outbound import to_integration_event
from planning.projections import OWN, SCHEMA


def build(settings: ServiceSettings | None = None, **options: object):
    return create_service(
        settings or ServiceSettings(service="planning"),
        application=Planning, schema=SCHEMA, mapper=to_integration_event, consumers=consumers, own=OWN,
        routers=[elenchi.router, ambito.router, piani.router, accordi.router, comitato.router, deliberazioni.router,
                 deliberazioni.allegati_router, sedute.router, proposte.router, coordinatore.router],
        title="Ambiti · planning", description="Piano Sociale di Zona e Comitato Istituzionale.", **options)


app = build()
