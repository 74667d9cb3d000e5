"""From domain events to integration events: one mapper per service, built from a table.

Every service publishes its domain events under public names (``finance.impegno.assunto``)
with a data member built from the event (never ``asdict``, never a class path). The table
says, per domain event class, its public type and how to build its data; :func:`mapper`
turns that table into the ``Mapper`` the relay and the own-log projector call for every
stored event. An event whose class is not in the table has no public form: the mapper
returns ``None`` and the relay passes it over.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent

#: a domain event class -> (public event type, builder of its ``data`` from the domain event)
EventTable = Mapping[type, tuple[str, Callable[[Any], dict[str, Any]]]]
#: what the relay and the projector call: (domain event, its notification) -> integration event or None
Mapper = Callable[[Any, Notification], "CloudEvent | None"]


def mapper(mapping: EventTable, *, source: str, schemas: str) -> Mapper:
    """The mapper of a service: ``mapping`` looked up by the event's exact class.

    ``source`` is the CloudEvents ``source`` of every event (``/ambiti/finance``); ``schemas``
    the base URL of the contracts' JSON Schemas (``dataschema`` is ``<schemas>/<type>.v1.schema.json``).
    Subclasses of a mapped class are not mapped: a new event class gets its own public name.
    """
    def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
        mapped = mapping.get(type(domain_event))
        if mapped is None:
            return None
        type_, data = mapped
        return CloudEvent.of(domain_event, notification, type=type_, source=source, schemas=schemas,
                             data=data(domain_event))

    return to_integration_event


def decoded(app: Any, mapper_: Mapper, notification: Notification,
            undecodable: Callable[[Notification, Exception], None]) -> CloudEvent | None:
    """The integration event of a stored notification. One that cannot be decoded or mapped is handed to
    ``undecodable`` (dead-lettered with an alert) and passed over: it never blocks the log behind it."""
    try:
        return mapper_(app.mapper.to_domain_event(notification), notification)
    except Exception as exc:  # noqa: BLE001 - any failure to read one stored event is that event's
        undecodable(notification, exc)
        return None
