"""Pages of the console: the services a Comune delivered, month by month, and the staff of the Comuni.

The assistente sociale records her Comune's months (one form, or a CSV file the monitoring service
imports all or nothing) and sees the Ambito's staff and LEPS ratio; the Ufficio di Piano sees every
Comune and declares the staff. Every rule (which Comune, which month, which counts, the LEPS ratio)
is monitoring's: the console sends what the person typed or uploaded and shows what comes back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import DEL_MODULO, Problema, Servizi

router = APIRouter(prefix="/prestazioni")

#: who opens the area (the menu's "Servizi erogati"), who records months, who declares the staff
LETTORI = ("coordinatore", "amministrativo", "assistente_sociale")
OPERATORI = ("assistente_sociale", "coordinatore")
GESTORI = ("coordinatore", "amministrativo")
#: answers of a service that a form shows beside its fields (the others get the error page)

#: monitoring's target areas and age bands of the users served (the codes are the service's)
AREE_UTENTI = (("minori_famiglie", "Minori e famiglie"), ("disabilita", "Disabilità"), ("anziani", "Anziani"),
               ("poverta", "Povertà"), ("dipendenze", "Dipendenze"), ("immigrazione", "Immigrazione"),
               ("salute_mentale", "Salute mentale"), ("multiutenza", "Multiutenza"))
FASCE_ETA = (("0-17", "0–17 anni"), ("18-64", "18–64 anni"), ("65+", "65 anni e più"))
#: the staff declarations' profiles and areas (monitoring's codes)
PROFILI = (("assistente_sociale", "Assistente sociale"), ("educatore", "Educatore"), ("psicologo", "Psicologo"),
           ("operatore_socio_sanitario", "Operatore socio-sanitario"), ("mediatore", "Mediatore"),
           ("amministrativo", "Amministrativo"))
AREE_PERSONALE = (("minori_famiglie", "Minori e famiglie"), ("disabilita", "Disabilità"), ("anziani", "Anziani"),
                  ("poverta", "Povertà"), ("dipendenze", "Dipendenze"), ("immigrazione", "Immigrazione"),
                  ("salute_mentale", "Salute mentale"), ("multiutenza", "Multiutenza"),
                  ("segretariato_sociale", "Segretariato sociale"))
#: the columns of monitoring's CSV import (POST /prestazioni/import), as its description lists them
COLONNE_CSV = (
    ("intervento", "codice dell'intervento del Piano (es. SAD, A.1.1)"),
    ("comune", "codice ISTAT del Comune, 6 cifre (es. 065134)"),
    ("mese", "mese di erogazione, AAAA-MM (es. 2026-01)"),
    ("area", "area degli utenti: " + ", ".join(c for c, _ in AREE_UTENTI)),
    ("utenti_0_17", "utenti da 0 a 17 anni (numero intero)"),
    ("utenti_18_64", "utenti da 18 a 64 anni (numero intero)"),
    ("utenti_65_piu", "utenti di 65 anni e più (numero intero)"),
    ("accessi", "accessi o interventi erogati (numero intero)"),
    ("ore", "ore erogate, con al più due decimali (es. 210.50)"),
    ("costo", "costo in euro, con al più due decimali (es. 4210.00)"),
    ("note", "facoltativa: breve nota di servizio, senza nomi di persone"),
)
MESI = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
        "novembre", "dicembre")

Lettore = Depends(richiede(*LETTORI))
Operatore = Depends(richiede(*OPERATORI))
Gestore = Depends(richiede(*GESTORI))


def nome_mese(mese: Any) -> str:
    """``2026-01`` → ``gennaio 2026`` (what the service sent, when it is not a month)."""
    testo = str(mese or "")
    anno, _, numero = testo.partition("-")
    if anno.isdigit() and numero.isdigit() and 1 <= int(numero) <= 12:
        return f"{MESI[int(numero) - 1]} {anno}"
    return testo


def _opzioni_comuni(comuni: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["istat"], f"{c.get('nome')} ({c['istat']})") for c in comuni]


def _dei_comuni(comuni: list[dict[str, Any]]) -> dict[str, Any]:
    """What the templates show of the Ambito's Comuni: a name for a code, and the options of a select."""
    return {"comuni": comuni, "nome_comune": lambda istat: _nome_comune(comuni, istat),
            "opzioni_comuni": _opzioni_comuni(comuni)}


