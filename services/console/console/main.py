"""Composition root of the console: `uvicorn console.main:app` (port 8100 under `make run`)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ambiti_kit.guards import LimitRequestSize
from ambiti_kit.logs import configure_logging

from console.pagine import CARTELLA, pagina
from console.routes import (accesso, ambito, finanza, piani, prestazioni, regione, revisione, sedute,
                            terzo_settore)
from console.servizi import Problema, Servizi
from console.sessione import DeveAccedere, RichiestaNonValida, verifica_csrf
from console.settings import ConsoleSettings

_log = logging.getLogger("ambiti.console")

#: scripts and styles only from the console itself (Bootstrap Italia's font loader adds a <style>)
POLITICA_CONTENUTI = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                      "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                      "form-action 'self'; base-uri 'none'; object-src 'none'")

ROUTERS = (accesso.router, ambito.router, piani.router, sedute.router, finanza.router, prestazioni.router,
           terzo_settore.router, regione.router, revisione.router)


def _errore(request: Request, status: int, titolo: str, dettaglio: str) -> HTMLResponse:
    return pagina(request, "errore.html", status_code=status, titolo=titolo, dettaglio=dettaglio)


def build(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("console", settings.log_level)
        app.state.servizi = Servizi(settings.service_urls(), timeout=settings.api_timeout)
        try:
            yield
        finally:
            await app.state.servizi.chiudi()

    app = FastAPI(title="Ambiti · console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(verifica_csrf)])
    app.state.settings = settings

    @app.middleware("http")
    async def intestazioni_di_sicurezza(request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", POLITICA_CONTENUTI)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret.get_secret_value(),
                       session_cookie="ambiti_console", max_age=settings.session_seconds, same_site="lax",
                       https_only=settings.secure_cookies)
    app.add_middleware(LimitRequestSize, max_body=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=CARTELLA / "static"), name="static")

    @app.get("/health/live", include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"service": "console", "status": "vivo"})

    @app.get("/health/ready", include_in_schema=False)
    @app.get("/health", include_in_schema=False)
    async def ready() -> JSONResponse:
        """Ready when it serves: the console keeps no state, and a service that does not answer is
        shown to the person as unavailable on the page that needs it."""
        return JSONResponse({"service": "console", "status": "pronto"})

    @app.exception_handler(DeveAccedere)
    async def _accedi(request: Request, exc: DeveAccedere) -> Response:
        url = f"/accesso?torna={quote(exc.torna, safe='')}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(RichiestaNonValida)
    async def _csrf(request: Request, exc: RichiestaNonValida) -> Response:
        return _errore(request, 403, "Richiesta non valida",
                       "Il modulo è scaduto o non proviene da questa console: ricaricare la pagina e riprovare.")

    @app.exception_handler(Problema)
    async def _problema(request: Request, exc: Problema) -> Response:
        if exc.status == 401:
            request.session.clear()
            return await _accedi(request, DeveAccedere(request.url.path))
        if exc.status == 404:
            return _errore(request, 404, "Non trovato", "Quello che cercate non esiste o non appartiene al "
                                                         "vostro Ambito.")
        if exc.status == 403:
            return _errore(request, 403, "Non consentito", exc.dettaglio or "Il vostro ruolo non consente "
                                                                              "questa operazione.")
        return _errore(request, exc.status if exc.status >= 400 else 502, exc.titolo, exc.dettaglio)

    @app.exception_handler(RequestValidationError)
    async def _non_valida(request: Request, exc: RequestValidationError) -> Response:
        return _errore(request, 422, "Richiesta non valida",
                       "L'indirizzo o il modulo contiene valori non validi: tornare indietro e correggerli.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _errore(request, 404, "Non trovato", "La pagina richiesta non esiste.")
        if exc.status_code == 405:
            return _errore(request, 405, "Operazione non consentita", "Questa pagina non accetta questa richiesta.")
        return _errore(request, exc.status_code, "Richiesta non valida", str(exc.detail))

    @app.exception_handler(Exception)
    async def _inatteso(request: Request, exc: Exception) -> Response:
        _log.exception("console error", extra={"path": request.url.path})
        return _errore(request, 500, "Errore della console",
                       "Si è verificato un errore inatteso: l'operazione non è stata completata.")

    for router in ROUTERS:
        app.include_router(router)
    return app


app = build()
