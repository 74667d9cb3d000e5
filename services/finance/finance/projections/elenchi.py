"""finance's lists: commitments, liquidations, payments, riparti, reference data, contributions.

Fed in process from finance's own notification log by the kit's projector, in the same
transaction as the ledger read model (``registro``, applied first for each event), so a
list shows a write as soon as its HTTP response has left. Assignments and allocations are
listed from ``registro``'s own tables; the tables here hold what those do not:

- ``impegni``: one row per commitment with its allocation's fund, annualità, plan, line
  and year, beneficiary, CIG/CUP, act and object; its reductions, liquidations and payments
  are recomputed from ``rend_movimenti`` at each movement (so a replay cannot double them);
- ``liquidazioni`` (with their invoice) and ``mandati``, each with its beneficiary;
- ``riparti`` (object, act, method, totals, recipients) and ``dati_riferimento`` (name, date,
  source, rows);
- ``contributi`` per year and ``contributi_versamenti`` (a reversal marks its payment).

Every row carries ``tenant_id`` under row-level security; every write is an upsert keyed by
the aggregate's own id (or recomputed), so applying an event twice changes nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

from psycopg import sql

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema

from finance.projections import registro

RIPARTO_ESEGUITO = "finance.riparto.eseguito"
DATI_CARICATI = "finance.dati_riferimento.caricati"
CONTRIBUTI_DETERMINATI = "finance.contributi.determinati"
VERSAMENTO_REGISTRATO = "finance.contributi.versamento_registrato"
VERSAMENTO_STORNATO = "finance.contributi.versamento_stornato"

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.impegni (
        tenant_id text NOT NULL, impegno_id uuid NOT NULL, stanziamento_id uuid NOT NULL, fondo text NOT NULL,
        annualita int NOT NULL, piano_id uuid NOT NULL, intervento text NOT NULL, anno int NOT NULL,
        beneficiario_cf text NOT NULL, beneficiario text NOT NULL, cig text, cup text, oggetto text NOT NULL,
        comune text, atto jsonb NOT NULL, importo numeric(15, 2) NOT NULL,
        ridotto numeric(15, 2) NOT NULL DEFAULT 0, liquidato numeric(15, 2) NOT NULL DEFAULT 0,
        pagato numeric(15, 2) NOT NULL DEFAULT 0, assunto_da text NOT NULL, assunto_il timestamptz NOT NULL,
        sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, impegno_id))""",
    "CREATE INDEX IF NOT EXISTS impegni_ordine ON {schema}.impegni (tenant_id, assunto_il DESC, sequenza DESC)",
    "CREATE INDEX IF NOT EXISTS impegni_stanziamento ON {schema}.impegni (tenant_id, stanziamento_id)",
    "CREATE INDEX IF NOT EXISTS impegni_beneficiario ON {schema}.impegni (tenant_id, beneficiario_cf)",
    "CREATE INDEX IF NOT EXISTS rend_movimenti_per_impegno ON {schema}.rend_movimenti (tenant_id, impegno_id)",
    """CREATE TABLE IF NOT EXISTS {schema}.liquidazioni (
        tenant_id text NOT NULL, liquidazione_id uuid NOT NULL, impegno_id uuid NOT NULL,
        stanziamento_id uuid NOT NULL, beneficiario_cf text, fattura_numero text NOT NULL, fattura_data date NOT NULL,
        importo numeric(15, 2) NOT NULL, pagato numeric(15, 2) NOT NULL DEFAULT 0, disposta_da text NOT NULL,
        disposta_il timestamptz NOT NULL, sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, liquidazione_id))""",
    "CREATE INDEX IF NOT EXISTS liquidazioni_ordine ON {schema}.liquidazioni (tenant_id, disposta_il DESC, sequenza DESC)",
    """CREATE TABLE IF NOT EXISTS {schema}.mandati (
        tenant_id text NOT NULL, mandato_id uuid NOT NULL, liquidazione_id uuid NOT NULL, impegno_id uuid NOT NULL,
        stanziamento_id uuid NOT NULL, beneficiario_cf text, importo numeric(15, 2) NOT NULL, data date NOT NULL,
        emesso_da text NOT NULL, emesso_il timestamptz NOT NULL, sequenza bigint NOT NULL,
        PRIMARY KEY (tenant_id, mandato_id))""",
    "CREATE INDEX IF NOT EXISTS mandati_ordine ON {schema}.mandati (tenant_id, data DESC, sequenza DESC)",
    """CREATE TABLE IF NOT EXISTS {schema}.riparti (
        tenant_id text NOT NULL, riparto_id uuid NOT NULL, oggetto text NOT NULL, atto jsonb,
        dati_riferimento_id uuid, metodo text, totale numeric(18, 2), ripartito numeric(18, 2),
        residuo numeric(18, 2), destinatari int NOT NULL, eseguito_da text NOT NULL,
        eseguito_il timestamptz NOT NULL, sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, riparto_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.dati_riferimento (
        tenant_id text NOT NULL, dati_id uuid NOT NULL, nome text NOT NULL, data_riferimento date NOT NULL,
        fonte text NOT NULL, colonne text[] NOT NULL, righe int NOT NULL, caricati_da text NOT NULL,
        caricati_il timestamptz NOT NULL, PRIMARY KEY (tenant_id, dati_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.contributi (
        tenant_id text NOT NULL, contributi_id uuid NOT NULL, anno int NOT NULL, metodo text NOT NULL,
        totale numeric(15, 2) NOT NULL, comuni int NOT NULL, determinati_da text NOT NULL,
        determinati_il timestamptz NOT NULL, PRIMARY KEY (tenant_id, contributi_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.contributi_versamenti (
        tenant_id text NOT NULL, contributi_id uuid NOT NULL, riferimento text NOT NULL, istat text NOT NULL,
        importo numeric(15, 2) NOT NULL, data date NOT NULL, registrato_da text NOT NULL, stornato_il date,
        motivo_storno text, PRIMARY KEY (tenant_id, contributi_id, riferimento))""",
]
TENANT_TABLES = ["impegni", "liquidazioni", "mandati", "riparti", "dati_riferimento", "contributi",
                 "contributi_versamenti"]
