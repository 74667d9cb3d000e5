"""Domain errors and their RFC 9457 problem+json rendering.

Services raise the exceptions below from domain or application code; one handler per
FastAPI app turns them, request-validation errors and HTTP errors into
``application/problem+json``. A database that does not answer gives a 503 with
Retry-After; any other unexpected exception becomes a 500 problem (built by the
correlation middleware) that names the correlation id and nothing of the internals.

Every title, detail and message is Italian, names the field it is about (``body.anno``,
``query.limite``, ``path.piano_id``, ``header.Idempotency-Key``) and never echoes a
client's input beyond a short quote: details are capped at :data:`MAX_DETAIL` characters.
Malformed JSON is a 400 naming line and column, a body that is not JSON a 415, an unknown
route a 404, a wrong method a 405 with the ``Allow`` the whole app has for that path.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable, get_args

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_core.core_schema import ErrorType
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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
        409: "Conflitto", 413: "Corpo della richiesta troppo grande",
        415: "Il corpo non è JSON (Content-Type diverso da application/json)",
        422: "Dati non validi o regola violata", 431: "Intestazioni della richiesta troppo grandi",
        500: "Errore interno",
        503: "Database momentaneamente non disponibile: riprovare (Retry-After)",
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


class PreconditionRequired(DomainError):
    """A required precondition of the request is missing (RFC 6585), e.g. an ``Idempotency-Key``."""

    status = 428
    title = "Precondizione mancante"


#: the longest ``detail`` an answer carries, and the longest message of one finding: a client's
#: 5 MB value must not come back (twice) in the error about it
MAX_DETAIL = 2000
MAX_MESSAGE = 500
#: the most findings one validation answer lists (a body with thousands of unknown keys)
MAX_ERRORS = 50
#: the longest field name, and the longest piece of a client's input, quoted in a message
MAX_NAME = 200
MAX_QUOTE = 100


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def problem(
    status: int, title: str, detail: str, request: Request | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response; ``extra`` members are added as extensions.

    ``detail`` is capped at :data:`MAX_DETAIL` characters.
    """
    body: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": title,
        "status": status,
        "detail": cap(detail, MAX_DETAIL),
    }
    if request is not None:
        body["instance"] = cap(request.url.path, MAX_NAME)
    cid = correlation_id.get()
    if cid:
        body["correlation_id"] = cid
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# -- request validation ---------------------------------------------------------------------------
#
# FastAPI reports what does not fit a route's parameters and body as pydantic errors, in
# English ("Field required", "Input should be a valid integer") and with the client's input
# attached. People read these answers (the console shows them beside the field), so each
# finding is rewritten here: ``field`` says where (``body.atto.numero``, ``query.limite``,
# ``path.piano_id``, ``header.Idempotency-Key``), ``rule`` keeps pydantic's error type (stable,
# for programs), ``message`` is an Italian sentence naming the field. The input is never echoed.


@dataclass(frozen=True)
class RequiredHeader:
    """A request header whose absence is a missing precondition (428, RFC 6585), not bad data (422).

    Declared once (see :func:`precondition_header`), the header can be a required ``Header()``
    parameter — so the OpenAPI says it is required — while a request without it is answered
    428 with ``rule_missing``, and one with a value that does not fit the declared schema 422
    with ``rule_invalid``.
    """

    name: str
    rule_missing: str
    message_missing: str
    rule_invalid: str
    message_invalid: str


_PRECONDITION_HEADERS: dict[str, RequiredHeader] = {}


def precondition_header(name: str, *, rule_missing: str, message_missing: str, rule_invalid: str,
                        message_invalid: str) -> RequiredHeader:
    """Register ``name`` (case-insensitive) as a precondition header for every app of the process."""
    header = RequiredHeader(name, rule_missing, message_missing, rule_invalid, message_invalid)
    _PRECONDITION_HEADERS[name.lower()] = header
    return header


#: where a request carries a value, as FastAPI names it first in an error's ``loc``
_WHERE = frozenset({"body", "query", "path", "header", "cookie"})


