"""Services delivered and staff, projected from monitoring's own events, in process.

Data entered in monitoring is stored as its domain events; the kit's projector
(``ambiti_kit.projector``, wired by ``monitoring.projections.OWN``) maps each one to its
integration event (the data ``monitoring.integration.outbound`` puts on
``monitoring.events.v1``) and applies it here, in the transaction that records its tracking
(application ``monitoring``, the notification id), before the write's HTTP response leaves:
what was just entered is in the lists at once, broker or not. The relay still publishes the
same events for integrators; monitoring no longer reads them back from Kafka. A rebuild is
the projector's ``rebuild`` over the notification log.

Tenant tables (RLS on ``tenant_id``):

- ``prestazioni``: one row per record (intervento × Comune × month) with its latest figures;
  ``utenti`` (area -> band -> count) and its totals per band;
- ``copertura``: per intervento, Comune and year, how many months have a record — the first
  month of a pair makes the Comune covered for that intervento and year;
- ``personale``: one row per staff declaration (Comune, or none for the whole Ambito × profile × area ×
  contract × employer).

Regional tables (RLS on ``regione``), aggregates per Ambito only, moved by deltas:

- ``regionale_prestazioni``: per Ambito and year, Σ users, accesses, hours, cost;
- ``regionale_copertura``: per Ambito, intervento and year, how many Comuni are covered;
- ``regionale_utenze_aree``: per Ambito, year and target area, Σ monthly user counts (published to the
  Region with small-count suppression, ``monitoring.domain.riservatezza``);
- ``regionale_personale``: per Ambito, FTE of assistenti sociali (all, and those that count for the LEPS:
  ``monitoring.domain.personale.conta_per_leps``), FTE of all profiles, hours.

A correction carries the full new figures; the projection reads the row it replaces (the
notification log is applied in order) and moves the regional totals by the difference.
"""

from __future__ import annotations

import json
import logging
import uuid
from decimal import Decimal
from typing import Any

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.auth import regione_of
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.listing import ListQuery
from ambiti_kit.readmodel import ReadModel

from monitoring.domain.personale import CONTRATTO_PREDEFINITO, DATORE_PREDEFINITO, conta_per_leps
from monitoring.domain.prestazioni import FASCE_ETA, totale_utenti, utenti_per_fascia
from monitoring.integration.outbound import (DOTAZIONE_AGGIORNATA, DOTAZIONE_AMBITO_DICHIARATA,
                                             DOTAZIONE_DICHIARATA, PRESTAZIONE_CORRETTA, PRESTAZIONE_REGISTRATA)

_log = logging.getLogger("monitoring.projections")

