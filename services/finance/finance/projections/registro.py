"""finance's read model of its own ledger, fed in process from its own notification log.

finance maps every movement of money to an integration event (see
``finance.integration.outbound``); the kit's projector applies them to RLS-protected tables
before a write's response leaves, so the rendicontazione is a query instead of a replay of
every allocation's aggregate, and it includes what was just written:

- ``rend_assegnazioni`` / ``rend_atti``: each fund annualità with its constraints
  (``vincoli``) and the acts (decrees) that assigned it; ``totale`` is the sum of the acts;
- ``rend_budget`` / ``rend_righe_budget``: each plan's budget and the lines of the version
  in force, with their nomenclature (for the services quota) and their intervento's classification
  (target area, disabilità gravissima, service of D.Lgs. 147/2017 art. 7 c. 1, investment: the fund
  constraints of ``finance.domain.vincoli``);
- ``rend_stanziamenti``: each allocation (fund, annualità, plan, intervento, year);
- ``rend_movimenti``: one row per movement of an allocation's ledger — ``stanziamento``,
  ``incremento``, ``impegno``, ``riduzione`` (with its type and reason), ``liquidazione``,
  ``mandato`` — with its amount, the commitment / liquidation / payment ids, the Comune of
  the commitment it belongs to, who and when.

Every row carries ``tenant_id`` and every table is under row-level security on it: the
consumer writes as the unprivileged role in the event's tenant scope, and readers see only
their own Ambito. Each event is applied in the transaction that records its tracking
(application ``finance``), so an event is never applied twice; the movement's primary
key (its position in finance's notification log) and ``ON CONFLICT DO NOTHING`` make the
inserts idempotent even without the tracking record.

Ordering: events are applied in notification order, so an allocation's
``stanziamento.aperto`` precedes its movements, and a commitment precedes its reductions,
liquidations and payments (whose Comune is looked up from it).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema

_log = logging.getLogger("finance.projections")

#: the notification log these events come from (tracking records name it)
APPLICATION = "finance"

ASSEGNAZIONE_REGISTRATA = "finance.assegnazione.registrata"
ASSEGNAZIONE_INTEGRATA = "finance.assegnazione.integrata"
BUDGET_APERTO = "finance.budget.aperto"
VERSIONE_RECEPITA = "finance.budget.versione_recepita"
STANZIAMENTO_APERTO = "finance.stanziamento.aperto"
STANZIAMENTO_INCREMENTATO = "finance.stanziamento.incrementato"
IMPEGNO_ASSUNTO = "finance.impegno.assunto"
#: the same commitment to a person (16-character codice fiscale), published under its own type
IMPEGNO_ASSUNTO_PERSONA = "finance.impegno.assunto_persona"
IMPEGNO_RIDOTTO = "finance.impegno.ridotto"
LIQUIDAZIONE_DISPOSTA = "finance.liquidazione.disposta"
MANDATO_EMESSO = "finance.mandato.emesso"

TIPI_MOVIMENTO = ("stanziamento", "incremento", "impegno", "riduzione", "liquidazione", "mandato")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.rend_assegnazioni (
        tenant_id text NOT NULL, assegnazione_id uuid NOT NULL, fondo text NOT NULL, annualita int NOT NULL,
        totale numeric(15, 2) NOT NULL, vincoli jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        registrata_da text NOT NULL, registrata_il timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, assegnazione_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.rend_atti (
        tenant_id text NOT NULL, sequenza bigint NOT NULL, assegnazione_id uuid NOT NULL,
        tipo text, numero text NOT NULL, data date NOT NULL, ente text, importo numeric(15, 2) NOT NULL,
        registrato_da text NOT NULL, registrato_il timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, sequenza))""",
    "CREATE INDEX IF NOT EXISTS rend_atti_assegnazione ON {schema}.rend_atti (tenant_id, assegnazione_id)",
    """CREATE TABLE IF NOT EXISTS {schema}.rend_budget (
        tenant_id text NOT NULL, budget_id uuid NOT NULL, piano_id uuid, anno_inizio int, anno_fine int,
        versione int, deliberazione text, PRIMARY KEY (tenant_id, budget_id))""",
    "CREATE INDEX IF NOT EXISTS rend_budget_piano ON {schema}.rend_budget (tenant_id, piano_id)",
    """CREATE TABLE IF NOT EXISTS {schema}.rend_righe_budget (
        tenant_id text NOT NULL, budget_id uuid NOT NULL, intervento text NOT NULL, fondo text NOT NULL,
        anno int NOT NULL, importo numeric(15, 2) NOT NULL, comuni text[] NOT NULL,
        sistema text, codice text, PRIMARY KEY (tenant_id, budget_id, intervento, fondo, anno))""",
    # the intervento's optional classification (fund constraints, CUP): NULL = not classified
    """ALTER TABLE {schema}.rend_righe_budget ADD COLUMN IF NOT EXISTS area_utenza text,
            ADD COLUMN IF NOT EXISTS disabilita_gravissima boolean, ADD COLUMN IF NOT EXISTS servizio_qsfp text,
            ADD COLUMN IF NOT EXISTS investimento boolean""",
    """CREATE TABLE IF NOT EXISTS {schema}.rend_stanziamenti (
        tenant_id text NOT NULL, stanziamento_id uuid NOT NULL, assegnazione_id uuid NOT NULL,
        fondo text NOT NULL, annualita int NOT NULL, piano_id uuid NOT NULL, intervento text NOT NULL,
        anno int NOT NULL, aperto_da text NOT NULL, aperto_il timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, stanziamento_id))""",
    # One row per movement; its key is its position in finance's notification log. A
    # reduction without a reason is refused here too: no figure decreases silently.
    """CREATE TABLE IF NOT EXISTS {schema}.rend_movimenti (
        tenant_id text NOT NULL, sequenza bigint NOT NULL, stanziamento_id uuid NOT NULL,
        tipo text NOT NULL CHECK (tipo IN ('stanziamento', 'incremento', 'impegno', 'riduzione', 'liquidazione',
                                           'mandato')),
        importo numeric(15, 2) NOT NULL CHECK (importo > 0),
        impegno_id uuid, liquidazione_id uuid, mandato_id uuid, comune text,
        tipo_riduzione text, motivo text, autore text NOT NULL, registrato_il timestamptz NOT NULL,
        dettagli jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        PRIMARY KEY (tenant_id, sequenza),
        CONSTRAINT rend_movimenti_riduzione_motivata
            CHECK (tipo <> 'riduzione' OR (tipo_riduzione IS NOT NULL AND motivo IS NOT NULL
                                             AND length(btrim(motivo)) > 0)))""",
    "CREATE INDEX IF NOT EXISTS rend_movimenti_stanziamento ON {schema}.rend_movimenti (tenant_id, stanziamento_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rend_movimenti_impegno ON {schema}.rend_movimenti (tenant_id, impegno_id) "
    "WHERE tipo = 'impegno'",
]
TENANT_TABLES = ["rend_assegnazioni", "rend_atti", "rend_budget", "rend_righe_budget", "rend_stanziamenti",
                 "rend_movimenti"]
