"""Internal events the lists need, mapped to local-only CloudEvents for planning's own projector.

Two lists read events that planning does not publish: the tavoli's proposals it received
(``PropostaTavolo``: received from partnership's topic, then maybe taken into a draft) and
a proposal of deliberation going on a seduta's agenda and coming back unvoted. The relay
keeps ``integration.outbound.to_integration_event``, so these never reach Kafka; the
projector uses ``to_read_model_event``, which adds them to the published ones under types
in ``planning.locale.*`` (no contract: only this service's read model reads them).
"""

from __future__ import annotations

from typing import Any, Callable

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent

from planning.domain.deliberazione import Deliberazione
from planning.domain.proposte import PropostaTavolo
from planning.integration.outbound import SOURCE, to_integration_event

PROPOSTA_TAVOLO_RICEVUTA = "planning.locale.proposta_tavolo_ricevuta"
PROPOSTA_TAVOLO_RECEPITA = "planning.locale.proposta_tavolo_recepita"
DELIBERAZIONE_ISCRITTA = "planning.locale.deliberazione_iscritta"
DELIBERAZIONE_RINVIATA = "planning.locale.deliberazione_rinviata"


def _proposta(e: Any) -> dict[str, Any]:
    return {"proposta_tavolo_id": str(e.originator_id), "ambito": e.tenant_id}


#: internal domain event class -> (local event type, data builder)
MAPPING: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    PropostaTavolo.Ricevuta: (PROPOSTA_TAVOLO_RICEVUTA, lambda e: {
        **_proposta(e), "proposta_id": str(e.proposta_id), "tavolo_id": str(e.tavolo_id),
        "piano_id": str(e.piano_id) if e.piano_id else None, "titolo": e.titolo, "area": e.area,
        "intervento": e.intervento, "formulata_da": e.formulata_da}),
    PropostaTavolo.Recepita: (PROPOSTA_TAVOLO_RECEPITA, lambda e: {
        **_proposta(e), "piano_id": str(e.piano_id), "versione": e.versione, "area": e.area,
        "obiettivo": e.obiettivo, "recepita_da": e.recepita_da}),
    Deliberazione.IscrittaAllOrdineDelGiorno: (DELIBERAZIONE_ISCRITTA, lambda e: {
        "deliberazione_id": str(e.originator_id), "ambito": e.tenant_id, "seduta_id": str(e.seduta_id)}),
    Deliberazione.Rinviata: (DELIBERAZIONE_RINVIATA, lambda e: {
        "deliberazione_id": str(e.originator_id), "ambito": e.tenant_id, "seduta_id": str(e.seduta_id)}),
}
TIPI = tuple(tipo for tipo, _ in MAPPING.values())


def to_read_model_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    """The published integration event of ``domain_event``, or its local-only event, or None."""
    published = to_integration_event(domain_event, notification)
    if published is not None:
        return published
    mapped = MAPPING.get(type(domain_event))
    if mapped is None:
        return None
    type_, data = mapped
    return CloudEvent(type=type_, source=SOURCE, subject=str(domain_event.originator_id),
                      tenantid=domain_event.tenant_id, sequence=notification.id, time=domain_event.timestamp,
                      data=data(domain_event), dataschema="")