#: band -> its column
COLONNE_FASCE = {"0-17": "utenti_0_17", "18-64": "utenti_18_64", "65+": "utenti_65_piu"}
FIGURE_REGIONALI = ("utenti", "accessi", "ore", "costo")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.prestazioni (
        tenant_id text NOT NULL, prestazione_id uuid NOT NULL, intervento text NOT NULL, istat text NOT NULL,
        mese text NOT NULL, anno int NOT NULL, utenti jsonb NOT NULL, utenti_totale int NOT NULL,
        utenti_0_17 int NOT NULL, utenti_18_64 int NOT NULL, utenti_65_piu int NOT NULL,
        accessi int NOT NULL, ore numeric(14, 2) NOT NULL, costo numeric(18, 2) NOT NULL, note text,
        versione int NOT NULL, registrata_da text NOT NULL, ultimo_evento timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, prestazione_id), UNIQUE (tenant_id, intervento, istat, mese))""",
    """CREATE TABLE IF NOT EXISTS {schema}.copertura (
        tenant_id text NOT NULL, intervento text NOT NULL, istat text NOT NULL, anno int NOT NULL,
        mesi int NOT NULL, PRIMARY KEY (tenant_id, intervento, istat, anno))""",
    """CREATE TABLE IF NOT EXISTS {schema}.personale (
        tenant_id text NOT NULL, dotazione_id uuid NOT NULL, istat text NOT NULL, profilo text NOT NULL,
        area text NOT NULL, fte numeric(8, 2) NOT NULL, ore_settimanali_piano numeric(10, 2) NOT NULL,
        ultimo_evento timestamptz NOT NULL, PRIMARY KEY (tenant_id, dotazione_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_prestazioni (
        regione text NOT NULL, tenant_id text NOT NULL, anno int NOT NULL, utenti bigint NOT NULL DEFAULT 0,
        accessi bigint NOT NULL DEFAULT 0, ore numeric(16, 2) NOT NULL DEFAULT 0,
        costo numeric(18, 2) NOT NULL DEFAULT 0, ultimo_evento timestamptz NOT NULL,
        PRIMARY KEY (regione, tenant_id, anno))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_copertura (
        regione text NOT NULL, tenant_id text NOT NULL, intervento text NOT NULL, anno int NOT NULL,
        comuni int NOT NULL DEFAULT 0, ultimo_evento timestamptz NOT NULL,
        PRIMARY KEY (regione, tenant_id, intervento, anno))""",
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_personale (
        regione text NOT NULL, tenant_id text NOT NULL, fte_assistenti_sociali numeric(10, 2) NOT NULL DEFAULT 0,
        fte_totale numeric(10, 2) NOT NULL DEFAULT 0, ore_settimanali_piano numeric(12, 2) NOT NULL DEFAULT 0,
        ultimo_evento timestamptz NOT NULL, PRIMARY KEY (regione, tenant_id))""",
    # contract and employer (issue 12): rows of declarations made before them were permanent staff of the
    # Comune (the upcast of ``Dotazione.Dichiarata`` v1 says the same); staff of the whole Ambito have no Comune
    "ALTER TABLE {schema}.personale ALTER COLUMN istat DROP NOT NULL",
    "ALTER TABLE {schema}.personale ADD COLUMN IF NOT EXISTS contratto text NOT NULL DEFAULT 'tempo_indeterminato', "
    "ADD COLUMN IF NOT EXISTS datore_lavoro text NOT NULL DEFAULT 'comune'",
    # FTE that count for the LEPS; on rows written before, every social worker counted (as above). The owner
    # runs the backfill without FORCE (which would hide every row from it); the kit forces RLS again after.
    "ALTER TABLE {schema}.regionale_personale ADD COLUMN IF NOT EXISTS fte_leps numeric(10, 2)",
    "ALTER TABLE {schema}.regionale_personale NO FORCE ROW LEVEL SECURITY",
    "UPDATE {schema}.regionale_personale SET fte_leps = fte_assistenti_sociali WHERE fte_leps IS NULL",
    "ALTER TABLE {schema}.regionale_personale ALTER COLUMN fte_leps SET DEFAULT 0, ALTER COLUMN fte_leps SET NOT NULL",
    # per Ambito, year and target area: Σ monthly user counts (the Region's table of utenze per area, published
    # with small-count suppression). Filled from the tenant's records when it is created on a database that
    # already has some (the owner, without FORCE; the kit forces RLS again right after).
    """CREATE TABLE IF NOT EXISTS {schema}.regionale_utenze_aree (
        regione text NOT NULL, tenant_id text NOT NULL, anno int NOT NULL, area text NOT NULL,
        utenze bigint NOT NULL DEFAULT 0, ultimo_evento timestamptz NOT NULL,
        PRIMARY KEY (regione, tenant_id, anno, area))""",
    "ALTER TABLE {schema}.regionale_utenze_aree NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE {schema}.prestazioni NO FORCE ROW LEVEL SECURITY",
    """INSERT INTO {schema}.regionale_utenze_aree (regione, tenant_id, anno, area, utenze, ultimo_evento)
        SELECT split_part(x.tenant_id, '-', 1), x.tenant_id, x.anno, a.key, sum(f.value::int), max(x.ultimo_evento)
        FROM {schema}.prestazioni x CROSS JOIN LATERAL jsonb_each(x.utenti) a
        CROSS JOIN LATERAL jsonb_each_text(a.value) f
        WHERE NOT EXISTS (SELECT 1 FROM {schema}.regionale_utenze_aree)
        GROUP BY x.tenant_id, x.anno, a.key""",
    # the lists' sorts (``elenco_prestazioni``, ``elenco_personale``)
    "CREATE INDEX IF NOT EXISTS prestazioni_elenco ON {schema}.prestazioni (tenant_id, mese, intervento, istat)",
    "CREATE INDEX IF NOT EXISTS personale_elenco ON {schema}.personale (tenant_id, istat, profilo, area)",
    "CREATE INDEX IF NOT EXISTS personale_elenco_2 ON {schema}.personale "
    "(tenant_id, (coalesce(istat, '')), profilo, area, contratto, datore_lavoro, dotazione_id)",
]
TENANT_TABLES = ["prestazioni", "copertura", "personale"]
REGIONAL_TABLES = ["regionale_prestazioni", "regionale_copertura", "regionale_personale", "regionale_utenze_aree"]


# -- event data --------------------------------------------------------------------------------

class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Figure(_Data):
    utenti: dict[str, dict[str, int]]
    accessi: int
    ore: Decimal
    costo: Decimal
    note: str | None = None
    versione: int


class PrestazioneRegistrata(Figure):
    prestazione_id: uuid.UUID
    intervento: str
    comune: str
    mese: str
    registrata_da: str


class PrestazioneCorretta(Figure):
    prestazione_id: uuid.UUID


class DotazioneDichiarata(_Data):
    dotazione_id: uuid.UUID
    #: None: staff of the whole Ambito (``monitoring.dotazione_ambito.dichiarata``)
    comune: str | None = None
    profilo: str
    area: str
    contratto: str = CONTRATTO_PREDEFINITO
    datore_lavoro: str = DATORE_PREDEFINITO
    fte: Decimal
    ore_settimanali_piano: Decimal


class DotazioneAggiornata(_Data):
    dotazione_id: uuid.UUID
    fte: Decimal
    ore_settimanali_piano: Decimal


# -- pure helpers -----------------------------------------------------------------------------

def figure_regionali(f: Figure | None) -> dict[str, Any]:
    """The Region's figures of one record (zeros for none): Σ users, accesses, hours, cost."""
    if f is None:
        return {"utenti": 0, "accessi": 0, "ore": Decimal("0.00"), "costo": Decimal("0.00")}
    return {"utenti": totale_utenti(f.utenti), "accessi": f.accessi, "ore": f.ore, "costo": f.costo}


def differenza(dopo: dict[str, Any], prima: dict[str, Any]) -> dict[str, Any]:
    return {k: dopo[k] - prima[k] for k in FIGURE_REGIONALI}


# -- projection ----------------------------------------------------------------------------------

def project_monitoring(schema: str) -> Any:
    """One projection for every event type of monitoring's own topic (dispatch on ``event.type``)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    prestazioni, copertura, personale = t("prestazioni"), t("copertura"), t("personale")
    reg_prest, reg_cop, reg_pers = t("regionale_prestazioni"), t("regionale_copertura"), t("regionale_personale")
    reg_aree = t("regionale_utenze_aree")
    colonne = sql.SQL(", ").join(sql.Identifier(c) for c in COLONNE_FASCE.values())

    def regionale(curs: Any, event: CloudEvent, anno: int, delta: dict[str, Any]) -> None:
        curs.execute(sql.SQL(
            "INSERT INTO {} AS r (regione, tenant_id, anno, utenti, accessi, ore, costo, ultimo_evento) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (regione, tenant_id, anno) DO UPDATE SET "
            "utenti = r.utenti + excluded.utenti, accessi = r.accessi + excluded.accessi, "
            "ore = r.ore + excluded.ore, costo = r.costo + excluded.costo, "
            "ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)").format(reg_prest),
            (regione_of(event.tenantid), event.tenantid, anno, *(delta[k] for k in FIGURE_REGIONALI), event.time))

    def per_area(curs: Any, event: CloudEvent, anno: int, dopo: dict, prima: dict | None) -> None:
        """Move the Region's utenze per area by the difference between a record's new and old counts."""
        delta = {a: sum(dopo.get(a, {}).values()) - sum((prima or {}).get(a, {}).values())
                 for a in sorted({*dopo, *(prima or {})})}
        curs.executemany(sql.SQL(
            "INSERT INTO {} AS r (regione, tenant_id, anno, area, utenze, ultimo_evento) VALUES (%s, %s, %s, %s, %s, "
            "%s) ON CONFLICT (regione, tenant_id, anno, area) DO UPDATE SET utenze = r.utenze + excluded.utenze, "
            "ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)").format(reg_aree),
            [(regione_of(event.tenantid), event.tenantid, anno, area, n, event.time) for area, n in delta.items()])

    def registrata(curs: Any, event: CloudEvent) -> None:
        d = PrestazioneRegistrata.model_validate(event.data)
        anno = int(d.mese[:4])
        fasce = utenti_per_fascia(d.utenti)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, prestazione_id, intervento, istat, mese, anno, utenti, utenti_totale, {}, "
            "accessi, ore, costo, note, versione, registrata_da, ultimo_evento) VALUES (%s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(prestazioni, colonne),
            (event.tenantid, d.prestazione_id, d.intervento, d.comune, d.mese, anno, json.dumps(d.utenti),
             totale_utenti(d.utenti), *(fasce[f] for f in FASCE_ETA), d.accessi, d.ore, d.costo, d.note,
             d.versione, d.registrata_da, event.time))
        regionale(curs, event, anno, figure_regionali(d))
        per_area(curs, event, anno, d.utenti, None)
        curs.execute(sql.SQL(
            "INSERT INTO {} AS c (tenant_id, intervento, istat, anno, mesi) VALUES (%s, %s, %s, %s, 1) "
            "ON CONFLICT (tenant_id, intervento, istat, anno) DO UPDATE SET mesi = c.mesi + 1 RETURNING mesi")
            .format(copertura), (event.tenantid, d.intervento, d.comune, anno))
        # The upsert locks the pair's row: exactly one transaction sees the first month.
        nuovo = curs.fetchone()["mesi"] == 1
        curs.execute(sql.SQL(
            "INSERT INTO {} AS r (regione, tenant_id, intervento, anno, comuni, ultimo_evento) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (regione, tenant_id, intervento, anno) DO UPDATE SET "
            "comuni = r.comuni + excluded.comuni, ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)")
            .format(reg_cop), (regione_of(event.tenantid), event.tenantid, d.intervento, anno, int(nuovo), event.time))

    def corretta(curs: Any, event: CloudEvent) -> None:
        d = PrestazioneCorretta.model_validate(event.data)
        curs.execute(sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND prestazione_id = %s FOR UPDATE")
                     .format(prestazioni), (event.tenantid, d.prestazione_id))
        row = curs.fetchone()
        if row is None:
            _log.warning("correction of a record this read model does not hold: ignored",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid,
                                "prestazione_id": str(d.prestazione_id)})
            return
        if row["versione"] >= d.versione:
            return  # already applied (a later correction is in the row)
        prima = {"utenti": row["utenti_totale"], "accessi": row["accessi"], "ore": row["ore"], "costo": row["costo"]}
        fasce = utenti_per_fascia(d.utenti)
        curs.execute(sql.SQL(
            "UPDATE {} SET utenti = %s, utenti_totale = %s, utenti_0_17 = %s, utenti_18_64 = %s, "
            "utenti_65_piu = %s, accessi = %s, ore = %s, costo = %s, note = %s, versione = %s, ultimo_evento = %s "
            "WHERE tenant_id = %s AND prestazione_id = %s").format(prestazioni),
            (json.dumps(d.utenti), totale_utenti(d.utenti), *(fasce[f] for f in FASCE_ETA), d.accessi, d.ore,
             d.costo, d.note, d.versione, event.time, event.tenantid, d.prestazione_id))
        regionale(curs, event, row["anno"], differenza(figure_regionali(d), prima))
        per_area(curs, event, row["anno"], d.utenti, row["utenti"])

    def pers_regionale(curs: Any, event: CloudEvent, profilo: str, leps: bool, fte: Decimal, ore: Decimal) -> None:
        curs.execute(sql.SQL(
            "INSERT INTO {} AS r (regione, tenant_id, fte_assistenti_sociali, fte_leps, fte_totale, "
            "ore_settimanali_piano, ultimo_evento) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (regione, tenant_id) "
            "DO UPDATE SET fte_assistenti_sociali = r.fte_assistenti_sociali + excluded.fte_assistenti_sociali, "
            "fte_leps = r.fte_leps + excluded.fte_leps, fte_totale = r.fte_totale + excluded.fte_totale, "
            "ore_settimanali_piano = r.ore_settimanali_piano + excluded.ore_settimanali_piano, "
            "ultimo_evento = greatest(r.ultimo_evento, excluded.ultimo_evento)").format(reg_pers),
            (regione_of(event.tenantid), event.tenantid, fte if profilo == "assistente_sociale" else Decimal(0),
             fte if leps else Decimal(0), fte, ore, event.time))

    def dichiarata(curs: Any, event: CloudEvent) -> None:
        d = DotazioneDichiarata.model_validate(event.data)
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, dotazione_id, istat, profilo, area, contratto, datore_lavoro, fte, "
            "ore_settimanali_piano, ultimo_evento) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(personale),
            (event.tenantid, d.dotazione_id, d.comune, d.profilo, d.area, d.contratto, d.datore_lavoro, d.fte,
             d.ore_settimanali_piano, event.time))
        pers_regionale(curs, event, d.profilo, conta_per_leps(d.profilo, d.contratto, d.datore_lavoro), d.fte,
                       d.ore_settimanali_piano)

    def aggiornata(curs: Any, event: CloudEvent) -> None:
        d = DotazioneAggiornata.model_validate(event.data)
        curs.execute(sql.SQL("SELECT profilo, contratto, datore_lavoro, fte, ore_settimanali_piano FROM {} "
                             "WHERE tenant_id = %s AND dotazione_id = %s FOR UPDATE").format(personale),
                     (event.tenantid, d.dotazione_id))
        row = curs.fetchone()
        if row is None:
            _log.warning("update of a staff declaration this read model does not hold: ignored",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid})
            return
        curs.execute(sql.SQL("UPDATE {} SET fte = %s, ore_settimanali_piano = %s, ultimo_evento = %s "
                             "WHERE tenant_id = %s AND dotazione_id = %s").format(personale),
                     (d.fte, d.ore_settimanali_piano, event.time, event.tenantid, d.dotazione_id))
        pers_regionale(curs, event, row["profilo"], conta_per_leps(row["profilo"], row["contratto"],
                                                                   row["datore_lavoro"]),
                       d.fte - row["fte"], d.ore_settimanali_piano - row["ore_settimanali_piano"])

    handlers = {PRESTAZIONE_REGISTRATA: registrata, PRESTAZIONE_CORRETTA: corretta,
                DOTAZIONE_DICHIARATA: dichiarata, DOTAZIONE_AMBITO_DICHIARATA: dichiarata,
                DOTAZIONE_AGGIORNATA: aggiornata}

    def project(curs: Any, event: CloudEvent) -> None:
        handlers[event.type](curs, event)

    return project


#: monitoring's own event types projected here
TIPI = (PRESTAZIONE_REGISTRATA, PRESTAZIONE_CORRETTA, DOTAZIONE_DICHIARATA, DOTAZIONE_AMBITO_DICHIARATA,
        DOTAZIONE_AGGIORNATA)


# -- queries --------------------------------------------------------------------------------

def utenze_regionali(read_model: ReadModel, regione: str, anno: int | None = None) -> dict[str, dict[str, int]]:
    """Ambito -> target area -> Σ monthly user counts of the Region's Ambiti (of a year, or of all)."""
    rows = read_model.fetch_all(sql.SQL("SELECT tenant_id, area, sum(utenze) AS utenze FROM {} {} "
                                        "GROUP BY tenant_id, area").format(
        read_model.table("regionale_utenze_aree"), sql.SQL("WHERE anno = %s") if anno is not None else sql.SQL("")),
        (anno,) if anno is not None else (), regione=regione)
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["tenant_id"], {})[r["area"]] = int(r["utenze"])
    return out