#: what finance/main.py declares (merged with any other read model of finance)
SCHEMA = Schema(ddl=list(DDL), tenant_tables=list(TENANT_TABLES))


# -- event data (only the fields read here) --------------------------------------------------

class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Atto(_Data):
    tipo: str | None = None
    numero: str
    data: date
    ente: str | None = None


class AssegnazioneRegistrata(_Data):
    assegnazione_id: uuid.UUID
    fondo: str
    annualita: int
    importo: Decimal
    atto: Atto
    vincoli: dict[str, Any] = {}
    registrata_da: str


class AssegnazioneIntegrata(_Data):
    assegnazione_id: uuid.UUID
    importo: Decimal
    atto: Atto
    registrata_da: str


class BudgetAperto(_Data):
    budget_id: uuid.UUID
    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int


class Nomenclatura(_Data):
    sistema: str
    codice: str


class RigaBudget(_Data):
    intervento: str
    fondo: str
    anno: int
    importo: Decimal
    comuni: list[str]
    nomenclatura: Nomenclatura | None = None
    area_utenza: str | None = None
    disabilita_gravissima: bool | None = None
    servizio_qsfp: str | None = None
    investimento: bool | None = None


class VersioneRecepita(_Data):
    budget_id: uuid.UUID
    versione: int
    deliberazione: str
    righe: list[RigaBudget]


