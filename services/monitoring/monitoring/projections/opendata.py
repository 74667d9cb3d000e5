"""Contracts and payments for open data, kept from finance's events (tenant tables only).

- ``opendata_impegni``: one row per commitment (``finance.impegno.assunto``): the beneficiary
  (an organisation: denominazione and its 11-digit codice fiscale), CIG, CUP, object, act,
  the Comune it is for, the fund and intervento of its allocation; ``riduzioni`` totals its
  ``finance.impegno.ridotto``;
- ``opendata_pagamenti``: one row per payment order (``finance.mandato.emesso``).

A commitment's events share its allocation's key, so the allocation (``stanziamenti``, kept
by ``esecuzione``) and the commitment precede its reductions and payments. The exports
(OCDS releases, 360Giving rows) are built from these rows by pure functions (``ocds``,
``giving360``) and never reach the regional tables.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from ambiti_kit.envelope import CloudEvent
from ambiti_kit.readmodel import ReadModel
from ambiti_kit.values import euro

from monitoring.projections.esecuzione import IMPEGNO_ASSUNTO, IMPEGNO_ASSUNTO_PERSONA, IMPEGNO_RIDOTTO, MANDATO_EMESSO

_log = logging.getLogger("monitoring.projections")

TIPI = (IMPEGNO_ASSUNTO, IMPEGNO_ASSUNTO_PERSONA, IMPEGNO_RIDOTTO, MANDATO_EMESSO)
#: how a person paid by the Ambito appears in open data: never by name or codice fiscale (GDPR art. 5 c. 1
#: lett. c, data minimisation; D.Lgs. 33/2013 art. 26 c. 4 excludes identifying natural persons where the
#: data could reveal health or social hardship, which a social service's payee list can)
PERSONA_FISICA = "Persona fisica (dati identificativi non pubblicati)"
#: OCDS identifier prefix of this publisher (ocid = prefix-tenant-impegno)
OCID_PREFIX = "ocds-ambiti"

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.opendata_impegni (
        tenant_id text NOT NULL, impegno_id uuid NOT NULL, stanziamento_id uuid NOT NULL, fondo text,
        annualita int, intervento text, comune text, beneficiario_denominazione text,
        beneficiario_codice_fiscale text, cig text, cup text, oggetto text NOT NULL, atto_tipo text,
        atto_numero text, atto_data date, importo numeric(18, 2) NOT NULL, riduzioni numeric(18, 2) NOT NULL DEFAULT 0,
        assunto_il timestamptz NOT NULL, PRIMARY KEY (tenant_id, impegno_id))""",
    """CREATE TABLE IF NOT EXISTS {schema}.opendata_pagamenti (
        tenant_id text NOT NULL, mandato_id uuid NOT NULL, impegno_id uuid NOT NULL, liquidazione_id uuid NOT NULL,
        importo numeric(18, 2) NOT NULL, data date NOT NULL, emesso_il timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, mandato_id))""",
]
TENANT_TABLES = ["opendata_impegni", "opendata_pagamenti"]
REGIONAL_TABLES: list[str] = []


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Atto(_Data):
    tipo: str | None = None
    numero: str | None = None
    data: date | None = None


class ImpegnoAssunto(_Data):
    stanziamento_id: uuid.UUID
    impegno_id: uuid.UUID
    importo: Decimal
    beneficiario: dict[str, Any]
    cig: str | None = None
    cup: str | None = None
    atto: Atto
    oggetto: str
    comune: str | None = None


class ImpegnoRidotto(_Data):
    impegno_id: uuid.UUID
    importo: Decimal


class MandatoEmesso(_Data):
    mandato_id: uuid.UUID
    impegno_id: uuid.UUID
    liquidazione_id: uuid.UUID
    importo: Decimal
    data: date


