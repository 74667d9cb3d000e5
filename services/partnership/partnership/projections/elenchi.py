"""partnership's read model of its own events, fed in process from its own notification log.

partnership reads each ente, tavolo, procedure, accreditation and award by id from its
event store; the lists (``GET /enti``, ``/tavoli``, ``/procedure``, ``/accreditamenti``,
``/affidamenti``) are queries on these tables instead. The kit's projector
(``ambiti_kit.projector``) maps each of partnership's own events to its integration event
(only the fields ``partnership.integration.outbound`` puts on the wire) and projects it into
RLS-protected tables before the write's HTTP response leaves (read-your-writes, broker or not):

- ``enti``: the registry (codice fiscale, tipo, denominazione, forma giuridica, RUNTS
  sezione/numero, categoria, Comune di sede, time of the last event);
- ``tavoli`` with ``tavoli_membri`` (the current members, by key: an ente's codice fiscale
  or ``<ISTAT>:<ruolo>``) and the ids of its meetings and proposals (counted);
- ``procedure`` with ``procedure_enti`` (the enti that expressed interest: a referente
  lists only those procedures, as it reads only those by id);
- ``accreditamenti`` (validity, renewal, revocation) and ``affidamenti``.

Every row carries ``tenant_id`` and every table is under row-level security on it: the
projector writes as the unprivileged role in the event's tenant scope and readers see only
their own Ambito. Each event is applied in the transaction that records its tracking
(application ``partnership``), so an event is never applied twice; besides, every
write is idempotent on its own: upserts keyed by the aggregate id, sets of ids for the
meetings and proposals, and the last applied position (``sequenza``) guarding updates of a
row's fields, so an older event replayed cannot overwrite a newer one.

Ordering: events are applied in notification order.
"""

from __future__ import annotations

from typing import Any, Callable

from psycopg import sql

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.eventstore import Schema

#: the notification log these events come from (tracking records name it)
APPLICATION = "partnership"

ENTE_REGISTRATO = "partnership.ente.registrato"
ENTE_AGGIORNATO = "partnership.ente.aggiornato"
REFERENTI_AGGIORNATI = "partnership.ente.referenti_aggiornati"
TAVOLO_ISTITUITO = "partnership.tavolo.istituito"
MEMBRO_AGGIUNTO = "partnership.tavolo.membro_aggiunto"
MEMBRO_RIMOSSO = "partnership.tavolo.membro_rimosso"
RIUNIONE_CONVOCATA = "partnership.tavolo.riunione_convocata"
PROPOSTA_FORMULATA = "partnership.tavolo.proposta_formulata"
AVVISO_PUBBLICATO = "partnership.procedura.avviso_pubblicato"
MANIFESTAZIONE_RICEVUTA = "partnership.procedura.manifestazione_ricevuta"
AMMISSIONE_DECISA = "partnership.procedura.ammissione_decisa"
SESSIONE_TENUTA = "partnership.procedura.sessione_tenuta"
PROGETTO_CONDIVISO = "partnership.procedura.progetto_condiviso"
CONVENZIONE_STIPULATA = "partnership.procedura.convenzione_stipulata"
ACCREDITAMENTO_RILASCIATO = "partnership.accreditamento.rilasciato"
ACCREDITAMENTO_RINNOVATO = "partnership.accreditamento.rinnovato"
ACCREDITAMENTO_REVOCATO = "partnership.accreditamento.revocato"
AFFIDAMENTO_AGGIUDICATO = "partnership.affidamento.aggiudicato"

#: the phase a procedure is in after each of its events (as ``Procedura.fase``), in order
FASI = {AVVISO_PUBBLICATO: "avviso_pubblicato", AMMISSIONE_DECISA: "ammissione", SESSIONE_TENUTA: "sessioni",
        PROGETTO_CONDIVISO: "progetto_condiviso", CONVENZIONE_STIPULATA: "convenzione_stipulata"}
