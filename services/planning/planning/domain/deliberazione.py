"""Proposte di deliberazione and the deliberations they become.

A proposal is written by the Ufficio di Piano, put on a seduta's agenda and voted; if the
Comitato approves it, it becomes deliberation ``n/anno`` (the next number of that year in
the Ambito's register) and never changes again: a correction is a new deliberation of type
``rettifica`` that references it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

from planning.domain.regole_voto import Maggioranza, Soglia

@dataclass(frozen=True)
class TipoDeliberazione:
    """Reference data of one deliberation type: its name, what it must reference, the majority it
    needs unless the Ambito's regolamento sets another (``None``: the ordinary one), and its source."""

    nome: str
    riferimenti: tuple[str, ...]
    fonte: str
    maggioranza: Maggioranza | None = None
    #: proposed from the Piano itself (POST /piani/{id}/versioni/{n}/proposta), not from /deliberazioni
    dal_piano: bool = False

    def come_dict(self, codice: str) -> dict:
        return {"codice": codice, "nome": self.nome, "riferimenti_obbligatori": list(self.riferimenti),
                "maggioranza_predefinita": self.maggioranza.come_dict() if self.maggioranza else None,
                "fonte": self.fonte, "dal_piano": self.dal_piano}


#: Two thirds of the members assigned, by heads and by weight: the majority that TUEL (D.Lgs. 267/2000)
#: art. 6 c. 4 requires for a Comune's statuto, applied here by analogy to the Comitato's own
#: regolamento. No law sets it for the Comitato: an Ambito whose regolamento says otherwise configures
#: ``regola.qualificate.regolamento_comitato``.
DUE_TERZI_ASSEGNATI = Maggioranza(Soglia(Fraction(2, 3)), Soglia(Fraction(2, 3)), "assegnati", "assegnati")

TIPI_DI_DELIBERAZIONE: dict[str, TipoDeliberazione] = {
    "approvazione_piano": TipoDeliberazione(
        "Approvazione del Piano Sociale di Zona", ("piano_id", "versione"),
        "L. 328/2000 art. 19 c. 1-2 (Piano di zona, adottato con accordo di programma)", dal_piano=True),
    "approvazione_aggiornamento": TipoDeliberazione(
        "Approvazione dell'aggiornamento del Piano", ("piano_id", "versione"),
        "L. 328/2000 art. 19; legge regionale (aggiornamento annuale / programma attuativo)", dal_piano=True),
    "approvazione_bilancio": TipoDeliberazione(
        "Approvazione del bilancio dell'Ambito", ("anno",), "Convenzione tra i Comuni (D.Lgs. 267/2000 art. 30 c. 2)"),
    "criteri_riparto_costi": TipoDeliberazione(
        "Criteri di ripartizione dei costi tra i Comuni", ("anno",),
        "Convenzione tra i Comuni (D.Lgs. 267/2000 art. 30 c. 2: rapporti finanziari)"),
    "nomina_coordinatore": TipoDeliberazione(
        "Nomina del coordinatore dell'Ufficio di Piano", ("nominativo",),
        "Regolamento dell'Ufficio di Piano; legge regionale"),
    "rettifica": TipoDeliberazione("Rettifica di una deliberazione", ("rettifica_di",),
                                   "Principio di autotutela (L. 241/1990 art. 21-nonies)"),
    "atto_di_indirizzo": TipoDeliberazione("Atto di indirizzo all'Ufficio di Piano", (),
                                           "Regolamento del Comitato; convenzione (D.Lgs. 267/2000 art. 30)"),
    "regolamento_udp": TipoDeliberazione("Regolamento dell'Ufficio di Piano", (),
                                         "Convenzione tra i Comuni (D.Lgs. 267/2000 art. 30); legge regionale"),
    "regolamento_comitato": TipoDeliberazione(
        "Regolamento del Comitato Istituzionale (regola di voto, pesi, deleghe)", (),
        "Convenzione tra i Comuni (D.Lgs. 267/2000 art. 30); maggioranza per analogia con D.Lgs. 267/2000 art. 6 "
        "c. 4 (statuto: due terzi dei componenti assegnati)", DUE_TERZI_ASSEGNATI),
    "convenzione": TipoDeliberazione("Convenzione per la gestione associata (schema o modifica)", (),
                                     "D.Lgs. 267/2000 art. 30"),
    "conto_consuntivo": TipoDeliberazione("Conto consuntivo (rendiconto) dell'Ambito", ("anno",),
                                          "Convenzione tra i Comuni (D.Lgs. 267/2000 art. 30 c. 2)"),
    "parere": TipoDeliberazione("Parere del Comitato", (), "Regolamento del Comitato; legge regionale"),
    "libera": TipoDeliberazione("Deliberazione a oggetto libero", (), "Regolamento del Comitato"),
    #: The verbale of a seduta approved by a vote at a later one. No law sets it for the Comitato: the
    #: regolamento does, as the councils' regolamenti do for their minutes (TUEL art. 38 c. 2 leaves the
    #: functioning of the council to its regolamento). Numbered like every approved deliberation: also
    #: a regolamento's choice.
    "approvazione_verbale": TipoDeliberazione(
        "Approvazione del verbale di una seduta precedente", ("seduta_id", "sha256"),
        "Regolamento del Comitato; convenzione (D.Lgs. 267/2000 art. 30); per analogia D.Lgs. 267/2000 art. 38 c. 2 "
        "(funzionamento del consiglio rimesso al regolamento): scelta di regolamento, non di legge"),
}
TIPI = {codice: t.nome for codice, t in TIPI_DI_DELIBERAZIONE.items()}
#: What each type must reference (checked when the proposal is written).
RIFERIMENTI = {codice: t.riferimenti for codice, t in TIPI_DI_DELIBERAZIONE.items()}
#: the majorities the reference data require, by type (the regolamento's ``qualificate`` prevail)
MAGGIORANZE_PREDEFINITE = {codice: t.maggioranza for codice, t in TIPI_DI_DELIBERAZIONE.items() if t.maggioranza}