def project_opendata(schema: str) -> Any:
    def t(name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    impegni, pagamenti, stanziamenti = t("opendata_impegni"), t("opendata_pagamenti"), t("stanziamenti")

    def assunto(curs: Any, event: CloudEvent) -> None:
        d = ImpegnoAssunto.model_validate(event.data)
        if event.type == IMPEGNO_ASSUNTO_PERSONA:
            d = d.model_copy(update={"beneficiario": {"denominazione": PERSONA_FISICA}})
        curs.execute(sql.SQL("SELECT fondo, annualita, intervento FROM {} WHERE tenant_id = %s AND "
                             "stanziamento_id = %s").format(stanziamenti), (event.tenantid, d.stanziamento_id))
        s = curs.fetchone()
        if s is None:
            # As in ``esecuzione``: the allocation's ``aperto`` came first on the same key, so a
            # missing row means it was refused or predates this read model. Applied without effect.
            _log.warning("commitment of an allocation this read model does not hold: not published",
                         extra={"ce_type": event.type, "ce_id": event.id, "tenantid": event.tenantid})
            return
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, impegno_id, stanziamento_id, fondo, annualita, intervento, comune, "
            "beneficiario_denominazione, beneficiario_codice_fiscale, cig, cup, oggetto, atto_tipo, atto_numero, "
            "atto_data, importo, assunto_il) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s) ON CONFLICT (tenant_id, impegno_id) DO NOTHING").format(impegni),
            (event.tenantid, d.impegno_id, d.stanziamento_id, s["fondo"], s["annualita"],
             s["intervento"], d.comune, d.beneficiario.get("denominazione"),
             d.beneficiario.get("codice_fiscale"), d.cig, d.cup, d.oggetto, d.atto.tipo, d.atto.numero, d.atto.data,
             d.importo, event.time))

    def ridotto(curs: Any, event: CloudEvent) -> None:
        d = ImpegnoRidotto.model_validate(event.data)
        curs.execute(sql.SQL("UPDATE {} SET riduzioni = riduzioni + %s WHERE tenant_id = %s AND impegno_id = %s")
                     .format(impegni), (d.importo, event.tenantid, d.impegno_id))

    def mandato(curs: Any, event: CloudEvent) -> None:
        d = MandatoEmesso.model_validate(event.data)
        # Only payments of a commitment this read model holds (the same key brought it first).
        curs.execute(sql.SQL(
            "INSERT INTO {} (tenant_id, mandato_id, impegno_id, liquidazione_id, importo, data, emesso_il) "
            "SELECT %s, %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM {} WHERE tenant_id = %s AND "
            "impegno_id = %s) ON CONFLICT (tenant_id, mandato_id) DO NOTHING").format(pagamenti, impegni),
            (event.tenantid, d.mandato_id, d.impegno_id, d.liquidazione_id, d.importo, d.data, event.time,
             event.tenantid, d.impegno_id))

    handlers = {IMPEGNO_ASSUNTO: assunto, IMPEGNO_ASSUNTO_PERSONA: assunto, IMPEGNO_RIDOTTO: ridotto,
                MANDATO_EMESSO: mandato}

    def project(curs: Any, event: CloudEvent) -> None:
        handlers[event.type](curs, event)

    return project


# -- exports (pure) ---------------------------------------------------------------------------------

