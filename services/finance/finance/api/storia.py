"""HTTP API of an impegno's payment history for the auditor, each event checked on the audit chain.

The history is read from the allocation's stored events (not from the replayed ledger): it
shows what the store holds, amounts and running figures included, and ``catena`` says for
each row whether its audit-chain link still matches it. The check covers every event of the
ledger, not only the impegno's rows: a deleted event can no longer say which impegno it
moved, so any gap in the ledger makes the history ``compromessa``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import NotFound
from ambiti_kit.service import RuntimeDep
from ambiti_kit.values import euro

from finance.api.deps import FinanceDep
from finance.application import Finance
from finance.domain.storia import Movimento, Saldi, appartiene, dell_impegno, storia_impegno, tipo_di

router = APIRouter(prefix="/stanziamenti", tags=["Storia dei pagamenti"])

#: the auditor, and the Ufficio di Piano who answers to them
Revisione = Annotated[Principal, Depends(require_roles("revisore", "coordinatore", "amministrativo"))]

EURO = r"^-?\d+\.\d{2}$"
#: the audit chain's verdicts on one event (``AuditChain.verify_aggregates``), in the history's words
DESCRIZIONI = {
    "alterato": "Evento alterato o spostato ad altro Ambito: l'anello della catena non corrisponde più.",
    "cancellato": "Evento cancellato: il suo anello resta nella catena, l'evento non è più nel registro.",
    "fuori_catena": "Evento inserito nel registro fuori dalla catena.",
    "mancante": "Versione mancante nel registro dello stanziamento.",
    "illeggibile": "Evento registrato non più leggibile.",
}


def _euro(description: str) -> Any:
    return Field(pattern=EURO, examples=["1250.00"], description=f"{description} Euro, stringa con due decimali.")


# What was stored is shown as stored: no closed vocabularies on fields an altered event could carry.
class AttoRead(BaseModel):
    tipo: str = Field(examples=["determina"], description="Tipo dell'atto che dispone l'impegno: deliberazione o "
                      "determina.")
    numero: str = Field(examples=["12/2026"])
    data: date


class FatturaRead(BaseModel):
    numero: str = Field(examples=["FT-2026/118"])
    data: date


class BeneficiarioRead(BaseModel):
    denominazione: str
    codice_fiscale: str


class StanziamentoRif(BaseModel):
    """Lo stanziamento su cui l'impegno è assunto (null i campi se l'evento di apertura non è più leggibile)."""

    id: uuid.UUID
    fondo: str | None = Field(description="Codice del fondo (es. FNPS, QSFP).")
    annualita: int | None = Field(description="Annualità del fondo.")
    piano_id: uuid.UUID | None = Field(description="Il Piano di Zona della linea di budget.")
    intervento: str | None = Field(description="Codice dell'intervento del Piano.")
    anno: int | None = Field(description="Anno della linea di budget.")


class SaldiImpegno(BaseModel):
    """Le cifre dell'impegno, calcolate dagli eventi registrati."""

    impegnato: str = _euro("Importo dell'impegno assunto, al lordo delle riduzioni.")
    ridotto: str = _euro("Somma dei disimpegni e delle economie.")
    liquidato: str = _euro("Somma delle liquidazioni.")
    pagato: str = _euro("Somma dei mandati di pagamento.")
    residuo: str = _euro("Ancora da liquidare: impegnato − ridotto − liquidato.")
    da_pagare: str = _euro("Liquidato e non ancora pagato: liquidato − pagato.")

    @classmethod
    def of(cls, s: Saldi) -> "SaldiImpegno":
        return cls(impegnato=euro(s.impegnato), ridotto=euro(s.ridotto), liquidato=euro(s.liquidato),
                   pagato=euro(s.pagato), residuo=euro(s.residuo), da_pagare=euro(s.da_pagare))


Catena = Literal["integra", "compromessa", "in_attesa"]