def verifica_riferimenti(tipo: str, riferimenti: dict) -> None:
    if tipo not in TIPI:
        raise RuleViolation(f"Tipo di deliberazione non ammesso: {tipo!r}.", rule="deliberazione.tipo", field="tipo")
    mancanti = [r for r in RIFERIMENTI[tipo] if riferimenti.get(r) in (None, "")]
    if mancanti:
        raise RuleViolation(f"Una deliberazione '{tipo}' indica: {', '.join(mancanti)}.",
                            rule="deliberazione.riferimenti", field=f"riferimenti.{mancanti[0]}")
    if tipo == "approvazione_verbale":
        try:
            uuid.UUID(str(riferimenti["seduta_id"]))
        except ValueError:
            raise RuleViolation("La seduta del verbale è indicata dal suo identificativo (UUID).",
                                rule="deliberazione.riferimenti", field="riferimenti.seduta_id") from None
        if not re.fullmatch(r"[0-9a-f]{64}", str(riferimenti["sha256"])):
            raise RuleViolation("L'impronta del verbale è lo SHA-256 in 64 cifre esadecimali minuscole "
                                "(GET /sedute/{id}/verbale).", rule="deliberazione.riferimenti",
                                field="riferimenti.sha256")
    if tipo == "nomina_coordinatore" and riferimenti.get("dal") and riferimenti.get("al") \
            and str(riferimenti["al"]) < str(riferimenti["dal"]):
        raise RuleViolation("La fine dell'incarico non precede l'inizio.", rule="nomina.periodo",
                            field="riferimenti.al")


