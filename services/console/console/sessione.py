"""The session of a person and the protection of its forms.

The session lives in a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous): HttpOnly
always, SameSite=Lax, Secure in production. It holds the :class:`Utente` (its token included) and a
CSRF token. Every form carries that token in a hidden ``csrf_token`` field and every HTMX request in
the ``X-CSRF-Token`` header; :func:`verifica_csrf`, a dependency of every router, refuses an unsafe
request without it.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from console.identity import Utente

CAMPO_CSRF = "csrf_token"
INTESTAZIONE_CSRF = "X-CSRF-Token"
METODI_SICURI = frozenset({"GET", "HEAD", "OPTIONS"})


class DeveAccedere(Exception):
    """No valid session: the person is sent to the login page (and back where she was after it)."""

    def __init__(self, torna: str = "/"):
        self.torna = torna


class RichiestaNonValida(Exception):
    """A form or HTMX request without the session's CSRF token (or with another one)."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def verifica_csrf(request: Request) -> None:
    if request.method in METODI_SICURI:
        return
    atteso = request.session.get("csrf")
    inviato = request.headers.get(INTESTAZIONE_CSRF)
    if not inviato and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        inviato = (await request.form()).get(CAMPO_CSRF)
    if not atteso or not isinstance(inviato, str) or not secrets.compare_digest(atteso, inviato):
        raise RichiestaNonValida()


def utente_opzionale(request: Request) -> Utente | None:
    utente = Utente.dalla_sessione(request.session.get("utente"))
    if utente is None or not utente.valido():
        return None
    return utente


def utente_corrente(request: Request) -> Utente:
    utente = utente_opzionale(request)
    if utente is None:
        request.session.pop("utente", None)
        torna = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise DeveAccedere(torna if request.method == "GET" else "/")
    return utente


def apri_sessione(request: Request, utente: Utente) -> None:
    """A new session for ``utente``: a new CSRF token too, so a token seen before the login is useless."""
    request.session.clear()
    request.session["utente"] = utente.da_sessione()
    request.session["csrf"] = secrets.token_urlsafe(32)


def chiudi_sessione(request: Request) -> None:
    request.session.clear()


UtenteDep = Annotated[Utente, Depends(utente_corrente)]
