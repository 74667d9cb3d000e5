"""Pages of the console: the auditor (journey 7).

The histories of deliberations (planning ``GET /deliberazioni/{id}/storia``) and of payments
(finance ``GET /stanziamenti/{id}/impegni/{iid}/storia``), each event with its hash link and the
verdict the service gives on it, and the verification of the Ambito's audit chain by each of the
four services (``GET /audit/verify``). The console shows the services' verdicts: it checks nothing
itself.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import SERVIZI, Problema

router = APIRouter()

Revisore = Annotated[Utente, Depends(richiede("revisore", "coordinatore"))]
Cursore = Annotated[str | None, Query(max_length=500)]

NOMI_SERVIZI = {"planning": "Pianificazione e Comitato", "finance": "Finanza", "partnership": "Terzo settore",
                "monitoring": "Monitoraggio"}
#: an event's verdict (``AuditChain.verify_aggregates``): label, tone, whether it is a problem
VERDETTI = {
    "verificato": ("Verificato", "success", False),
    "integra": ("Verificato", "success", False),
    "in_attesa": ("In attesa di incatenamento", "warning", False),
    "alterato": ("Alterato", "danger", True),
    "compromessa": ("Non confermato", "danger", True),
    "cancellato": ("Cancellato", "danger", True),
    "fuori_catena": ("Fuori dalla catena", "danger", True),
    "mancante": ("Mancante", "danger", True),
    "illeggibile": ("Illeggibile", "danger", True),
}
ESITI = {"integra": ("Integra", "success"), "compromessa": ("Compromessa", "danger"),
         "in_attesa": ("In attesa di incatenamento", "warning")}
#: aggregate class -> how the history names it
AGGREGATI = {"Deliberazione": "Deliberazione", "Seduta": "Seduta del Comitato",
             "RegistroDeliberazioni": "Registro delle deliberazioni", "PianoDiZona": "Piano di Zona"}
EVENTI = {
    "Proposta": "Proposta", "IscrittaAllOrdineDelGiorno": "Iscritta all'ordine del giorno", "Rinviata": "Rinviata",
    "Approvata": "Approvata", "Respinta": "Respinta", "Aperto": "Registro aperto", "NumeroAssegnato": "Numero assegnato",
    "Convocata": "Convocata", "PresenzaRegistrata": "Presenza registrata", "Aperta": "Seduta aperta",
    "PrimaConvocazioneDeserta": "Prima convocazione deserta", "VotazioneAperta": "Votazione aperta",
    "VotoEspresso": "Voto espresso", "VotazioneChiusa": "Votazione chiusa", "Chiusa": "Seduta chiusa",
}
TIPI_MOVIMENTO = {"impegno": "Impegno", "riduzione": "Riduzione", "liquidazione": "Liquidazione",
                  "mandato": "Mandato di pagamento"}


def nome_evento(qualname: str) -> tuple[str, str]:
    """``Seduta.VotoEspresso`` → (``Seduta del Comitato``, ``Voto espresso``)."""
    aggregato, _, evento = qualname.rpartition(".")
    if evento not in EVENTI:
        parole = re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", evento)
        etichetta = " ".join(parole).capitalize() if parole else evento
    else:
        etichetta = EVENTI[evento]
    return AGGREGATI.get(aggregato, aggregato or "—"), etichetta


def _valore(valore: Any) -> str:
    if isinstance(valore, dict):
        return "; ".join(f"{k}: {_valore(v)}" for k, v in valore.items())
    if isinstance(valore, list):
        return ", ".join(_valore(v) for v in valore)
    return "—" if valore is None else str(valore)


async def _verifica(servizi: ServiziDep, utente: Utente, servizio: str) -> dict[str, Any]:
    """One service's verification of the Ambito's chain, or why it could not be read."""
    try:
        esito = await servizi.leggi(utente, servizio, "/audit/verify")
    except Problema as exc:
        if exc.status in (401, 403):
            raise
        return {"servizio": servizio, "nome": NOMI_SERVIZI[servizio], "errore": f"{exc.titolo}: {exc.dettaglio}"}
    return {"servizio": servizio, "nome": NOMI_SERVIZI[servizio], **esito}


@router.get("/revisione")
async def revisione(request: Request, utente: Revisore, servizi: ServiziDep, dopo_deliberazioni: Cursore = None,
                    dopo_impegni: Cursore = None) -> Response:
    *verifiche, deliberazioni, impegni = await asyncio.gather(
        *(_verifica(servizi, utente, s) for s in SERVIZI),
        servizi.pagina(utente, "planning", "/deliberazioni", limite=20, dopo=dopo_deliberazioni),
        servizi.pagina(utente, "finance", "/impegni", limite=20, dopo=dopo_impegni))
    return pagina(request, "revisione/indice.html", titolo="Revisione", verifiche=verifiche,
                  deliberazioni=deliberazioni, impegni=impegni, dopo_deliberazioni=dopo_deliberazioni,
                  dopo_impegni=dopo_impegni, verdetti=VERDETTI)


@router.get("/revisione/deliberazioni/{deliberazione_id}")
async def storia_deliberazione(request: Request, deliberazione_id: uuid.UUID, utente: Revisore,
                               servizi: ServiziDep) -> Response:
    storia = await servizi.leggi(utente, "planning", f"/deliberazioni/{deliberazione_id}/storia")
    eventi = []
    for e in storia["eventi"]:
        aggregato, etichetta = nome_evento(e["evento"])
        eventi.append({**e, "nome_aggregato": aggregato, "etichetta": etichetta,
                       "dati_leggibili": [(k, _valore(v)) for k, v in (e.get("dati") or {}).items()]})
    d = storia["deliberazione"]
    titolo = f"Deliberazione {d['numero']}" if d.get("numero") else "Proposta di deliberazione"
    return pagina(request, "revisione/deliberazione.html", titolo=titolo, deliberazione=d, eventi=eventi,
                  verifica=storia["verifica"], verdetti=VERDETTI, esiti=ESITI)


@router.get("/revisione/impegni/{stanziamento_id}/{impegno_id}")
async def storia_impegno(request: Request, stanziamento_id: uuid.UUID, impegno_id: uuid.UUID, utente: Revisore,
                         servizi: ServiziDep) -> Response:
    storia = await servizi.leggi(utente, "finance", f"/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/storia")
    return pagina(request, "revisione/impegno.html", titolo="Storia dei pagamenti di un impegno", storia=storia,
                  verdetti=VERDETTI, esiti=ESITI, tipi=TIPI_MOVIMENTO)