class Deliberazione(TenantAggregate):
    @event("Proposta")
    def __init__(self, tenant_id: str, tipo: str, oggetto: str, testo: str, riferimenti: dict,
                 proposta_da: str) -> None:
        self.tenant_id = tenant_id
        self.tipo = tipo
        self.oggetto = oggetto
        self.testo = testo
        self.riferimenti = dict(riferimenti)
        self.proposta_da = proposta_da
        self.stato = "proposta"
        self.seduta_id: uuid.UUID | None = None
        self.numero: str | None = None
        self.data: date | None = None
        self.esito: dict | None = None
        #: the documents attached: {sha256, dimensione, media_type, nome, aggiunto_da}, bytes in the store
        self.allegati: list[dict] = []

    @classmethod
    def proponi(cls, tenant_id: str, tipo: str, oggetto: str, testo: str, riferimenti: dict,
                autore: str) -> "Deliberazione":
        verifica_riferimenti(tipo, riferimenti)
        return cls(tenant_id=tenant_id, tipo=tipo, oggetto=oggetto, testo=testo, riferimenti=riferimenti,
                   proposta_da=autore)

    def allega(self, sha256: str, dimensione: int, media_type: str, nome: str, autore: str) -> bool:
        """Attach a document (its bytes already in the store); False when the same one is attached already.
        Only a proposal still open takes attachments: what the Comitato voted on does not change."""
        if self.stato in ("approvata", "respinta"):
            raise Conflict(f"La deliberazione è {self.stato}: i suoi allegati non cambiano più.",
                           rule="deliberazione.immutabile")
        if any(a["sha256"] == sha256 for a in self.allegati):
            return False
        if len(self.allegati) >= 50:
            raise RuleViolation("Una deliberazione ha al più 50 allegati.", rule="allegato.numero", field="body")
        self._allegato(sha256=sha256, dimensione=dimensione, media_type=media_type, nome=nome, aggiunto_da=autore)
        return True

    @event("AllegatoAggiunto")
    def _allegato(self, sha256: str, dimensione: int, media_type: str, nome: str, aggiunto_da: str) -> None:
        self.allegati.append({"sha256": sha256, "dimensione": dimensione, "media_type": media_type, "nome": nome,
                              "aggiunto_da": aggiunto_da})

    def iscrivi(self, seduta_id: uuid.UUID) -> None:
        """Put the proposal on a seduta's agenda."""
        if self.stato != "proposta":
            raise RuleViolation(f"La proposta {self.id} è {self.stato}: non si iscrive all'ordine del giorno.",
                                rule="deliberazione.iscrivibile", field="ordine_del_giorno")
        self._iscritta(seduta_id=seduta_id)

    @event("IscrittaAllOrdineDelGiorno")
    def _iscritta(self, seduta_id: uuid.UUID) -> None:
        self.stato = "iscritta"
        self.seduta_id = seduta_id

    def rinvia(self, seduta_id: uuid.UUID) -> None:
        """The seduta closed without voting it: the proposal can go on another agenda."""
        self._iscritta_in(seduta_id)
        self._rinviata(seduta_id=seduta_id)

    @event("Rinviata")
    def _rinviata(self, seduta_id: uuid.UUID) -> None:
        self.stato = "proposta"
        self.seduta_id = None

    def approva(self, seduta_id: uuid.UUID, numero: int, anno: int, data: date, esito: dict, quorum: dict,
                regola: dict) -> None:
        self._iscritta_in(seduta_id)
        self._approvata(seduta_id=seduta_id, numero=f"{numero}/{anno}", data=data,
                        esito=esito, quorum=quorum, regola=regola)

    @event("Approvata")
    def _approvata(self, seduta_id: uuid.UUID, numero: str, data: date, esito: dict,
                   quorum: dict, regola: dict) -> None:
        self.stato = "approvata"
        self.numero = numero
        self.data = data
        self.esito = esito

    def respingi(self, seduta_id: uuid.UUID, data: date, esito: dict, quorum: dict, regola: dict) -> None:
        self._iscritta_in(seduta_id)
        self._respinta(seduta_id=seduta_id, data=data, esito=esito, quorum=quorum,
                       regola=regola)

    @event("Respinta")
    def _respinta(self, seduta_id: uuid.UUID, data: date, esito: dict, quorum: dict,
                  regola: dict) -> None:
        self.stato = "respinta"
        self.data = data
        self.esito = esito

    def _iscritta_in(self, seduta_id: uuid.UUID) -> None:
        if self.stato == "approvata":
            raise Conflict(f"La deliberazione {self.numero} è approvata e immutabile: si corregge con una "
                           "deliberazione di rettifica.", rule="deliberazione.immutabile")
        if self.stato != "iscritta" or self.seduta_id != seduta_id:
            raise Conflict("La proposta non è all'ordine del giorno di questa seduta.",
                           rule="deliberazione.iscritta")


class RegistroDeliberazioni(TenantAggregate):
    """The Ambito's register of one year: its version sequence makes numbers unique and gapless."""

    @staticmethod
    def create_id(tenant_id: str, anno: int, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "registro-deliberazioni", anno)

    @event("Aperto")
    def __init__(self, tenant_id: str, anno: int) -> None:
        self.tenant_id = tenant_id
        self.anno = anno
        self.numeri: list[uuid.UUID] = []

    def assegna(self, deliberazione_id: uuid.UUID) -> int:
        self._assegnato(numero=len(self.numeri) + 1, deliberazione_id=deliberazione_id)
        return len(self.numeri)

    @event("NumeroAssegnato")
    def _assegnato(self, numero: int, deliberazione_id: uuid.UUID) -> None:
        self.numeri.append(deliberazione_id)
