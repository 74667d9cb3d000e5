"""The partnership application on the real PostgreSQL store (no broker involved)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ambiti_kit.errors import Conflict, Forbidden, NotFound, RuleViolation
from ambiti_kit.eventstore import open_event_store
from ambiti_kit.testing.fixtures import Infra
from partnership.application import Partnership
from partnership.domain.comandi import (NuovaConvenzione, NuovaProposta, NuovaSessione, NuovoAccreditamento,
                                        NuovoAffidamento, NuovoAvviso)
from partnership.domain.enti import Ente
from partnership.domain.procedure import Procedura

ETS = {"tipo": "ets", "denominazione": "Coop Il Faro", "forma_giuridica": "cooperativa sociale",
       "runts": {"sezione": "imprese_sociali", "numero_repertorio": "104578"}}
ATTO = {"tipo": "determina", "numero": "12", "data": date(2026, 3, 2)}


@pytest.fixture(scope="module")
def app(infra: Infra) -> Partnership:
    app = open_event_store(replace(infra, namespace=f"{infra.namespace}papp_").settings("partnership"), Partnership)
    yield app
    app.close()


def test_registry_history_and_other_tenants_get_404(app: Partnership) -> None:
    ente = app.registra_ente("15-PAP1", "00743110157", ETS, "coordinatore@15-PAP1")
    with pytest.raises(Conflict) as caught:
        app.registra_ente("15-PAP1", "00743110157", ETS, "x")
    assert caught.value.rule == "ente.unico"
    app.aggiorna_ente("15-PAP1", ente.id, {**ETS, "denominazione": "Il Faro ETS"}, "amm")
    storia = app.storia_ente("15-PAP1", ente.id)
    assert [type(e).__name__ for e in storia] == ["Registrato", "Aggiornato"]
    assert app.ente("15-PAP1", ente.id).denominazione == "Il Faro ETS"
    with pytest.raises(NotFound):
        app.ente("15-PAP2", ente.id)
    # the same organisation in another Ambito is another record
    assert app.registra_ente("15-PAP2", "00743110157", ETS, "c").id != ente.id


def test_a_referente_is_resolved_server_side_to_its_ente(app: Partnership) -> None:
    ente = app.registra_ente("15-PAP3", "00743110157", ETS, "c")
    with pytest.raises(Forbidden) as caught:
        app.ente_del_referente("15-PAP3", "ref@faro")
    assert caught.value.rule == "referente.non_associato"
    app.abilita_referente("15-PAP3", ente.id, "ref@faro", "c")
    assert app.ente_del_referente("15-PAP3", "ref@faro").id == ente.id
    with pytest.raises(Forbidden):
        app.ente_del_referente("15-PAP4", "ref@faro")  # the binding is per Ambito
    altro = app.registra_ente("15-PAP3", "80012170157", {**ETS, "denominazione": "APS Alba"}, "c")
    with pytest.raises(Conflict) as caught:
        app.abilita_referente("15-PAP3", altro.id, "ref@faro", "c")
    assert caught.value.rule == "referente.un_ente"
    assert app.ente("15-PAP3", altro.id).referenti == []  # nothing half-saved
    app.revoca_referente("15-PAP3", ente.id, "ref@faro", "c")
    app.abilita_referente("15-PAP3", altro.id, "ref@faro", "c")
    assert app.ente_del_referente("15-PAP3", "ref@faro").id == altro.id


def test_tavolo_meeting_and_proposal_are_stored(app: Partnership) -> None:
    ente = app.registra_ente("15-PAP5", "00743110157", ETS, "c")
    tavolo = app.istituisci_tavolo("15-PAP5", "tematico", "Tavolo anziani", "anziani", "c")
    app.aggiungi_ente_al_tavolo("15-PAP5", tavolo.id, ente.id, "anziani", "c")
    with pytest.raises(RuleViolation) as caught:
        app.aggiungi_ente_al_tavolo("15-PAP5", tavolo.id, uuid.uuid4(), "anziani", "c")
    assert caught.value.rule == "ente.registrato"
    _, riunione = app.convoca_riunione("15-PAP5", tavolo.id, datetime(2026, 5, 12, 10, tzinfo=timezone.utc), "Sapri",
                                       ["Proposte al Piano"], "c")
    app.registra_riunione("15-PAP5", tavolo.id, riunione, ["00743110157"], "Verbale: proposta condivisa.", "c")
    _, proposta_id = app.formula_proposta("15-PAP5", NuovaProposta(
        tavolo.id, "Più SAD", "Estendere il SAD", "anziani",
        {"codice": "A1.2", "titolo": "SAD anziani", "nomenclatura": {"sistema": "fnps_macrolivello", "codice": "2"},
         "comuni": ["065134"], "utenti_attesi": 40}, None, riunione), "c")
    riletto = app.tavolo("15-PAP5", tavolo.id)
    assert riletto.riunioni[riunione]["tenuta"] and proposta_id in riletto.proposte
    assert riletto.riunioni[riunione]["data"] == datetime(2026, 5, 12, 10, tzinfo=timezone.utc)


def test_a_co_progettazione_ends_in_a_convenzione_and_an_award_through_accreditation(app: Partnership) -> None:
    t = "15-PAP6"
    faro = app.registra_ente(t, "00743110157", ETS, "c")
    p = app.pubblica_avviso(t, NuovoAvviso("co_progettazione", "Co-progettazione SAD", date(2026, 3, 31), None, "A1.2",
                                           {**ATTO, "tipo": "avviso"}), "c")
    app.ricevi_manifestazione(t, p.id, faro.id, "Domanda e progetto", date(2026, 3, 10),
                              {**ATTO, "tipo": "protocollo"}, "ref@faro")
    app.decidi_ammissione(t, p.id, "00743110157", True, "Requisiti posseduti", ATTO, "amm")
    app.registra_sessione(t, NuovaSessione(p.id, date(2026, 4, 10), ["00743110157"], "Verbale della sessione 1", None,
                                           {**ATTO, "tipo": "verbale"}), "c")
    app.condividi_progetto(t, p.id, "Progetto SAD", "Sintesi", ATTO, "c")
    app.stipula_convenzione(t, NuovaConvenzione(
        p.id, ["00743110157"], None, Decimal("120000"), date(2026, 6, 1), 12,
        [{"anno": 2026, "importo": "70000"}, {"anno": 2027, "importo": "50000"}], {**ATTO, "tipo": "convenzione"}), "c")
    stored = app.procedura(t, p.id)
    assert isinstance(stored, Procedura) and stored.fase == "convenzione_stipulata"
    assert stored.convenzione["importo"] == Decimal("120000.00")
    assert stored.convenzione["budget"][0]["importo"] == Decimal("70000.00")

    piano_id = uuid.uuid4()
    affidamento = app.aggiudica(t, NuovoAffidamento(faro.id, piano_id, "A1.2", Decimal("60000"), None, date(2026, 6, 1),
                                                    date(2027, 5, 31), "convenzione", None, p.id, ATTO), "amm")
    assert app.affidamento(t, affidamento.id).procedura_id == p.id
    acc = app.rilascia_accreditamento(t, NuovoAccreditamento(
        faro.id, "A1.2", None, date(2026, 1, 1), date(2026, 12, 31),
        [{"prestazione": "SAD", "unita": "ora", "importo": "21.50"}], ATTO), "amm")
    app.rinnova_accreditamento(t, acc.id, date(2027, 12, 31), ATTO, "amm")
    via_acc = app.aggiudica(t, NuovoAffidamento(faro.id, piano_id, "A1.2", Decimal("1000"), "ZA12345678",
                                                date(2027, 1, 1), date(2027, 6, 30), "accreditamento", acc.id, None,
                                                ATTO), "amm")
    assert app.affidamento(t, via_acc.id).accreditamento_id == acc.id
    app.revoca_accreditamento(t, acc.id, date(2027, 3, 1), "Gravi inadempienze", ATTO, "amm")
    assert app.accreditamento(t, acc.id).stato(date(2027, 3, 1)) == "revocato"
    with pytest.raises(NotFound):
        app.accreditamento("15-PAP7", acc.id)
    with pytest.raises(NotFound):
        app.ente(t, acc.id)  # an id of another kind is not found either
    assert isinstance(app.ente(t, faro.id), Ente)