class EventoStoria(BaseModel):
    """Un evento dell'impegno come è registrato, con le cifre dopo di esso e la verifica del suo anello."""

    tipo: Literal["impegno", "riduzione", "liquidazione", "mandato"]
    importo: str = _euro("Importo del movimento.")
    autore: str = Field(description="Chi ha registrato il movimento (soggetto del token).")
    quando: datetime = Field(description="Quando il movimento è stato registrato (ISO 8601, UTC).")
    atto: AttoRead | None = Field(None, description="Impegno: la deliberazione o determina che lo dispone.")
    oggetto: str | None = Field(None, description="Impegno: oggetto della spesa.")
    tipo_riduzione: str | None = Field(None, examples=["economia"],
                                       description="Riduzione: disimpegno o economia.")
    motivo: str | None = Field(None, description="Riduzione: la motivazione.")
    liquidazione_id: uuid.UUID | None = Field(
        None, description="Liquidazione: il suo identificativo; mandato: la liquidazione che paga.")
    fattura: FatturaRead | None = Field(None, description="Liquidazione: la fattura liquidata.")
    mandato_id: uuid.UUID | None = Field(None, description="Mandato: il suo identificativo.")
    data: date | None = Field(None, description="Mandato: la data del mandato di pagamento.")
    saldi: SaldiImpegno = Field(description="Le cifre dell'impegno dopo questo movimento.")
    notification_id: int | None = Field(
        description="Posizione dell'evento nel registro del servizio (il notification id dei messaggi).")
    versione: int = Field(description="Versione dell'evento nel registro dello stanziamento.")
    catena: Catena = Field(description="Verifica dell'anello di catena di questo evento: «integra» se l'anello "
                           "corrisponde all'evento registrato, «compromessa» se no, «in_attesa» se l'evento non è "
                           "ancora stato incatenato (pochi istanti dopo la registrazione).")
    anello: str | None = Field(None, description="L'anello (SHA-256, esadecimale) dell'evento nella catena "
                               "dell'Ambito.")

    @classmethod
    def of(cls, m: Movimento, anello: dict[str, Any]) -> "EventoStoria":
        return cls(tipo=m.tipo, importo=euro(m.importo), autore=m.autore, quando=m.quando, atto=m.atto,
                   oggetto=m.oggetto, tipo_riduzione=m.riduzione, motivo=m.motivo, liquidazione_id=m.liquidazione_id,
                   fattura=m.fattura, mandato_id=m.mandato_id, data=m.data, saldi=SaldiImpegno.of(m.saldi),
                   notification_id=anello.get("notification_id"), versione=m.versione,
                   catena=_catena(anello.get("stato", "alterato")), anello=anello.get("link"))


class EventoCompromesso(BaseModel):
    """Un evento del registro dello stanziamento che la catena di audit non conferma."""

    notification_id: int | None = Field(description="Posizione nel registro del servizio (null: versione mancante "
                                        "senza anello).")
    versione: int = Field(description="Versione nel registro dello stanziamento.")
    stato: Literal["alterato", "cancellato", "fuori_catena", "mancante", "illeggibile"] = Field(
        description="Il verdetto della catena sull'evento; «illeggibile»: l'evento registrato non si decodifica più.")
    tipo: str | None = Field(description="impegno, riduzione, liquidazione, mandato, apertura o incremento; null se "
                             "l'evento non è più leggibile.")
    dell_impegno: bool | None = Field(description="Se l'evento riguarda questo impegno; null se non si può più dire "
                                      "(evento cancellato o illeggibile).")
    descrizione: str


class VerificaCatena(BaseModel):
    """La verifica di ogni evento del registro dello stanziamento sulla catena di audit dell'Ambito."""

    eventi_controllati: int = Field(description="Eventi del registro dello stanziamento controllati (tutti, non "
                                    "solo quelli dell'impegno).")
    verificati: int
    in_attesa: int = Field(description="Eventi non ancora incatenati.")
    compromessi: list[EventoCompromesso] = Field(description="Gli eventi che la catena non conferma, per nome.")
    catena_ambito: dict[str, Any] | None = Field(
        None, description="Con catena_completa=true: la verifica dell'intera catena dell'Ambito, come "
        "GET /audit/verify.")


class StoriaImpegnoRead(BaseModel):
    """La storia di un impegno per il revisore, in ordine di registrazione, ogni evento verificato."""

    impegno_id: uuid.UUID
    ambito: str
    stanziamento: StanziamentoRif
    beneficiario: BeneficiarioRead | None = Field(description="Null se l'evento d'impegno non è più leggibile.")
    cig: str | None
    cup: str | None
    oggetto: str | None
    comune: str | None = Field(description="Il Comune (ISTAT) per cui si spende; null: l'intero Ambito.")
    eventi: list[EventoStoria]
    totali: SaldiImpegno = Field(description="Le cifre dopo l'ultimo evento.")
    esito: Literal["integra", "compromessa", "in_attesa"] = Field(
        description="«integra»: ogni evento del registro dello stanziamento corrisponde al suo anello; "
        "«compromessa»: almeno uno no (vedi verifica.compromessi); «in_attesa»: nessun problema, ma eventi recenti "
        "non ancora incatenati.")
    verifica: VerificaCatena


