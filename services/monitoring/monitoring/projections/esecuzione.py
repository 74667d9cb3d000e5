"""Financial execution per fund and annualità: the Ambito's own figures, and the Region's rates.

finance publishes each assignment of a fund's annualità to the Ambito and every movement of
the allocations (*stanziamenti*) made on it. This projection totals them per fund and
annualità (``esecuzione``, one row per tenant, fund and annualità):

- ``assegnato``  = Σ ``finance.assegnazione.registrata`` + Σ ``finance.assegnazione.integrata``
- ``stanziato``  = Σ ``finance.stanziamento.aperto`` + Σ ``finance.stanziamento.incrementato``
- ``impegnato``  = Σ ``finance.impegno.assunto`` − Σ ``finance.impegno.ridotto`` (net of
  *disimpegni* and *economie*, as finance's ``Stanziamento.impegnato``)
- ``liquidato``  = Σ ``finance.liquidazione.disposta``
- ``pagato``     = Σ ``finance.mandato.emesso``

Only ``registrata`` and ``aperto`` name the fund and annualità: an ``integrata`` names its
assignment, a movement its allocation. Two small lookup tables keep that link
(``assegnazioni``: assegnazione_id → fondo, annualità; ``stanziamenti``: stanziamento_id →
fondo, annualità, piano, intervento, anno). An assignment's events share its key, an
allocation's its own, so each arrives after the event that made its lookup row.

The regional table (``regionale_esecuzione``) keeps per Ambito, fund and annualità only
``assegnato``, ``impegnato`` and ``pagato``: no commitment, beneficiary, act or allocation
crosses into it. The Region reads rates from it (see ``tasso_impegno``, ``tasso_pagamento``).

Amounts are ``Decimal`` end to end (``numeric(18,2)`` columns, strings with two decimals on the
wire, never float). Figures move by deltas (``col = col + delta`` in one upsert), never by a
recount, for the reason given in ``conteggi``: two consumer instances may apply events of the
same Ambito at once, from different partitions.
"""

from __future__ import annotations

import logging
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Mapping

from psycopg import sql
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import ReadModel
from ambiti_kit.values import euro

_log = logging.getLogger("monitoring.projections")

ASSEGNAZIONE_REGISTRATA = "finance.assegnazione.registrata"
ASSEGNAZIONE_INTEGRATA = "finance.assegnazione.integrata"
STANZIAMENTO_APERTO = "finance.stanziamento.aperto"
STANZIAMENTO_INCREMENTATO = "finance.stanziamento.incrementato"
IMPEGNO_ASSUNTO = "finance.impegno.assunto"
#: a commitment to a person (a professional, a sole trader: 16-character codice fiscale), published by finance
#: under its own type; it moves the figures exactly as one to an organisation
IMPEGNO_ASSUNTO_PERSONA = "finance.impegno.assunto_persona"
IMPEGNO_RIDOTTO = "finance.impegno.ridotto"
LIQUIDAZIONE_DISPOSTA = "finance.liquidazione.disposta"
MANDATO_EMESSO = "finance.mandato.emesso"

#: the figures of ``esecuzione``, in order
FIGURE = ("assegnato", "stanziato", "impegnato", "liquidato", "pagato")
#: the figures the Region sees (``regionale_esecuzione``); ``liquidato`` for the Fondo Povertà condition
#: (``monitoring.domain.fondi``), assessed per Region on what was reported
FIGURE_REGIONALI = ("assegnato", "impegnato", "liquidato", "pagato")
#: event type -> (the figure it moves, the sign of its amount)
EFFETTI: dict[str, tuple[str, int]] = {
    ASSEGNAZIONE_REGISTRATA: ("assegnato", 1),
    ASSEGNAZIONE_INTEGRATA: ("assegnato", 1),
    STANZIAMENTO_APERTO: ("stanziato", 1),
    STANZIAMENTO_INCREMENTATO: ("stanziato", 1),
    IMPEGNO_ASSUNTO: ("impegnato", 1),
    IMPEGNO_ASSUNTO_PERSONA: ("impegnato", 1),
    IMPEGNO_RIDOTTO: ("impegnato", -1),
    LIQUIDAZIONE_DISPOSTA: ("liquidato", 1),
    MANDATO_EMESSO: ("pagato", 1),
}
#: the events of an allocation after ``aperto`` (they name it by ``stanziamento_id`` only)
MOVIMENTI = (STANZIAMENTO_INCREMENTATO, IMPEGNO_ASSUNTO, IMPEGNO_ASSUNTO_PERSONA, IMPEGNO_RIDOTTO,
             LIQUIDAZIONE_DISPOSTA, MANDATO_EMESSO)

