"""Partnership's domain events on the wire: the exact data planning and finance consume."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

from eventsourcing.persistence import Notification

from partnership.domain.accreditamenti import Accreditamento, Affidamento
from partnership.domain.enti import Ente
from partnership.domain.tavoli import Tavolo
from partnership.integration.outbound import to_integration_event

N = Notification(id=7, originator_id="x", originator_version=1, topic="t", state=b"{}")
FARO = {"ente_id": "e1", "codice_fiscale": "00743110157", "denominazione": "Coop Il Faro"}
ATTO = {"tipo": "determina", "numero": "88", "data": date(2026, 1, 10)}


def wire(aggregate: object) -> list:
    events = [to_integration_event(e, N) for e in aggregate.collect_events()]  # type: ignore[attr-defined]
    for ce in events:
        json.dumps(ce.data)  # JSON-safe
    return events


def test_a_proposal_carries_exactly_the_fields_planning_reads() -> None:
    t = Tavolo.istituisci("15-S09", "tematico", "Tavolo anziani", "anziani", "c")
    piano_id = uuid.uuid4()
    t.formula_proposta("Più SAD", "Estendere il SAD", "anziani",
                       {"codice": "A1.2", "titolo": "SAD anziani", "nomenclatura": {"sistema": "nomenclatore",
                                                                                  "codice": "C1"},
                        "comuni": ["065134"], "utenti_attesi": 40}, piano_id, None, "coordinatore@15-S09")
    istituito, proposta = wire(t)
    assert (istituito.type, proposta.type) == ("partnership.tavolo.istituito", "partnership.tavolo.proposta_formulata")
    assert proposta.tenantid == "15-S09" and proposta.sequence == 7
    d = proposta.data
    assert set(d) == {"tavolo_id", "ambito", "proposta_id", "piano_id", "titolo", "descrizione", "area",
                      "intervento", "formulata_da", "formulata_il"}
    assert d["intervento"] == {"codice": "A1.2", "titolo": "SAD anziani",
                               "nomenclatura": {"sistema": "nomenclatore", "codice": "C1"}, "comuni": ["065134"],
                               "utenti_attesi": 40}
    assert (d["piano_id"], d["tavolo_id"], d["ambito"]) == (str(piano_id), str(t.id), "15-S09")
    datetime.fromisoformat(d["formulata_il"])


def test_accreditation_and_award_carry_exactly_the_fields_finance_reads() -> None:
    a = Accreditamento.rilascia("15-S09", FARO, "A1.2", None, date(2026, 1, 1), date(2026, 12, 31),
                                [{"prestazione": "SAD", "unita": "ora", "importo": "21.5"}], ATTO, "amm")
    a.rinnova(date(2027, 12, 31), ATTO, "amm")
    a.revoca(date(2026, 9, 1), "Gravi inadempienze", ATTO, "amm")
    rilasciato, rinnovato, revocato = wire(a)
    assert rilasciato.type == "partnership.accreditamento.rilasciato"
    assert rilasciato.data == {"accreditamento_id": str(a.id), "ambito": "15-S09", "codice_fiscale": "00743110157",
                               "denominazione": "Coop Il Faro", "intervento": "A1.2", "servizio": None,
                               "valido_dal": "2026-01-01", "valido_al": "2026-12-31",
                               "tariffe": [{"prestazione": "SAD", "unita": "ora", "importo": "21.50"}]}
    assert (rinnovato.type, rinnovato.data) == ("partnership.accreditamento.rinnovato", {
        "accreditamento_id": str(a.id), "ambito": "15-S09", "valido_al": "2027-12-31"})
    assert (revocato.type, revocato.data) == ("partnership.accreditamento.revocato", {
        "accreditamento_id": str(a.id), "ambito": "15-S09", "revocato_il": "2026-09-01",
        "motivo": "Gravi inadempienze"})
    piano_id = uuid.uuid4()
    f = Affidamento.aggiudica("15-S09", FARO, piano_id, "A1.2", Decimal("50000.00"), "ZA12345678", date(2026, 2, 1),
                              date(2026, 11, 30), "gara", ATTO, "amm")
    [aggiudicato] = wire(f)
    assert (aggiudicato.type, aggiudicato.data) == ("partnership.affidamento.aggiudicato", {
        "affidamento_id": str(f.id), "ambito": "15-S09", "codice_fiscale": "00743110157",
        "denominazione": "Coop Il Faro", "piano_id": str(piano_id), "intervento": "A1.2", "importo": "50000.00",
        "cig": "ZA12345678", "valido_dal": "2026-02-01", "valido_al": "2026-11-30", "modalita": "gara"})


def test_referenti_subjects_never_reach_the_wire() -> None:
    e = Ente.registra("15-S09", "00743110157", {"tipo": "ets", "denominazione": "Coop Il Faro",
                                                "forma_giuridica": "cooperativa sociale",
                                                "runts": {"sezione": "imprese_sociali", "numero_repertorio": "1"}},
                      "c")
    e.abilita_referente("mario.rossi@faro", "c")
    registrato, referenti = wire(e)
    assert registrato.type == "partnership.ente.registrato" and registrato.data["runts"]["sezione"] == "imprese_sociali"
    assert referenti.type == "partnership.ente.referenti_aggiornati"
    assert "mario.rossi@faro" not in json.dumps(referenti.data)


def test_anything_else_does_not_reach_the_wire() -> None:
    assert to_integration_event(object(), N) is None
    assert datetime.now(timezone.utc)