def _catena(stato: str) -> Catena:
    return "integra" if stato == "verificato" else "in_attesa" if stato == "in_attesa" else "compromessa"


def eventi_registrati(app: Finance, stanziamento_id: uuid.UUID) -> tuple[list[Any], set[int]]:
    """The ledger's stored events as domain events, and the versions that no longer decode.

    Read from the recorder, not replayed through the repository: a tampered ledger must still
    be shown (a replay stops at a missing version), and the cache must not hide what is stored.
    """
    eventi, illeggibili = [], set()
    for stored in app.recorder.select_events(stanziamento_id):
        try:
            eventi.append(app.mapper.to_domain_event(stored))
        except Exception:  # noqa: BLE001 — whatever broke the decoding, the chain names the event as altered
            illeggibili.add(stored.originator_version)
    return eventi, illeggibili


@router.get("/{stanziamento_id}/impegni/{impegno_id}/storia", response_model=StoriaImpegnoRead,
            summary="Storia di un impegno per il revisore")
def leggi_storia(stanziamento_id: uuid.UUID, impegno_id: uuid.UUID, app: FinanceDep, runtime: RuntimeDep,
                 principal: Revisione,
                 catena_completa: bool = Query(False, description="Ricalcola anche l'intera catena dell'Ambito.")
                 ) -> StoriaImpegnoRead:
    """Storia di un impegno dal registro degli eventi: impegno, riduzioni, liquidazioni e mandati, con le cifre
    progressive e la verifica della catena di audit di ciascun evento."""
    tenant = tenant_of(principal)
    eventi, illeggibili = eventi_registrati(app, stanziamento_id)
    if not appartiene(eventi, tenant, stanziamento_id):
        raise NotFound(f"Stanziamento {stanziamento_id} non trovato.")
    storia = storia_impegno(eventi, impegno_id)
    if storia is None:
        raise NotFound(f"Impegno {impegno_id} non trovato nello stanziamento {stanziamento_id}.")

    catena = runtime.chain.verify_aggregates(tenant, [stanziamento_id])
    per_versione = {c["originator_version"]: c for c in catena}
    per_evento = {e.originator_version: e for e in eventi}
    compromessi = []
    for c in catena:
        if c["stato"] in ("verificato", "in_attesa") and c["originator_version"] not in illeggibili:
            continue
        stato = "illeggibile" if c["stato"] in ("verificato", "in_attesa") else c["stato"]
        evento = per_evento.get(c["originator_version"]) if stato in ("alterato", "fuori_catena") else None
        compromessi.append(EventoCompromesso(
            notification_id=c["notification_id"], versione=c["originator_version"], stato=stato,
            tipo=tipo_di(evento) if evento is not None else None,
            dell_impegno=dell_impegno(evento, impegno_id) if evento is not None else None,
            descrizione=DESCRIZIONI[stato]))
    in_attesa = sum(1 for c in catena if c["stato"] == "in_attesa")
    catena_ambito = runtime.chain.verify(tenant).as_dict() if catena_completa else None
    esito = ("compromessa" if compromessi or (catena_ambito is not None and not catena_ambito["ok"])
             else "in_attesa" if in_attesa else "integra")
    verifica = VerificaCatena(eventi_controllati=len(catena),
                              verificati=sum(1 for c in catena if c["stato"] == "verificato"),
                              in_attesa=in_attesa, compromessi=compromessi, catena_ambito=catena_ambito)

    aperto, assunto = storia.apertura, storia.assunzione
    return StoriaImpegnoRead(
        impegno_id=impegno_id, ambito=tenant,
        stanziamento=StanziamentoRif(id=stanziamento_id, **{k: getattr(aperto, k, None) for k in (
            "fondo", "annualita", "piano_id", "intervento", "anno")}),
        beneficiario=assunto.beneficiario if assunto is not None else None,
        cig=getattr(assunto, "cig", None), cup=getattr(assunto, "cup", None),
        oggetto=getattr(assunto, "oggetto", None), comune=getattr(assunto, "comune", None),
        eventi=[EventoStoria.of(m, per_versione.get(m.versione, {})) for m in storia.movimenti],
        totali=SaldiImpegno.of(storia.totali), esito=esito, verifica=verifica)
