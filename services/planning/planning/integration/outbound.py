"""Domain events of planning -> public integration events (see contracts/planning).

Every state change of a plan, the Comitato, a seduta, a deliberation and an Accordo is
published; internal bookkeeping (the yearly register's numbering, a proposal put on an
agenda) is not: its effect is visible in the published events (``numero``, ``ordine_del_giorno``).
Acts and minutes too: an attachment added to a proposal (its hash, never its bytes), the
verbale's hash recorded at closing, its approval by a vote, the coordinatore's appointment, and
the convocation document's hash in ``planning.seduta.convocata``. The approving seduta's own
record of a verbale approval (``VerbaleDiAltraSedutaApprovato``) is not published: the same fact
is ``planning.seduta.verbale_approvato`` and ``planning.deliberazione.approvata``. A proposal to
approve a verbale is published as ``planning.deliberazione.proposta_approvazione_verbale``: v1
of ``planning.deliberazione.proposta`` enumerates the types it carries.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.mapping import EventTable, mapper

from planning.domain.accordo import AccordoDiProgramma
from planning.domain.ambito import Ambito
from planning.domain.comitato import Comitato
from planning.domain.contenuto import CLASSIFICAZIONE, interventi
from planning.domain.coordinatore import IncaricoCoordinatore
from planning.domain.deliberazione import Deliberazione
from planning.domain.piano import PianoDiZona
from planning.domain.seduta import Seduta

SOURCE = "/ambiti/planning"
SCHEMAS = "https://contracts.ambiti.example/planning"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _piano(e: Any) -> dict[str, Any]:
    return {"piano_id": str(e.originator_id), "ambito": e.tenant_id}


def _seduta(e: Any) -> dict[str, Any]:
    return {"seduta_id": str(e.originator_id), "ambito": e.tenant_id}


def _deliberazione(e: Any) -> dict[str, Any]:
    return {"deliberazione_id": str(e.originator_id), "ambito": e.tenant_id}


def _interventi(aree: list[dict]) -> list[dict[str, Any]]:
    """The plan's interventi, flat, with the path in the tree: what finance allocates to. The optional
    classification (``area_utenza``, ``disabilita_gravissima``, ``servizio_qsfp``, ``investimento``) only when
    the intervento has it."""
    return [{"codice": iv["codice"], "titolo": iv["titolo"], "area": iv["area"], "obiettivo": iv["obiettivo"],
             "nomenclatura": iv["nomenclatura"], "comuni": iv["comuni"], "utenti_attesi": iv["utenti_attesi"],
             "linee_budget": iv["linee_budget"],
             **{campo: iv[campo] for campo in CLASSIFICAZIONE if iv.get(campo) is not None}}
            for iv in interventi(aree).values()]


#: domain event class -> (integration event type, data builder)
MAPPING: EventTable = {
    PianoDiZona.Creato: ("planning.piano_di_zona.creato", lambda e: {
        **_piano(e), "titolo": e.titolo, "anno_inizio": e.anno_inizio, "anno_fine": e.anno_fine, "stato": "bozza",
        "creato_da": e.creato_da, "creato_il": e.timestamp.isoformat()}),
    PianoDiZona.ContenutoAggiornato: ("planning.piano_di_zona.contenuto_aggiornato", lambda e: {
        **_piano(e), "versione": e.versione, "interventi": len(_interventi(e.aree)),
        "aggiornato_da": e.aggiornato_da}),
    PianoDiZona.Proposto: ("planning.piano_di_zona.proposto", lambda e: {
        **_piano(e), "versione": e.versione, "proposto_da": e.proposto_da}),
    PianoDiZona.VersioneApprovata: ("planning.piano_di_zona.versione_approvata", lambda e: {
        **_piano(e), "versione": e.versione, "tipo": e.tipo, "riferimento": e.riferimento, "titolo": e.titolo,
        "deliberazione_id": str(e.deliberazione_id), "deliberazione": e.deliberazione,
        "interventi": _interventi(e.aree)}),
    PianoDiZona.PropostaRespinta: ("planning.piano_di_zona.proposta_respinta", lambda e: {
        **_piano(e), "versione": e.versione, "deliberazione_id": str(e.deliberazione_id)}),
    PianoDiZona.VersioneAperta: ("planning.piano_di_zona.versione_aperta", lambda e: {
        **_piano(e), "versione": e.versione, "tipo": e.tipo, "riferimento": e.riferimento, "titolo": e.titolo,
        "aperta_da": e.aperta_da}),
    PianoDiZona.EntratoInAttuazione: ("planning.piano_di_zona.in_attuazione", lambda e: {
        **_piano(e), "accordo_id": str(e.accordo_id), "data": e.data.isoformat()}),
    PianoDiZona.Concluso: ("planning.piano_di_zona.concluso", lambda e: {
        **_piano(e), "concluso_da": e.concluso_da}),
    Ambito.Registrato: ("planning.ambito.composizione_registrata", lambda e: _composizione(e)),
    Ambito.ComposizioneAggiornata: ("planning.ambito.composizione_registrata", lambda e: _composizione(e)),
    Comitato.Costituito: ("planning.comitato.configurato", lambda e: _comitato(e)),
    Comitato.Riconfigurato: ("planning.comitato.configurato", lambda e: _comitato(e)),
    Seduta.Convocata: ("planning.seduta.convocata", lambda e: {
        **_seduta(e), "oggetto": e.oggetto, "luogo": e.luogo, "prima_convocazione": e.prima_convocazione.isoformat(),
        "seconda_convocazione": _iso(e.seconda_convocazione),
        "ordine_del_giorno": [str(p) for p in e.ordine_del_giorno],
        "componenti": [{k: c[k] for k in ("id", "nome", "peso", "consultivo")} for c in e.componenti],
        "regola": e.regola, "convocata_da": e.convocata_da, "convocazione_sha256": e.convocazione_sha256,
        "convocazione_url": f"/sedute/{e.originator_id}/convocazione/documento" if e.convocazione_sha256 else None}),
    Seduta.PresenzaRegistrata: ("planning.seduta.presenza_registrata", lambda e: {
        **_seduta(e), "componente": e.componente, "presente": e.presente, "rappresentante": e.rappresentante,
        "delega_a": e.delega_a, "registrata_da": e.registrata_da}),
    Seduta.Aperta: ("planning.seduta.aperta", lambda e: {
        **_seduta(e), "convocazione": e.convocazione, "numero_legale": e.quorum, "aperta_da": e.aperta_da}),
    Seduta.PrimaConvocazioneDeserta: ("planning.seduta.prima_convocazione_deserta", lambda e: {
        **_seduta(e), "numero_legale": e.quorum, "constatata_da": e.constatata_da}),
    Seduta.VotazioneAperta: ("planning.seduta.votazione_aperta", lambda e: {
        **_seduta(e), "proposta_id": str(e.proposta_id), "numero_legale": e.quorum, "aperta_da": e.aperta_da}),
    Seduta.VotoEspresso: ("planning.seduta.voto_espresso", lambda e: {
        **_seduta(e), "proposta_id": str(e.proposta_id), "componente": e.componente, "voto": e.voto,
        "espresso_da": e.espresso_da, "per_delega": e.per_delega, "espresso_il": e.timestamp.isoformat()}),
    Seduta.VotazioneChiusa: ("planning.seduta.votazione_chiusa", lambda e: {
        **_seduta(e), "proposta_id": str(e.proposta_id), "numero_legale": e.quorum, "esito": e.esito,
        "regola": e.regola, "chiusa_da": e.chiusa_da}),
    Seduta.Chiusa: ("planning.seduta.chiusa", lambda e: {**_seduta(e), "chiusa_da": e.chiusa_da}),
    Seduta.VerbaleRedatto: ("planning.seduta.verbale_redatto", lambda e: {
        **_seduta(e), "sha256": e.sha256, "url": f"/sedute/{e.originator_id}/verbale/documento",
        "redatto_da": e.redatto_da}),
    Seduta.VerbaleApprovato: ("planning.seduta.verbale_approvato", lambda e: {
        **_seduta(e), "sha256": e.sha256, "nella_seduta": str(e.nella_seduta),
        "deliberazione_id": str(e.deliberazione_id) if e.deliberazione_id else None,
        "deliberazione": e.deliberazione, "approvato_da": e.approvato_da}),
    Deliberazione.AllegatoAggiunto: ("planning.deliberazione.allegato_aggiunto", lambda e: {
        **_deliberazione(e), "sha256": e.sha256, "dimensione": e.dimensione, "media_type": e.media_type,
        "nome": e.nome, "url": f"/allegati/{e.sha256}", "aggiunto_da": e.aggiunto_da}),
    IncaricoCoordinatore.Nominato: ("planning.coordinatore.nominato", lambda e: {
        "incarico_id": str(e.originator_id), "ambito": e.tenant_id, "nominativo": e.nominativo,
        "dal": e.dal.isoformat(), "al": _iso(e.al), "deliberazione_id": str(e.deliberazione_id),
        "deliberazione": e.deliberazione}),
    Deliberazione.Proposta: ("planning.deliberazione.proposta", lambda e: {
        **_deliberazione(e), "tipo": e.tipo, "oggetto": e.oggetto, "riferimenti": e.riferimenti,
        "proposta_da": e.proposta_da}),
    Deliberazione.Approvata: ("planning.deliberazione.approvata", lambda e: {
        **_deliberazione(e), "seduta_id": str(e.seduta_id), "numero": e.numero, "data": e.data.isoformat(),
        "esito": e.esito, "numero_legale": e.quorum, "regola": e.regola}),
    Deliberazione.Respinta: ("planning.deliberazione.respinta", lambda e: {
        **_deliberazione(e), "seduta_id": str(e.seduta_id), "data": e.data.isoformat(), "esito": e.esito,
        "numero_legale": e.quorum, "regola": e.regola}),
    AccordoDiProgramma.Predisposto: ("planning.accordo.predisposto", lambda e: {
        "accordo_id": str(e.originator_id), "ambito": e.tenant_id, "piano_id": str(e.piano_id),
        "firmatari_richiesti": e.firmatari_richiesti, "predisposto_da": e.predisposto_da}),
    AccordoDiProgramma.Firmato: ("planning.accordo.firmato", lambda e: {
        "accordo_id": str(e.originator_id), "ambito": e.tenant_id, "firmatario": e.firmatario,
        "firmato_da": e.firmato_da, "data": e.data.isoformat()}),
    AccordoDiProgramma.AdesioneRegistrata: ("planning.accordo.adesione_registrata", lambda e: {
        "accordo_id": str(e.originator_id), "ambito": e.tenant_id, "codice_fiscale": e.codice_fiscale,
        "denominazione": e.denominazione, "registrata_da": e.registrata_da}),
}


def _composizione(e: Any) -> dict[str, Any]:
    return {"ambito": e.tenant_id, "versione": e.originator_version, "nome": e.nome,
            "capofila_istat": e.capofila_istat, "popolazione_al": e.popolazione_al.isoformat(),
            "comuni": [_comune(c) for c in e.comuni]}


def _comune(c: dict) -> dict[str, Any]:
    """A member Comune; ``aderente_dal`` and ``cessato_dal`` only when their legal dates are known (the
    fields are optional)."""
    comune = {"istat": c["istat"], "nome": c["nome"], "popolazione": c["popolazione"]}
    for campo in ("aderente_dal", "cessato_dal"):
        if c.get(campo) is not None:
            comune[campo] = c[campo].isoformat()
    return comune


def _comitato(e: Any) -> dict[str, Any]:
    return {"comitato_id": str(e.originator_id), "ambito": e.tenant_id, "versione": e.originator_version,
            "popolazione_al": e.popolazione_al.isoformat(),
            "componenti": [{k: c[k] for k in ("id", "nome", "peso", "consultivo")} for c in e.componenti],
            "regola": e.regola, "configurato_da": e.configurato_da,
            "deliberazione_id": str(e.deliberazione_id) if e.deliberazione_id else None,
            "deliberazione": e.deliberazione}


_pubblicati = mapper(MAPPING, source=SOURCE, schemas=SCHEMAS)
_proposte_di_approvazione_verbale = mapper({Deliberazione.Proposta: (
    "planning.deliberazione.proposta_approvazione_verbale", lambda e: {
        **_deliberazione(e), "tipo": e.tipo, "oggetto": e.oggetto,
        "riferimenti": {"seduta_id": str(e.riferimenti["seduta_id"]), "sha256": e.riferimenti["sha256"]},
        "proposta_da": e.proposta_da})}, source=SOURCE, schemas=SCHEMAS)


def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    """The relay's and the own-log projector's mapper: a domain event -> its public integration event, or None."""
    if isinstance(domain_event, Deliberazione.Proposta) and domain_event.tipo == "approvazione_verbale":
        return _proposte_di_approvazione_verbale(domain_event, notification)
    return _pubblicati(domain_event, notification)