@dataclass(frozen=True)
class _Subject:
    """What a finding is about, as an Italian noun phrase: «il campo «anno»», «l'intestazione «X»»."""

    text: str
    feminine: bool = False

    def __str__(self) -> str:
        return self.text[:1].upper() + self.text[1:]

    @property
    def o(self) -> str:
        """The ending that agrees with the subject's gender (obbligatorio / obbligatoria)."""
        return "a" if self.feminine else "o"


def _name(parts: tuple[Any, ...] | list[Any]) -> str:
    """``atto.numero``, ``righe[2].importo``: a body path as a person reads it."""
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return cap(name, MAX_QUOTE)


def _subject(loc: tuple[Any, ...]) -> _Subject:
    where, rest = (loc[0], loc[1:]) if loc else ("body", ())
    name = _name(rest)
    if where == "header":
        return _Subject(f"l'intestazione «{name}»", feminine=True)
    if where == "query":
        return _Subject(f"il parametro di query «{name}»")
    if where == "path":
        return _Subject(f"il parametro di percorso «{name}»")
    if where == "cookie":
        return _Subject(f"il cookie «{name}»")
    return _Subject(f"il campo «{name}»") if name else _Subject("il corpo della richiesta")


def _alternatives(expected: Any) -> str:
    """pydantic's ``'a', 'b' or 'c'`` as ``'a', 'b' o 'c'``."""
    text = str(expected)
    head, sep, last = text.rpartition(" or ")
    return cap(f"{head} o {last}" if sep else text, MAX_MESSAGE - 100)


def _items(n: Any) -> str:
    return f"{n} elemento" if n == 1 else f"{n} elementi"


def _chars(n: Any) -> str:
    return f"{n} carattere" if n == 1 else f"{n} caratteri"


def _pattern(s: _Subject, ctx: dict[str, Any]) -> str:
    from ambiti_kit.fields import NO_CONTROL_CHARACTERS  # not at the top: fields imports this module

    pattern = str(ctx.get("pattern", ""))
    if pattern == NO_CONTROL_CHARACTERS:
        return f"{s} non può contenere caratteri di controllo (a capo, tabulazioni e simili)."
    return f"{s} non ha il formato richiesto (espressione regolare {cap(pattern, MAX_QUOTE)})."


def _own_message(s: _Subject, text: str) -> str:
    return f"{s}: {text.strip()}" if text.strip() else f"Valore non valido per {s.text}."


#: the error types pydantic itself raises (in English); any other type is one of ours
#: (``PydanticCustomError("importo.centesimi", "<Italian message>")``), whose message is kept
PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


_ISO_DATE = "nel formato AAAA-MM-GG (es. 2026-03-02)"
_ISO_DATETIME = "nel formato ISO 8601 con fuso orario (es. 2026-03-02T10:30:00+01:00)"
_OBJECT = "un oggetto JSON ({…})"
_LIST = "una lista JSON ([…])"