def elenco_prestazioni(read_model: ReadModel, *, anno: int | None = None, comune: str | None = None,
                       intervento: str | None = None, mese_da: str | None = None,
                       mese_a: str | None = None) -> ListQuery:
    """The records by month, intervento and Comune (one record per triple: a total order).

    ``mese_da`` and ``mese_a`` (``YYYY-MM``, both included) compare as text, which orders months.
    """
    query = ListQuery(read_model, "prestazioni",
                      "x.prestazione_id AS id, x.intervento, x.istat AS comune, x.mese, x.utenti, x.utenti_totale, "
                      "x.accessi, x.ore::text AS ore, x.costo::text AS costo, x.note, x.versione, x.ultimo_evento",
                      order=["x.mese", "x.intervento", "x.istat"])
    query.when_present("x.anno = %s", anno)
    query.when_present("x.istat = %s", comune)
    query.when_present("x.intervento = %s", intervento)
    query.when_present("x.mese >= %s", mese_da)
    query.when_present("x.mese <= %s", mese_a)
    return query


def elenco_personale(read_model: ReadModel, *, comune: str | None = None, profilo: str | None = None,
                     area: str | None = None, contratto: str | None = None, datore_lavoro: str | None = None,
                     livello: str | None = None) -> ListQuery:
    """The staff declarations: the whole Ambito's first (no Comune), then by Comune, profile, area, contract and
    employer (one declaration per combination). ``livello``: ``ambito`` (no Comune) or ``comune``."""
    query = ListQuery(read_model, "personale",
                      "x.dotazione_id AS id, x.istat AS comune, x.profilo, x.area, x.contratto, x.datore_lavoro, "
                      "x.fte::text AS fte, x.ore_settimanali_piano::text AS ore_settimanali_piano, x.ultimo_evento",
                      order=["coalesce(x.istat, '')", "x.profilo", "x.area", "x.contratto", "x.datore_lavoro",
                             "x.dotazione_id"])
    query.when_equal(istat=comune, profilo=profilo, area=area, contratto=contratto, datore_lavoro=datore_lavoro)
    if livello == "ambito":
        query.when("x.istat IS NULL")
    elif livello == "comune":
        query.when("x.istat IS NOT NULL")
    return query
