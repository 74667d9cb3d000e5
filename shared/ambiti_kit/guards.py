"""Guards in front of every route: what no request of the platform may carry.

- A NUL character (or another C0 control character) has no place in a path or a query
  parameter, and PostgreSQL text cannot store NUL at all: instead of reaching a query and
  failing there (a 500), such a request is answered at the door with a 422 problem that names
  the parameter.
- A body larger than the service's limit (``AMBITI_MAX_BODY_BYTES``, 5 MiB by default: the
  largest CSV an office uploads is far below) is refused with 413 before it is parsed, whether it
  declares its length or streams in chunks; headers larger than 16 KiB in total (a token is a
  few hundred bytes) are refused with 431. Nothing of the refused input is echoed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ambiti_kit.errors import problem

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024


class _TooLarge(Exception):
    pass


class LimitRequestSize:
    """Pure ASGI middleware: 413 for a body over ``max_body`` bytes, 431 for headers over ``max_headers``."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_headers: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        if sum(len(k) + len(v) for k, v in headers) > self.max_headers:
            await self._refuse(scope, receive, send, 431, "Intestazioni troppo grandi",
                               f"Le intestazioni della richiesta superano {self.max_headers // 1024} KiB.")
            return
        declared = dict(headers).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(scope, receive, send, 413, "Richiesta troppo grande", self._body_detail())
            return
        received, too_large, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may catch the error raised while it read the body and answer on its own
            # (a 400): the answer to a body over the limit is the 413, whatever the route said.
            nonlocal started
            if too_large:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, receive, send, 413, "Richiesta troppo grande", self._body_detail())
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not started:
                started = True
                await self._refuse(scope, receive, send, 413, "Richiesta troppo grande", self._body_detail())

    def _body_detail(self) -> str:
        return f"Il corpo della richiesta supera {self.max_body // (1024 * 1024)} MiB."

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str) -> None:
        response = problem(status, title, detail, Request(scope), rule="richiesta.dimensione")
        await response(scope, receive, send)


class RejectControlCharacters:
    """Pure ASGI middleware: 422 for a control character in the path or in a query parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = self._offending(scope)
            if field is not None:
                response = problem(422, "Dati non validi",
                                   f"«{field}» contiene un carattere di controllo (ad es. NUL): non è ammesso.",
                                   Request(scope), rule="carattere_di_controllo", field=field)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _offending(scope: Scope) -> str | None:
        if CONTROL.search(scope.get("path", "")):
            return "path"
        query = scope.get("query_string", b"").decode("latin-1")
        if "%" not in query and not CONTROL.search(query):
            return None
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
            if CONTROL.search(value) or CONTROL.search(name):
                return f"query.{unquote(name)[:100]}" if not CONTROL.search(name) else "query"
        return None
