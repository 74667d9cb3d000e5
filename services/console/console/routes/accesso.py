"""Logging in and out, and the first page of each role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import identity
from console.identity import AccessoNonValido
from console.pagine import PRIMA_PAGINA, pagina
from console.sessione import apri_sessione, chiudi_sessione, utente_opzionale

router = APIRouter()


def _torna_sicuro(torna: str | None) -> str | None:
    """Only a path of this console (never another site: no open redirect)."""
    if torna and torna.startswith("/") and not torna.startswith("//") and "\\" not in torna:
        return torna
    return None


@router.get("/")
async def inizio(request: Request) -> Response:
    utente = utente_opzionale(request)
    if utente is None:
        return RedirectResponse("/accesso", status_code=303)
    return RedirectResponse(PRIMA_PAGINA.get(utente.ruolo, "/accesso"), status_code=303)


@router.get("/accesso")
async def modulo_accesso(request: Request, torna: str | None = None) -> Response:
    return pagina(request, "accesso.html", torna=_torna_sicuro(torna) or "",
                  sviluppo=identity.accesso_di_sviluppo(request.app.state.settings), valori={})


@router.post("/accesso")
async def accedi(request: Request, ruolo: Annotated[str, Form()] = "", ambito: Annotated[str, Form()] = "",
                 regione: Annotated[str, Form()] = "", comune: Annotated[str, Form()] = "",
                 soggetto: Annotated[str, Form()] = "", torna: Annotated[str, Form()] = "") -> Response:
    settings = request.app.state.settings
    try:
        utente = identity.accedi(settings, ruolo=ruolo, ambito=ambito, regione=regione, comune=comune,
                                 soggetto=soggetto)
    except AccessoNonValido as exc:
        valori = {"ruolo": ruolo, "ambito": ambito, "regione": regione, "comune": comune, "soggetto": soggetto}
        return pagina(request, "accesso.html", status_code=422, errori=exc.errori, valori=valori,
                      torna=_torna_sicuro(torna) or "", sviluppo=identity.accesso_di_sviluppo(settings))
    apri_sessione(request, utente)
    return RedirectResponse(_torna_sicuro(torna) or PRIMA_PAGINA.get(utente.ruolo, "/"), status_code=303)


@router.post("/uscita")
async def esci(request: Request) -> Response:
    chiudi_sessione(request)
    return RedirectResponse("/accesso", status_code=303)
