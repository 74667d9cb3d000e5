"""planning's domain events map to contract events, never to class paths."""

from __future__ import annotations

from eventsourcing.persistence import Notification

from planning.domain.piano import PianoDiZona
from planning.integration.outbound import to_integration_event


def test_piano_creato_maps_to_the_public_contract_event() -> None:
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "coordinatore@15-S09")
    [creato] = piano.collect_events()
    notification = Notification(id=42, originator_id=piano.id, originator_version=1, topic="x", state=b"{}")
    event = to_integration_event(creato, notification)
    assert event is not None
    assert (event.type, event.tenantid, event.sequence, event.subject) == (
        "planning.piano_di_zona.creato", "15-S09", 42, str(piano.id))
    assert event.data["piano_id"] == str(piano.id) and event.data["stato"] == "bozza"
    key, value, headers = event.to_kafka()
    assert key == str(piano.id).encode() and b"planning.domain" not in value
    assert dict(headers)["ce_type"] == b"planning.piano_di_zona.creato"


def test_a_received_proposal_is_a_local_event_of_the_read_model_and_never_published() -> None:
    import uuid

    from planning.domain.proposte import PropostaTavolo
    from planning.projections.locale import PROPOSTA_TAVOLO_RICEVUTA, to_read_model_event

    proposta = PropostaTavolo(tenant_id="15-S09", proposta_id=uuid.uuid4(), tavolo_id=uuid.uuid4(), piano_id=None,
                              titolo="Più SAD", descrizione="Estendere il SAD", area="A", intervento={"codice": "A1"},
                              formulata_da="tavolo")
    [ricevuta] = proposta.collect_events()
    notification = Notification(id=7, originator_id=proposta.id, originator_version=1, topic="x", state=b"{}")
    assert to_integration_event(ricevuta, notification) is None
    local = to_read_model_event(ricevuta, notification)
    assert local is not None and (local.type, local.tenantid, local.sequence) == (PROPOSTA_TAVOLO_RICEVUTA, "15-S09", 7)
    assert local.data["proposta_tavolo_id"] == str(proposta.id) and local.data["piano_id"] is None
    # a published event is the same for the read model as on the wire
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "coordinatore@15-S09")
    [creato] = piano.collect_events()
    assert to_read_model_event(creato, notification) == to_integration_event(creato, notification)


