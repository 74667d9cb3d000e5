"""planning's read model of its own events, fed in process from its own notification log.

planning reads each plan, seduta, deliberation and tavolo's proposal by id from its event
store; the lists (``GET /piani``, ``/sedute``, ``/deliberazioni``, ``/proposte-tavoli``) are
queries on these tables instead. The kit's projector (``ambiti_kit.projector``) maps each of
planning's own events to its integration event (the fields ``planning.integration.outbound``
puts on the wire) or, for the few internal ones a list needs, to a local-only event
(``planning.projections.locale``), and projects it into RLS-protected tables before the
write's HTTP response leaves (read-your-writes, broker or not):

- ``piani`` with ``piani_versioni``: title, period and state of each plan (as
  ``PianoDiZona.stato``), and each version's type, reference, title, state, approving
  deliberation and number of interventi;
- ``sedute``: subject, place, the two calls (``giorno``: the 1st call's date in Rome, for
  filters), state, the call it opened in, the agenda and the proposals already voted;
- ``deliberazioni``: proposals and deliberations, with state (``proposta``, ``iscritta``,
  ``approvata``, ``respinta``), the register's number ``n/anno`` split for sorting
  (``anno``, ``progressivo``), date, seduta and outcome;
- ``proposte_tavoli``: the tavoli's proposals received from partnership, and whether (and
  where) the Ufficio di Piano took each into a draft.

Every row carries ``tenant_id`` and every table is under row-level security on it: the
projector writes as the unprivileged role in the event's tenant scope and readers see only
their own Ambito. Each event is applied in the transaction that records its tracking
(application ``planning``), so an event is never applied twice; besides, every write is
idempotent on its own, as events are applied in notification order: a creating event
inserts unless the row is there, and every update is guarded by the row's last applied
position (``sequenza``), so an event replayed cannot overwrite a later one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from psycopg import sql
from psycopg.types.json import Jsonb

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema

from planning.application import ROMA
from planning.projections.locale import (DELIBERAZIONE_ISCRITTA, DELIBERAZIONE_RINVIATA, PROPOSTA_TAVOLO_RECEPITA,
                                         PROPOSTA_TAVOLO_RICEVUTA)

#: the notification log these events come from (tracking records name it)
APPLICATION = "planning"

PIANO_CREATO = "planning.piano_di_zona.creato"
CONTENUTO_AGGIORNATO = "planning.piano_di_zona.contenuto_aggiornato"
PIANO_PROPOSTO = "planning.piano_di_zona.proposto"
VERSIONE_APPROVATA = "planning.piano_di_zona.versione_approvata"
PROPOSTA_RESPINTA = "planning.piano_di_zona.proposta_respinta"
VERSIONE_APERTA = "planning.piano_di_zona.versione_aperta"
PIANO_IN_ATTUAZIONE = "planning.piano_di_zona.in_attuazione"
PIANO_CONCLUSO = "planning.piano_di_zona.concluso"
SEDUTA_CONVOCATA = "planning.seduta.convocata"
SEDUTA_APERTA = "planning.seduta.aperta"
PRIMA_DESERTA = "planning.seduta.prima_convocazione_deserta"
VOTAZIONE_CHIUSA = "planning.seduta.votazione_chiusa"
SEDUTA_CHIUSA = "planning.seduta.chiusa"
DELIBERAZIONE_PROPOSTA = "planning.deliberazione.proposta"
#: a proposal to approve a verbale: published under its own type (v1 of the one above lists its types)
PROPOSTA_APPROVAZIONE_VERBALE = "planning.deliberazione.proposta_approvazione_verbale"
DELIBERAZIONE_APPROVATA = "planning.deliberazione.approvata"
DELIBERAZIONE_RESPINTA = "planning.deliberazione.respinta"

#: what the list filters accept (the domain's own values)
STATI_SEDUTA = ("convocata", "aperta", "chiusa")
STATI_DELIBERAZIONE = ("proposta", "iscritta", "approvata", "respinta")
STATI_PROPOSTA_TAVOLO = ("ricevuta", "recepita")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.piani (
        tenant_id text NOT NULL, id uuid NOT NULL, titolo text NOT NULL, anno_inizio int NOT NULL,
        anno_fine int NOT NULL, stato text NOT NULL, creato_il timestamptz NOT NULL, sequenza bigint NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS piani_periodo ON {schema}.piani (tenant_id, anno_inizio, anno_fine)",
    """CREATE TABLE IF NOT EXISTS {schema}.piani_versioni (
        tenant_id text NOT NULL, piano_id uuid NOT NULL, versione int NOT NULL, tipo text NOT NULL,
        riferimento int, titolo text NOT NULL, stato text NOT NULL, interventi int NOT NULL DEFAULT 0,
        deliberazione_id uuid, deliberazione text, sequenza bigint NOT NULL,
        PRIMARY KEY (tenant_id, piano_id, versione))""",
    """CREATE TABLE IF NOT EXISTS {schema}.sedute (
        tenant_id text NOT NULL, id uuid NOT NULL, oggetto text NOT NULL, luogo text NOT NULL,
        prima_convocazione timestamptz NOT NULL, seconda_convocazione timestamptz, giorno date NOT NULL,
        stato text NOT NULL, convocazione int, prima_deserta boolean NOT NULL DEFAULT false,
        ordine_del_giorno uuid[] NOT NULL, votate uuid[] NOT NULL DEFAULT '{{}}', sequenza bigint NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS sedute_data ON {schema}.sedute (tenant_id, prima_convocazione)",
    """CREATE TABLE IF NOT EXISTS {schema}.deliberazioni (
        tenant_id text NOT NULL, id uuid NOT NULL, tipo text NOT NULL, oggetto text NOT NULL, stato text NOT NULL,
        anno int NOT NULL, progressivo int, numero text, data date, seduta_id uuid, esito jsonb,
        proposta_il timestamptz NOT NULL, sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS deliberazioni_registro ON {schema}.deliberazioni (tenant_id, anno, progressivo)",
    """CREATE TABLE IF NOT EXISTS {schema}.proposte_tavoli (
        tenant_id text NOT NULL, id uuid NOT NULL, proposta_id uuid NOT NULL, tavolo_id uuid NOT NULL,
        piano_id uuid, titolo text NOT NULL, area text NOT NULL, intervento jsonb NOT NULL,
        formulata_da text NOT NULL, ricevuta_il timestamptz NOT NULL, stato text NOT NULL, recepita jsonb,
        sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS proposte_tavoli_tavolo ON {schema}.proposte_tavoli (tenant_id, tavolo_id)",
]
TENANT_TABLES = ["piani", "piani_versioni", "sedute", "deliberazioni", "proposte_tavoli"]
#: what planning/main.py declares
SCHEMA = Schema(ddl=list(DDL), tenant_tables=list(TENANT_TABLES))

Project = Callable[[Any, CloudEvent], None]


def giorno(quando: datetime) -> date:
    """The calendar day of an instant in the Ambiti's time zone."""
    return quando.astimezone(ROMA).date()


def projections(schema: str) -> dict[str, Project]:
    """One projection per event type the lists read (every other event is only tracked)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    piani, versioni, sedute = t("piani"), t("piani_versioni"), t("sedute")
    deliberazioni, proposte_tavoli = t("deliberazioni"), t("proposte_tavoli")

    def aggiorna(curs: Any, event: CloudEvent, table: sql.Composed, chiave: dict[str, Any],
                 valori: dict[str, Any]) -> None:
        """Set ``valori`` on the row of ``chiave`` unless it already holds this event or a later one."""
        valori = {**valori, "sequenza": event.sequence}
        curs.execute(sql.SQL("UPDATE {} SET {} WHERE tenant_id = %s AND {} AND sequenza < %s").format(
            table, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in valori),
            sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in chiave)),
            (*valori.values(), event.tenantid, *chiave.values(), event.sequence))

    # -- piani -----------------------------------------------------------------------------------
    def piano(curs: Any, event: CloudEvent, **valori: Any) -> None:
        aggiorna(curs, event, piani, {"id": event.data["piano_id"]}, valori)

    def versione(curs: Any, event: CloudEvent, **valori: Any) -> None:
        aggiorna(curs, event, versioni, {"piano_id": event.data["piano_id"], "versione": event.data["versione"]},
                 valori)

    def piano_creato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, titolo, anno_inizio, anno_fine, stato, creato_il, sequenza) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, id) DO NOTHING").format(piani),
            (event.tenantid, d["piano_id"], d["titolo"], d["anno_inizio"], d["anno_fine"], d["stato"], event.time,
             event.sequence))
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, piano_id, versione, tipo, titolo, stato, sequenza) "
            "VALUES (%s, %s, 1, 'piano', %s, 'bozza', %s) ON CONFLICT (tenant_id, piano_id, versione) DO NOTHING")
            .format(versioni), (event.tenantid, d["piano_id"], d["titolo"], event.sequence))

    def contenuto_aggiornato(curs: Any, event: CloudEvent) -> None:
        versione(curs, event, interventi=event.data["interventi"])

    # the plan's own state follows version 1 until the Accordo (as PianoDiZona)
    def proposto(curs: Any, event: CloudEvent) -> None:
        versione(curs, event, stato="proposta")
        if event.data["versione"] == 1:
            piano(curs, event, stato="proposto")

    def versione_approvata(curs: Any, event: CloudEvent) -> None:
        d = event.data
        versione(curs, event, stato="approvata", titolo=d["titolo"], interventi=len(d["interventi"]),
                 deliberazione_id=d["deliberazione_id"], deliberazione=d["deliberazione"])
        if d["versione"] == 1:
            piano(curs, event, stato="approvato")

    def proposta_respinta(curs: Any, event: CloudEvent) -> None:
        versione(curs, event, stato="bozza")
        if event.data["versione"] == 1:
            piano(curs, event, stato="bozza")

    def versione_aperta(curs: Any, event: CloudEvent) -> None:
        """A new draft starts from the (approved, immutable) version it references: its interventi too."""
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {v} (tenant_id, piano_id, versione, tipo, riferimento, titolo, stato, interventi, sequenza) "
            "SELECT %s, %s, %s, %s, %s, %s, 'bozza', coalesce((SELECT r.interventi FROM {v} AS r "
            "WHERE r.tenant_id = %s AND r.piano_id = %s AND r.versione = %s), 0), %s "
            "ON CONFLICT (tenant_id, piano_id, versione) DO NOTHING").format(v=versioni),
            (event.tenantid, d["piano_id"], d["versione"], d["tipo"], d["riferimento"], d["titolo"],
             event.tenantid, d["piano_id"], d["riferimento"], event.sequence))

    def stato_piano(stato: str) -> Project:
        return lambda curs, event: piano(curs, event, stato=stato)

    # -- sedute ----------------------------------------------------------------------------------
    def seduta(curs: Any, event: CloudEvent, **valori: Any) -> None:
        aggiorna(curs, event, sedute, {"id": event.data["seduta_id"]}, valori)

    def seduta_convocata(curs: Any, event: CloudEvent) -> None:
        d = event.data
        prima = datetime.fromisoformat(d["prima_convocazione"])
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, oggetto, luogo, prima_convocazione, seconda_convocazione, giorno, stato, "
            "ordine_del_giorno, sequenza) VALUES (%s, %s, %s, %s, %s, %s, %s, 'convocata', %s::uuid[], %s) "
            "ON CONFLICT (tenant_id, id) DO NOTHING").format(sedute),
            (event.tenantid, d["seduta_id"], d["oggetto"], d["luogo"], prima, d["seconda_convocazione"],
             giorno(prima), d["ordine_del_giorno"], event.sequence))

    def votazione_chiusa(curs: Any, event: CloudEvent) -> None:
        curs.execute(sql.SQL(
            "UPDATE {} SET votate = array_append(votate, %s::uuid), sequenza = %s "
            "WHERE tenant_id = %s AND id = %s AND sequenza < %s AND NOT (%s::uuid = ANY(votate))").format(sedute),
            (event.data["proposta_id"], event.sequence, event.tenantid, event.data["seduta_id"], event.sequence,
             event.data["proposta_id"]))

    # -- deliberazioni ---------------------------------------------------------------------------
    def deliberazione(curs: Any, event: CloudEvent, **valori: Any) -> None:
        aggiorna(curs, event, deliberazioni, {"id": event.data["deliberazione_id"]}, valori)

    def deliberazione_proposta(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, tipo, oggetto, stato, anno, proposta_il, sequenza) "
            "VALUES (%s, %s, %s, %s, 'proposta', %s, %s, %s) ON CONFLICT (tenant_id, id) DO NOTHING")
            .format(deliberazioni),
            (event.tenantid, d["deliberazione_id"], d["tipo"], d["oggetto"], giorno(event.time).year, event.time,
             event.sequence))

    def deliberazione_approvata(curs: Any, event: CloudEvent) -> None:
        d = event.data
        progressivo, anno = (int(p) for p in d["numero"].split("/"))
        deliberazione(curs, event, stato="approvata", numero=d["numero"], anno=anno, progressivo=progressivo,
                      data=d["data"], seduta_id=d["seduta_id"], esito=Jsonb(d["esito"]))

    def deliberazione_respinta(curs: Any, event: CloudEvent) -> None:
        d = event.data
        deliberazione(curs, event, stato="respinta", anno=date.fromisoformat(d["data"]).year, data=d["data"],
                      seduta_id=d["seduta_id"], esito=Jsonb(d["esito"]))

    def deliberazione_iscritta(curs: Any, event: CloudEvent) -> None:
        deliberazione(curs, event, stato="iscritta", seduta_id=event.data["seduta_id"])

    def deliberazione_rinviata(curs: Any, event: CloudEvent) -> None:
        deliberazione(curs, event, stato="proposta", seduta_id=None)

    # -- proposte dei tavoli -----------------------------------------------------------------------
    def proposta_tavolo_ricevuta(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, proposta_id, tavolo_id, piano_id, titolo, area, intervento, formulata_da, "
            "ricevuta_il, stato, sequenza) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'ricevuta', %s) "
            "ON CONFLICT (tenant_id, id) DO NOTHING").format(proposte_tavoli),
            (event.tenantid, d["proposta_tavolo_id"], d["proposta_id"], d["tavolo_id"], d["piano_id"], d["titolo"],
             d["area"], Jsonb(d["intervento"]), d["formulata_da"], event.time, event.sequence))

    def proposta_tavolo_recepita(curs: Any, event: CloudEvent) -> None:
        d = event.data
        aggiorna(curs, event, proposte_tavoli, {"id": d["proposta_tavolo_id"]}, {
            "stato": "recepita", "recepita": Jsonb({k: d[k] for k in ("piano_id", "versione", "area", "obiettivo",
                                                                      "recepita_da")})})

    return {
        PIANO_CREATO: piano_creato, CONTENUTO_AGGIORNATO: contenuto_aggiornato, PIANO_PROPOSTO: proposto,
        VERSIONE_APPROVATA: versione_approvata, PROPOSTA_RESPINTA: proposta_respinta,
        VERSIONE_APERTA: versione_aperta, PIANO_IN_ATTUAZIONE: stato_piano("in_attuazione"),
        PIANO_CONCLUSO: stato_piano("concluso"),
        SEDUTA_CONVOCATA: seduta_convocata,
        SEDUTA_APERTA: lambda curs, event: seduta(curs, event, stato="aperta",
                                                  convocazione=event.data["convocazione"]),
        PRIMA_DESERTA: lambda curs, event: seduta(curs, event, prima_deserta=True),
        VOTAZIONE_CHIUSA: votazione_chiusa,
        SEDUTA_CHIUSA: lambda curs, event: seduta(curs, event, stato="chiusa"),
        DELIBERAZIONE_PROPOSTA: deliberazione_proposta, PROPOSTA_APPROVAZIONE_VERBALE: deliberazione_proposta,
        DELIBERAZIONE_ISCRITTA: deliberazione_iscritta,
        DELIBERAZIONE_RINVIATA: deliberazione_rinviata, DELIBERAZIONE_APPROVATA: deliberazione_approvata,
        DELIBERAZIONE_RESPINTA: deliberazione_respinta,
        PROPOSTA_TAVOLO_RICEVUTA: proposta_tavolo_ricevuta, PROPOSTA_TAVOLO_RECEPITA: proposta_tavolo_recepita,
    }
