"""The Piano Sociale di Zona: the triennial plan of one Ambito, and its versions.

Version 1 is the plan itself; annual updates (*aggiornamento annuale*) and the *Piano per
la non autosufficienza* are later versions that reference an approved one. Only a version
in ``bozza`` can be edited; an approved version never changes. The plan's own state is
``bozza → proposto → approvato`` (following version 1), then ``in_attuazione`` once the
Accordo di Programma is signed, then ``concluso``.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

from planning.domain.contenuto import verifica_contenuto

DURATA_ANNI = 3
STATI = ("bozza", "proposto", "approvato", "in_attuazione", "concluso")
TIPI_VERSIONE = ("piano", "aggiornamento_annuale", "piano_non_autosufficienza")
STATI_VERSIONE = ("bozza", "proposta", "approvata")


def verifica_periodo(anno_inizio: int, anno_fine: int) -> None:
    """A Piano di Zona covers three consecutive years (e.g. 2025–2027)."""
    if anno_fine - anno_inizio + 1 != DURATA_ANNI:
        raise RuleViolation(
            f"Il Piano di Zona è triennale: {anno_inizio}–{anno_fine} copre "
            f"{anno_fine - anno_inizio + 1} anni.", rule="piano.periodo_triennale", field="anno_fine")


class PianoDiZona(TenantAggregate):
    @staticmethod
    def create_id(tenant_id: str, anno_inizio: int, anno_fine: int, **_: object) -> uuid.UUID:
        """One plan per Ambito and triennium: its id is derived from that natural key."""
        return tenant_uuid(tenant_id, "piano-di-zona", anno_inizio, anno_fine)

    @event("Creato")
    def __init__(self, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int, creato_da: str) -> None:
        self.tenant_id = tenant_id
        self.titolo = titolo
        self.anno_inizio = anno_inizio
        self.anno_fine = anno_fine
        self.creato_da = creato_da
        self.stato = "bozza"
        self.versioni: dict[int, dict[str, Any]] = {1: _versione("piano", None, titolo, [])}

    @classmethod
    def redigi(cls, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int,
               creato_da: str) -> "PianoDiZona":
        """Draft a new plan (state ``bozza``) after checking the rules of its period."""
        verifica_periodo(anno_inizio, anno_fine)
        return cls(tenant_id=tenant_id, titolo=titolo.strip(), anno_inizio=anno_inizio,
                   anno_fine=anno_fine, creato_da=creato_da)

    # -- reading --------------------------------------------------------------------
    def versione(self, numero: int) -> dict[str, Any]:
        try:
            return self.versioni[numero]
        except KeyError:
            raise RuleViolation(f"Il Piano non ha una versione {numero}.", rule="piano.versione_esistente",
                                field="versione") from None

    @property
    def versione_vigente(self) -> int | None:
        """The latest approved version: the one in force."""
        approvate = [n for n, v in self.versioni.items() if v["stato"] == "approvata"]
        return max(approvate) if approvate else None

    # -- commands -------------------------------------------------------------------
    def aggiorna_contenuto(self, versione: int, aree: list[dict], comuni_ambito: set[str], autore: str) -> None:
        self._modificabile(versione)
        verifica_contenuto(aree, self.anno_inizio, self.anno_fine, comuni_ambito)
        self._contenuto_aggiornato(versione=versione, aree=aree, aggiornato_da=autore)

    @event("ContenutoAggiornato")
    def _contenuto_aggiornato(self, versione: int, aree: list[dict], aggiornato_da: str) -> None:
        self.versioni[versione]["aree"] = copy.deepcopy(aree)

    def proponi(self, versione: int, autore: str) -> None:
        """Submit a draft version to the Comitato Istituzionale."""
        self._modificabile(versione)
        if not any(o["interventi"] for a in self.versioni[versione]["aree"] for o in a["obiettivi"]):
            raise RuleViolation("Una versione senza interventi non può essere proposta al Comitato.",
                                rule="piano.interventi_presenti", field="aree")
        self._proposto(versione=versione, proposto_da=autore)

    @event("Proposto")
    def _proposto(self, versione: int, proposto_da: str) -> None:
        self.versioni[versione]["stato"] = "proposta"
        if versione == 1:
            self.stato = "proposto"

    def approva(self, versione: int, deliberazione_id: uuid.UUID, deliberazione: str) -> None:
        """The Comitato approved ``versione`` with deliberation ``deliberazione`` (e.g. ``12/2026``)."""
        if self.versione(versione)["stato"] != "proposta":
            raise Conflict(f"La versione {versione} non è in attesa di approvazione.", rule="piano.versione_proposta")
        v = self.versioni[versione]
        # the approved content rides on the event: what was approved is readable from it alone
        self._approvato(versione=versione, tipo=v["tipo"], riferimento=v["riferimento"],
                        titolo=v["titolo"], aree=v["aree"], deliberazione_id=deliberazione_id,
                        deliberazione=deliberazione)

    @event("VersioneApprovata")
    def _approvato(self, versione: int, tipo: str, riferimento: int | None, titolo: str,
                   aree: list[dict], deliberazione_id: uuid.UUID, deliberazione: str) -> None:
        v = self.versioni[versione]
        v.update(stato="approvata", deliberazione_id=deliberazione_id, deliberazione=deliberazione)
        if versione == 1:
            self.stato = "approvato"

    def respingi(self, versione: int, deliberazione_id: uuid.UUID) -> None:
        """The Comitato rejected the proposal: the version goes back to ``bozza``."""
        if self.versione(versione)["stato"] != "proposta":
            raise Conflict(f"La versione {versione} non è in attesa di approvazione.", rule="piano.versione_proposta")
        self._respinto(versione=versione, deliberazione_id=deliberazione_id)

    @event("PropostaRespinta")
    def _respinto(self, versione: int, deliberazione_id: uuid.UUID) -> None:
        self.versioni[versione]["stato"] = "bozza"
        if versione == 1:
            self.stato = "bozza"

    def apri_versione(self, tipo: str, riferimento: int, titolo: str, autore: str) -> int:
        """Open an annual update or a Piano per la non autosufficienza on an approved version."""
        if tipo not in TIPI_VERSIONE[1:]:
            raise RuleViolation(f"Tipo di versione non ammesso: {tipo}.", rule="piano.tipo_versione", field="tipo")
        if self.stato == "concluso":
            raise Conflict("Il Piano è concluso.", rule="piano.concluso")
        if self.versione(riferimento)["stato"] != "approvata" or riferimento != self.versione_vigente:
            raise RuleViolation(f"Una nuova versione parte dalla versione vigente ({self.versione_vigente}).",
                                rule="piano.riferimento_vigente", field="riferimento")
        aperte = [n for n, v in self.versioni.items() if v["stato"] != "approvata"]
        if aperte:
            raise Conflict(f"La versione {aperte[0]} è ancora in lavorazione.", rule="piano.una_bozza_alla_volta")
        numero = max(self.versioni) + 1
        self._versione_aperta(versione=numero, tipo=tipo, riferimento=riferimento,
                              titolo=titolo, aree=self.versioni[riferimento]["aree"], aperta_da=autore)
        return numero

    @event("VersioneAperta")
    def _versione_aperta(self, versione: int, tipo: str, riferimento: int, titolo: str,
                         aree: list[dict], aperta_da: str) -> None:
        self.versioni[versione] = _versione(tipo, riferimento, titolo, aree)

    def entra_in_attuazione(self, accordo_id: uuid.UUID, data: date) -> None:
        if self.stato != "approvato":
            raise Conflict("Solo un Piano approvato entra in attuazione.", rule="piano.attuazione_dopo_approvazione")
        self._in_attuazione(accordo_id=accordo_id, data=data)

    @event("EntratoInAttuazione")
    def _in_attuazione(self, accordo_id: uuid.UUID, data: date) -> None:
        self.stato = "in_attuazione"

    def concludi(self, autore: str) -> None:
        """Close the plan; a draft left open is abandoned, a version before the Comitato must be decided first."""
        if self.stato != "in_attuazione":
            raise Conflict("Si conclude solo un Piano in attuazione.", rule="piano.conclusione")
        in_esame = [n for n, v in self.versioni.items() if v["stato"] == "proposta"]
        if in_esame:
            raise Conflict(f"La versione {in_esame[0]} è all'esame del Comitato: attenderne la decisione.",
                           rule="piano.versione_in_esame")
        self._concluso(concluso_da=autore)

    @event("Concluso")
    def _concluso(self, concluso_da: str) -> None:
        self.stato = "concluso"

    def _modificabile(self, versione: int) -> None:
        if self.stato == "concluso":
            raise Conflict("Il Piano è concluso.", rule="piano.concluso")
        stato = self.versione(versione)["stato"]
        if stato == "approvata":
            raise Conflict(f"La versione {versione} è approvata e non si modifica: aprire un aggiornamento.",
                           rule="piano.versione_approvata_immutabile")
        if stato != "bozza":
            raise Conflict(f"La versione {versione} è all'esame del Comitato.", rule="piano.versione_in_esame")


def _versione(tipo: str, riferimento: int | None, titolo: str, aree: list[dict]) -> dict[str, Any]:
    return {"tipo": tipo, "riferimento": riferimento, "titolo": titolo, "aree": copy.deepcopy(aree), "stato": "bozza",
            "deliberazione_id": None, "deliberazione": None}
