"""Pages of the console: the third sector (partnership service).

The referente of an ente (role ``referente_ets``, enabled by the Ufficio di Piano for one ente by
the subject of her token) sees her ente, the tavoli it sits at, the procedures it applied to with
the state of each application, its accreditations and awards, and sends an expression of interest
for a notice. The Ufficio di Piano sees the same area for the whole registry, registers an ente and
enables its referente. Partnership decides what each person sees and every rule.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import DEL_MODULO, Problema, Servizi

router = APIRouter(prefix="/terzo-settore")

LETTORI = ("coordinatore", "amministrativo", "referente_ets")
UFFICIO = ("coordinatore", "amministrativo")
#: answers of a service that a form shows beside its fields (the others get the error page)

TIPI_ENTE = (("ets", "Ente del Terzo Settore"), ("pubblico", "Partner pubblico"), ("sindacato", "Sindacato"))
SEZIONI_RUNTS = (("odv", "Organizzazioni di volontariato"), ("aps", "Associazioni di promozione sociale"),
                 ("enti_filantropici", "Enti filantropici"), ("imprese_sociali", "Imprese sociali"),
                 ("reti_associative", "Reti associative"), ("soms", "Società di mutuo soccorso"),
                 ("altri_ets", "Altri enti del Terzo Settore"))
CATEGORIE = (("asl", "ASL"), ("centro_impiego", "Centro per l'impiego"), ("scuola", "Scuola"), ("uepe", "UEPE"),
             ("comune", "Comune"), ("provincia", "Provincia"), ("ussm", "USSM"), ("altro", "Altro"))
TIPI_TAVOLO = (("tematico", "Tematico"), ("tecnico", "Tecnico"), ("partenariato", "Di partenariato"))
AREE = (("famiglia_minori", "Famiglia e minori"), ("anziani", "Anziani"), ("disabilita", "Disabilità"),
        ("poverta_inclusione", "Povertà e inclusione"), ("salute_mentale", "Salute mentale"),
        ("dipendenze", "Dipendenze"), ("immigrazione", "Immigrazione"), ("giovani", "Giovani"),
        ("violenza_di_genere", "Violenza di genere"), ("non_autosufficienza", "Non autosufficienza"),
        ("lavoro", "Lavoro"), ("trasversale", "Trasversale"))
TIPI_PROCEDURA = (("co_programmazione", "Co-programmazione"), ("co_progettazione", "Co-progettazione"))
FASI = (("avviso_pubblicato", "Avviso pubblicato"), ("ammissione", "Ammissioni decise"),
        ("sessioni", "Sessioni di co-progettazione"), ("progetto_condiviso", "Progetto condiviso"),
        ("convenzione_stipulata", "Convenzione stipulata"))
MODALITA = (("accreditamento", "Accreditamento"), ("convenzione", "Convenzione"), ("gara", "Gara"),
            ("affidamento_diretto", "Affidamento diretto"))
STATI_ACCREDITAMENTO = {"valido": ("Valido", "success"), "scaduto": ("Scaduto", "secondary"),
                        "revocato": ("Revocato", "danger"), "non_ancora_valido": ("Non ancora valido", "info")}

Lettore = Depends(richiede(*LETTORI))
Ufficio = Depends(richiede(*UFFICIO))
Coordinatore = Depends(richiede("coordinatore"))
Referente = Depends(richiede("referente_ets"))


def _etichette() -> dict[str, Any]:
    return {"TIPI_ENTE": TIPI_ENTE, "SEZIONI_RUNTS": SEZIONI_RUNTS, "CATEGORIE": CATEGORIE, "TIPI_TAVOLO": TIPI_TAVOLO,
            "FASI": FASI, "nome_tipo_ente": dict(TIPI_ENTE), "nome_sezione": dict(SEZIONI_RUNTS),
            "nome_categoria": dict(CATEGORIE), "nome_tipo_tavolo": dict(TIPI_TAVOLO), "nome_area": dict(AREE),
            "nome_tipo_procedura": dict(TIPI_PROCEDURA), "nome_fase": dict(FASI), "nome_modalita": dict(MODALITA),
            "STATI_ACCREDITAMENTO": STATI_ACCREDITAMENTO}


def _url(base: str, filtri: dict[str, str]) -> str:
    return base + "?" + urlencode({k: v for k, v in filtri.items() if v})


def _ctx(utente: Utente, attuale: str, **contesto: Any) -> dict[str, Any]:
    referente = utente.ruolo == "referente_ets"
    voci = [("/terzo-settore", "Il nostro ente" if referente else "Registro degli enti"),
            ("/terzo-settore/tavoli", "Tavoli"), ("/terzo-settore/procedure", "Procedure"),
            ("/terzo-settore/accreditamenti", "Accreditamenti"), ("/terzo-settore/affidamenti", "Affidamenti")]
    return {"voci": voci, "attuale": attuale, "referente": referente, **_etichette(), **contesto}


async def _lista(servizi: Servizi, utente: Utente, path: str, filtri: dict[str, str], dopo: str
                 ) -> tuple[list[dict[str, Any]], str | None, dict[str, str], Problema | None]:
    """One page of a partnership list; a filter the service refuses is shown on the page, not as an error page."""
    risposta, errori, problema = await servizi.pagina_filtrata(utente, "partnership", path, dopo=dopo or None,
                                                               **filtri)
    return risposta["elementi"], risposta.get("successivo"), errori, problema


# -- the area's first page: the referente's ente, or the Ambito's registry ----------------------------

@router.get("")
async def area(request: Request, servizi: ServiziDep, utente: Utente = Lettore, tipo: str = "", q: str = "",
               dopo: str = "") -> Response:
    if utente.ruolo == "referente_ets":
        return await _mio_ente(request, servizi, utente)
    filtri = {"tipo": tipo.strip(), "q": q.strip()}
    elementi, successivo, errori, problema = await _lista(servizi, utente, "/enti", filtri, dopo)
    return pagina(request, "terzo_settore/registro.html", status_code=422 if problema else 200,
                  titolo="Terzo settore", elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri=_url("/terzo-settore", filtri), errori=errori, problema=problema,
                  **_ctx(utente, "/terzo-settore"))


def _valori_manifestazione() -> dict[str, str]:
    oggi = date.today().isoformat()
    return {"ricevuta_il": oggi, "atto.data": oggi}


async def _mio_ente(request: Request, servizi: Servizi, utente: Utente, *, valori: dict[str, str] | None = None,
                    status_code: int = 200, errori: dict[str, str] | None = None,
                    problema: Problema | None = None) -> Response:
    ente = await servizi.leggi(utente, "partnership", "/enti/mio")
    tavoli, procedure, accreditamenti, affidamenti = await asyncio.gather(
        servizi.tutti(utente, "partnership", "/tavoli"), servizi.tutti(utente, "partnership", "/procedure"),
        servizi.tutti(utente, "partnership", "/accreditamenti"), servizi.tutti(utente, "partnership", "/affidamenti"))
    # the state of each application is in the procedure as the service shows it to this ente ("mia")
    dettagli = await asyncio.gather(*(servizi.leggi(utente, "partnership", f"/procedure/{p['id']}")
                                      for p in procedure))
    return pagina(request, "terzo_settore/mio_ente.html", status_code=status_code, titolo="Il nostro ente",
                  ente=ente, tavoli=tavoli, candidature=dettagli, accreditamenti=accreditamenti,
                  affidamenti=affidamenti, valori=valori or _valori_manifestazione(), errori=errori or {},
                  problema=problema, **_ctx(utente, "/terzo-settore"))


@router.post("/manifestazioni")
async def manifesta(request: Request, servizi: ServiziDep, utente: Utente = Referente) -> Response:
    """The referente's expression of interest in a notice: the body of ``POST /procedure/{id}/manifestazioni``."""
    modulo = await request.form()
    valori = {k: str(v) for k, v in modulo.items() if isinstance(v, str) and k != "csrf_token"}
    procedura = valori.get("procedura_id", "").strip()
    try:
        procedura_id = uuid.UUID(procedura)
    except ValueError:
        return await _mio_ente(request, servizi, utente, valori=valori, status_code=422, errori={
            "procedura_id": "Indicare il codice della procedura come riportato nell'avviso (es. "
                            "3f2b8c1e-5d4a-4b7e-9c1f-2a6d8e0b7c91)."})
    corpo = {"sintesi_documenti": valori.get("sintesi_documenti", "").strip(),
             "ricevuta_il": valori.get("ricevuta_il", "").strip() or None,
             "atto": {"tipo": "protocollo", "numero": valori.get("atto.numero", "").strip(),
                      "data": valori.get("atto.data", "").strip() or None}}
    try:
        await servizi.chiama(utente, "partnership", "POST", f"/procedure/{procedura_id}/manifestazioni", json=corpo)
    except Problema as exc:
        if exc.status == 404:  # a code that names no notice of this Ambito: said beside the field
            return await _mio_ente(request, servizi, utente, valori=valori, status_code=404,
                                   errori={"procedura_id": "Nessuna procedura dell'Ambito ha questo codice."})
        if exc.status not in DEL_MODULO:
            raise
        return await _mio_ente(request, servizi, utente, valori=valori, status_code=exc.status,
                               errori=exc.per_campo(), problema=exc)
    return RedirectResponse(f"/terzo-settore/procedure/{procedura_id}?inviata=1", status_code=303)


