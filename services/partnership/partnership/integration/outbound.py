"""Domain events of partnership -> public integration events (``partnership.<aggregate>.<fatto>``).

Every state change of an ente, a tavolo, a procedure, an accreditation and an award is
published; the binding of a referente's subject to an ente is not (user ids stay off the
wire: ``partnership.ente.referenti_aggiornati`` says only how many there are). Amounts are
strings with two decimals, dates ISO. Planning consumes ``partnership.tavolo.proposta_formulata``,
finance ``partnership.accreditamento.*`` and ``partnership.affidamento.aggiudicato``: their
data are exactly the fields those consumers read.
"""

from __future__ import annotations

from typing import Any

from ambiti_kit.mapping import EventTable, mapper
from ambiti_kit.values import euro

from partnership.domain.accreditamenti import Accreditamento, Affidamento
from partnership.domain.enti import Ente
from partnership.domain.procedure import Procedura
from partnership.domain.tavoli import Tavolo

SOURCE = "/ambiti/partnership"
SCHEMAS = "https://contracts.ambiti.example/partnership"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def _atto(atto: dict) -> dict:
    return {"tipo": atto["tipo"], "numero": atto["numero"], "data": atto["data"].isoformat()}


def _json(value: Any) -> Any:
    """Dates inside recorded values (e.g. an ente's changes) as ISO strings."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _ente(e: Any) -> dict[str, Any]:
    return {"ente_id": str(e.originator_id), "ambito": e.tenant_id}


def _tavolo(e: Any) -> dict[str, Any]:
    return {"tavolo_id": str(e.originator_id), "ambito": e.tenant_id}


def _procedura(e: Any) -> dict[str, Any]:
    return {"procedura_id": str(e.originator_id), "ambito": e.tenant_id}


def _membro(m: dict) -> dict[str, Any]:
    if m["tipo"] == "ente":
        return {"tipo": "ente", "codice_fiscale": m["codice_fiscale"], "denominazione": m["denominazione"],
                "area": m["area"]}
    return {"tipo": "comune", "istat": m["istat"], "ruolo": m["ruolo"], "area": m["area"]}


def proposta_formulata(e: Any) -> dict[str, Any]:
    iv = e.intervento
    return {"tavolo_id": str(e.originator_id), "ambito": e.tenant_id, "proposta_id": str(e.proposta_id),
            "piano_id": _str(e.piano_id), "titolo": e.titolo, "descrizione": e.descrizione, "area": e.area,
            "intervento": {"codice": iv["codice"], "titolo": iv["titolo"],
                           "nomenclatura": {"sistema": iv["nomenclatura"]["sistema"],
                                            "codice": iv["nomenclatura"]["codice"]},
                           "comuni": list(iv["comuni"]), "utenti_attesi": iv["utenti_attesi"]},
            "formulata_da": e.formulata_da, "formulata_il": e.timestamp.isoformat()}


def accreditamento_rilasciato(e: Any) -> dict[str, Any]:
    return {"accreditamento_id": str(e.originator_id), "ambito": e.tenant_id,
            "codice_fiscale": e.ente["codice_fiscale"], "denominazione": e.ente["denominazione"],
            "intervento": e.intervento,
            "servizio": {"sistema": e.servizio["sistema"], "codice": e.servizio["codice"]} if e.servizio else None,
            "valido_dal": e.valido_dal.isoformat(), "valido_al": e.valido_al.isoformat(),
            "tariffe": [{"prestazione": t["prestazione"], "unita": t["unita"], "importo": euro(t["importo"])}
                        for t in e.tariffe]}


def affidamento_aggiudicato(e: Any) -> dict[str, Any]:
    return {"affidamento_id": str(e.originator_id), "ambito": e.tenant_id,
            "codice_fiscale": e.ente["codice_fiscale"], "denominazione": e.ente["denominazione"],
            "piano_id": str(e.piano_id), "intervento": e.intervento, "importo": euro(e.importo), "cig": e.cig,
            "valido_dal": e.valido_dal.isoformat(), "valido_al": e.valido_al.isoformat(), "modalita": e.modalita}


#: domain event class -> (integration event type, data builder)
MAPPING: EventTable = {
    Ente.Registrato: ("partnership.ente.registrato", lambda e: {
        **_ente(e), "codice_fiscale": e.codice_fiscale, **_json(e.dati), "registrato_da": e.registrato_da}),
    Ente.Aggiornato: ("partnership.ente.aggiornato", lambda e: {
        **_ente(e), "modifiche": _json(e.modifiche), "aggiornato_da": e.aggiornato_da}),
    Ente.ReferenteAbilitato: ("partnership.ente.referenti_aggiornati", lambda e: {
        **_ente(e), "variazione": "abilitato"}),
    Ente.ReferenteRevocato: ("partnership.ente.referenti_aggiornati", lambda e: {
        **_ente(e), "variazione": "revocato"}),
    Tavolo.Istituito: ("partnership.tavolo.istituito", lambda e: {
        **_tavolo(e), "tipo": e.tipo, "nome": e.nome, "area": e.area, "istituito_da": e.istituito_da}),
    Tavolo.MembroAggiunto: ("partnership.tavolo.membro_aggiunto", lambda e: {
        **_tavolo(e), "chiave": e.chiave, "membro": _membro(e.membro), "aggiunto_da": e.aggiunto_da}),
    Tavolo.MembroRimosso: ("partnership.tavolo.membro_rimosso", lambda e: {
        **_tavolo(e), "chiave": e.chiave, "motivo": e.motivo, "rimosso_da": e.rimosso_da}),
    Tavolo.RiunioneConvocata: ("partnership.tavolo.riunione_convocata", lambda e: {
        **_tavolo(e), "riunione_id": e.riunione_id, "data": e.data.isoformat(), "luogo": e.luogo,
        "ordine_del_giorno": list(e.ordine_del_giorno), "convocata_da": e.convocata_da}),
    Tavolo.RiunioneTenuta: ("partnership.tavolo.riunione_tenuta", lambda e: {
        **_tavolo(e), "riunione_id": e.riunione_id, "presenti": list(e.presenti), "verbale": e.verbale,
        "registrata_da": e.registrata_da}),
    Tavolo.PropostaFormulata: ("partnership.tavolo.proposta_formulata", proposta_formulata),
    Procedura.AvvisoPubblicato: ("partnership.procedura.avviso_pubblicato", lambda e: {
        **_procedura(e), "tipo": e.tipo, "oggetto": e.oggetto,
        "scadenza_manifestazioni": e.scadenza_manifestazioni.isoformat(), "piano_id": _str(e.piano_id),
        "intervento": e.intervento, "atto": _atto(e.atto), "pubblicato_da": e.pubblicato_da}),
    Procedura.ManifestazioneRicevuta: ("partnership.procedura.manifestazione_ricevuta", lambda e: {
        **_procedura(e), "codice_fiscale": e.ente["codice_fiscale"], "denominazione": e.ente["denominazione"],
        "ricevuta_il": e.ricevuta_il.isoformat(), "atto": _atto(e.atto)}),
    Procedura.AmmissioneDecisa: ("partnership.procedura.ammissione_decisa", lambda e: {
        **_procedura(e), "codice_fiscale": e.codice_fiscale, "ammesso": e.ammesso, "motivazione": e.motivazione,
        "atto": _atto(e.atto), "decisa_da": e.decisa_da}),
    Procedura.SessioneTenuta: ("partnership.procedura.sessione_tenuta", lambda e: {
        **_procedura(e), "numero": e.numero, "data": e.data.isoformat(), "partecipanti": list(e.partecipanti),
        "verbale": e.verbale, "tavolo_id": _str(e.tavolo_id), "atto": _atto(e.atto)}),
    Procedura.ProgettoCondiviso: ("partnership.procedura.progetto_condiviso", lambda e: {
        **_procedura(e), "titolo": e.titolo, "sintesi": e.sintesi, "atto": _atto(e.atto),
        "condiviso_da": e.condiviso_da}),
    Procedura.ConvenzioneStipulata: ("partnership.procedura.convenzione_stipulata", lambda e: {
        **_procedura(e), "forma": e.forma,
        "contraenti": [{"codice_fiscale": c["codice_fiscale"], "denominazione": c["denominazione"]}
                       for c in e.contraenti],
        "capofila": e.capofila, "importo": euro(e.importo), "decorrenza": e.decorrenza.isoformat(),
        "durata_mesi": e.durata_mesi, "budget": [{"anno": r["anno"], "importo": euro(r["importo"])} for r in e.budget],
        "atto": _atto(e.atto), "stipulata_da": e.stipulata_da}),
    Accreditamento.Rilasciato: ("partnership.accreditamento.rilasciato", accreditamento_rilasciato),
    Accreditamento.Rinnovato: ("partnership.accreditamento.rinnovato", lambda e: {
        "accreditamento_id": str(e.originator_id), "ambito": e.tenant_id, "valido_al": e.valido_al.isoformat()}),
    Accreditamento.Revocato: ("partnership.accreditamento.revocato", lambda e: {
        "accreditamento_id": str(e.originator_id), "ambito": e.tenant_id, "revocato_il": e.revocato_il.isoformat(),
        "motivo": e.motivo}),
    Affidamento.Aggiudicato: ("partnership.affidamento.aggiudicato", affidamento_aggiudicato),
}


#: the relay's and the own-log projector's mapper: a domain event -> its public integration event, or None
to_integration_event = mapper(MAPPING, source=SOURCE, schemas=SCHEMAS)