def test_acts_and_minutes_are_published_as_their_contracts_say() -> None:
    """The attachment, the convocation's hash, the verbale redatto and approvato, the proposal to approve a
    verbale and the coordinatore's appointment map to contract types whose schema their data satisfy."""
    import json
    import uuid
    from datetime import date, datetime, timezone
    from pathlib import Path

    from jsonschema import Draft202012Validator, FormatChecker

    from planning.domain.comitato import componenti_da_ambito
    from planning.domain.coordinatore import IncaricoCoordinatore
    from planning.domain.deliberazione import Deliberazione
    from planning.domain.regole_voto import Regola
    from planning.domain.seduta import Seduta, Votante

    contracts = Path(__file__).resolve().parents[4] / "contracts" / "planning"
    comuni = [{"istat": "065134", "nome": "Sapri", "popolazione": 6373}]
    prima = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    precedente = Seduta.convoca("15-S09", "Seduta", "Sapri", prima, None, [uuid.uuid4()],
                                componenti_da_ambito(comuni, []), Regola("per_testa").come_dict(), "x", "a" * 64)
    precedente.chiudi("x")
    precedente.redigi_verbale("b" * 64, "x")
    proposta = Deliberazione.proponi("15-S09", "approvazione_verbale", "Approvazione del verbale", "Approva.",
                                     {"seduta_id": str(precedente.id), "sha256": "b" * 64}, "x")
    proposta.allega("c" * 64, 10, "application/pdf", "nota.pdf", "x")
    seduta = Seduta.convoca("15-S09", "Seduta", "Sapri", datetime(2026, 4, 2, 9, tzinfo=timezone.utc), None,
                            [proposta.id], componenti_da_ambito(comuni, []), Regola("per_testa").come_dict(), "x",
                            "d" * 64)
    seduta.registra_presenza("065134", True, None, None, "x")
    seduta.apri(1, "x", datetime(2026, 4, 2, 9, tzinfo=timezone.utc))
    seduta.apri_votazione(proposta.id, "x")
    seduta.vota(proposta.id, "065134", "favorevole", Votante("x", "065134"))
    seduta.chiudi_votazione(proposta.id, "x", "approvazione_verbale")
    seduta.approva_verbale_di(precedente, "b" * 64, "b" * 64, proposta.id, "1/2026", {}, "x")
    incarico = IncaricoCoordinatore(tenant_id="15-S09")
    incarico.nomina("Dott.ssa Anna Verdi", date(2026, 1, 1), None, uuid.uuid4(), "2/2026")
    eventi = [*precedente.collect_events(), *proposta.collect_events(), *seduta.collect_events(),
              *incarico.collect_events()]
    pubblicati = {}
    for i, e in enumerate(eventi, start=1):
        event = to_integration_event(e, Notification(id=i, originator_id=e.originator_id,
                                                     originator_version=e.originator_version, topic="x", state=b"{}"))
        if event is not None:
            schema = json.loads((contracts / f"{event.type}.v1.schema.json").read_text(encoding="utf-8"))
            errori = list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(event.data))
            assert errori == [], (event.type, errori)
            pubblicati.setdefault(event.type, []).append(event.data)
    assert {"planning.deliberazione.allegato_aggiunto", "planning.deliberazione.proposta_approvazione_verbale",
            "planning.seduta.verbale_redatto", "planning.seduta.verbale_approvato",
            "planning.coordinatore.nominato"} <= set(pubblicati)
    assert "planning.deliberazione.proposta" not in pubblicati  # its v1 enumerates the other types
    assert [c["convocazione_sha256"] for c in pubblicati["planning.seduta.convocata"]] == ["a" * 64, "d" * 64]
    [approvato] = pubblicati["planning.seduta.verbale_approvato"]
    assert (approvato["seduta_id"], approvato["nella_seduta"], approvato["deliberazione"]) == (
        str(precedente.id), str(seduta.id), "1/2026")
    assert pubblicati["planning.coordinatore.nominato"][0]["al"] is None


def test_versione_approvata_carries_an_interventos_classification_only_when_it_has_one() -> None:
    import uuid
    piano = PianoDiZona.redigi("15-S09", "Piano", 2025, 2027, "coordinatore@15-S09")
    iv = {"codice": "M-1", "titolo": "Centro per le famiglie", "nomenclatura": {"sistema": "fnps_macrolivello",
          "codice": "3"}, "comuni": ["065134"], "utenti_attesi": 10,
          "linee_budget": [{"fondo": "FNPS", "anno": 2025, "importo": "1000.00"}]}
    classificato = {**iv, "area_utenza": "minori_famiglie", "servizio_qsfp": "f", "disabilita_gravissima": False,
                    "investimento": True}
    aree = [{"codice": "A", "titolo": "Area", "obiettivi": [{"codice": "O", "titolo": "Obiettivo", "interventi": [
        classificato, {**iv, "codice": "M-2"}]}]}]
    piano.aggiorna_contenuto(1, aree, {"065134"}, "coordinatore@15-S09")
    piano.proponi(1, "coordinatore@15-S09")
    piano.approva(1, uuid.uuid4(), "1/2025")
    approvata = piano.collect_events()[-1]
    event = to_integration_event(approvata, Notification(id=7, originator_id=piano.id, originator_version=4,
                                                         topic="x", state=b"{}"))
    assert event is not None and event.type == "planning.piano_di_zona.versione_approvata"
    primo, secondo = event.data["interventi"]
    assert {k: primo[k] for k in ("area_utenza", "servizio_qsfp", "disabilita_gravissima", "investimento")} == {
        "area_utenza": "minori_famiglie", "servizio_qsfp": "f", "disabilita_gravissima": False, "investimento": True}
    assert not {"area_utenza", "servizio_qsfp", "disabilita_gravissima", "investimento"} & secondo.keys()
