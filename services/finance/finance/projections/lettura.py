"""Reading the ledger's read model for the rendicontazione: four grouped queries, then pure code.

``rendiconta(source, tenant, ...)`` is the one entry point (the API, the exports and the
benchmark call it): it opens a transaction scoped to the tenant (row-level security as the
unprivileged role), reads assignments, allocations per budget line with their
nomenclature, the ledger added up per fund × annualità × intervento × Comune, and the
reductions with their reasons, and hands them to ``rendicontazione.rendiconto``. The
database does the adding up (one pass over the movements, whatever their number); the
pure code only combines a few hundred grouped rows.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ambiti_kit.auth import regione_of
from ambiti_kit.readmodel import ReadModel, enter_scope

from finance.domain.vincoli import SpesaClassificata, VincoloMisurato, misura_vincoli
from finance.projections.rendicontazione import (
    DISTANZA_FONDO_POVERTA, Assegnato, Rendiconto, Riduzione, Spesa, Stanziato, rendiconto,
)

Letture = tuple[list[Assegnato], list[Stanziato], list[Spesa], list[Riduzione]]


def _filtri(fondo: str | None, annualita: int | None, alias: str) -> tuple[sql.Composable, list[Any]]:
    """WHERE conditions on fund and annualità (annualità N also reads N−2, for the Fondo Povertà)."""
    conditions, params = [], []
    if fondo is not None:
        conditions.append(sql.SQL("{}.fondo = %s").format(sql.Identifier(alias)))
        params.append(fondo)
    if annualita is not None:
        conditions.append(sql.SQL("{}.annualita = ANY(%s)").format(sql.Identifier(alias)))
        params.append([annualita, annualita - DISTANZA_FONDO_POVERTA])
    if not conditions:
        return sql.SQL("TRUE"), params
    return sql.SQL(" AND ").join(conditions), params


def leggi(curs: Any, schema: str, *, fondo: str | None = None, annualita: int | None = None) -> Letture:
    """The grouped rows of the tenant the cursor is scoped to (``enter_scope`` done by the caller)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    where_a, params_a = _filtri(fondo, annualita, "a")
    curs.execute(sql.SQL("SELECT a.fondo, a.annualita, a.totale, a.vincoli FROM {} AS a WHERE {} "
                         "ORDER BY a.fondo, a.annualita").format(t("rend_assegnazioni"), where_a), params_a)
    assegnazioni = [Assegnato(r["fondo"], r["annualita"], r["totale"], r["vincoli"] or {}) for r in curs.fetchall()]

    where_s, params_s = _filtri(fondo, annualita, "s")
    curs.execute(sql.SQL(
        "SELECT s.fondo, s.annualita, s.intervento, r.sistema, r.codice, sum(m.importo) AS importo "
        "FROM {stanziamenti} AS s "
        "JOIN {movimenti} AS m ON m.tenant_id = s.tenant_id AND m.stanziamento_id = s.stanziamento_id "
        "  AND m.tipo IN ('stanziamento', 'incremento') "
        "LEFT JOIN {budget} AS b ON b.tenant_id = s.tenant_id AND b.piano_id = s.piano_id "
        "LEFT JOIN {righe} AS r ON r.tenant_id = s.tenant_id AND r.budget_id = b.budget_id "
        "  AND r.intervento = s.intervento AND r.fondo = s.fondo AND r.anno = s.anno "
        "WHERE {where} GROUP BY s.fondo, s.annualita, s.intervento, r.sistema, r.codice "
        "ORDER BY s.fondo, s.annualita, s.intervento").format(
        stanziamenti=t("rend_stanziamenti"), movimenti=t("rend_movimenti"), budget=t("rend_budget"),
        righe=t("rend_righe_budget"), where=where_s), params_s)
    stanziati = [Stanziato(r["fondo"], r["annualita"], r["intervento"], r["importo"],
                           {"sistema": r["sistema"], "codice": r["codice"]} if r["sistema"] else None)
                 for r in curs.fetchall()]

    curs.execute(sql.SQL(
        "SELECT s.fondo, s.annualita, s.intervento, m.comune, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'impegno'), 0) AS impegnato_lordo, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'riduzione'), 0) AS ridotto, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'liquidazione'), 0) AS liquidato, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'mandato'), 0) AS pagato "
        "FROM {movimenti} AS m "
        "JOIN {stanziamenti} AS s ON s.tenant_id = m.tenant_id AND s.stanziamento_id = m.stanziamento_id "
        "WHERE m.tipo IN ('impegno', 'riduzione', 'liquidazione', 'mandato') AND {where} "
        "GROUP BY s.fondo, s.annualita, s.intervento, m.comune").format(
        movimenti=t("rend_movimenti"), stanziamenti=t("rend_stanziamenti"), where=where_s), params_s)
    spese = [Spesa(r["fondo"], r["annualita"], r["intervento"], r["comune"], r["impegnato_lordo"], r["ridotto"],
                   r["liquidato"], r["pagato"]) for r in curs.fetchall()]

    curs.execute(sql.SQL(
        "SELECT s.fondo, s.annualita, s.intervento, m.comune, m.impegno_id, m.tipo_riduzione, m.importo, m.motivo, "
        "  m.autore, m.registrato_il "
        "FROM {movimenti} AS m "
        "JOIN {stanziamenti} AS s ON s.tenant_id = m.tenant_id AND s.stanziamento_id = m.stanziamento_id "
        "WHERE m.tipo = 'riduzione' AND {where} ORDER BY m.registrato_il, m.sequenza").format(
        movimenti=t("rend_movimenti"), stanziamenti=t("rend_stanziamenti"), where=where_s), params_s)
    riduzioni = [Riduzione(r["fondo"], r["annualita"], r["intervento"], r["comune"], str(r["impegno_id"]),
                           r["tipo_riduzione"], r["importo"], r["motivo"], r["autore"], r["registrato_il"])
                 for r in curs.fetchall()]
    return assegnazioni, stanziati, spese, riduzioni


