"""The content-addressed store of attachments: the bytes of a document, keyed by its SHA-256, per Ambito.

Events carry a document's hash and size, never its bytes (the event store is the audit record,
and a PDF of a budget does not belong in it). The bytes live in planning's own schema, in
``allegati`` (tenant_id, sha256): one row per Ambito and content, under the same row-level
security as the lists, so a hash of another Ambito's document finds nothing (404). Storing is
idempotent (the same bytes twice are one row) and happens before the event that references
them, so an event never names bytes that are not there; bytes whose event was not stored are
unreferenced and harmless. This table is not a read model: a rebuild from the log never touches
it (``planning.projections.TABLES`` leaves it out).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from psycopg import sql

from ambiti_kit.errors import Conflict, DomainError, NotFound, RuleViolation
from ambiti_kit.readmodel import ReadModel

#: the largest attachment accepted (the service's request limit, AMBITI_MAX_BODY_BYTES, is larger)
MAX_ALLEGATO = 2 * 1024 * 1024
#: what an office attaches to an act
TIPI_AMMESSI = ("application/pdf", "text/plain", "text/markdown", "application/xml", "image/png", "image/jpeg",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.oasis.opendocument.text", "application/octet-stream")

DDL = [
    """CREATE TABLE IF NOT EXISTS {schema}.allegati (
        tenant_id text NOT NULL, sha256 text NOT NULL, dimensione int NOT NULL, media_type text NOT NULL,
        contenuto bytea NOT NULL, salvato_il timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, sha256))""",
]
TABLE = "allegati"


class TroppoGrande(DomainError):
    status = 413
    title = "Allegato troppo grande"


@dataclass(frozen=True)
class Documento:
    sha256: str
    dimensione: int
    media_type: str
    contenuto: bytes


def impronta(contenuto: bytes) -> str:
    return hashlib.sha256(contenuto).hexdigest()


def verifica(contenuto: bytes, media_type: str) -> None:
    if not contenuto:
        raise RuleViolation("L'allegato è vuoto.", rule="allegato.vuoto", field="body")
    if len(contenuto) > MAX_ALLEGATO:
        raise TroppoGrande(f"L'allegato è di {len(contenuto)} byte: il limite è {MAX_ALLEGATO} byte (2 MiB).",
                           rule="allegato.dimensione", field="body")
    if media_type not in TIPI_AMMESSI:
        raise RuleViolation(f"Tipo di contenuto non ammesso per un allegato: {media_type[:80]!r} (ammessi: "
                            f"{', '.join(TIPI_AMMESSI)}).", rule="allegato.tipo", field="header.Content-Type")


def salva(read_model: ReadModel, tenant: str, contenuto: bytes, media_type: str) -> Documento:
    """Keep the bytes (once per content and Ambito); returns their hash and size."""
    verifica(contenuto, media_type)
    documento = Documento(impronta(contenuto), len(contenuto), media_type, contenuto)
    with read_model.scoped(tenant=tenant, commit=True) as curs:
        curs.execute(sql.SQL("INSERT INTO {} (tenant_id, sha256, dimensione, media_type, contenuto) "
                             "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant_id, sha256) DO NOTHING")
                     .format(read_model.table(TABLE)),
                     (tenant, documento.sha256, documento.dimensione, media_type, contenuto))
    return documento


def leggi(read_model: ReadModel, tenant: str, sha256: str) -> Documento:
    """The bytes of ``sha256`` of this Ambito; another Ambito's are as absent as missing ones (404)."""
    with read_model.scoped(tenant=tenant) as curs:
        curs.execute(sql.SQL("SELECT sha256, dimensione, media_type, contenuto FROM {} WHERE sha256 = %s")
                     .format(read_model.table(TABLE)), (sha256,))
        row = curs.fetchone()
    if row is None:
        raise NotFound(f"Allegato {sha256} non trovato.")
    contenuto = bytes(row["contenuto"])
    if impronta(contenuto) != row["sha256"]:  # the store itself was altered
        raise Conflict("Il contenuto dell'allegato non corrisponde più alla sua impronta: archivio alterato.",
                       rule="allegato.integrita")
    return Documento(row["sha256"], row["dimensione"], row["media_type"], contenuto)