ZERO = Decimal("0.00")
#: rates are ratios (0.6250 = 62.50 %) with four decimals, rounded half up
DECIMALI_TASSO = Decimal("0.0001")

_IMPORTO = "numeric(18,2) NOT NULL DEFAULT 0"

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.assegnazioni (
            tenant_id text NOT NULL, assegnazione_id uuid NOT NULL, fondo text NOT NULL, annualita int NOT NULL,
            PRIMARY KEY (tenant_id, assegnazione_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.stanziamenti (
            tenant_id text NOT NULL, stanziamento_id uuid NOT NULL, assegnazione_id uuid NOT NULL,
            fondo text NOT NULL, annualita int NOT NULL, piano_id uuid NOT NULL, intervento text NOT NULL,
            anno int NOT NULL, PRIMARY KEY (tenant_id, stanziamento_id))""",
    "CREATE TABLE IF NOT EXISTS {schema}.esecuzione (tenant_id text NOT NULL, fondo text NOT NULL, "
    "annualita int NOT NULL, "
    + ", ".join(f"{f} {_IMPORTO}" for f in FIGURE)
    + ", ultimo_evento timestamptz NOT NULL, PRIMARY KEY (tenant_id, fondo, annualita))",
    "CREATE TABLE IF NOT EXISTS {schema}.regionale_esecuzione (regione text NOT NULL, tenant_id text NOT NULL, "
    "fondo text NOT NULL, annualita int NOT NULL, "
    + ", ".join(f"{f} {_IMPORTO}" for f in FIGURE_REGIONALI)
    + ", ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id, fondo, annualita))",
    # ``liquidato`` came to the regional table after it was first released: filled from the tenant's own table
    # (the same figures, moved in the same transactions) by the owner, without FORCE (forced again after)
    "ALTER TABLE {schema}.regionale_esecuzione ADD COLUMN IF NOT EXISTS liquidato numeric(18,2)",
    "ALTER TABLE {schema}.regionale_esecuzione NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE {schema}.esecuzione NO FORCE ROW LEVEL SECURITY",
    "UPDATE {schema}.regionale_esecuzione r SET liquidato = e.liquidato FROM {schema}.esecuzione e "
    "WHERE r.liquidato IS NULL AND e.tenant_id = r.tenant_id AND e.fondo = r.fondo AND e.annualita = r.annualita",
    "UPDATE {schema}.regionale_esecuzione SET liquidato = 0 WHERE liquidato IS NULL",
    "ALTER TABLE {schema}.regionale_esecuzione ALTER COLUMN liquidato SET DEFAULT 0, "
    "ALTER COLUMN liquidato SET NOT NULL",
]
TENANT_TABLES = ["assegnazioni", "stanziamenti", "esecuzione"]
REGIONAL_TABLES = ["regionale_esecuzione"]


# -- event data ---------------------------------------------------------------------------

def _solo_stringhe(value: Any) -> Any:
    """Amounts travel as decimal strings: a JSON number (a float once parsed) is refused."""
    if not isinstance(value, str):
        raise ValueError("an amount is a decimal string with two decimals, e.g. \"1250.00\"")
    return value


#: an amount on the wire: a string with at most two decimals, never negative
Importo = Annotated[Decimal, BeforeValidator(_solo_stringhe), Field(ge=0, decimal_places=2, max_digits=16)]


class AssegnazioneRegistrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    assegnazione_id: uuid.UUID
    fondo: str = Field(min_length=1)
    annualita: int
    importo: Importo


class AssegnazioneIntegrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    assegnazione_id: uuid.UUID
    importo: Importo


class StanziamentoAperto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stanziamento_id: uuid.UUID
    assegnazione_id: uuid.UUID
    fondo: str = Field(min_length=1)
    annualita: int
    piano_id: uuid.UUID
    intervento: str
    anno: int
    importo: Importo


class Movimento(BaseModel):
    """What every later event of an allocation carries that this projection reads."""

    model_config = ConfigDict(extra="ignore")

    stanziamento_id: uuid.UUID
    importo: Importo


# -- pure rules -------------------------------------------------------------------------------

def variazioni(tipo: str, importo: Decimal) -> dict[str, Decimal]:
    """The change of every figure of ``esecuzione`` caused by one event (``FIGURE`` order).

    A reduction of a commitment (``impegno.ridotto``) lowers ``impegnato``: the figure is
    net of *disimpegni* and *economie*. An unknown type is a bug of the caller (``KeyError``).
    """
    figura, segno = EFFETTI[tipo]
    return {f: (importo * segno if f == figura else ZERO) for f in FIGURE}


def regionali(changes: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The part of ``changes`` the Region sees (``FIGURE_REGIONALI`` order)."""
    return {f: changes[f] for f in FIGURE_REGIONALI}


def tasso(numeratore: Decimal, denominatore: Decimal) -> Decimal | None:
    """``numeratore / denominatore`` to four decimals (half up); None when the denominator is 0.

    Not clamped to 1: figures of one Ambito come from different partitions, so a commitment may
    be counted before the assignment it draws on, and a rate above 1 says so.
    """
    if denominatore == 0:
        return None
    return (numeratore / denominatore).quantize(DECIMALI_TASSO, rounding=ROUND_HALF_UP)


def tasso_impegno(impegnato: Decimal, assegnato: Decimal) -> Decimal | None:
    """Commitment rate: ``impegnato / assegnato`` (the share of the assigned funds committed)."""
    return tasso(impegnato, assegnato)


def tasso_pagamento(pagato: Decimal, impegnato: Decimal) -> Decimal | None:
    """Payment rate: ``pagato / impegnato`` (the share of the net commitments paid)."""
    return tasso(pagato, impegnato)


def testo(valore: Decimal | None) -> str | None:
    """A rate as the API shows it (None stays None)."""
    return None if valore is None else str(valore)


def indicatori(figure: Mapping[str, Decimal]) -> dict[str, str | None]:
    """Amounts (two-decimal strings) and the two rates of ``figure`` (which holds at least
    ``FIGURE_REGIONALI``): what the API returns for a fund, an annualità or an Ambito."""
    out: dict[str, str | None] = {f: euro(v) for f, v in figure.items()}
    out["tasso_impegno"] = testo(tasso_impegno(figure["impegnato"], figure["assegnato"]))
    out["tasso_pagamento"] = testo(tasso_pagamento(figure["pagato"], figure["impegnato"]))
    return out


def somma(righe: list[Mapping[str, Any]], figure: tuple[str, ...]) -> dict[str, Decimal]:
    """The totals of ``figure`` over ``righe`` (zero for none)."""
    return {f: sum((Decimal(r[f]) for r in righe), ZERO) for f in figure}


# -- projections ---------------------------------------------------------------------------

def _tables(schema: str) -> dict[str, sql.Composable]:
    return {name: sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            for name in ("assegnazioni", "stanziamenti", "esecuzione", "regionale_esecuzione")}


def _upsert(table: sql.Composable, key: tuple[str, ...], figure: tuple[str, ...]) -> sql.Composed:
    """INSERT the key, the figures' deltas and the time; on conflict add the deltas."""
    columns = [*key, *figure, "ultimo_evento"]
    return sql.SQL("INSERT INTO {t} AS r ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets}").format(
        t=table, cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        sets=sql.SQL(", ").join([
            *(sql.SQL("{c} = r.{c} + excluded.{c}").format(c=sql.Identifier(f)) for f in figure),
            sql.SQL("ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)")]))


def _applica(schema: str) -> Any:
    """``apply(curs, event, fondo, annualita, importo)``: move the tenant's and the Region's figures."""
    t = _tables(schema)
    tenant = _upsert(t["esecuzione"], ("tenant_id", "fondo", "annualita"), FIGURE)
    regionale = _upsert(t["regionale_esecuzione"], ("regione", "tenant_id", "fondo", "annualita"), FIGURE_REGIONALI)

    def apply(curs: Any, event: CloudEvent, fondo: str, annualita: int, importo: Decimal) -> None:
        changes = variazioni(event.type, importo)
        curs.execute(tenant, (event.tenantid, fondo, annualita, *changes.values(), event.time))
        # Every event refreshes the Region's row (its freshness), even one that moves no figure of it.
        curs.execute(regionale, (regione_of(event.tenantid), event.tenantid, fondo, annualita,
                                 *regionali(changes).values(), event.time))

    return apply


def project_assegnazione_registrata(schema: str) -> Any:
    t, applica = _tables(schema), _applica(schema)

    def project(curs: Any, event: CloudEvent) -> None:
        a = AssegnazioneRegistrata.model_validate(event.data)
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, assegnazione_id, fondo, annualita) VALUES (%s, %s, %s, %s)")
                     .format(t["assegnazioni"]), (event.tenantid, a.assegnazione_id, a.fondo, a.annualita))
        applica(curs, event, a.fondo, a.annualita, a.importo)

    return project