ORDINE_FASI = {fase: i for i, fase in enumerate(FASI.values())}

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.enti (
        tenant_id text NOT NULL, id uuid NOT NULL, codice_fiscale text NOT NULL, tipo text NOT NULL,
        denominazione text NOT NULL, forma_giuridica text, runts_sezione text, runts_numero text, categoria text,
        comune_sede text, ultimo_evento timestamptz NOT NULL, sequenza bigint NOT NULL,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS enti_codice_fiscale ON {schema}.enti (tenant_id, codice_fiscale)",
    """CREATE TABLE IF NOT EXISTS {schema}.tavoli (
        tenant_id text NOT NULL, id uuid NOT NULL, tipo text, nome text, area text,
        riunioni text[] NOT NULL DEFAULT '{{}}', proposte text[] NOT NULL DEFAULT '{{}}',
        PRIMARY KEY (tenant_id, id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.tavoli_membri (
        tenant_id text NOT NULL, tavolo_id uuid NOT NULL, chiave text NOT NULL, tipo text NOT NULL,
        codice_fiscale text, sequenza bigint NOT NULL, PRIMARY KEY (tenant_id, tavolo_id, chiave))""",
    "CREATE INDEX IF NOT EXISTS tavoli_membri_ente ON {schema}.tavoli_membri (tenant_id, codice_fiscale)",
    """CREATE TABLE IF NOT EXISTS {schema}.procedure (
        tenant_id text NOT NULL, id uuid NOT NULL, tipo text, oggetto text, fase text NOT NULL,
        ordine_fase int NOT NULL, scadenza date, piano_id uuid, intervento text, PRIMARY KEY (tenant_id, id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.procedure_enti (
        tenant_id text NOT NULL, procedura_id uuid NOT NULL, codice_fiscale text NOT NULL,
        PRIMARY KEY (tenant_id, procedura_id, codice_fiscale))""",
    """CREATE TABLE IF NOT EXISTS {schema}.accreditamenti (
        tenant_id text NOT NULL, id uuid NOT NULL, codice_fiscale text, denominazione text, intervento text,
        valido_dal date, valido_al date, revocato_il date, sequenza_validita bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS accreditamenti_ente ON {schema}.accreditamenti (tenant_id, codice_fiscale)",
    """CREATE TABLE IF NOT EXISTS {schema}.affidamenti (
        tenant_id text NOT NULL, id uuid NOT NULL, codice_fiscale text NOT NULL, denominazione text NOT NULL,
        piano_id uuid NOT NULL, intervento text NOT NULL, importo numeric(15, 2) NOT NULL, valido_dal date NOT NULL,
        valido_al date NOT NULL, PRIMARY KEY (tenant_id, id))""",
    "CREATE INDEX IF NOT EXISTS affidamenti_piano ON {schema}.affidamenti (tenant_id, piano_id)",
]
TENANT_TABLES = ["enti", "tavoli", "tavoli_membri", "procedure", "procedure_enti", "accreditamenti", "affidamenti"]
#: what partnership/main.py declares
SCHEMA = Schema(ddl=list(DDL), tenant_tables=list(TENANT_TABLES))

Project = Callable[[Any, CloudEvent], None]


def project_elenchi(schema: str) -> Project:
    """One projection for every event type of ``TIPI`` (dispatch on ``event.type``)."""
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    enti, tavoli, membri, procedure = t("enti"), t("tavoli"), t("tavoli_membri"), t("procedure")
    procedure_enti, accreditamenti, affidamenti = t("procedure_enti"), t("accreditamenti"), t("affidamenti")

    # -- enti -----------------------------------------------------------------------------------
    def ente_registrato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        runts = d.get("runts") or {}
        curs.execute(sql.SQL(
            "INSERT INTO {} AS e (tenant_id, id, codice_fiscale, tipo, denominazione, forma_giuridica, runts_sezione, "
            "runts_numero, categoria, comune_sede, ultimo_evento, sequenza) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, id) DO UPDATE SET "
            "codice_fiscale = excluded.codice_fiscale, tipo = excluded.tipo, denominazione = excluded.denominazione, "
            "forma_giuridica = excluded.forma_giuridica, runts_sezione = excluded.runts_sezione, "
            "runts_numero = excluded.runts_numero, categoria = excluded.categoria, "
            "comune_sede = excluded.comune_sede, ultimo_evento = excluded.ultimo_evento, "
            "sequenza = excluded.sequenza WHERE e.sequenza < excluded.sequenza").format(enti),
            (event.tenantid, d["ente_id"], d["codice_fiscale"], d["tipo"], d["denominazione"],
             d.get("forma_giuridica"), runts.get("sezione"), runts.get("numero_repertorio"), d.get("categoria"),
             d.get("comune_sede"), event.time, event.sequence))

    def ente_aggiornato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        nuovi = {campo: m.get("dopo") for campo, m in (d.get("modifiche") or {}).items()}
        valori: dict[str, Any] = {k: nuovi[k] for k in ("tipo", "denominazione", "forma_giuridica", "categoria",
                                                          "comune_sede") if k in nuovi}
        if "runts" in nuovi:
            runts = nuovi["runts"] or {}
            valori["runts_sezione"], valori["runts_numero"] = runts.get("sezione"), runts.get("numero_repertorio")
        aggiorna_ente(curs, event, d["ente_id"], valori)

    def referenti_aggiornati(curs: Any, event: CloudEvent) -> None:
        aggiorna_ente(curs, event, event.data["ente_id"], {})

    def aggiorna_ente(curs: Any, event: CloudEvent, ente_id: str, valori: dict[str, Any]) -> None:
        valori = {**valori, "ultimo_evento": event.time, "sequenza": event.sequence}
        curs.execute(sql.SQL("UPDATE {} SET {} WHERE tenant_id = %s AND id = %s AND sequenza < %s").format(
            enti, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in valori)),
            (*valori.values(), event.tenantid, ente_id, event.sequence))

    # -- tavoli ---------------------------------------------------------------------------------
    def tavolo(curs: Any, event: CloudEvent) -> str:
        """The tavolo's row (created empty if its istituito is missing); returns its id."""
        tavolo_id = event.data["tavolo_id"]
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, id) VALUES (%s, %s) ON CONFLICT (tenant_id, id) DO NOTHING")
                     .format(tavoli), (event.tenantid, tavolo_id))
        return tavolo_id

    def tavolo_istituito(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, tipo, nome, area) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET tipo = excluded.tipo, nome = excluded.nome, "
            "area = excluded.area").format(tavoli),
            (event.tenantid, d["tavolo_id"], d["tipo"], d["nome"], d["area"]))

    def membro_aggiunto(curs: Any, event: CloudEvent) -> None:
        d, tavolo_id = event.data, tavolo(curs, event)
        m = d["membro"]
        curs.execute(sql.SQL(
            "INSERT INTO {} AS m (tenant_id, tavolo_id, chiave, tipo, codice_fiscale, sequenza) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, tavolo_id, chiave) DO UPDATE SET "
            "tipo = excluded.tipo, codice_fiscale = excluded.codice_fiscale, sequenza = excluded.sequenza "
            "WHERE m.sequenza < excluded.sequenza").format(membri),
            (event.tenantid, tavolo_id, d["chiave"], m["tipo"], m.get("codice_fiscale"), event.sequence))

    def membro_rimosso(curs: Any, event: CloudEvent) -> None:
        curs.execute(sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND tavolo_id = %s AND chiave = %s "
                             "AND sequenza < %s").format(membri),
                     (event.tenantid, event.data["tavolo_id"], event.data["chiave"], event.sequence))

    def aggiungi_id(colonna: str, chiave: str) -> Project:
        def project(curs: Any, event: CloudEvent) -> None:
            tavolo_id = tavolo(curs, event)
            curs.execute(sql.SQL("UPDATE {t} SET {c} = array_append({c}, %s) WHERE tenant_id = %s AND id = %s "
                                 "AND NOT (%s = ANY({c}))").format(t=tavoli, c=sql.Identifier(colonna)),
                         (event.data[chiave], event.tenantid, tavolo_id, event.data[chiave]))
        return project

    # -- procedure ------------------------------------------------------------------------------
    def avviso_pubblicato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, tipo, oggetto, fase, ordine_fase, scadenza, piano_id, intervento) "
            "VALUES (%s, %s, %s, %s, %s, 0, %s, %s, %s) ON CONFLICT (tenant_id, id) DO UPDATE SET "
            "tipo = excluded.tipo, oggetto = excluded.oggetto, scadenza = excluded.scadenza, "
            "piano_id = excluded.piano_id, intervento = excluded.intervento").format(procedure),
            (event.tenantid, d["procedura_id"], d["tipo"], d["oggetto"], FASI[AVVISO_PUBBLICATO],
             d["scadenza_manifestazioni"], d.get("piano_id"), d.get("intervento")))

    def fase(curs: Any, event: CloudEvent) -> None:
        """The phase only moves forward: an older event replayed leaves it where it is."""
        nuova = FASI[event.type]
        curs.execute(sql.SQL(
            "INSERT INTO {} AS p (tenant_id, id, fase, ordine_fase) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET fase = excluded.fase, ordine_fase = excluded.ordine_fase "
            "WHERE p.ordine_fase < excluded.ordine_fase").format(procedure),
            (event.tenantid, event.data["procedura_id"], nuova, ORDINE_FASI[nuova]))

    def manifestazione_ricevuta(curs: Any, event: CloudEvent) -> None:
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, procedura_id, codice_fiscale) VALUES (%s, %s, %s) "
                             "ON CONFLICT DO NOTHING").format(procedure_enti),
                     (event.tenantid, event.data["procedura_id"], event.data["codice_fiscale"]))

    # -- accreditamenti e affidamenti -------------------------------------------------------------
    def accreditamento_rilasciato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} AS a (tenant_id, id, codice_fiscale, denominazione, intervento, valido_dal, valido_al, "
            "sequenza_validita) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, id) DO UPDATE SET "
            "codice_fiscale = excluded.codice_fiscale, denominazione = excluded.denominazione, "
            "intervento = excluded.intervento, valido_dal = excluded.valido_dal, "
            "valido_al = CASE WHEN a.sequenza_validita < excluded.sequenza_validita THEN excluded.valido_al "
            "ELSE a.valido_al END, sequenza_validita = greatest(a.sequenza_validita, excluded.sequenza_validita)")
            .format(accreditamenti),
            (event.tenantid, d["accreditamento_id"], d["codice_fiscale"], d["denominazione"], d.get("intervento"),
             d["valido_dal"], d["valido_al"], event.sequence))

    def accreditamento_rinnovato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} AS a (tenant_id, id, valido_al, sequenza_validita) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET valido_al = excluded.valido_al, "
            "sequenza_validita = excluded.sequenza_validita WHERE a.sequenza_validita < excluded.sequenza_validita")
            .format(accreditamenti), (event.tenantid, d["accreditamento_id"], d["valido_al"], event.sequence))

    def accreditamento_revocato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, revocato_il) VALUES (%s, %s, %s) "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET revocato_il = excluded.revocato_il").format(accreditamenti),
            (event.tenantid, d["accreditamento_id"], d["revocato_il"]))

    def affidamento_aggiudicato(curs: Any, event: CloudEvent) -> None:
        d = event.data
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, id, codice_fiscale, denominazione, piano_id, intervento, importo, "
            "valido_dal, valido_al) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, id) "
            "DO UPDATE SET codice_fiscale = excluded.codice_fiscale, denominazione = excluded.denominazione, "
            "piano_id = excluded.piano_id, intervento = excluded.intervento, importo = excluded.importo, "
            "valido_dal = excluded.valido_dal, valido_al = excluded.valido_al").format(affidamenti),
            (event.tenantid, d["affidamento_id"], d["codice_fiscale"], d["denominazione"], d["piano_id"],
             d["intervento"], d["importo"], d["valido_dal"], d["valido_al"]))

    handlers: dict[str, Project] = {
        ENTE_REGISTRATO: ente_registrato, ENTE_AGGIORNATO: ente_aggiornato,
        REFERENTI_AGGIORNATI: referenti_aggiornati,
        TAVOLO_ISTITUITO: tavolo_istituito, MEMBRO_AGGIUNTO: membro_aggiunto, MEMBRO_RIMOSSO: membro_rimosso,
        RIUNIONE_CONVOCATA: aggiungi_id("riunioni", "riunione_id"),
        PROPOSTA_FORMULATA: aggiungi_id("proposte", "proposta_id"),
        AVVISO_PUBBLICATO: avviso_pubblicato, MANIFESTAZIONE_RICEVUTA: manifestazione_ricevuta,
        AMMISSIONE_DECISA: fase, SESSIONE_TENUTA: fase, PROGETTO_CONDIVISO: fase, CONVENZIONE_STIPULATA: fase,
        ACCREDITAMENTO_RILASCIATO: accreditamento_rilasciato, ACCREDITAMENTO_RINNOVATO: accreditamento_rinnovato,
        ACCREDITAMENTO_REVOCATO: accreditamento_revocato, AFFIDAMENTO_AGGIUDICATO: affidamento_aggiudicato,
    }

    def project(curs: Any, event: CloudEvent) -> None:
        handlers[event.type](curs, event)

    return project


#: the event types the read model reads (every other type on the topic is ignored)
TIPI = (ENTE_REGISTRATO, ENTE_AGGIORNATO, REFERENTI_AGGIORNATI, TAVOLO_ISTITUITO, MEMBRO_AGGIUNTO, MEMBRO_RIMOSSO,
        RIUNIONE_CONVOCATA, PROPOSTA_FORMULATA, AVVISO_PUBBLICATO, MANIFESTAZIONE_RICEVUTA, AMMISSIONE_DECISA,
        SESSIONE_TENUTA, PROGETTO_CONDIVISO, CONVENZIONE_STIPULATA, ACCREDITAMENTO_RILASCIATO,
        ACCREDITAMENTO_RINNOVATO, ACCREDITAMENTO_REVOCATO, AFFIDAMENTO_AGGIUDICATO)