SCHEMA = Schema(ddl=list(DDL), tenant_tables=list(TENANT_TABLES))

Project = Callable[[Any, CloudEvent], None]


def project_elenchi(schema: str) -> dict[str, Project]:
    """The projection of each event type these lists read (statements composed once, as text)."""
    def q(statement: str) -> str:
        tables = {name: sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
                  for name in ("impegni", "liquidazioni", "mandati", "riparti", "dati_riferimento", "contributi",
                               "contributi_versamenti", "rend_movimenti", "rend_stanziamenti")}
        return sql.SQL(statement).format(**tables).as_string(None)

    ricalcola = q(
        "UPDATE {impegni} AS i SET ridotto = s.ridotto, liquidato = s.liquidato, pagato = s.pagato FROM ("
        "SELECT coalesce(sum(importo) FILTER (WHERE tipo = 'riduzione'), 0) AS ridotto, "
        "coalesce(sum(importo) FILTER (WHERE tipo = 'liquidazione'), 0) AS liquidato, "
        "coalesce(sum(importo) FILTER (WHERE tipo = 'mandato'), 0) AS pagato "
        "FROM {rend_movimenti} WHERE tenant_id = %(t)s AND impegno_id = %(i)s) AS s "
        "WHERE i.tenant_id = %(t)s AND i.impegno_id = %(i)s")
    insert_impegno = q(
        "INSERT INTO {impegni} (tenant_id, impegno_id, stanziamento_id, fondo, annualita, piano_id, intervento, anno, "
        "beneficiario_cf, beneficiario, cig, cup, oggetto, comune, atto, importo, assunto_da, assunto_il, sequenza) "
        "SELECT %s, %s, s.stanziamento_id, s.fondo, s.annualita, s.piano_id, s.intervento, s.anno, "
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM {rend_stanziamenti} AS s "
        "WHERE s.tenant_id = %s AND s.stanziamento_id = %s "
        "ON CONFLICT (tenant_id, impegno_id) DO NOTHING")
    insert_liquidazione = q(
        "INSERT INTO {liquidazioni} (tenant_id, liquidazione_id, impegno_id, stanziamento_id, beneficiario_cf, "
        "fattura_numero, fattura_data, importo, disposta_da, disposta_il, sequenza) "
        "VALUES (%s, %s, %s, %s, (SELECT beneficiario_cf FROM {impegni} WHERE tenant_id = %s AND impegno_id = %s), "
        "%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, liquidazione_id) DO NOTHING")
    insert_mandato = q(
        "INSERT INTO {mandati} (tenant_id, mandato_id, liquidazione_id, impegno_id, stanziamento_id, beneficiario_cf, "
        "importo, data, emesso_da, emesso_il, sequenza) "
        "VALUES (%s, %s, %s, %s, %s, (SELECT beneficiario_cf FROM {impegni} WHERE tenant_id = %s AND impegno_id = %s), "
        "%s, %s, %s, %s, %s) ON CONFLICT (tenant_id, mandato_id) DO NOTHING")
    liquidazione_pagata = q(
        "UPDATE {liquidazioni} SET pagato = (SELECT coalesce(sum(importo), 0) FROM {mandati} "
        "WHERE tenant_id = %(t)s AND liquidazione_id = %(l)s) WHERE tenant_id = %(t)s AND liquidazione_id = %(l)s")
    insert_riparto = q(
        "INSERT INTO {riparti} (tenant_id, riparto_id, oggetto, atto, dati_riferimento_id, metodo, totale, ripartito, "
        "residuo, destinatari, eseguito_da, eseguito_il, sequenza) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, riparto_id) DO NOTHING")
    insert_dati = q(
        "INSERT INTO {dati_riferimento} (tenant_id, dati_id, nome, data_riferimento, fonte, colonne, righe, "
        "caricati_da, caricati_il) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (tenant_id, dati_id) DO NOTHING")
    insert_contributi = q(
        "INSERT INTO {contributi} (tenant_id, contributi_id, anno, metodo, totale, comuni, determinati_da, "
        "determinati_il) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, contributi_id) DO NOTHING")
    insert_versamento = q(
        "INSERT INTO {contributi_versamenti} (tenant_id, contributi_id, riferimento, istat, importo, data, "
        "registrato_da) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (tenant_id, contributi_id, riferimento) DO NOTHING")
    storna_versamento = q(
        "UPDATE {contributi_versamenti} SET stornato_il = %s, motivo_storno = %s "
        "WHERE tenant_id = %s AND contributi_id = %s AND riferimento = %s")

    def ricalcola_impegno(curs: Any, tenant: str, impegno_id: str) -> None:
        curs.execute(ricalcola, {"t": tenant, "i": impegno_id})

    def impegno_assunto(curs: Any, event: CloudEvent) -> None:
        d = event.data
        beneficiario = d["beneficiario"]
        curs.execute(insert_impegno, (
            event.tenantid, d["impegno_id"], beneficiario["codice_fiscale"], beneficiario["denominazione"],
            d.get("cig"), d.get("cup"), d["oggetto"], d.get("comune"), json.dumps(d["atto"]), Decimal(d["importo"]),
            d["assunto_da"], event.time, event.sequence, event.tenantid, d["stanziamento_id"]))
        ricalcola_impegno(curs, event.tenantid, d["impegno_id"])

    def impegno_ridotto(curs: Any, event: CloudEvent) -> None:
        ricalcola_impegno(curs, event.tenantid, event.data["impegno_id"])

    def liquidazione_disposta(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(insert_liquidazione, (
            event.tenantid, d["liquidazione_id"], d["impegno_id"], d["stanziamento_id"], event.tenantid,
            d["impegno_id"], d["fattura"]["numero"], d["fattura"]["data"], Decimal(d["importo"]), d["disposta_da"],
            event.time, event.sequence))
        ricalcola_impegno(curs, event.tenantid, d["impegno_id"])

    def mandato_emesso(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(insert_mandato, (
            event.tenantid, d["mandato_id"], d["liquidazione_id"], d["impegno_id"], d["stanziamento_id"],
            event.tenantid, d["impegno_id"], Decimal(d["importo"]), d["data"], d["emesso_da"], event.time,
            event.sequence))
        curs.execute(liquidazione_pagata, {"t": event.tenantid, "l": d["liquidazione_id"]})
        ricalcola_impegno(curs, event.tenantid, d["impegno_id"])

    def riparto_eseguito(curs: Any, event: CloudEvent) -> None:
        d = event.data
        totali = d["risultato"].get("totali", {})
        curs.execute(insert_riparto, (
            event.tenantid, d["riparto_id"], d["oggetto"], json.dumps(d["atto"]) if d.get("atto") else None,
            d.get("dati_riferimento_id"), _metodo(d["input"]), d["input"].get("totale"), totali.get("ripartito"),
            totali.get("residuo"), len(d["risultato"].get("assegnazioni", [])), d["eseguito_da"], event.time,
            event.sequence))

    def dati_caricati(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(insert_dati, (event.tenantid, d["dati_id"], d["nome"], d["data_riferimento"], d["fonte"],
                                   d["colonne"], len(d["righe"]), d["caricati_da"], event.time))

    def contributi_determinati(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(insert_contributi, (event.tenantid, d["contributi_id"], d["anno"], d["metodo"],
                                         Decimal(d["totale"]), len(d["quote"]), d["determinati_da"], event.time))

    def versamento_registrato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(insert_versamento, (event.tenantid, d["contributi_id"], d["riferimento"], d["istat"],
                                         Decimal(d["importo"]), d["data"], d["registrato_da"]))

    def versamento_stornato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(storna_versamento, (d["data"], d["motivo"], event.tenantid, d["contributi_id"],
                                         d["riferimento"]))

    return {
        registro.IMPEGNO_ASSUNTO: impegno_assunto, registro.IMPEGNO_ASSUNTO_PERSONA: impegno_assunto,
        registro.IMPEGNO_RIDOTTO: impegno_ridotto,
        registro.LIQUIDAZIONE_DISPOSTA: liquidazione_disposta, registro.MANDATO_EMESSO: mandato_emesso,
        RIPARTO_ESEGUITO: riparto_eseguito, DATI_CARICATI: dati_caricati,
        CONTRIBUTI_DETERMINATI: contributi_determinati, VERSAMENTO_REGISTRATO: versamento_registrato,
        VERSAMENTO_STORNATO: versamento_stornato,
    }


def _metodo(parametri: dict[str, Any]) -> str | None:
    arrotondamento = parametri.get("arrotondamento")
    if isinstance(arrotondamento, dict):
        return arrotondamento.get("metodo")
    return arrotondamento if isinstance(arrotondamento, str) else None
