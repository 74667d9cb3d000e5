"""Lists with the same conventions on every service: filters, a stable sort, cursor pagination.

A list route takes ``limite`` (1–200, default 50) and ``dopo`` (the opaque cursor of the
page before), answers ``{"elementi": [...], "successivo": <cursor or null>}`` and, when
there is a next page, a ``Link: <…?dopo=…>; rel="next"`` header (RFC 8288).

Pagination is by keyset, not by offset: each list declares its sort as SQL expressions
whose last one is unique within the tenant (an id), so the order is total and stable, a
page never repeats or skips a row when rows are added meanwhile, and the cursor is the
last row's sort values. Sort expressions must not be NULL (wrap nullable columns in
``coalesce``): SQL row comparison with a NULL is never true. The query runs under
row-level security in the caller's tenant (or Region) scope, so a cursor forged by hand
can only move within what the caller may see anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Sequence, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import DataError, ProgrammingError
from fastapi import Depends, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel, Field

from ambiti_kit.errors import RuleViolation
from ambiti_kit.readmodel import ReadModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


class Pagina(BaseModel, Generic[T]):
    """One page of a list."""

    elementi: list[T]
    successivo: str | None = Field(None, description="Cursore della pagina successiva (da passare in `dopo`); "
                                                     "null sull'ultima pagina.")


@dataclass(frozen=True)
class Paginazione:
    limite: int
    dopo: list[Any] | None


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_json_value(v) for v in values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise RuleViolation("Il cursore non è valido: usare il valore di «successivo» della pagina precedente.",
                            rule="elenco.cursore", field="dopo")
    return values


def paginazione(
    limite: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Quanti elementi per pagina.")] = DEFAULT_LIMIT,
    dopo: Annotated[str | None, Query(max_length=1000, pattern=r"^[A-Za-z0-9_-]+$",
                                      description="Il cursore «successivo» della pagina precedente.")] = None,
) -> Paginazione:
    return Paginazione(limite=limite, dopo=decode_cursor(dopo) if dopo else None)


PaginazioneDep = Annotated[Paginazione, Depends(paginazione)]


class ListQuery:
    """A SELECT over one read-model table (alias ``x``) with AND-ed filters and a keyset page.

    ``order`` holds the sort expressions (the last unique within a tenant); ``descending``
    sorts by all of them in reverse (newest first); ``joins`` follows ``FROM <table> AS x``
    (e.g. a ``CROSS JOIN LATERAL`` of per-row totals).
    """

    def __init__(self, read_model: ReadModel, table: str, select: str | sql.Composable = "x.*", *,
                 order: Sequence[str], descending: bool = False, joins: str | sql.Composable = "") -> None:
        self.read_model = read_model
        self.table = read_model.table(table)
        self.select = sql.SQL(select) if isinstance(select, str) else select
        self.joins = sql.SQL(joins) if isinstance(joins, str) else joins
        self.order = [sql.SQL(expr) for expr in order]
        self.descending = descending
        self.where: list[sql.Composable] = []
        self.params: list[Any] = []

    def when(self, condition: str, *params: Any, **tables: str) -> "ListQuery":
        """Add a filter; ``{name}`` placeholders in ``condition`` are read-model tables."""
        self.where.append(sql.SQL(condition).format(**{k: self.read_model.table(v) for k, v in tables.items()}))
        self.params.extend(params)
        return self

    def when_present(self, condition: str, value: Any) -> "ListQuery":
        """Add ``condition`` with ``value`` as its only parameter, unless ``value`` is None."""
        return self.when(condition, *[value] * condition.count("%s")) if value is not None else self

    def when_equal(self, **columns: Any) -> "ListQuery":
        """``x.<column> = value`` for each column whose filter value is given (None: no filter)."""
        for column, value in columns.items():
            if not column.isidentifier():
                raise ValueError(f"not a column name: {column!r}")
            self.when_present(f"x.{column} = %s", value)
        return self

    def _query(self, page: Paginazione) -> tuple[sql.Composable, list[Any]]:
        keys = sql.SQL(", ").join(sql.SQL("{} AS {}").format(e, sql.Identifier(f"_k{i}"))
                                  for i, e in enumerate(self.order))
        where, params = list(self.where), list(self.params)
        if page.dopo is not None:
            if len(page.dopo) != len(self.order):
                raise RuleViolation("Il cursore non appartiene a questo elenco.", rule="elenco.cursore", field="dopo")
            where.append(sql.SQL("({}) {} ({})").format(
                sql.SQL(", ").join(self.order), sql.SQL("<" if self.descending else ">"),
                sql.SQL(", ").join(sql.Placeholder() * len(self.order))))
            params.extend(page.dopo)
        query = sql.SQL("SELECT {}, {} FROM {} AS x {}").format(self.select, keys, self.table, self.joins)
        if where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        direction = sql.SQL(" DESC" if self.descending else "")
        query += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(e + direction for e in self.order)
        query += sql.SQL(" LIMIT {}").format(sql.Literal(page.limite + 1))
        return query, params

    def page(self, page: Paginazione, request: Request, response: Response, *, tenant: str | None = None,
             regione: str | None = None) -> dict[str, Any]:
        """Run the query for one page in the caller's scope; sets the ``Link`` header."""
        query, params = self._query(page)
        try:
            rows = self.read_model.fetch_all(query, params, tenant=tenant, regione=regione)
        except (DataError, ProgrammingError, psycopg.DataError, psycopg.ProgrammingError):
            if page.dopo is None:
                raise
            # a cursor whose values do not fit the sort's types (another list's, or forged): a value
            # that does not parse (DataError) or a type with no comparison to the column's (ProgrammingError)
            raise RuleViolation("Il cursore non appartiene a questo elenco.", rule="elenco.cursore",
                                field="dopo") from None
        more = len(rows) > page.limite
        rows = rows[:page.limite]
        keys = [f"_k{i}" for i in range(len(self.order))]
        successivo = encode_cursor([rows[-1][k] for k in keys]) if more and rows else None
        for row in rows:
            for k in keys:
                row.pop(k, None)
        if successivo is not None:
            url = request.url.include_query_params(dopo=successivo, limite=page.limite)
            response.headers["Link"] = f'<{url}>; rel="next"'
        return {"elementi": rows, "successivo": successivo}


#: OpenAPI of the Link header, for list routes' ``responses``
LINK_HEADER = {"Link": {"description": "`<url>; rel=\"next\"` verso la pagina successiva, se c'è.",
                        "schema": {"type": "string"}}}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"headers": LINK_HEADER}}