def ocds(tenant: str, impegni: Iterable[Mapping[str, Any]], pagamenti: Iterable[Mapping[str, Any]],
         pubblicato: datetime) -> dict[str, Any]:
    """An OCDS release package: one release per commitment (tender, award, contract,
    implementation.transactions = its payment orders). Amounts are numbers in EUR as OCDS
    requires (``value.amount``), computed from the decimal strings (net of reductions)."""
    per_impegno: dict[Any, list[Mapping[str, Any]]] = {}
    for p in pagamenti:
        per_impegno.setdefault(p["impegno_id"], []).append(p)
    buyer = {"id": f"IT-AMBITO-{tenant}", "name": f"Ufficio di Piano {tenant}"}
    releases = []
    for i in impegni:
        netto = Decimal(i["importo"]) - Decimal(i["riduzioni"])
        ocid = f"{OCID_PREFIX}-{tenant}-{i['impegno_id']}"
        supplier = {"id": f"IT-CF-{i['beneficiario_codice_fiscale']}", "name": i["beneficiario_denominazione"]}
        value = {"amount": float(euro(netto)), "currency": "EUR"}
        releases.append({
            "ocid": ocid, "id": f"{ocid}-{i['assunto_il'].date().isoformat()}", "date": i["assunto_il"].isoformat(),
            "tag": ["contract", "implementation"], "initiationType": "tender", "language": "it",
            "buyer": buyer, "parties": [{**buyer, "roles": ["buyer"]}, {**supplier, "roles": ["supplier"]}],
            "tender": {"id": i["cig"] or str(i["impegno_id"]), "title": i["oggetto"], "status": "complete"},
            "awards": [{"id": f"{i['impegno_id']}-award", "title": i["oggetto"], "status": "active", "value": value,
                        "suppliers": [supplier], "date": i["assunto_il"].isoformat()}],
            "contracts": [{
                "id": str(i["impegno_id"]), "awardID": f"{i['impegno_id']}-award", "title": i["oggetto"],
                "status": "active", "value": value, "dateSigned": i["atto_data"].isoformat() if i["atto_data"] else None,
                "implementation": {"transactions": [
                    {"id": str(p["mandato_id"]), "source": i["fondo"], "date": p["data"].isoformat(),
                     "value": {"amount": float(euro(Decimal(p["importo"]))), "currency": "EUR"},
                     "payer": buyer, "payee": supplier}
                    for p in sorted(per_impegno.get(i["impegno_id"], []), key=lambda p: (p["data"], str(p["mandato_id"])))]},
            }],
            "planning": {"budget": {"description": f"{i['fondo']} {i['annualita']} – intervento {i['intervento']}",
                                    "project": i["intervento"], "projectID": i["cup"]}},
        })
    return {"uri": f"/opendata/ocds.json?ambito={tenant}", "version": "1.1", "publishedDate": pubblicato.isoformat(),
            "publisher": {"name": buyer["name"]}, "releases": releases}


#: the 360Giving columns, in order
COLONNE_360 = ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
               "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
               "Grant Programme:Title", "Beneficiary Location:Geographic Code", "Last Modified")


def giving360(tenant: str, impegni: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Rows of the 360Giving layout (``COLONNE_360``), one per commitment, amounts net of
    reductions as two-decimal strings; the recipient's identifier is its codice fiscale."""
    righe = []
    for i in impegni:
        netto = Decimal(i["importo"]) - Decimal(i["riduzioni"])
        righe.append([
            f"360G-ambiti-{tenant}-{i['impegno_id']}", i["oggetto"],
            f"{i['oggetto']} (CIG {i['cig'] or '-'}, atto {i['atto_tipo'] or ''} {i['atto_numero'] or ''})".strip(),
            "EUR", euro(netto), (i["atto_data"] or i["assunto_il"].date()).isoformat(),
            f"IT-CF-{i['beneficiario_codice_fiscale']}", i["beneficiario_denominazione"] or "",
            f"IT-AMBITO-{tenant}", f"Ufficio di Piano {tenant}", f"{i['fondo'] or ''} {i['annualita'] or ''}".strip(),
            i["comune"] or "", i["assunto_il"].isoformat()])
    return righe


# -- queries --------------------------------------------------------------------------------

def impegni_e_pagamenti(read_model: ReadModel, tenant: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every commitment of the Ambito (by date) and every payment order, read in one transaction."""
    with read_model.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT * FROM {} ORDER BY assunto_il, impegno_id").format(
            read_model.table("opendata_impegni")))
        impegni = curs.fetchall()
        curs.execute(sql.SQL("SELECT * FROM {} ORDER BY emesso_il, mandato_id").format(
            read_model.table("opendata_pagamenti")))
        pagamenti = curs.fetchall()
    return impegni, pagamenti