def _fondo_di(curs: Any, event: CloudEvent, table: sql.Composable, colonna: str, chiave: Any) -> dict | None:
    """The fund and annualità of the assignment or allocation an event belongs to.

    Its first event (registration, ``aperto``) shares its key and came before, in order: a
    missing row means that one was refused (dead-lettered) or predates this read model. The
    fund is only in that first event, so nothing is made up: the event is applied without
    effect and the warning names it for a rebuild.
    """
    curs.execute(sql.SQL("SELECT fondo, annualita FROM {} WHERE tenant_id = %s AND {} = %s").format(
        table, sql.Identifier(colonna)), (event.tenantid, chiave))
    row = curs.fetchone()
    if row is None:
        _log.warning("event of an assignment or allocation this read model does not hold: ignored",
                     extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                            colonna: str(chiave)})
    return row


def project_assegnazione_integrata(schema: str) -> Any:
    t, applica = _tables(schema), _applica(schema)

    def project(curs: Any, event: CloudEvent) -> None:
        a = AssegnazioneIntegrata.model_validate(event.data)
        row = _fondo_di(curs, event, t["assegnazioni"], "assegnazione_id", a.assegnazione_id)
        if row is not None:
            applica(curs, event, row["fondo"], row["annualita"], a.importo)

    return project