def rendiconta(source: ReadModel | psycopg.Connection, tenant: str, *, fondo: str | None = None,
               annualita: int | None = None, schema: str | None = None,
               generato_il: datetime | None = None) -> Rendiconto:
    """The rendicontazione of ``tenant`` (optionally one fund and/or annualità), from the read model.

    ``source`` is the service's ``ReadModel`` (``runtime.read_model``) or any psycopg
    connection to its database (then ``schema`` names finance's schema, by default
    ``finance``); either way the reads run in one read-only transaction as the unprivileged
    role scoped to ``tenant``, which is rolled back at the end.
    """
    regione = regione_of(tenant)
    generato_il = generato_il or datetime.now(timezone.utc)
    if isinstance(source, ReadModel):
        with source.scoped(tenant=tenant, regione=regione) as curs:
            curs.execute("SET TRANSACTION READ ONLY")
            letture = leggi(curs, schema or source.schema, fondo=fondo, annualita=annualita)
    else:
        with source.transaction(force_rollback=True), source.cursor(row_factory=dict_row) as curs:
            enter_scope(curs, tenant=tenant, regione=regione)
            letture = leggi(curs, schema or "finance", fondo=fondo, annualita=annualita)
    return rendiconto(tenant, *letture, fondo=fondo, annualita=annualita, generato_il=generato_il)


def leggi_spese_classificate(curs: Any, schema: str, *, fondo: str | None = None,
                             annualita: int | None = None) -> dict[tuple[str, int], list[SpesaClassificata]]:
    """Net commitments and payments per fund annualità × intervento, with the intervento's classification
    from the budget line of the Piano version in force (NULL when the line lacks it or is no longer in it)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    conditions, params = [sql.SQL("TRUE")], []
    if fondo is not None:
        conditions.append(sql.SQL("s.fondo = %s"))
        params.append(fondo)
    if annualita is not None:
        conditions.append(sql.SQL("s.annualita = %s"))
        params.append(annualita)
    curs.execute(sql.SQL(
        "SELECT s.fondo, s.annualita, s.piano_id, s.intervento, r.area_utenza, r.disabilita_gravissima, "
        "  r.servizio_qsfp, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'impegno'), 0) "
        "  - coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'riduzione'), 0) AS impegnato, "
        "  coalesce(sum(m.importo) FILTER (WHERE m.tipo = 'mandato'), 0) AS pagato "
        "FROM {movimenti} AS m "
        "JOIN {stanziamenti} AS s ON s.tenant_id = m.tenant_id AND s.stanziamento_id = m.stanziamento_id "
        "LEFT JOIN {budget} AS b ON b.tenant_id = s.tenant_id AND b.piano_id = s.piano_id "
        "LEFT JOIN {righe} AS r ON r.tenant_id = s.tenant_id AND r.budget_id = b.budget_id "
        "  AND r.intervento = s.intervento AND r.fondo = s.fondo AND r.anno = s.anno "
        "WHERE m.tipo IN ('impegno', 'riduzione', 'mandato') AND {where} "
        "GROUP BY s.fondo, s.annualita, s.piano_id, s.intervento, s.anno, r.area_utenza, r.disabilita_gravissima, "
        "  r.servizio_qsfp ORDER BY s.fondo, s.annualita, s.intervento").format(
        movimenti=t("rend_movimenti"), stanziamenti=t("rend_stanziamenti"), budget=t("rend_budget"),
        righe=t("rend_righe_budget"), where=sql.SQL(" AND ").join(conditions)), params)
    out: dict[tuple[str, int], list[SpesaClassificata]] = {}
    for r in curs.fetchall():
        out.setdefault((r["fondo"], r["annualita"]), []).append(SpesaClassificata(
            r["intervento"], r["impegnato"], r["pagato"], r["area_utenza"], r["disabilita_gravissima"],
            r["servizio_qsfp"]))
    return out


def misura_i_vincoli(read_model: ReadModel, tenant: str, *, fondo: str | None = None,
                     annualita: int | None = None) -> list[VincoloMisurato]:
    """The fund constraints of ``tenant``'s fund annualità, measured on its ledger (row-level security)."""
    with read_model.scoped(tenant=tenant, regione=regione_of(tenant)) as curs:
        curs.execute("SET TRANSACTION READ ONLY")
        spese = leggi_spese_classificate(curs, read_model.schema, fondo=fondo, annualita=annualita)
    return misura_vincoli(spese, fondo=fondo, annualita=annualita)