def _etichette() -> dict[str, Any]:
    return {"AREE_UTENTI": AREE_UTENTI, "FASCE_ETA": FASCE_ETA, "PROFILI": PROFILI, "AREE_PERSONALE": AREE_PERSONALE,
            "nome_area": dict(AREE_UTENTI) | dict(AREE_PERSONALE), "nome_profilo": dict(PROFILI),
            "nome_fascia": dict(FASCE_ETA), "nome_mese": nome_mese}


async def _comuni(servizi: Servizi, utente: Utente) -> list[dict[str, Any]]:
    """The Ambito's Comuni as monitoring knows them (none until planning has registered the Ambito)."""
    try:
        ambito = await servizi.leggi(utente, "monitoring", "/ambito/comuni")
    except Problema as exc:
        if exc.status == 404:
            return []
        raise
    return ambito.get("comuni") or []


def _nome_comune(comuni: list[dict[str, Any]], istat: str | None) -> str:
    for c in comuni:
        if c.get("istat") == istat:
            return f"{c.get('nome')} ({istat})"
    return istat or ""


def _filtri(valori: dict[str, str]) -> str:
    return urlencode({k: v for k, v in valori.items() if v})


# -- the months recorded ------------------------------------------------------------------------------

@router.get("")
async def elenco(request: Request, servizi: ServiziDep, utente: Utente = Lettore, anno: str = "",
                 comune: str = "", intervento: str = "", mese_da: str = "", mese_a: str = "",
                 dopo: str = "") -> Response:
    comuni = await _comuni(servizi, utente)
    if utente.ruolo == "assistente_sociale":
        comune = utente.comune or ""  # her own Comune's months
    filtri = {"anno": anno.strip(), "comune": comune.strip(), "intervento": intervento.strip(),
              "mese_da": mese_da.strip(), "mese_a": mese_a.strip()}
    risposta, errori, problema = await servizi.pagina_filtrata(utente, "monitoring", "/prestazioni",
                                                               dopo=dopo or None, **filtri)
    elementi, successivo = risposta["elementi"], risposta.get("successivo")
    esito = {k: request.query_params.get(k) for k in ("registrata", "corretta", "registrate", "corrette")}
    return pagina(request, "prestazioni/elenco.html", status_code=422 if problema else 200,
                  titolo="Servizi erogati", elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri="/prestazioni?" + _filtri(filtri), **_dei_comuni(comuni),
                  puo_registrare=utente.ruolo in OPERATORI, errori=errori, problema=problema,
                  esito={k: v for k, v in esito.items() if v}, **_etichette())


# -- one month through the form -----------------------------------------------------------------------

def _modulo_vuoto(utente: Utente) -> dict[str, str]:
    return {"comune": utente.comune or ""} if utente.ruolo == "assistente_sociale" else {}


async def _modulo(request: Request, servizi: ServiziDep, utente: Utente, valori: dict[str, str], *,
                  status_code: int = 200, errori: dict[str, str] | None = None,
                  problema: Problema | None = None) -> Response:
    comuni = await _comuni(servizi, utente)
    return pagina(request, "prestazioni/modulo.html", status_code=status_code, titolo="Registra un mese di servizi",
                  valori=valori, errori=errori or {}, problema=problema,
                  comune_fisso=utente.ruolo == "assistente_sociale", **_dei_comuni(comuni), **_etichette())