#: pydantic v2 error type -> Italian message (s: the subject, c: the error's ctx)
_MESSAGES: dict[str, Callable[[_Subject, dict[str, Any]], str]] = {
    "missing": lambda s, c: f"{s} è obbligatori{s.o}.",
    "missing_argument": lambda s, c: f"{s} è obbligatori{s.o}.",
    "extra_forbidden": lambda s, c: f"{s} non è previst{s.o}.",
    "unexpected_keyword_argument": lambda s, c: f"{s} non è previst{s.o}.",
    "none_required": lambda s, c: f"{s} deve essere null.",
    # text
    "string_type": lambda s, c: f"{s} deve essere una stringa di testo.",
    "string_unicode": lambda s, c: f"{s} deve essere testo Unicode valido.",
    "string_not_ascii": lambda s, c: f"{s} deve contenere solo caratteri ASCII.",
    "string_too_short": lambda s, c: (f"{s} non può essere vuot{s.o}." if c.get("min_length") == 1 else
                                      f"{s} deve avere almeno {_chars(c.get('min_length'))}."),
    "string_too_long": lambda s, c: f"{s} deve avere al più {_chars(c.get('max_length'))}.",
    "string_pattern_mismatch": _pattern,
    # numbers and booleans
    "int_type": lambda s, c: f"{s} deve essere un numero intero.",
    "int_parsing": lambda s, c: f"{s} deve essere un numero intero.",
    "int_from_float": lambda s, c: f"{s} deve essere un numero intero (senza decimali).",
    "int_parsing_size": lambda s, c: f"{s} è un numero troppo grande.",
    "float_type": lambda s, c: f"{s} deve essere un numero.",
    "float_parsing": lambda s, c: f"{s} deve essere un numero.",
    "finite_number": lambda s, c: f"{s} deve essere un numero finito.",
    "decimal_type": lambda s, c: f"{s} deve essere un numero decimale (es. \"1250.00\").",
    "decimal_parsing": lambda s, c: f"{s} deve essere un numero decimale (es. \"1250.00\").",
    "decimal_max_digits": lambda s, c: f"{s} ha al più {c.get('max_digits')} cifre.",
    "decimal_max_places": lambda s, c: f"{s} ha al più {c.get('decimal_places')} decimali.",
    "decimal_whole_digits": lambda s, c: f"{s} ha al più {c.get('whole_digits')} cifre prima del punto decimale.",
    "bool_type": lambda s, c: f"{s} deve essere true o false.",
    "bool_parsing": lambda s, c: f"{s} deve essere true o false.",
    "greater_than": lambda s, c: f"{s} deve essere maggiore di {c.get('gt')}.",
    "greater_than_equal": lambda s, c: f"{s} deve essere almeno {c.get('ge')}.",
    "less_than": lambda s, c: f"{s} deve essere minore di {c.get('lt')}.",
    "less_than_equal": lambda s, c: f"{s} deve essere al più {c.get('le')}.",
    "multiple_of": lambda s, c: f"{s} deve essere un multiplo di {c.get('multiple_of')}.",
    # choices
    "literal_error": lambda s, c: f"{s} deve essere uno tra: {_alternatives(c.get('expected'))}.",
    "enum": lambda s, c: f"{s} deve essere uno tra: {_alternatives(c.get('expected'))}.",
    "union_tag_invalid": lambda s, c: (f"{s}: «{c.get('discriminator')}» deve essere uno tra: "
                                       f"{_alternatives(c.get('expected_tags'))}."),
    "union_tag_not_found": lambda s, c: f"{s} deve indicare «{c.get('discriminator')}».",
    # identifiers, dates and times
    "uuid_type": lambda s, c: f"{s} deve essere un UUID (es. 8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11).",
    "uuid_parsing": lambda s, c: f"{s} deve essere un UUID (es. 8a5d0a3e-6a52-4f43-9d3c-2d3f0b3c9e11).",
    "uuid_version": lambda s, c: f"{s} deve essere un UUID versione {c.get('expected_version')}.",
    "date_type": lambda s, c: f"{s} deve essere una data {_ISO_DATE}.",
    "date_parsing": lambda s, c: f"{s} deve essere una data valida {_ISO_DATE}.",
    "date_from_datetime_parsing": lambda s, c: f"{s} deve essere una data valida {_ISO_DATE}.",
    "date_from_datetime_inexact": lambda s, c: f"{s} deve essere una data senza orario, {_ISO_DATE}.",
    "date_past": lambda s, c: f"{s} deve essere una data passata.",
    "date_future": lambda s, c: f"{s} deve essere una data futura.",
    "datetime_type": lambda s, c: f"{s} deve essere una data e ora {_ISO_DATETIME}.",
    "datetime_parsing": lambda s, c: f"{s} deve essere una data e ora valida {_ISO_DATETIME}.",
    "datetime_from_date_parsing": lambda s, c: f"{s} deve essere una data e ora valida {_ISO_DATETIME}.",
    "datetime_object_invalid": lambda s, c: f"{s} deve essere una data e ora valida {_ISO_DATETIME}.",
    "datetime_past": lambda s, c: f"{s} deve essere nel passato.",
    "datetime_future": lambda s, c: f"{s} deve essere nel futuro.",
    "timezone_naive": lambda s, c: f"{s} non deve indicare il fuso orario.",
    "timezone_aware": lambda s, c: f"{s} deve indicare il fuso orario (es. +01:00 o Z).",
    "timezone_offset": lambda s, c: f"{s} deve avere il fuso orario {c.get('tz_expected')}.",
    "time_type": lambda s, c: f"{s} deve essere un orario nel formato HH:MM o HH:MM:SS.",
    "time_parsing": lambda s, c: f"{s} deve essere un orario valido nel formato HH:MM o HH:MM:SS.",
    "time_delta_type": lambda s, c: f"{s} deve essere una durata (ISO 8601, es. PT1H30M).",
    "time_delta_parsing": lambda s, c: f"{s} deve essere una durata valida (ISO 8601, es. PT1H30M).",
    # structure
    "json_invalid": lambda s, c: f"{s} non è JSON valido.",
    "json_type": lambda s, c: f"{s} deve essere una stringa che contiene JSON.",
    "model_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "model_attributes_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "dict_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "mapping_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "dataclass_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "dataclass_exact_type": lambda s, c: f"{s} deve essere {_OBJECT}.",
    "invalid_key": lambda s, c: f"{s} ha una chiave non valida: le chiavi sono stringhe.",
    "list_type": lambda s, c: f"{s} deve essere {_LIST}.",
    "tuple_type": lambda s, c: f"{s} deve essere {_LIST}.",
    "set_type": lambda s, c: f"{s} deve essere {_LIST} senza ripetizioni.",
    "frozen_set_type": lambda s, c: f"{s} deve essere {_LIST} senza ripetizioni.",
    "iterable_type": lambda s, c: f"{s} deve essere {_LIST}.",
    "set_item_not_hashable": lambda s, c: f"{s} contiene un elemento che non può stare in un insieme.",
    "too_short": lambda s, c: f"{s} deve avere almeno {_items(c.get('min_length'))}.",
    "too_long": lambda s, c: f"{s} deve avere al più {_items(c.get('max_length'))}.",
    "recursion_loop": lambda s, c: f"{s} è annidat{s.o} troppo in profondità.",
    "recursion_depth_exceeded": lambda s, c: f"{s} è annidat{s.o} troppo in profondità.",
    # other scalars
    "bytes_type": lambda s, c: f"{s} deve essere una stringa.",
    "bytes_too_short": lambda s, c: f"{s} deve avere almeno {c.get('min_length')} byte.",
    "bytes_too_long": lambda s, c: f"{s} deve avere al più {c.get('max_length')} byte.",
    "bytes_invalid_encoding": lambda s, c: f"{s} non è codificat{s.o} correttamente.",
    "url_type": lambda s, c: f"{s} deve essere un URL.",
    "url_parsing": lambda s, c: f"{s} deve essere un URL valido.",
    "url_syntax_violation": lambda s, c: f"{s} deve essere un URL valido.",
    "url_too_long": lambda s, c: f"{s} deve avere al più {_chars(c.get('max_length'))}.",
    "url_scheme": lambda s, c: f"{s} deve usare lo schema {_alternatives(c.get('expected_schemes'))}.",
}


