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


def _ritorno(request: Request) -> str:
    """The redirect URI registered at the issuer: this console's /accesso/ritorno."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/accesso/ritorno"


def _pagina_accesso(request: Request, torna: str | None, *, status_code: int = 200,
                    errori: dict[str, str] | None = None, valori: dict[str, str] | None = None) -> Response:
    settings = request.app.state.settings
    return pagina(request, "accesso.html", status_code=status_code, torna=_torna_sicuro(torna) or "",
                  sviluppo=identity.accesso_di_sviluppo(settings), oidc=identity.accesso_oidc(settings),
                  errori=errori or {}, valori=valori or {})


@router.get("/accesso")
async def modulo_accesso(request: Request, torna: str | None = None) -> Response:
    return _pagina_accesso(request, torna)


@router.get("/accesso/oidc")
async def accesso_oidc(request: Request, torna: str | None = None) -> Response:
    """Off to the identity provider (authorization code with PKCE); back at /accesso/ritorno."""
    settings = request.app.state.settings
    if not identity.accesso_oidc(settings):
        return _pagina_accesso(request, torna, status_code=404)
    try:
        url, atteso = await identity.inizia_accesso(settings, _ritorno(request))
    except AccessoNonValido as exc:
        return _pagina_accesso(request, torna, status_code=503, errori=exc.errori)
    request.session["oidc"] = {**atteso, "torna": _torna_sicuro(torna) or ""}
    return RedirectResponse(url, status_code=303)


@router.get("/accesso/ritorno")
async def ritorno_oidc(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    settings = request.app.state.settings
    atteso = request.session.pop("oidc", None)
    if error or not identity.accesso_oidc(settings):
        return _pagina_accesso(request, None, status_code=401,
                               errori={"oidc": "Il fornitore di identità non ha concesso l'accesso."})
    try:
        utente = await identity.completa_accesso(settings, _ritorno(request), code, state, atteso)
    except AccessoNonValido as exc:
        return _pagina_accesso(request, None, status_code=401, errori=exc.errori)
    apri_sessione(request, utente)
    return RedirectResponse((atteso or {}).get("torna") or PRIMA_PAGINA.get(utente.ruolo, "/"), status_code=303)


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
        return _pagina_accesso(request, torna, status_code=422, errori=exc.errori, valori=valori)
    apri_sessione(request, utente)
    return RedirectResponse(_torna_sicuro(torna) or PRIMA_PAGINA.get(utente.ruolo, "/"), status_code=303)


@router.post("/uscita")
async def esci(request: Request) -> Response:
    chiudi_sessione(request)
    return RedirectResponse("/accesso", status_code=303)
