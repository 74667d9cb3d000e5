"""Other services' integration events monitoring consumes, routed to its projections.

One consumer reads planning's and finance's topics. Each topic maps to the name of its
producing service, which names the tracking records (``Tracking(producer, ce_sequence)``,
primary key ``(application_name, notification_id)``): the notification ids of planning and
of finance are two separate sequences and never collide.

monitoring's own events (``monitoring.events.v1``) are not read back from Kafka: the kit's
projector applies them in process from the notification log (``monitoring.projections.OWN``)
and records their tracking under ``monitoring``, a name no topic here maps to.
"""

from __future__ import annotations

from typing import Any, Callable

from ambiti_kit.consumer import TrackedConsumer, projecting
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime

from monitoring.projections import ambiti, deliberazioni, esecuzione, opendata, piani

#: topic (without namespace) -> the producing service's name in the tracking records
TOPICS = {"planning.events.v1": "planning", "finance.events.v1": "finance"}


def _both(first: Callable[[Any, CloudEvent], None], second: Callable[[Any, CloudEvent], None]) -> Any:
    """Two projections of one event, in its one transaction."""
    def project(curs: Any, event: CloudEvent) -> None:
        first(curs, event)
        second(curs, event)
    return project


def consumers(runtime: Runtime, group: str = "main") -> list[TrackedConsumer]:
    settings, tracker = runtime.settings, runtime.tracker
    schema = settings.db_schema
    piano_aggiornato = projecting(tracker, piani.project_piano_aggiornato(schema))
    votata = projecting(tracker, deliberazioni.project_votata(schema))
    movimento = projecting(tracker, esecuzione.project_movimento(schema))
    # commitments, reductions and payments also feed the open-data tables
    movimento_opendata = projecting(tracker, _both(esecuzione.project_movimento(schema),
                                                   opendata.project_opendata(schema)))
    return [TrackedConsumer(
        settings, tracker=tracker, group=group,
        topics={settings.topic(topic): producer for topic, producer in TOPICS.items()},
        handlers={
            # planning.events.v1
            piani.CREATO: projecting(tracker, piani.project_piano_creato(schema)),
            **{tipo: piano_aggiornato for tipo in piani.AGGIORNAMENTI},
            deliberazioni.PROPOSTA: projecting(tracker, deliberazioni.project_proposta(schema)),
            **{tipo: votata for tipo in deliberazioni.VOTATE},
            "planning.ambito.composizione_registrata": projecting(tracker, ambiti.project_composizione(schema)),
            # finance.events.v1
            esecuzione.ASSEGNAZIONE_REGISTRATA: projecting(tracker,
                                                           esecuzione.project_assegnazione_registrata(schema)),
            esecuzione.ASSEGNAZIONE_INTEGRATA: projecting(tracker, esecuzione.project_assegnazione_integrata(schema)),
            esecuzione.STANZIAMENTO_APERTO: projecting(tracker, esecuzione.project_stanziamento_aperto(schema)),
            **{tipo: movimento for tipo in esecuzione.MOVIMENTI},
            **{tipo: movimento_opendata for tipo in opendata.TIPI},
        })]