def italian_message(error_type: str, loc: tuple[Any, ...], ctx: dict[str, Any] | None = None, msg: str = "") -> str:
    """The Italian sentence for one pydantic error: it names the field and never quotes the input."""
    subject, ctx = _subject(loc), ctx or {}
    if error_type == "value_error":
        # Our validators raise ValueError with an Italian sentence; pydantic prefixes "Value error, ".
        return cap(_own_message(subject, str(ctx.get("error") or msg.removeprefix("Value error, "))), MAX_MESSAGE)
    if error_type not in PYDANTIC_ERROR_TYPES:
        return cap(_own_message(subject, msg), MAX_MESSAGE)
    translate = _MESSAGES.get(error_type)
    return cap(translate(subject, ctx) if translate else f"Valore non valido per {subject.text}.", MAX_MESSAGE)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return cap(".".join(str(part) for part in loc), MAX_NAME)


_JSON_REASONS = {
    "Expecting value": "atteso un valore",
    "Expecting property name enclosed in double quotes": "atteso il nome di una proprietà tra virgolette doppie",
    "Expecting ',' delimiter": "attesa una virgola",
    "Expecting ':' delimiter": "attesi i due punti",
    "Extra data": "altri dati dopo la fine del JSON",
    "Unterminated string starting at": "stringa non chiusa",
    "Invalid control character at": "carattere di controllo dentro una stringa",
    "Invalid \\escape": "sequenza di escape non valida",
    "Invalid \\uXXXX escape": "sequenza \\uXXXX non valida",
    "Illegal trailing comma before end of object": "virgola prima della fine dell'oggetto",
    "Illegal trailing comma before end of array": "virgola prima della fine della lista",
}


