"""The registry of partners: Enti del Terzo Settore, public partners and unions.

An ``Ente`` is identified in its Ambito by its codice fiscale (11 digits: organisations
only). A third-sector body (``ets``) names its RUNTS section, its repertorio number and its
legal form; a public partner (``pubblico``) its category (ASL, Centro per l'Impiego, …).
Every change is an ``Aggiornato`` event carrying what changed from what, so the history
of the record is the list of its events. The ``referenti`` are the subjects of the
``referente_ets`` users who act for the ente: tokens carry no organisation claim, so the
binding is kept here, set by the coordinatore, and mirrored by a ``ReferenteEts`` whose id
is derived from the subject so the server resolves a token to its ente in one read.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid
from ambiti_kit.values import verifica_codice_fiscale_ente, verifica_istat_comune

from partnership.domain.valori import verifica_testo_libero

TIPI = ("ets", "pubblico", "sindacato")
#: the seven sections of the Registro Unico Nazionale del Terzo Settore (art. 46 D.Lgs. 117/2017)
SEZIONI_RUNTS = ("odv", "aps", "enti_filantropici", "imprese_sociali", "reti_associative", "soms", "altri_ets")
CATEGORIE_PUBBLICHE = ("asl", "centro_impiego", "scuola", "uepe", "comune", "provincia", "ussm", "altro")
NUMERO_REPERTORIO = re.compile(r"^\d{1,10}$")
SUBJECT = re.compile(r"^[A-Za-z0-9._@:+-]{3,128}$")
#: the fields of the record, in the order the history shows them
CAMPI = ("tipo", "denominazione", "forma_giuridica", "runts", "categoria", "comune_sede")


def verifica_dati(dati: dict[str, Any]) -> dict[str, Any]:
    """Check a record of the registry; returns it normalised (only the known fields)."""
    tipo = dati.get("tipo")
    if tipo not in TIPI:
        raise RuleViolation(f"Tipo di ente non ammesso: {tipo!r} (ets, pubblico, sindacato).", rule="ente.tipo",
                            field="tipo")
    denominazione = str(dati.get("denominazione") or "").strip()
    if len(denominazione) < 2:
        raise RuleViolation("Un ente ha una denominazione.", rule="ente.denominazione", field="denominazione")
    verifica_testo_libero(denominazione, "denominazione")
    runts, categoria = dati.get("runts"), dati.get("categoria")
    forma = (dati.get("forma_giuridica") or "").strip() or None
    if tipo == "ets":
        if not runts:
            raise RuleViolation("Un Ente del Terzo Settore indica la sezione e il numero di iscrizione al RUNTS.",
                                rule="ente.runts_richiesto", field="runts")
        if runts.get("sezione") not in SEZIONI_RUNTS:
            raise RuleViolation(f"Sezione RUNTS sconosciuta: {runts.get('sezione')!r} "
                                f"(ammesse: {', '.join(SEZIONI_RUNTS)}).", rule="ente.runts_sezione",
                                field="runts.sezione")
        if not NUMERO_REPERTORIO.match(str(runts.get("numero_repertorio") or "")):
            raise RuleViolation("Il numero di repertorio RUNTS è di sole cifre.", rule="ente.runts_numero",
                                field="runts.numero_repertorio")
        if not forma:
            raise RuleViolation("Un Ente del Terzo Settore indica la forma giuridica.", rule="ente.forma_giuridica",
                                field="forma_giuridica")
        runts = {"sezione": runts["sezione"], "numero_repertorio": str(runts["numero_repertorio"])}
    elif runts:
        raise RuleViolation("Solo gli Enti del Terzo Settore sono iscritti al RUNTS.", rule="ente.runts_solo_ets",
                            field="runts")
    if tipo == "pubblico":
        if categoria not in CATEGORIE_PUBBLICHE:
            raise RuleViolation(f"Categoria di ente pubblico non ammessa: {categoria!r} "
                                f"(ammesse: {', '.join(CATEGORIE_PUBBLICHE)}).", rule="ente.categoria",
                                field="categoria")
    elif categoria is not None:
        raise RuleViolation("La categoria si indica solo per gli enti pubblici.", rule="ente.categoria_solo_pubblici",
                            field="categoria")
    comune = dati.get("comune_sede")
    if comune is not None:
        verifica_istat_comune(comune, "comune_sede")
    return {"tipo": tipo, "denominazione": denominazione, "forma_giuridica": forma, "runts": runts,
            "categoria": categoria, "comune_sede": comune}


class Ente(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, codice_fiscale: str, **_: object) -> uuid.UUID:
        """One record per organisation in an Ambito: the id is derived from its codice fiscale."""
        return tenant_uuid(tenant_id, "ente", codice_fiscale)

    @event("Registrato")
    def __init__(self, tenant_id: str, codice_fiscale: str, dati: dict, registrato_da: str) -> None:
        self.tenant_id = tenant_id
        self.codice_fiscale = codice_fiscale
        self.registrato_da = registrato_da
        self.referenti: list[str] = []
        self._applica(dati)

    @classmethod
    def registra(cls, tenant_id: str, codice_fiscale: str, dati: dict, autore: str) -> "Ente":
        verifica_codice_fiscale_ente(codice_fiscale)
        return cls(tenant_id=tenant_id, codice_fiscale=codice_fiscale, dati=verifica_dati(dati),
                   registrato_da=autore)

    @property
    def dati(self) -> dict[str, Any]:
        return {campo: getattr(self, campo) for campo in CAMPI}

    def aggiorna(self, dati: dict, autore: str) -> bool:
        """Record the changed fields (with their previous values); False when nothing changed."""
        nuovi = verifica_dati(dati)
        modifiche = {campo: {"prima": getattr(self, campo), "dopo": nuovi[campo]}
                     for campo in CAMPI if getattr(self, campo) != nuovi[campo]}
        if not modifiche:
            return False
        self._aggiornato(modifiche=modifiche, aggiornato_da=autore)
        return True

    @event("Aggiornato")
    def _aggiornato(self, modifiche: dict, aggiornato_da: str) -> None:
        self._applica({**self.dati, **{campo: m["dopo"] for campo, m in modifiche.items()}})

    def _applica(self, dati: dict) -> None:
        for campo in CAMPI:
            setattr(self, campo, dati.get(campo))

    # -- referenti -------------------------------------------------------------------------
    def abilita_referente(self, subject: str, autore: str) -> None:
        if not SUBJECT.match(subject):
            raise RuleViolation("L'identificativo del referente (subject del token) non è valido.",
                                rule="referente.subject", field="subject")
        if subject in self.referenti:
            raise Conflict("Il referente è già abilitato per questo ente.", rule="referente.gia_abilitato")
        self._referente_abilitato(subject=subject, abilitato_da=autore)

    @event("ReferenteAbilitato")
    def _referente_abilitato(self, subject: str, abilitato_da: str) -> None:
        self.referenti.append(subject)

    def revoca_referente(self, subject: str, autore: str) -> None:
        if subject not in self.referenti:
            raise RuleViolation("Il referente non è abilitato per questo ente.", rule="referente.abilitato",
                                field="subject")
        self._referente_revocato(subject=subject, revocato_da=autore)

    @event("ReferenteRevocato")
    def _referente_revocato(self, subject: str, revocato_da: str) -> None:
        self.referenti.remove(subject)

    def come_parte(self) -> dict[str, str]:
        """How other aggregates name this ente: its codice fiscale and denominazione at that time."""
        return {"ente_id": str(self.id), "codice_fiscale": self.codice_fiscale, "denominazione": self.denominazione}


class ReferenteEts(TenantAggregate):
    """Which ente a ``referente_ets`` subject acts for (one at a time in an Ambito)."""

    @staticmethod
    def create_id(tenant_id: str, subject: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "referente-ets", subject)

    @event("Associato")
    def __init__(self, tenant_id: str, subject: str, ente_id: uuid.UUID) -> None:
        self.tenant_id = tenant_id
        self.subject = subject
        self.ente_id: uuid.UUID | None = ente_id

    def associa(self, ente_id: uuid.UUID) -> None:
        if self.ente_id is not None:
            raise Conflict("Il referente agisce già per un altro ente: revocarlo prima.",
                           rule="referente.un_ente")
        self._associato(ente_id=ente_id)

    @event("Riassociato")
    def _associato(self, ente_id: uuid.UUID) -> None:
        self.ente_id = ente_id

    def dissocia(self) -> None:
        self._dissociato()

    @event("Dissociato")
    def _dissociato(self) -> None:
        self.ente_id = None