# -- the registry: one ente, a new ente, its referente --------------------------------------------------

def _valori_ente(valori: dict[str, str]) -> dict[str, Any]:
    """The body of ``POST /enti`` from the form (empty optional fields left out, RUNTS when given)."""
    corpo: dict[str, Any] = {"codice_fiscale": valori.get("codice_fiscale", "").strip(),
                             "tipo": valori.get("tipo", "").strip(),
                             "denominazione": valori.get("denominazione", "").strip()}
    for campo in ("forma_giuridica", "categoria", "comune_sede"):
        if valori.get(campo, "").strip():
            corpo[campo] = valori[campo].strip()
    sezione, numero = valori.get("runts.sezione", "").strip(), valori.get("runts.numero_repertorio", "").strip()
    if sezione or numero:
        corpo["runts"] = {"sezione": sezione, "numero_repertorio": numero}
    return corpo


@router.get("/enti/nuovo")
async def modulo_ente(request: Request, utente: Utente = Coordinatore) -> Response:
    return pagina(request, "terzo_settore/ente_nuovo.html", titolo="Registra un ente", valori={"tipo": "ets"},
                  **_ctx(utente, "/terzo-settore"))


@router.post("/enti/nuovo")
async def registra_ente(request: Request, servizi: ServiziDep, utente: Utente = Coordinatore) -> Response:
    modulo = await request.form()
    valori = {k: str(v) for k, v in modulo.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        ente = (await servizi.chiama(utente, "partnership", "POST", "/enti", json=_valori_ente(valori))).dati
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return pagina(request, "terzo_settore/ente_nuovo.html", status_code=422 if exc.status == 400 else exc.status,
                      titolo="Registra un ente", valori=valori, errori=exc.per_campo(), problema=exc,
                      **_ctx(utente, "/terzo-settore"))
    return RedirectResponse(f"/terzo-settore/enti/{ente['id']}?registrato=1", status_code=303)


async def _ente(request: Request, servizi: Servizi, utente: Utente, ente_id: uuid.UUID, *,
                valori: dict[str, str] | None = None, status_code: int = 200, errori: dict[str, str] | None = None,
                problema: Problema | None = None) -> Response:
    ente = await servizi.leggi(utente, "partnership", f"/enti/{ente_id}")
    esito = {k: v for k in ("registrato", "abilitato") if (v := request.query_params.get(k))}
    return pagina(request, "terzo_settore/ente.html", status_code=status_code, titolo=ente["denominazione"],
                  ente=ente, valori=valori or {}, errori=errori or {}, problema=problema, esito=esito,
                  **_ctx(utente, "/terzo-settore"))


@router.get("/enti/{ente_id}")
async def ente(request: Request, ente_id: uuid.UUID, servizi: ServiziDep, utente: Utente = Lettore) -> Response:
    return await _ente(request, servizi, utente, ente_id)


@router.post("/enti/{ente_id}/referenti")
async def abilita_referente(request: Request, ente_id: uuid.UUID, servizi: ServiziDep,
                            utente: Utente = Coordinatore) -> Response:
    modulo = await request.form()
    valori = {"subject": str(modulo.get("subject") or "").strip()}
    try:
        await servizi.chiama(utente, "partnership", "POST", f"/enti/{ente_id}/referenti", json=valori)
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _ente(request, servizi, utente, ente_id, valori=valori, errori=exc.per_campo(), problema=exc,
                           status_code=422 if exc.status == 400 else exc.status)
    return RedirectResponse(f"/terzo-settore/enti/{ente_id}?" + urlencode({"abilitato": valori["subject"]}),
                            status_code=303)


# -- tavoli, procedures, accreditations and awards (the referente: those of its ente) ------------------

@router.get("/tavoli")
async def tavoli(request: Request, servizi: ServiziDep, utente: Utente = Lettore, tipo: str = "",
                 dopo: str = "") -> Response:
    filtri = {"tipo": tipo.strip()}
    elementi, successivo, errori, problema = await _lista(servizi, utente, "/tavoli", filtri, dopo)
    return pagina(request, "terzo_settore/tavoli.html", status_code=422 if problema else 200, titolo="Tavoli",
                  elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri=_url("/terzo-settore/tavoli", filtri), errori=errori, problema=problema,
                  **_ctx(utente, "/terzo-settore/tavoli"))


@router.get("/tavoli/{tavolo_id}")
async def tavolo(request: Request, tavolo_id: uuid.UUID, servizi: ServiziDep, utente: Utente = Lettore) -> Response:
    dati = await servizi.leggi(utente, "partnership", f"/tavoli/{tavolo_id}")
    return pagina(request, "terzo_settore/tavolo.html", titolo=dati["nome"], tavolo=dati,
                  **_ctx(utente, "/terzo-settore/tavoli"))


@router.get("/procedure")
async def procedure(request: Request, servizi: ServiziDep, utente: Utente = Lettore, fase: str = "",
                    dopo: str = "") -> Response:
    filtri = {"fase": fase.strip()}
    elementi, successivo, errori, problema = await _lista(servizi, utente, "/procedure", filtri, dopo)
    return pagina(request, "terzo_settore/procedure.html", status_code=422 if problema else 200,
                  titolo="Procedure", elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri=_url("/terzo-settore/procedure", filtri), errori=errori, problema=problema,
                  **_ctx(utente, "/terzo-settore/procedure"))


@router.get("/procedure/{procedura_id}")
async def procedura(request: Request, procedura_id: uuid.UUID, servizi: ServiziDep,
                    utente: Utente = Lettore) -> Response:
    dati = await servizi.leggi(utente, "partnership", f"/procedure/{procedura_id}")
    return pagina(request, "terzo_settore/procedura.html", titolo=dati["oggetto"], procedura=dati,
                  inviata=bool(request.query_params.get("inviata")), **_ctx(utente, "/terzo-settore/procedure"))


@router.get("/accreditamenti")
async def accreditamenti(request: Request, servizi: ServiziDep, utente: Utente = Lettore, intervento: str = "",
                         validi_il: str = "", dopo: str = "") -> Response:
    filtri = {"intervento": intervento.strip(), "validi_il": validi_il.strip()}
    elementi, successivo, errori, problema = await _lista(servizi, utente, "/accreditamenti", filtri, dopo)
    return pagina(request, "terzo_settore/accreditamenti.html", status_code=422 if problema else 200,
                  titolo="Accreditamenti", elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri=_url("/terzo-settore/accreditamenti", filtri), errori=errori, problema=problema,
                  **_ctx(utente, "/terzo-settore/accreditamenti"))


@router.get("/affidamenti")
async def affidamenti(request: Request, servizi: ServiziDep, utente: Utente = Lettore, dopo: str = "") -> Response:
    elementi, successivo, errori, problema = await _lista(servizi, utente, "/affidamenti", {}, dopo)
    return pagina(request, "terzo_settore/affidamenti.html", status_code=422 if problema else 200,
                  titolo="Affidamenti", elementi=elementi, successivo=successivo, filtri={},
                  url_altri="/terzo-settore/affidamenti", errori=errori, problema=problema,
                  **_ctx(utente, "/terzo-settore/affidamenti"))