def _json_position(doc: Any, pos: Any) -> str:
    """«alla riga 3, colonna 7» for the character ``pos`` of ``doc`` (a str, as json.loads saw it)."""
    if not isinstance(pos, int):
        return ""
    if isinstance(doc, str) and 0 <= pos <= len(doc):
        line = doc.count("\n", 0, pos) + 1
        column = pos - doc.rfind("\n", 0, pos)
        return f" alla riga {line}, colonna {column}"
    return f" al carattere {pos + 1}"


def _malformed_json(request: Request, exc: RequestValidationError, error: dict[str, Any]) -> JSONResponse:
    loc = tuple(error.get("loc", ()))
    reason = str((error.get("ctx") or {}).get("error", ""))
    where = _json_position(exc.body, loc[1] if len(loc) > 1 else None)
    detail = f"Il corpo della richiesta non è JSON valido{where}: {_JSON_REASONS.get(reason, 'sintassi non valida')}."
    return problem(400, "JSON non valido", detail, request, rule="json_invalid", field="body",
                   errors=[{"field": "body", "rule": "json_invalid", "message": detail}])


def _not_json(request: Request) -> JSONResponse:
    content_type = request.headers.get("content-type")
    received = (f"è arrivato «{cap(content_type, MAX_QUOTE)}»" if content_type
                else "manca l'intestazione Content-Type")
    detail = f"Il corpo della richiesta deve essere JSON con Content-Type: application/json ({received})."
    return problem(415, "Tipo di contenuto non supportato", detail, request, rule="content_type",
                   field="header.Content-Type",
                   errors=[{"field": "header.Content-Type", "rule": "content_type", "message": detail}])


def _missing_precondition(request: Request, header: RequiredHeader) -> JSONResponse:
    return problem(428, f"Manca l'intestazione {header.name}", header.message_missing, request,
                   rule=header.rule_missing, field=header.name,
                   errors=[{"field": f"header.{header.name}", "rule": header.rule_missing,
                            "message": header.message_missing}])


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = list(exc.errors())
    for e in raw:
        loc = tuple(e.get("loc", ()))
        if e.get("type") == "json_invalid" and loc[:1] == ("body",) and len(loc) <= 2:
            return _malformed_json(request, exc, e)
        if loc == ("body",) and isinstance(e.get("input"), (bytes, bytearray)):
            return _not_json(request)  # FastAPI hands a non-JSON body over as bytes
    errors: list[dict[str, Any]] = []
    top_field: str | None = None  # a precondition header is named at the top as its 428 names it
    for e in raw:
        loc = tuple(e.get("loc", ()))
        error_type = str(e.get("type", "value_error"))
        header = _PRECONDITION_HEADERS.get(str(loc[1]).lower()) if loc[:1] == ("header",) and len(loc) == 2 else None
        if header is not None:
            if error_type == "missing":
                return _missing_precondition(request, header)
            top_field = top_field or (header.name if not errors else None)
            errors.append({"field": f"header.{header.name}", "rule": header.rule_invalid,
                           "message": header.message_invalid})
            continue
        errors.append({"field": _field_path(loc), "rule": error_type,
                       "message": italian_message(error_type, loc, e.get("ctx"), str(e.get("msg", "")))})
    more = len(errors) - MAX_ERRORS
    errors = errors[:MAX_ERRORS]
    detail = "; ".join(f"{e['field']}: {e['message'].rstrip('.')}" for e in errors) + "." if errors \
        else "La richiesta non è valida."
    if more > 0:
        detail = cap(detail, MAX_DETAIL - 40) + f" (e altri {more} errori)"
    # The first finding also at the top, as domain errors have it: clients read one place first.
    return problem(422, "Dati non validi", detail, request, rule=errors[0]["rule"] if errors else None,
                   field=top_field or (errors[0]["field"] if errors else None), errors=errors or None)