class Movimento(_Data):
    stanziamento_id: uuid.UUID
    importo: Decimal


class StanziamentoAperto(Movimento):
    assegnazione_id: uuid.UUID
    fondo: str
    annualita: int
    piano_id: uuid.UUID
    intervento: str
    anno: int
    aperto_da: str


class StanziamentoIncrementato(Movimento):
    incrementato_da: str


class ImpegnoAssunto(Movimento):
    impegno_id: uuid.UUID
    beneficiario: dict[str, Any]
    cig: str | None = None
    cup: str | None = None
    atto: dict[str, Any]
    oggetto: str
    comune: str | None = None
    assunto_da: str


class ImpegnoRidotto(Movimento):
    impegno_id: uuid.UUID
    tipo: str
    motivo: str
    ridotto_da: str


class LiquidazioneDisposta(Movimento):
    liquidazione_id: uuid.UUID
    impegno_id: uuid.UUID
    fattura: dict[str, Any]
    disposta_da: str


class MandatoEmesso(Movimento):
    mandato_id: uuid.UUID
    liquidazione_id: uuid.UUID
    impegno_id: uuid.UUID
    data: date
    emesso_da: str
    cig: str | None = None
    cup: str | None = None


# -- projections --------------------------------------------------------------------------------

Project = Callable[[Any, CloudEvent], None]