def project_stanziamento_aperto(schema: str) -> Any:
    t, applica = _tables(schema), _applica(schema)

    def project(curs: Any, event: CloudEvent) -> None:
        s = StanziamentoAperto.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, stanziamento_id, assegnazione_id, fondo, annualita, piano_id, intervento, "
            "anno) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(t["stanziamenti"]),
            (event.tenantid, s.stanziamento_id, s.assegnazione_id, s.fondo, s.annualita, s.piano_id, s.intervento,
             s.anno))
        applica(curs, event, s.fondo, s.annualita, s.importo)

    return project


def project_movimento(schema: str) -> Any:
    """One projection for every later event of an allocation (``MOVIMENTI``)."""
    t, applica = _tables(schema), _applica(schema)

    def project(curs: Any, event: CloudEvent) -> None:
        m = Movimento.model_validate(event.data)
        row = _fondo_di(curs, event, t["stanziamenti"], "stanziamento_id", m.stanziamento_id)
        if row is not None:
            applica(curs, event, row["fondo"], row["annualita"], m.importo)

    return project


# -- queries --------------------------------------------------------------------------------

def _annualita(annualita: int | None, colonna: str = "annualita") -> tuple[sql.Composable, tuple]:
    if annualita is None:
        return sql.SQL(""), ()
    return sql.SQL("WHERE {} = %s").format(sql.Identifier(colonna)), (annualita,)


