"""Guards in front of every route: what no parameter of the platform may carry.

A NUL character (or another C0 control character) has no place in a path or a query
parameter, and PostgreSQL text cannot store NUL at all: instead of reaching a query and
failing there (a 500), such a request is answered at the door with a 400 problem that names
the parameter.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ambiti_kit.errors import problem

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RejectControlCharacters:
    """Pure ASGI middleware: 400 for a control character in the path or in a query parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = self._offending(scope)
            if field is not None:
                response = problem(400, "Richiesta non valida",
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