def project_registro(schema: str) -> Project:
    """One projection for every event type of ``TIPI`` (dispatch on ``event.type``)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    assegnazioni, atti, budget, righe = t("rend_assegnazioni"), t("rend_atti"), t("rend_budget"), t("rend_righe_budget")
    stanziamenti, movimenti = t("rend_stanziamenti"), t("rend_movimenti")

    insert_movimento = sql.SQL(
        "INSERT INTO {} (tenant_id, sequenza, stanziamento_id, tipo, importo, impegno_id, liquidazione_id, mandato_id, "
        "comune, tipo_riduzione, motivo, autore, registrato_il, dettagli) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (tenant_id, sequenza) DO NOTHING").format(movimenti).as_string(None)

    def movimento(curs: Any, event: CloudEvent, m: Movimento, tipo: str, autore: str, *, impegno_id: Any = None,
                  liquidazione_id: Any = None, mandato_id: Any = None, comune: str | None = None,
                  tipo_riduzione: str | None = None, motivo: str | None = None, dettagli: dict | None = None) -> None:
        curs.execute(insert_movimento, (
            event.tenantid, event.sequence, m.stanziamento_id, tipo, m.importo, impegno_id, liquidazione_id,
            mandato_id, comune, tipo_riduzione, motivo, autore, event.time,
            json.dumps(dettagli or {}, ensure_ascii=False, default=str)))

    def comune_dell_impegno(curs: Any, event: CloudEvent, impegno_id: uuid.UUID) -> str | None:
        curs.execute(sql.SQL("SELECT comune FROM {} WHERE tenant_id = %s AND impegno_id = %s AND tipo = 'impegno'")
                     .format(movimenti), (event.tenantid, impegno_id))
        row = curs.fetchone()
        if row is None:
            # Its commitment shares its partition and came first: without it, that message was
            # dead-lettered or predates this read model. The movement is kept (the totals must
            # add up) and reported on the row of the whole Ambito.
            _log.warning("movement of a commitment this read model does not hold: reported as Intero Ambito",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                                "impegno_id": str(impegno_id)})
            return None
        return row["comune"]

    def assegnazione_registrata(curs: Any, event: CloudEvent) -> None:
        d = AssegnazioneRegistrata.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, assegnazione_id, fondo, annualita, totale, vincoli, registrata_da, "
            "registrata_il) VALUES (%s, %s, %s, %s, 0, %s, %s, %s) ON CONFLICT (tenant_id, assegnazione_id) "
            "DO UPDATE SET fondo = excluded.fondo, annualita = excluded.annualita, vincoli = excluded.vincoli, "
            "registrata_da = excluded.registrata_da, registrata_il = excluded.registrata_il").format(assegnazioni),
            (event.tenantid, d.assegnazione_id, d.fondo, d.annualita, json.dumps(d.vincoli, default=str),
             d.registrata_da, event.time))
        atto(curs, event, d.assegnazione_id, d.atto, d.importo, d.registrata_da)

    def assegnazione_integrata(curs: Any, event: CloudEvent) -> None:
        d = AssegnazioneIntegrata.model_validate(event.data)
        atto(curs, event, d.assegnazione_id, d.atto, d.importo, d.registrata_da)

    def atto(curs: Any, event: CloudEvent, assegnazione_id: uuid.UUID, a: Atto, importo: Decimal, autore: str) -> None:
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, sequenza, assegnazione_id, tipo, numero, data, ente, importo, registrato_da, "
            "registrato_il) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, sequenza) "
            "DO NOTHING").format(atti),
            (event.tenantid, event.sequence, assegnazione_id, a.tipo, a.numero, a.data, a.ente, importo, autore,
             event.time))
        # The total is the sum of the acts: recomputed, so applying an act twice cannot double it.
        curs.execute(sql.SQL(
            "UPDATE {} AS a SET totale = (SELECT coalesce(sum(importo), 0) FROM {} AS t "
            "WHERE t.tenant_id = a.tenant_id AND t.assegnazione_id = a.assegnazione_id) "
            "WHERE a.tenant_id = %s AND a.assegnazione_id = %s").format(assegnazioni, atti),
            (event.tenantid, assegnazione_id))
        if curs.rowcount == 0:
            _log.warning("act of an assignment this read model does not hold: kept without its fund",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                                "assegnazione_id": str(assegnazione_id)})

    def budget_aperto(curs: Any, event: CloudEvent) -> None:
        d = BudgetAperto.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, budget_id, piano_id, anno_inizio, anno_fine) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, budget_id) DO UPDATE SET piano_id = excluded.piano_id, "
            "anno_inizio = excluded.anno_inizio, anno_fine = excluded.anno_fine").format(budget),
            (event.tenantid, d.budget_id, d.piano_id, d.anno_inizio, d.anno_fine))

    def versione_recepita(curs: Any, event: CloudEvent) -> None:
        d = VersioneRecepita.model_validate(event.data)
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, budget_id) VALUES (%s, %s) "
                             "ON CONFLICT (tenant_id, budget_id) DO NOTHING").format(budget),
                     (event.tenantid, d.budget_id))
        curs.execute(sql.SQL("SELECT versione FROM {} WHERE tenant_id = %s AND budget_id = %s FOR UPDATE")
                     .format(budget), (event.tenantid, d.budget_id))
        vigente = curs.fetchone()["versione"]
        if vigente is not None and vigente >= d.versione:
            return  # an older version arriving late: the lines in force stay
        curs.execute(sql.SQL("UPDATE {} SET versione = %s, deliberazione = %s WHERE tenant_id = %s AND budget_id = %s")
                     .format(budget), (d.versione, d.deliberazione, event.tenantid, d.budget_id))
        curs.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND budget_id = %s").format(righe),
                     (event.tenantid, d.budget_id))
        curs.executemany(sql.SQL(
            "INSERT INTO {} (tenant_id, budget_id, intervento, fondo, anno, importo, comuni, sistema, codice, "
            "area_utenza, disabilita_gravissima, servizio_qsfp, investimento) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(righe),
            [(event.tenantid, d.budget_id, r.intervento, r.fondo, r.anno, r.importo, r.comuni,
              r.nomenclatura.sistema if r.nomenclatura else None, r.nomenclatura.codice if r.nomenclatura else None,
              r.area_utenza, r.disabilita_gravissima, r.servizio_qsfp, r.investimento)
             for r in d.righe])

    def stanziamento_aperto(curs: Any, event: CloudEvent) -> None:
        d = StanziamentoAperto.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, stanziamento_id, assegnazione_id, fondo, annualita, piano_id, intervento, "
            "anno, aperto_da, aperto_il) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, stanziamento_id) DO NOTHING").format(stanziamenti),
            (event.tenantid, d.stanziamento_id, d.assegnazione_id, d.fondo, d.annualita, d.piano_id, d.intervento,
             d.anno, d.aperto_da, event.time))
        movimento(curs, event, d, "stanziamento", d.aperto_da)

    def stanziamento_incrementato(curs: Any, event: CloudEvent) -> None:
        d = StanziamentoIncrementato.model_validate(event.data)
        movimento(curs, event, d, "incremento", d.incrementato_da)

    def impegno_assunto(curs: Any, event: CloudEvent) -> None:
        d = ImpegnoAssunto.model_validate(event.data)
        movimento(curs, event, d, "impegno", d.assunto_da, impegno_id=d.impegno_id, comune=d.comune,
                  dettagli={"beneficiario": d.beneficiario, "cig": d.cig, "cup": d.cup, "atto": d.atto,
                            "oggetto": d.oggetto})

    def impegno_ridotto(curs: Any, event: CloudEvent) -> None:
        d = ImpegnoRidotto.model_validate(event.data)
        movimento(curs, event, d, "riduzione", d.ridotto_da, impegno_id=d.impegno_id,
                  comune=comune_dell_impegno(curs, event, d.impegno_id), tipo_riduzione=d.tipo, motivo=d.motivo)

    def liquidazione_disposta(curs: Any, event: CloudEvent) -> None:
        d = LiquidazioneDisposta.model_validate(event.data)
        movimento(curs, event, d, "liquidazione", d.disposta_da, impegno_id=d.impegno_id,
                  liquidazione_id=d.liquidazione_id, comune=comune_dell_impegno(curs, event, d.impegno_id),
                  dettagli={"fattura": d.fattura})

    def mandato_emesso(curs: Any, event: CloudEvent) -> None:
        d = MandatoEmesso.model_validate(event.data)
        movimento(curs, event, d, "mandato", d.emesso_da, impegno_id=d.impegno_id,
                  liquidazione_id=d.liquidazione_id, mandato_id=d.mandato_id,
                  comune=comune_dell_impegno(curs, event, d.impegno_id),
                  dettagli={"data": d.data.isoformat(), "cig": d.cig, "cup": d.cup})

    handlers: dict[str, Project] = {
        ASSEGNAZIONE_REGISTRATA: assegnazione_registrata, ASSEGNAZIONE_INTEGRATA: assegnazione_integrata,
        BUDGET_APERTO: budget_aperto, VERSIONE_RECEPITA: versione_recepita,
        STANZIAMENTO_APERTO: stanziamento_aperto, STANZIAMENTO_INCREMENTATO: stanziamento_incrementato,
        IMPEGNO_ASSUNTO: impegno_assunto, IMPEGNO_ASSUNTO_PERSONA: impegno_assunto, IMPEGNO_RIDOTTO: impegno_ridotto,
        LIQUIDAZIONE_DISPOSTA: liquidazione_disposta, MANDATO_EMESSO: mandato_emesso,
    }

    def project(curs: Any, event: CloudEvent) -> None:
        handlers[event.type](curs, event)

    return project


#: the event types the read model reads (every other type on the topic is ignored)
TIPI = (ASSEGNAZIONE_REGISTRATA, ASSEGNAZIONE_INTEGRATA, BUDGET_APERTO, VERSIONE_RECEPITA, STANZIAMENTO_APERTO,
        STANZIAMENTO_INCREMENTATO, IMPEGNO_ASSUNTO, IMPEGNO_ASSUNTO_PERSONA, IMPEGNO_RIDOTTO, LIQUIDAZIONE_DISPOSTA,
        MANDATO_EMESSO)
