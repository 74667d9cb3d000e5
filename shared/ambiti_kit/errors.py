"""Domain errors and their RFC 9457 problem+json rendering.

Services raise the exceptions below from domain or application code; one handler per
FastAPI app turns them, request-validation errors and HTTP errors into
``application/problem+json``. A database that does not answer gives a 503 with
Retry-After; any other unexpected exception becomes a 500 problem (built by the
correlation middleware) that names the correlation id and nothing of the internals.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ambiti_kit.logs import correlation_id

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("ambiti.errors")


class ProblemError(BaseModel):
    field: str
    rule: str | None = None
    message: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, as every 4xx and 5xx of the platform is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    correlation_id: str | None = None
    rule: str | None = Field(None, description="the domain rule that was violated, e.g. piano.periodo_triennale")
    field: str | None = None
    errors: list[ProblemError] | None = None


#: for FastAPI(responses=...): every route documents its problem answers
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description, "content": {PROBLEM_JSON: {}}}
    for status, description in {
        400: "JSON non valido", 401: "Token mancante, scaduto o non valido",
        403: "Ruolo non consentito", 404: "Non trovato (anche se appartiene a un altro Ambito)",
        409: "Conflitto", 422: "Dati non validi o regola violata", 500: "Errore interno",
    }.items()
}


class DomainError(Exception):
    """Base of the errors a use case may raise on purpose; carries its HTTP status."""

    status = 422
    title = "Regola violata"

    def __init__(self, detail: str, *, rule: str | None = None, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.field = field
        #: several findings at once (e.g. every bad row of an uploaded file), each with field, rule, message
        self.errors = errors


class NotFound(DomainError):
    status = 404
    title = "Risorsa non trovata"


class Conflict(DomainError):
    status = 409
    title = "Conflitto"


class RuleViolation(DomainError):
    status = 422
    title = "Regola violata"


class Unauthorized(DomainError):
    status = 401
    title = "Autenticazione richiesta"


class Forbidden(DomainError):
    status = 403
    title = "Operazione non consentita"


def problem(
    status: int, title: str, detail: str, request: Request | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response; ``extra`` members are added as extensions."""
    body: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    cid = correlation_id.get()
    if cid:
        body["correlation_id"] = cid
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field_path(e.get("loc", ())), "rule": e.get("type"), "message": e.get("msg")}
        for e in exc.errors()
    ]
    if any(e["rule"] == "json_invalid" for e in errors):
        return problem(400, "JSON non valido", "Il corpo della richiesta non è JSON valido.",
                       request, errors=errors)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    # The first finding also at the top, as domain errors have it: clients read one place first.
    return problem(422, "Dati non validi", detail, request, rule=errors[0]["rule"] if errors else None,
                   field=errors[0]["field"] if errors else None, errors=errors)


_TITLES = {400: "Richiesta non valida", 401: "Autenticazione richiesta", 403: "Operazione non consentita",
           404: "Risorsa non trovata", 405: "Metodo non consentito", 413: "Richiesta troppo grande"}


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = str(exc.detail)
    if exc.status_code == 400 and "parsing the body" in detail:
        detail = "Il corpo della richiesta non è leggibile (JSON in UTF-8 atteso)."
        return problem(400, "JSON non valido", detail, request,
                       errors=[{"field": "body", "rule": "json_invalid", "message": detail}])
    return problem(exc.status_code, _TITLES.get(exc.status_code, "Errore"), detail, request)


async def _domain_handler(request: Request, exc: DomainError) -> JSONResponse:
    errors = exc.errors or ([{"field": f"body.{exc.field}", "rule": exc.rule, "message": exc.detail}]
                            if exc.field and exc.status == 422 else None)
    return problem(exc.status, exc.title, exc.detail, request, rule=exc.rule, field=exc.field, errors=errors)


def internal_error_body(path: str, cid: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The 500 answer, built by the correlation middleware (which sits outside Starlette's
    error middleware, so the id is still known there)."""
    body = json.dumps({"type": "about:blank", "title": "Errore interno", "status": 500,
                       "detail": "Errore imprevisto: riferire il correlation_id.", "instance": path,
                       "correlation_id": cid}).encode()
    return body, [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]


async def _unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    _log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    response = problem(503, "Servizio momentaneamente non disponibile",
                       "Il database non risponde o è saturo: riprovare tra poco.", request)
    response.headers["Retry-After"] = "2"
    return response


async def _concurrent_write_handler(request: Request, exc: Exception) -> JSONResponse:
    """Another request stored a new version of the same aggregate first (optimistic concurrency)."""
    _log.info("concurrent write on %s %s: %s", request.method, request.url.path, exc)
    return problem(409, "Modifica concorrente", "Il dato è stato modificato nel frattempo: rileggere e riprovare.",
                   request, rule="concorrenza.versione")


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json."""
    app.add_exception_handler(RequestValidationError, _validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_handler)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain_handler)  # type: ignore[arg-type]
    # Pool exhausted or connection lost: the request may succeed if repeated.
    app.add_exception_handler(OperationalError, _unavailable_handler)
    app.add_exception_handler(InterfaceError, _unavailable_handler)
    # A use case that does not retry its own version conflicts: never a 500 for a lost race.
    app.add_exception_handler(IntegrityError, _concurrent_write_handler)
