"""Pages of the console: the Ambito's home (the Piano, the next seduta, the funds' execution, the signatures
and deadlines still open) and its composition (Comuni, population, Comitato), which the coordinatore
registers when the Ambito starts from nothing.

Every figure is the services': the execution rates are monitoring's (``GET /esecuzione``), the weights
planning's (``GET /comitato``). A section whose service does not answer says so and the rest of the page
is shown.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Awaitable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import DEL_MODULO, Problema

router = APIRouter()

Lettore = Annotated[Utente, Depends(richiede("coordinatore", "amministrativo", "referente_asl"))]
Coordinatore = Annotated[Utente, Depends(richiede("coordinatore"))]

STATI_PIANO = {"bozza": "Bozza", "proposto": "Proposto al Comitato", "approvato": "Approvato",
               "in_attuazione": "In attuazione", "concluso": "Concluso"}
TONI_PIANO = {"bozza": "secondary", "proposto": "warning", "approvato": "success", "in_attuazione": "primary",
              "concluso": "dark"}
REGOLE = {"per_testa": "Un componente, un voto", "ponderata": "Voto ponderato sulla popolazione",
          "doppia_maggioranza": "Doppia maggioranza (componenti e popolazione)"}
FASI_PROCEDURA = {"avviso": "Avviso pubblicato", "manifestazioni": "Manifestazioni d'interesse aperte"}
RIGHE_INIZIALI = 3
_INTERO = re.compile(r"^\s*\d{1,9}\s*$")


async def _sezione(chiamata: Awaitable[Any], *assenti: int) -> tuple[Any, Problema | None]:
    """One section of a page: its data, or the problem that keeps it empty (a 401 still ends the session;
    the statuses in ``assenti`` mean "nothing yet" and give ``(None, None)``)."""
    try:
        return await chiamata, None
    except Problema as exc:
        if exc.status == 401:
            raise
        if exc.status in assenti:
            return None, None
        return None, exc


@router.get("/ambito")
async def home(request: Request, servizi: ServiziDep, utente: Lettore) -> Response:
    oggi = date.today()
    ambito, problema_ambito = await _sezione(servizi.leggi(utente, "planning", "/ambito"), 404)
    piani, problema_piani = await _sezione(servizi.pagina(utente, "planning", "/piani", limite=5))
    sedute, problema_sedute = await _sezione(servizi.tutti(utente, "planning", "/sedute", stato="convocata",
                                                           dal=oggi.isoformat()))
    esecuzione, problema_esecuzione = await _sezione(servizi.leggi(utente, "monitoring", "/esecuzione"))
    proposte, _ = await _sezione(servizi.pagina(utente, "planning", "/proposte-tavoli", stato="ricevuta", limite=50))
    procedure, _ = await _sezione(servizi.pagina(utente, "partnership", "/procedure", limite=20), 403)
    fondi, _ = await _sezione(servizi.leggi(utente, "finance", "/fondi"))

    elenco_piani = (piani or {}).get("elementi", [])
    firme = []
    for p in elenco_piani:
        if p["stato"] in ("approvato", "in_attuazione"):
            accordo, problema = await _sezione(servizi.leggi(utente, "planning", f"/piani/{p['id']}/accordo"), 404)
            firme.append({"piano": p, "accordo": accordo, "problema": problema})
    in_esame = [(p, v) for p in elenco_piani for v in p["versioni"] if v["stato"] == "proposta"]
    prossima = min(sedute or [], key=lambda s: s["prima_convocazione"], default=None)
    scadenze = [p for p in (procedure or {}).get("elementi", [])
                if p.get("scadenza") and p["scadenza"] >= oggi.isoformat()][:5]
    nomi_comuni = {c["istat"]: c["nome"] for c in (ambito or {}).get("comuni", [])}
    return pagina(request, "ambito/home.html", titolo="L'Ambito", ambito=ambito, problema_ambito=problema_ambito,
                  piani=elenco_piani, problema_piani=problema_piani, prossima=prossima,
                  problema_sedute=problema_sedute, esecuzione=esecuzione, problema_esecuzione=problema_esecuzione,
                  proposte=(proposte or {}).get("elementi", []), scadenze=scadenze, firme=firme, in_esame=in_esame,
                  nomi_comuni=nomi_comuni, nomi_fondi={f["codice"]: f["nome"] for f in fondi or []},
                  STATI_PIANO=STATI_PIANO, TONI_PIANO=TONI_PIANO, FASI_PROCEDURA=FASI_PROCEDURA)


# -- composition -----------------------------------------------------------------------------------------

def _intero(valore: str) -> Any:
    return int(valore) if _INTERO.match(valore) else valore


def _righe(form: Any) -> list[dict[str, str]]:
    """The Comuni typed in the form (``comuni.0.istat`` …), in their order."""
    righe: dict[int, dict[str, str]] = {}
    for chiave in form.keys():
        m = re.fullmatch(r"comuni\.(\d{1,3})\.(istat|nome|popolazione)", chiave)
        if m:
            righe.setdefault(int(m.group(1)), {"istat": "", "nome": "", "popolazione": ""})[m.group(2)] = \
                str(form.get(chiave, "")).strip()
    return [righe[i] for i in sorted(righe)]


async def _composizione(request: Request, servizi: ServiziDep, utente: Utente, *, status_code: int = 200,
                        valori: dict | None = None, errori: dict | None = None, problema: Problema | None = None,
                        modulo: bool = False) -> Response:
    ambito, problema_ambito = await _sezione(servizi.leggi(utente, "planning", "/ambito"), 404)
    comitato, problema_comitato = await _sezione(servizi.leggi(utente, "planning", "/comitato"), 404, 409, 422)
    if problema_ambito and problema_ambito.status in (403, 503):
        raise problema_ambito
    modulo = utente.ruolo == "coordinatore" and (modulo or ambito is None)
    if valori is None:
        valori = ({"nome": ambito["nome"], "capofila_istat": ambito["capofila_istat"],
                   "popolazione_al": ambito["popolazione_al"],
                   "comuni": [{k: str(c[k]) for k in ("istat", "nome", "popolazione")} for c in ambito["comuni"]]}
                  if ambito else {"nome": "", "capofila_istat": "", "popolazione_al": f"{date.today().year}-01-01",
                                  "comuni": [{"istat": "", "nome": "", "popolazione": ""}] * RIGHE_INIZIALI})
    return pagina(request, "ambito/composizione.html", status_code=status_code, titolo="Composizione dell'Ambito",
                  ambito=ambito, comitato=comitato, problema_comitato=problema_comitato, modulo=modulo,
                  valori=valori, errori=errori or {}, problema=problema, REGOLE=REGOLE,
                  fatto="Composizione dell'Ambito registrata." if request.query_params.get("fatto") == "registrata"
                  else None)


@router.get("/ambito/composizione")
async def composizione(request: Request, servizi: ServiziDep, utente: Lettore, modifica: bool = False) -> Response:
    return await _composizione(request, servizi, utente, modulo=modifica)


@router.post("/ambito/composizione")
async def registra(request: Request, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    valori: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("nome", "capofila_istat", "popolazione_al")}
    righe = _righe(form)
    azione = str(form.get("azione") or "registra")
    if azione == "aggiungi":
        valori["comuni"] = righe + [{"istat": "", "nome": "", "popolazione": ""}]
        return await _composizione(request, servizi, utente, valori=valori, modulo=True)
    if azione.startswith("rimuovi:") and azione[8:].isdigit():
        indice = int(azione[8:])
        valori["comuni"] = [r for i, r in enumerate(righe) if i != indice]
        return await _composizione(request, servizi, utente, valori=valori, modulo=True)
    # rows left entirely empty are not Comuni: they are dropped, so the indices the service names are the form's
    righe = [r for r in righe if any(r.values())]
    valori["comuni"] = righe
    corpo = {"nome": valori["nome"], "capofila_istat": valori["capofila_istat"],
             "popolazione_al": valori["popolazione_al"],
             "comuni": [{"istat": r["istat"], "nome": r["nome"], "popolazione": _intero(r["popolazione"])}
                        for r in righe]}
    try:
        await servizi.chiama(utente, "planning", "PUT", "/ambito", json=corpo)
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        if not righe:
            valori["comuni"] = [{"istat": "", "nome": "", "popolazione": ""}]
        return await _composizione(request, servizi, utente, status_code=exc.status, valori=valori,
                                   errori=exc.per_campo(), problema=exc, modulo=True)
    return RedirectResponse("/ambito/composizione?fatto=registrata", status_code=303)
