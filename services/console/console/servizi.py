"""The four services' HTTP APIs, called server side with the user's token.

The console never decides anything the services decide: it sends what the person typed and shows
what comes back. A 4xx or 5xx answer becomes a :class:`Problema` carrying the service's Italian
problem+json, field by field, so a form can show each message beside the field it names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.identity import Utente

_log = logging.getLogger("ambiti.console")
SERVIZI = ("planning", "finance", "partnership", "monitoring")
#: the statuses a form shows beside its fields (the person can correct what she typed); the others go
#: to the app's handlers (401 → login, 403/404 → their pages, 5xx → "servizio non disponibile")
DEL_MODULO = frozenset({400, 409, 412, 422})
#: how many pages :meth:`Servizi.tutti` follows at most (200 rows each): a console page never shows more
PAGINE_MASSIME = 50


@dataclass
class Problema(Exception):
    """A service's problem+json answer (RFC 9457), or the console's own when a service is unreachable."""

    status: int
    titolo: str
    dettaglio: str
    regola: str | None = None
    campo: str | None = None
    errori: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.titolo}: {self.dettaglio}"

    @classmethod
    def da_risposta(cls, response: httpx.Response) -> "Problema":
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(status=response.status_code, titolo=str(body.get("title") or response.reason_phrase),
                   dettaglio=str(body.get("detail") or ""), regola=body.get("rule"), campo=body.get("field"),
                   errori=[e for e in body.get("errors") or [] if isinstance(e, dict)])

    def per_campo(self) -> dict[str, str]:
        """Messages keyed by the field they name without its location (``body.anno`` → ``anno``,
        ``body.righe.0.importo`` → ``righe.0.importo``): the names the console's form fields carry."""
        messaggi: dict[str, str] = {}
        for e in self.errori:
            if e.get("field"):
                messaggi.setdefault(_senza_luogo(str(e["field"])), str(e.get("message") or self.dettaglio))
        if self.campo and not self.errori:
            messaggi.setdefault(_senza_luogo(self.campo), self.dettaglio)
        return messaggi


def _senza_luogo(nome: str) -> str:
    for luogo in ("body.", "query.", "path.", "header."):
        if nome.startswith(luogo):
            return nome[len(luogo):]
    return nome


@dataclass
class Risposta:
    status: int
    dati: Any
    headers: httpx.Headers


class Servizi:
    """One pooled async client per service, shared by every request of the console."""

    def __init__(self, urls: dict[str, str], timeout: float = 15.0):
        self._clients = {nome: httpx.AsyncClient(base_url=url, timeout=timeout) for nome, url in urls.items()}

    async def chiudi(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def chiama(self, utente: Utente | None, servizio: str, metodo: str, path: str, *,
                     params: dict[str, Any] | None = None, json: Any = None, files: Any = None,
                     data: Any = None, content: bytes | str | None = None, chiave: str | None = None,
                     headers: dict[str, str] | None = None) -> Risposta:
        """Call ``servizio``; raise :class:`Problema` on any 4xx/5xx or when the service does not answer."""
        intestazioni = dict(headers or {})
        if utente is not None:
            intestazioni["Authorization"] = f"Bearer {utente.token}"
        if chiave:
            intestazioni["Idempotency-Key"] = chiave
        parametri = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._clients[servizio].request(metodo, path, params=parametri, json=json,
                                                             files=files, data=data, content=content,
                                                             headers=intestazioni)
        except httpx.HTTPError as exc:
            _log.warning("service unreachable", extra={"service": servizio, "path": path, "error": repr(exc)})
            raise Problema(503, "Servizio non disponibile",
                           f"Il servizio {servizio} non risponde: riprovare tra qualche istante.") from exc
        if response.status_code >= 400:
            raise Problema.da_risposta(response)
        if response.status_code == 204 or not response.content:
            dati: Any = None
        elif response.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            dati = response.json()
        else:
            dati = response.content
        return Risposta(response.status_code, dati, response.headers)

    async def leggi(self, utente: Utente | None, servizio: str, path: str, **params: Any) -> Any:
        """GET a resource and return its JSON."""
        return (await self.chiama(utente, servizio, "GET", path, params=params)).dati

    async def pagina(self, utente: Utente | None, servizio: str, path: str, **params: Any) -> dict[str, Any]:
        """One page of a list (``{"elementi": [...], "successivo": cursor | None}``)."""
        return await self.leggi(utente, servizio, path, **params)

    async def pagina_filtrata(self, utente: Utente | None, servizio: str, path: str, **params: Any
                              ) -> tuple[dict[str, Any], dict[str, str], "Problema | None"]:
        """One page of a list whose filters a person typed: a filter the service refuses comes back as its
        field's message (and an empty page) instead of an error page; other problems are raised."""
        try:
            return await self.pagina(utente, servizio, path, **params), {}, None
        except Problema as exc:
            if exc.status not in DEL_MODULO:
                raise
            return {"elementi": [], "successivo": None}, exc.per_campo(), exc

    async def tutti(self, utente: Utente | None, servizio: str, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every element of a list, following its cursor (at most :data:`PAGINE_MASSIME` pages)."""
        elementi: list[dict[str, Any]] = []
        dopo = None
        for _ in range(PAGINE_MASSIME):
            pagina = await self.pagina(utente, servizio, path, limite=200, dopo=dopo, **params)
            elementi.extend(pagina["elementi"])
            dopo = pagina.get("successivo")
            if not dopo:
                break
        return elementi

    async def scarica(self, utente: Utente | None, servizio: str, path: str, **params: Any) -> httpx.Response:
        """A download (CSV, XLSX) passed through as the service sent it."""
        try:
            response = await self._clients[servizio].get(
                path, params={k: v for k, v in params.items() if v not in (None, "")},
                headers={"Authorization": f"Bearer {utente.token}"} if utente else {})
        except httpx.HTTPError as exc:
            raise Problema(503, "Servizio non disponibile",
                           f"Il servizio {servizio} non risponde: riprovare tra qualche istante.") from exc
        if response.status_code >= 400:
            raise Problema.da_risposta(response)
        return response