def esecuzione_per_fondo(read_model: ReadModel, tenant: str, annualita: int | None = None) -> list[dict[str, Any]]:
    """The Ambito's figures (``FIGURE``) per fund and annualità (or for one annualità), with their freshness."""
    where, params = _annualita(annualita)
    return read_model.fetch_all(sql.SQL(
        "SELECT fondo, annualita, {}, ultimo_evento FROM {} {} ORDER BY fondo, annualita").format(
        sql.SQL(", ").join(map(sql.Identifier, FIGURE)), read_model.table("esecuzione"), where), params,
        tenant=tenant)


def fondo_per_ambito(read_model: ReadModel, regione: str, fondo: str, annualita: int) -> dict[str, tuple]:
    """Ambito -> (assegnato, liquidato) of one fund's annualità, for every Ambito of the Region with figures."""
    rows = read_model.fetch_all(sql.SQL(
        "SELECT tenant_id, sum(assegnato) AS assegnato, sum(liquidato) AS liquidato FROM {} "
        "WHERE fondo = %s AND annualita = %s GROUP BY tenant_id").format(read_model.table("regionale_esecuzione")),
        (fondo, annualita), regione=regione)
    return {r["tenant_id"]: (Decimal(r["assegnato"]), Decimal(r["liquidato"])) for r in rows}


def esecuzione_regionale(read_model: ReadModel, regione: str, annualita: int | None = None) -> list[dict[str, Any]]:
    """Per Ambito of the Region (registered or with figures), by code: ``nome``, ``popolazione``, ``fondi``
    (``FIGURE_REGIONALI`` per fund, summed over its annualità or for the one asked) and ``ultimo_evento``
    (the Ambito's last event applied here, over every annualità)."""
    figure = sql.SQL(", ").join(sql.SQL("sum({f}) AS {f}").format(f=sql.Identifier(f)) for f in FIGURE_REGIONALI)
    where, params = _annualita(annualita)
    with read_model.scoped(regione=regione) as curs:
        curs.execute(sql.SQL("SELECT tenant_id, fondo, {} FROM {} {} GROUP BY tenant_id, fondo "
                             "ORDER BY tenant_id, fondo").format(figure, read_model.table("regionale_esecuzione"),
                                                                 where), params)
        per_fondo = curs.fetchall()
        curs.execute(sql.SQL("SELECT tenant_id, max(ultimo_evento) AS ultimo_evento FROM {} GROUP BY tenant_id")
                     .format(read_model.table("regionale_esecuzione")))
        freschezza = {r["tenant_id"]: r["ultimo_evento"] for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, nome, popolazione, ultimo_evento FROM {}").format(
            read_model.table("regionale_ambiti")))
        composizioni = {r["tenant_id"]: r for r in curs.fetchall()}
    ambiti = []
    for tenant in sorted(freschezza.keys() | composizioni.keys()):
        composizione = composizioni.get(tenant) or {}
        ambiti.append({
            "ambito": tenant, "nome": composizione.get("nome"), "popolazione": composizione.get("popolazione"),
            "fondi": [{k: v for k, v in r.items() if k != "tenant_id"} for r in per_fondo if r["tenant_id"] == tenant],
            "ultimo_evento": max(t for t in (freschezza.get(tenant), composizione.get("ultimo_evento")) if t)})
    return ambiti