@router.get("/nuova")
async def modulo(request: Request, servizi: ServiziDep, utente: Utente = Operatore) -> Response:
    return await _modulo(request, servizi, utente, _modulo_vuoto(utente))


def corpo_prestazione(valori: dict[str, str]) -> dict[str, Any]:
    """The body of ``POST /prestazioni`` from the form: the users' grid as ``{area: {fascia: n}}`` with the
    cells the person filled in (as typed: the service reads the counts), the rest as typed."""
    utenti: dict[str, dict[str, str]] = {}
    for area, _ in AREE_UTENTI:
        for fascia, _ in FASCE_ETA:
            valore = valori.get(f"utenti.{area}.{fascia}", "").strip()
            if valore:
                utenti.setdefault(area, {})[fascia] = valore
    corpo: dict[str, Any] = {k: valori.get(k, "").strip() for k in ("intervento", "comune", "mese", "accessi",
                                                                     "ore", "costo")}
    corpo["utenti"] = utenti
    if valori.get("note", "").strip():
        corpo["note"] = valori["note"].strip()
    if valori.get("motivo", "").strip():
        corpo["motivo"] = valori["motivo"].strip()
    return corpo


@router.post("/nuova")
async def registra(request: Request, servizi: ServiziDep, utente: Utente = Operatore) -> Response:
    modulo_inviato = await request.form()
    valori = {k: v for k, v in modulo_inviato.items() if isinstance(v, str) and k != "csrf_token"}
    corpo = corpo_prestazione(valori)
    correzione = "motivo" in corpo  # a reason means: correct the month already recorded (PUT)
    try:
        scritta = (await servizi.chiama(utente, "monitoring", "PUT" if correzione else "POST", "/prestazioni",
                                        json=corpo)).dati
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _modulo(request, servizi, utente, valori, status_code=422 if exc.status == 400 else exc.status,
                             errori=exc.per_campo(), problema=exc)
    esito = "corretta" if correzione else "registrata"
    cosa = f"{scritta['intervento']} · {nome_mese(scritta['mese'])}"
    return RedirectResponse("/prestazioni?" + urlencode({esito: cosa}), status_code=303)


# -- a CSV file --------------------------------------------------------------------------------------

def righe_errate(problema: Problema) -> list[dict[str, Any]]:
    """Every finding of a rejected import as a table row: the file's line (the header is line 1), the column
    and the message, as monitoring reports them (``{"field": "riga 3.comune", "row": 3, ...}``)."""
    righe = []
    for e in problema.errori:
        campo = str(e.get("field") or "")
        riga = e.get("row")
        if riga is not None and campo.startswith(f"riga {riga}."):
            campo = campo[len(f"riga {riga}."):]
        righe.append({"riga": riga, "colonna": campo, "messaggio": e.get("message") or problema.dettaglio,
                      "regola": e.get("rule")})
    if not righe and problema.dettaglio:
        righe.append({"riga": None, "colonna": problema.campo or "", "messaggio": problema.dettaglio,
                      "regola": problema.regola})
    return righe


def _importa(request: Request, *, status_code: int = 200, problema: Problema | None = None,
             motivo: str = "", nome_file: str = "") -> Response:
    return pagina(request, "prestazioni/importa.html", status_code=status_code, titolo="Carica un file CSV",
                  problema=problema, righe=righe_errate(problema) if problema else [], motivo=motivo,
                  nome_file=nome_file, COLONNE_CSV=COLONNE_CSV,
                  errori=problema.per_campo() if problema and not problema.errori else {})


@router.get("/importa")
async def modulo_importa(request: Request, utente: Utente = Operatore) -> Response:
    return _importa(request)


