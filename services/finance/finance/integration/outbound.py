"""Domain events of finance -> public integration events (see contracts/finance).

Amounts travel as decimal strings with two decimals; every movement names its allocation
(``stanziamento_id``), fund, annualità and budget line, so that a consumer can total the
ledger per fund, intervento and Comune without asking finance anything.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.mapping import EventTable, mapper
from ambiti_kit.values import euro

from finance.domain.budget import CLASSIFICAZIONE, Budget
from finance.domain.contributi import ContributiComunali
from finance.domain.fondi import Assegnazione
from finance.domain.riparti import DatiRiferimento, Riparto, RipartoRegionale
from finance.domain.riparto import Risultato
from finance.domain.stanziamento import Stanziamento

SOURCE = "/ambiti/finance"
SCHEMAS = "https://contracts.ambiti.example/finance"


def _atto(atto: dict) -> dict:
    return {**atto, "data": atto["data"].isoformat()}


def _movimento(e: Any) -> dict[str, Any]:
    return {"stanziamento_id": str(e.originator_id), "ambito": e.tenant_id, "importo": euro(e.importo)}


MAPPING: EventTable = {
    Budget.Aperto: ("finance.budget.aperto", lambda e: {
        "budget_id": str(e.originator_id), "ambito": e.tenant_id, "piano_id": str(e.piano_id),
        "anno_inizio": e.anno_inizio, "anno_fine": e.anno_fine, "aperto_il": e.timestamp.isoformat()}),
    Budget.VersioneRecepita: ("finance.budget.versione_recepita", lambda e: {
        "budget_id": str(e.originator_id), "ambito": e.tenant_id, "versione": e.versione,
        "deliberazione": e.deliberazione,
        "righe": [{"intervento": r["intervento"], "fondo": r["fondo"], "anno": r["anno"], "importo": euro(r["importo"]),
                   "comuni": r["comuni"], "nomenclatura": r["nomenclatura"],
                   **{campo: r[campo] for campo in CLASSIFICAZIONE if r.get(campo) is not None}} for r in e.righe]}),
    Assegnazione.Registrata: ("finance.assegnazione.registrata", lambda e: {
        "assegnazione_id": str(e.originator_id), "ambito": e.tenant_id, "fondo": e.fondo, "annualita": e.annualita,
        "importo": euro(e.importo), "atto": _atto(e.atto), "vincoli": e.vincoli, "registrata_da": e.registrata_da,
        "investimento": e.investimento, "pnrr": e.pnrr}),
    Assegnazione.Integrata: ("finance.assegnazione.integrata", lambda e: {
        "assegnazione_id": str(e.originator_id), "ambito": e.tenant_id, "importo": euro(e.importo),
        "atto": _atto(e.atto), "registrata_da": e.registrata_da}),
    Stanziamento.Aperto: ("finance.stanziamento.aperto", lambda e: {
        **_movimento(e), "assegnazione_id": str(e.assegnazione_id), "fondo": e.fondo, "annualita": e.annualita,
        "piano_id": str(e.piano_id), "intervento": e.intervento, "anno": e.anno, "aperto_da": e.aperto_da}),
    Stanziamento.Incrementato: ("finance.stanziamento.incrementato", lambda e: {
        **_movimento(e), "incrementato_da": e.incrementato_da}),
    Stanziamento.ImpegnoAssunto: ("finance.impegno.assunto", lambda e: _impegno(e)),
    Stanziamento.ImpegnoRidotto: ("finance.impegno.ridotto", lambda e: {
        **_movimento(e), "impegno_id": str(e.impegno_id), "tipo": e.tipo, "motivo": e.motivo,
        "ridotto_da": e.ridotto_da, "ridotto_il": e.timestamp.isoformat()}),
    Stanziamento.LiquidazioneDisposta: ("finance.liquidazione.disposta", lambda e: {
        **_movimento(e), "liquidazione_id": str(e.liquidazione_id), "impegno_id": str(e.impegno_id),
        "fattura": {"numero": e.fattura["numero"], "data": e.fattura["data"].isoformat()},
        "disposta_da": e.disposta_da, "disposta_il": e.timestamp.isoformat()}),
    Stanziamento.MandatoEmesso: ("finance.mandato.emesso", lambda e: {
        **_movimento(e), "mandato_id": str(e.mandato_id), "liquidazione_id": str(e.liquidazione_id),
        "impegno_id": str(e.impegno_id), "data": e.data.isoformat(), "emesso_da": e.emesso_da, "cig": e.cig,
        "cup": e.cup}),
    ContributiComunali.Determinati: ("finance.contributi.determinati", lambda e: {
        "contributi_id": str(e.originator_id), "ambito": e.tenant_id, "anno": e.anno, "metodo": e.metodo,
        "quota_pro_capite": str(e.quota_pro_capite) if e.quota_pro_capite is not None else None,
        "popolazione_al": e.popolazione_al.isoformat() if e.popolazione_al else None,
        "deliberazione_id": str(e.deliberazione_id) if e.deliberazione_id else None,
        "deliberazione_numero": e.deliberazione_numero,
        "riparto_id": str(e.riparto_id) if e.riparto_id else None,
        "scadenze": [{"data": x["data"].isoformat(), "percentuale": str(x["percentuale"])} for x in e.scadenze],
        "quote": [{"istat": q["istat"], "nome": q["nome"], "quota": euro(q["quota"]),
                   "rate": [euro(r) for r in q["rate"]]} for q in e.quote],
        "totale": euro(e.totale), "determinati_da": e.determinati_da}),
    ContributiComunali.VersamentoRegistrato: ("finance.contributi.versamento_registrato", lambda e: {
        "contributi_id": str(e.originator_id), "ambito": e.tenant_id, "istat": e.istat, "importo": euro(e.importo),
        "data": e.data.isoformat(), "riferimento": e.riferimento, "registrato_da": e.registrato_da}),
    ContributiComunali.VersamentoStornato: ("finance.contributi.versamento_stornato", lambda e: {
        "contributi_id": str(e.originator_id), "ambito": e.tenant_id, "istat": e.istat, "importo": euro(e.importo),
        "data": e.data.isoformat(), "riferimento": e.riferimento, "motivo": e.motivo, "stornato_da": e.stornato_da}),
    DatiRiferimento.Caricati: ("finance.dati_riferimento.caricati", lambda e: {
        "dati_id": str(e.originator_id), "ambito": e.tenant_id, "nome": e.nome,
        "data_riferimento": e.data_riferimento.isoformat(), "fonte": e.fonte, "colonne": e.colonne, "righe": e.righe,
        "caricati_da": e.caricati_da}),
    Riparto.Eseguito: ("finance.riparto.eseguito", lambda e: _riparto(e)),
    RipartoRegionale.Approvato: ("finance.riparto_regionale.approvato", lambda e: {
        "riparto_id": str(e.originator_id), "ambito": e.tenant_id, "regione": regione_of(e.tenant_id), "fondo": e.fondo,
        "annualita": e.annualita, "atto": _atto(e.atto),
        "assegnazioni": [{"ambito": a["ambito"], "importo": euro(a["importo"])} for a in e.assegnazioni],
        "approvato_da": e.approvato_da}),
}

#: a riparto the first contract cannot describe (several quotas, ``per_importo``, a ceiling, a declared
#: excess) is published under its own type, ``finance.riparto.eseguito_a_quote``: a consumer of
#: ``finance.riparto.eseguito`` v1 never receives a shape its schema does not allow
RIPARTO_A_QUOTE = "finance.riparto.eseguito_a_quote"


#: a commitment to a person (a professional, a sole trader: a 16-character codice fiscale) cannot be described
#: by ``finance.impegno.assunto`` v1, whose beneficiary has 11 digits: it is published under its own type
IMPEGNO_A_PERSONA = "finance.impegno.assunto_persona"


def _impegno(e: Any) -> dict[str, Any]:
    return {**_movimento(e), "impegno_id": str(e.impegno_id), "beneficiario": e.beneficiario, "cig": e.cig,
            "cup": e.cup, "atto": _atto(e.atto), "oggetto": e.oggetto, "comune": e.comune, "assunto_da": e.assunto_da,
            "assunto_il": e.timestamp.isoformat(),
            "affidamento_id": str(e.affidamento_id) if e.affidamento_id else None}


def _riparto(e: Riparto.Eseguito) -> dict[str, Any]:
    return {"riparto_id": str(e.originator_id), "ambito": e.tenant_id, "oggetto": e.oggetto,
            "atto": _atto(e.atto) if e.atto else None,
            "dati_riferimento_id": str(e.dati_riferimento_id) if e.dati_riferimento_id else None,
            "destinatari_da": e.destinatari_da,
            "input": e.riparto["input"], "risultato": e.riparto["risultato"], "eseguito_da": e.eseguito_da}


_per_tabella = mapper(MAPPING, source=SOURCE, schemas=SCHEMAS)


def to_integration_event(domain_event: Any, notification: Notification) -> CloudEvent | None:
    """The relay's and the own-log projector's mapper: a domain event -> its public integration event, or None."""
    if type(domain_event) is Riparto.Eseguito and not Risultato.da_dict(domain_event.riparto).esprimibile_v1():
        return CloudEvent.of(domain_event, notification, type=RIPARTO_A_QUOTE, source=SOURCE, schemas=SCHEMAS,
                             data=_riparto(domain_event))
    if type(domain_event) is Stanziamento.ImpegnoAssunto and len(domain_event.beneficiario["codice_fiscale"]) != 11:
        return CloudEvent.of(domain_event, notification, type=IMPEGNO_A_PERSONA, source=SOURCE, schemas=SCHEMAS,
                             data=_impegno(domain_event))
    return _per_tabella(domain_event, notification)
