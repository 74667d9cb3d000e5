"""What planning publishes is what monitoring's projections read (no I/O; here, not in a service,
because it needs both services' code and no service imports another).

Real planning aggregates go through planning's own outbound mapper; the data of each
integration event must satisfy the model its projection validates, and the plan's state
as monitoring derives it must be the state planning's aggregate is in.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.persistence import Notification

from monitoring.projections import deliberazioni, piani
from planning.domain.deliberazione import Deliberazione
from planning.domain.piano import PianoDiZona
from planning.domain.regole_voto import Componente, Regola, esito
from planning.integration.outbound import to_integration_event

TENANT = "15-S09"
AREE = [{"codice": "A", "titolo": "Area", "obiettivi": [{"codice": "O1", "titolo": "Obiettivo", "interventi": [{
    "codice": "I1", "titolo": "Intervento", "nomenclatura": {"sistema": "nomenclatore", "codice": "A1"},
    "comuni": ["065134"], "utenti_attesi": 10,
    "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "1000.00"}]}]}]}]


def published(aggregate: object) -> list:
    events = []
    for n, domain_event in enumerate(aggregate.collect_events(), start=1):  # type: ignore[attr-defined]
        notification = Notification(id=n, originator_id=domain_event.originator_id,
                                    originator_version=domain_event.originator_version, topic="x", state=b"{}")
        event = to_integration_event(domain_event, notification)
        if event is not None:
            events.append(event)
    return events


def outcome(approvata: bool) -> dict:
    componenti = [Componente("065134", 6000), Componente("065154", 3000)]
    voti = {"065134": "favorevole", "065154": "favorevole" if approvata else "contrario"}
    return esito(Regola("doppia_maggioranza"), componenti, ["065134", "065154"], voti).come_dict()


def test_every_plan_event_monitoring_reads_validates_and_its_state_matches_planning() -> None:
    piano = PianoDiZona.redigi(TENANT, "Piano", 2025, 2027, "x")
    stati_planning = []
    deliberazione_id = uuid.uuid4()

    def step(action) -> None:
        action()
        stati_planning.append(piano.stato)

    step(lambda: piano.aggiorna_contenuto(1, AREE, {"065134"}, "x"))
    step(lambda: piano.proponi(1, "x"))
    step(lambda: piano.respingi(1, deliberazione_id))
    step(lambda: piano.proponi(1, "x"))
    step(lambda: piano.approva(1, deliberazione_id, "1/2026"))
    step(lambda: piano.entra_in_attuazione(uuid.uuid4(), date(2026, 4, 1)))
    step(lambda: piano.apri_versione("aggiornamento_annuale", 1, "Aggiornamento 2026", "x"))
    step(lambda: piano.proponi(2, "x"))
    step(lambda: piano.approva(2, deliberazione_id, "2/2026"))
    step(lambda: piano.concludi("x"))
    events = published(piano)
    creato, *later = events
    assert piani.PianoCreato.model_validate(creato.data).stato == "bozza"

    stato, vigente, deliberazione, monitored = "bozza", None, None, []
    for event in later:
        if event.type not in piani.AGGIORNAMENTI:
            continue  # content and opened versions: not read by monitoring
        data = piani.AGGIORNAMENTI[event.type].model_validate(event.data)
        stato = piani.stato_dopo(stato, event.type, getattr(data, "versione", None))
        if isinstance(data, piani.VersioneApprovata) and piani.vigente_dopo(vigente, data.versione):
            vigente, deliberazione = data.versione, data.deliberazione
        monitored.append(stato)
    assert stato == piano.stato == "concluso"
    assert monitored == ["proposto", "bozza", "proposto", "approvato", "in_attuazione", "in_attuazione",
                         "in_attuazione", "concluso"]
    assert (vigente, deliberazione) == (piano.versione_vigente, "2/2026") == (2, "2/2026")


def test_deliberation_events_validate_with_their_number_and_vote_figures() -> None:
    seduta = uuid.uuid4()
    approvata = Deliberazione.proponi(TENANT, "approvazione_bilancio", "Bilancio 2026", "testo", {"anno": 2026}, "x")
    approvata.iscrivi(seduta)
    approvata.approva(seduta, 1, 2026, date(2026, 3, 2), outcome(True), {}, {})
    respinta = Deliberazione.proponi(TENANT, "approvazione_bilancio", "Bilancio 2027", "testo", {"anno": 2027}, "x")
    respinta.iscrivi(seduta)
    respinta.respingi(seduta, date(2026, 3, 2), outcome(False), {}, {})

    proposta, approved = published(approvata)
    assert deliberazioni.DeliberazioneProposta.model_validate(proposta.data).oggetto == "Bilancio 2026"
    data = deliberazioni.VOTATE[approved.type].model_validate(approved.data)
    assert (data.numero, data.data, data.esito.per_testa.favorevoli, data.esito.ponderato.favorevoli) == (
        "1/2026", date(2026, 3, 2), 2, 9000)

    _, rejected = published(respinta)
    data = deliberazioni.VOTATE[rejected.type].model_validate(rejected.data)
    assert deliberazioni.STATO_DOPO[rejected.type] == "respinta"
    assert (data.esito.per_testa.contrari, data.esito.ponderato.contrari) == (1, 3000)