@router.get("/modello.csv")
async def modello_csv(utente: Utente = Operatore) -> Response:
    """An empty file with the columns monitoring's import expects (the header row only)."""
    testo = ",".join(c for c, _ in COLONNE_CSV) + "\r\n"
    return Response(testo.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="modello-prestazioni.csv"'})


@router.post("/importa")
async def importa(request: Request, servizi: ServiziDep, utente: Utente = Operatore) -> Response:
    modulo_inviato = await request.form()
    file = modulo_inviato.get("csv")
    motivo = str(modulo_inviato.get("motivo") or "").strip()
    contenuto = await file.read() if isinstance(file, UploadFile) else b""
    nome_file = file.filename or "" if isinstance(file, UploadFile) else ""
    try:
        # the file as it is: monitoring reads its encoding, separator and rows
        risposta = await servizi.chiama(utente, "monitoring", "POST", "/prestazioni/import", content=contenuto,
                                        params={"motivo": motivo or None}, headers={"Content-Type": "text/csv"})
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return _importa(request, status_code=422 if exc.status == 400 else exc.status, problema=exc, motivo=motivo,
                        nome_file=nome_file)
    esito = risposta.dati or {}
    return RedirectResponse(f"/prestazioni?registrate={esito.get('registrate', 0)}&corrette={esito.get('corrette', 0)}",
                            status_code=303)


# -- staff and LEPS ------------------------------------------------------------------------------------

async def _personale(request: Request, servizi: ServiziDep, utente: Utente, *, comune: str = "", profilo: str = "",
                     area: str = "", dopo: str = "", valori: dict[str, str] | None = None, status_code: int = 200,
                     errori: dict[str, str] | None = None, problema: Problema | None = None) -> Response:
    comuni = await _comuni(servizi, utente)
    filtri = {"comune": comune.strip(), "profilo": profilo.strip(), "area": area.strip()}
    risposta, errori_filtri, problema_filtri = await servizi.pagina_filtrata(
        utente, "monitoring", "/personale", dopo=dopo or None, **filtri)
    elementi, successivo = risposta["elementi"], risposta.get("successivo")
    leps = (await servizi.leggi(utente, "monitoring", "/personale/leps")).get("leps")
    return pagina(request, "prestazioni/personale.html",
                  status_code=422 if problema_filtri and status_code == 200 else status_code,
                  titolo="Personale e LEPS", elementi=elementi, successivo=successivo, filtri=filtri,
                  url_altri="/prestazioni/personale?" + _filtri(filtri), leps=leps, **_dei_comuni(comuni),
                  puo_dichiarare=utente.ruolo in GESTORI,
                  valori=valori or {}, errori=errori or {}, problema=problema, errori_filtri=errori_filtri,
                  problema_filtri=problema_filtri,
                  esito={k: v for k in ("dichiarata", "aggiornata") if (v := request.query_params.get(k))},
                  **_etichette())


@router.get("/personale")
async def personale(request: Request, servizi: ServiziDep, utente: Utente = Lettore, comune: str = "",
                    profilo: str = "", area: str = "", dopo: str = "") -> Response:
    return await _personale(request, servizi, utente, comune=comune, profilo=profilo, area=area, dopo=dopo)


@router.post("/personale")
async def dichiara(request: Request, servizi: ServiziDep, utente: Utente = Gestore) -> Response:
    modulo_inviato = await request.form()
    valori = {k: str(v) for k, v in modulo_inviato.items() if isinstance(v, str) and k != "csrf_token"}
    corpo: dict[str, Any] = {k: valori.get(k, "").strip() for k in ("comune", "profilo", "area", "fte",
                                                                     "ore_settimanali_piano")}
    if valori.get("motivo", "").strip():
        corpo["motivo"] = valori["motivo"].strip()
    try:
        esito = (await servizi.chiama(utente, "monitoring", "PUT", "/personale", json=corpo)).dati
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _personale(request, servizi, utente, valori=valori,
                                status_code=422 if exc.status == 400 else exc.status, errori=exc.per_campo(),
                                problema=exc)
    return RedirectResponse(f"/prestazioni/personale?{'dichiarata' if esito.get('nuova') else 'aggiornata'}=1",
                            status_code=303)