# -- HTTP errors (unknown route, wrong method, ...) ------------------------------------------------

_TITLES = {400: "Richiesta non valida", 401: "Autenticazione richiesta", 403: "Operazione non consentita",
           404: "Risorsa non trovata", 405: "Metodo non consentito", 406: "Formato di risposta non disponibile",
           408: "Richiesta scaduta", 409: "Conflitto", 411: "Lunghezza richiesta mancante",
           413: "Richiesta troppo grande", 414: "Indirizzo troppo lungo", 415: "Tipo di contenuto non supportato",
           422: "Dati non validi", 428: "Precondizione mancante", 429: "Troppe richieste",
           431: "Intestazioni troppo grandi", 500: "Errore interno", 501: "Non implementato",
           502: "Errore del servizio a monte", 503: "Servizio momentaneamente non disponibile",
           504: "Il servizio a monte non ha risposto in tempo"}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app accepts at this path.

    Starlette's own ``Allow`` names the methods of the first route whose path matched, not
    those of every route at that path (``GET /enti`` and ``POST /enti`` are two routes). The
    router is asked, method by method, whether a route would take the request.
    """
    routes = request.app.router.routes
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)]


def _italian_detail(request: Request, status: int, allowed: list[str]) -> str:
    path = cap(request.url.path, MAX_QUOTE)
    if status == 404:
        return f"Risorsa inesistente: nessuna risorsa di questo servizio risponde a {request.method} {path}."
    if status == 405:
        accepted = f"accetta {', '.join(allowed)}" if allowed else "non accetta altri metodi"
        return f"Metodo non consentito: questa risorsa ({path}) {accepted}, non {cap(request.method, 20)}."
    if status == 413:
        return "Richiesta troppo grande: ridurre il corpo della richiesta."
    if status == 415:
        return "Tipo di contenuto non supportato: inviare JSON con Content-Type: application/json."
    return f"{_TITLES.get(status, 'Errore')}."


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = str(exc.detail)
    if exc.status_code == 400 and "parsing the body" in detail:
        detail = "Il corpo della richiesta non è leggibile (JSON in UTF-8 atteso)."
        return problem(400, "JSON non valido", detail, request, rule="json_invalid", field="body",
                       errors=[{"field": "body", "rule": "json_invalid", "message": detail}])
    headers = dict(exc.headers or {})
    allowed = _allowed_methods(request) if exc.status_code == 405 else []
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    try:
        english = detail == HTTPStatus(exc.status_code).phrase
    except ValueError:
        english = False
    if english:  # Starlette's default text: the status phrase in English
        detail = _italian_detail(request, exc.status_code, allowed)
    response = problem(exc.status_code, _TITLES.get(exc.status_code, "Errore"), detail, request)
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _located(request: Request, field: str) -> str:
    """``field`` of a domain error with where it was sent: a path or query parameter, a header, the body."""
    if field.split(".", 1)[0] in _WHERE and "." in field:
        return field
    if field in request.path_params:
        return f"path.{field}"
    if field in request.query_params:
        return f"query.{field}"
    if field.lower() in _PRECONDITION_HEADERS or ("-" in field and field.lower() in request.headers):
        return f"header.{field}"
    return f"body.{field}"


async def _domain_handler(request: Request, exc: DomainError) -> JSONResponse:
    errors = exc.errors or ([{"field": _located(request, exc.field), "rule": exc.rule, "message": exc.detail}]
                            if exc.field and exc.status == 422 else None)
    if errors:
        errors = [{**e, "message": cap(e["message"], MAX_MESSAGE)} if isinstance(e.get("message"), str) else e
                  for e in errors]
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
