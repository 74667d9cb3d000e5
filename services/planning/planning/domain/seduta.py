"""A seduta of the Comitato Istituzionale: convocation, attendance, roll-call votes, outcomes.

The seduta copies the Comitato's members (with their weights) and the decision rule when
it is convened; every later figure is computed from that copy by the pure rule engine
(``regole_voto``). Nothing is decided without the numero legale of the call in which the
seduta was opened: the quorum is checked when it opens, when a vote opens and when it
closes, and each check's figures are stored with the event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ambiti_kit.errors import Conflict, Forbidden, RuleViolation
from ambiti_kit.tenancy import TenantAggregate

from planning.domain.comitato import come_componenti
from planning.domain.deliberazione import MAGGIORANZE_PREDEFINITE
from planning.domain.regole_voto import VOTI, Regola, esito, verifica_quorum


@dataclass(frozen=True)
class Votante:
    """Who casts a vote: a Comune's member (own Comune or by proxy) or the secretary for an advisory member."""

    subject: str
    comune: str | None
    segretario: bool = False


def _senza_documento(state: dict) -> None:
    state["convocazione_sha256"] = None


def _senza_deliberazione(state: dict) -> None:
    state["deliberazione_id"] = None
    state["deliberazione"] = None


class Seduta(TenantAggregate):
    class Convocata(TenantAggregate.Created):
        """v2: the SHA-256 of the convocation document (``planning.domain.convocazione``) generated from
        this event's data and the agenda's proposals; v1 events (before the document existed) have None."""

        class_version = 2
        tenant_id: str
        oggetto: str
        luogo: str
        prima_convocazione: datetime
        seconda_convocazione: datetime | None
        ordine_del_giorno: list[uuid.UUID]
        componenti: list[dict]
        regola: dict
        convocata_da: str
        convocazione_sha256: str | None

        upcast_v1_v2 = staticmethod(_senza_documento)

    @event(Convocata)
    def __init__(self, tenant_id: str, oggetto: str, luogo: str, prima_convocazione: datetime,
                 seconda_convocazione: datetime | None, ordine_del_giorno: list[uuid.UUID],
                 componenti: list[dict], regola: dict, convocata_da: str,
                 convocazione_sha256: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.oggetto = oggetto
        self.luogo = luogo
        self.prima_convocazione = prima_convocazione
        self.seconda_convocazione = seconda_convocazione
        self.ordine_del_giorno = list(ordine_del_giorno)
        self.componenti = [dict(c) for c in componenti]
        self.regola = dict(regola)
        self.convocata_da = convocata_da
        #: the hash of the convocation document, as generated when the seduta was convened
        self.convocazione_sha256 = convocazione_sha256
        self.stato = "convocata"
        self.convocazione: int | None = None
        self.prima_deserta = False
        self.presenze: dict[str, dict[str, Any]] = {}
        self.votazione_aperta: uuid.UUID | None = None
        self.voti: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
        self.esiti: dict[uuid.UUID, dict[str, Any]] = {}
        #: the hash of this seduta's verbale, recorded when it closed (None for sedute closed before)
        self.verbale_sha256: str | None = None
        #: this seduta's own verbale, once approved at a later one: {nella_seduta, sha256, deliberazione...}
        self.verbale_approvato: dict[str, Any] | None = None
        #: the verbali of earlier sedute approved during this one: {seduta_id: sha256}
        self.verbali_approvati: dict[str, str] = {}

    @staticmethod
    def verifica_convocazione(prima: datetime, seconda: datetime | None, ordine_del_giorno: list[uuid.UUID],
                              regola: dict) -> None:
        """The rules of a convocation that need no aggregate (checked before its document is written)."""
        if not ordine_del_giorno:
            raise RuleViolation("L'ordine del giorno non può essere vuoto.", rule="seduta.ordine_del_giorno",
                                field="ordine_del_giorno")
        if len(set(ordine_del_giorno)) != len(ordine_del_giorno):
            raise RuleViolation("Una proposta compare una sola volta all'ordine del giorno.",
                                rule="seduta.ordine_del_giorno_unico", field="ordine_del_giorno")
        if seconda is not None:
            if seconda <= prima:
                raise RuleViolation("La seconda convocazione segue la prima.", rule="seduta.seconda_convocazione",
                                    field="seconda_convocazione")
            if 2 not in Regola.da_dict(regola).quorum:
                raise RuleViolation("Il regolamento non prevede la seconda convocazione.",
                                    rule="seduta.seconda_convocazione", field="seconda_convocazione")

    @classmethod
    def convoca(cls, tenant_id: str, oggetto: str, luogo: str, prima: datetime, seconda: datetime | None,
                ordine_del_giorno: list[uuid.UUID], componenti: list[dict], regola: dict, autore: str,
                convocazione_sha256: str | None = None) -> "Seduta":
        cls.verifica_convocazione(prima, seconda, ordine_del_giorno, regola)
        return cls(tenant_id=tenant_id, oggetto=oggetto, luogo=luogo, prima_convocazione=prima,
                   seconda_convocazione=seconda, ordine_del_giorno=ordine_del_giorno, componenti=componenti,
                   regola=regola, convocata_da=autore, convocazione_sha256=convocazione_sha256)

    # -- reading --------------------------------------------------------------------
    @property
    def regola_di_voto(self) -> Regola:
        return Regola.da_dict(self.regola)

    def componente(self, componente_id: str) -> dict:
        for c in self.componenti:
            if c["id"] == componente_id:
                return c
        raise Forbidden(f"{componente_id} non è componente del Comitato convocato.", rule="voto.non_componente")

    @property
    def presenti(self) -> set[str]:
        """Members present in person or by proxy."""
        return {m for m, p in self.presenze.items() if p["presente"]}

    def quorum(self, convocazione: int | None = None) -> dict[str, Any]:
        verifica = verifica_quorum(self.regola_di_voto, come_componenti(self.componenti), self.presenti,
                                   convocazione or self.convocazione or 1)
        return verifica.come_dict()

    # -- attendance -----------------------------------------------------------------
    def registra_presenza(self, componente: str, presente: bool, rappresentante: str | None,
                          delega_a: str | None, autore: str) -> None:
        self._non_chiusa()
        if self.votazione_aperta is not None:
            raise Conflict("Durante una votazione le presenze non cambiano.", rule="seduta.presenze_durante_voto")
        self.componente(componente)
        if delega_a is not None:
            if delega_a == componente:
                raise RuleViolation("Un componente non delega sé stesso.", rule="presenza.delega", field="delega_a")
            delegato = self.componente(delega_a)
            if delegato["consultivo"] or delega_a not in self.presenti or self.presenze[delega_a].get("delega_a"):
                raise RuleViolation("La delega va a un componente con voto presente di persona.",
                                    rule="presenza.delega", field="delega_a")
            if not presente:
                raise RuleViolation("Chi delega risulta presente per delega.", rule="presenza.delega",
                                    field="presente")
            massimo = self.regola_di_voto.deleghe_max
            portate = sum(1 for m, p in self.presenze.items()
                          if p["presente"] and p.get("delega_a") == delega_a and m != componente)
            if massimo is not None and portate >= massimo:
                raise RuleViolation(f"{delega_a} porta già {portate} deleghe: il regolamento ne consente al più "
                                    f"{massimo} per delegato.", rule="presenza.deleghe_massime", field="delega_a")
        if delega_a is not None or not presente:
            if any(p.get("delega_a") == componente for p in self.presenze.values() if p["presente"]):
                raise Conflict("Il componente porta deleghe di altri: registrare prima la loro uscita.",
                               rule="presenza.delega_in_uso")
        self._presenza(componente=componente, presente=presente,
                       rappresentante=rappresentante, delega_a=delega_a, registrata_da=autore)

    @event("PresenzaRegistrata")
    def _presenza(self, componente: str, presente: bool, rappresentante: str | None,
                  delega_a: str | None, registrata_da: str) -> None:
        self.presenze[componente] = {"presente": presente, "rappresentante": rappresentante, "delega_a": delega_a}

    # -- opening --------------------------------------------------------------------
    def apri(self, convocazione: int, autore: str, adesso: datetime) -> None:
        """Open the seduta in its 1st call (from the hour it was convened for) or, once the 1st call
        was declared deserted, in its 2nd call (from that hour): never in the 2nd to dodge the 1st."""
        if self.stato != "convocata":
            raise Conflict("La seduta è già stata aperta.", rule="seduta.gia_aperta")
        if convocazione not in (1, 2):
            raise RuleViolation("La convocazione è la 1ª o la 2ª.", rule="seduta.convocazione", field="convocazione")
        if convocazione == 1:
            if self.prima_deserta:
                raise Conflict("La 1ª convocazione è andata deserta: si apre in 2ª.", rule="seduta.prima_deserta")
            self._non_prima(self.prima_convocazione, adesso, "1ª")
        else:
            if self.seconda_convocazione is None:
                raise RuleViolation("La seduta non ha una seconda convocazione.", rule="seduta.seconda_convocazione",
                                    field="convocazione")
            if not self.prima_deserta:
                raise Conflict("Si apre in 2ª convocazione solo dopo aver constatato deserta la 1ª.",
                               rule="seduta.prima_non_deserta")
            self._non_prima(self.seconda_convocazione, adesso, "2ª")
        quorum = self.quorum(convocazione)
        if not quorum["raggiunto"]:
            raise RuleViolation(_senza_numero_legale(quorum), rule="seduta.numero_legale", field="presenze")
        self._aperta(convocazione=convocazione, quorum=quorum, aperta_da=autore)

    @event("Aperta")
    def _aperta(self, convocazione: int, quorum: dict, aperta_da: str) -> None:
        self.stato = "aperta"
        self.convocazione = convocazione

    def dichiara_deserta(self, autore: str, adesso: datetime) -> None:
        """At the hour of the 1st call the members present do not make its numero legale."""
        if self.stato != "convocata" or self.prima_deserta:
            raise Conflict("La 1ª convocazione non è più in corso.", rule="seduta.prima_in_corso")
        self._non_prima(self.prima_convocazione, adesso, "1ª")
        quorum = self.quorum(1)
        if quorum["raggiunto"]:
            raise RuleViolation("In 1ª convocazione c'è il numero legale: la seduta non è deserta.",
                                rule="seduta.non_deserta", field="presenze")
        self._deserta(quorum=quorum, constatata_da=autore)

    @event("PrimaConvocazioneDeserta")
    def _deserta(self, quorum: dict, constatata_da: str) -> None:
        self.prima_deserta = True

    @staticmethod
    def _non_prima(ora: datetime, adesso: datetime, quale: str) -> None:
        if adesso < ora:
            raise Conflict(f"La {quale} convocazione è per le {ora.isoformat()}: non è ancora l'ora.",
                           rule="seduta.ora_convocazione")

    # -- voting ---------------------------------------------------------------------
    def apri_votazione(self, proposta_id: uuid.UUID, autore: str) -> None:
        self._in_corso()
        if proposta_id not in self.ordine_del_giorno:
            raise RuleViolation("La proposta non è all'ordine del giorno.", rule="votazione.ordine_del_giorno",
                                field="proposta_id")
        if self.votazione_aperta is not None:
            raise Conflict("È già aperta un'altra votazione.", rule="votazione.una_alla_volta")
        if proposta_id in self.esiti:
            raise Conflict("La proposta è già stata votata.", rule="votazione.gia_votata")
        quorum = self.quorum()
        if not quorum["raggiunto"]:
            raise RuleViolation(_senza_numero_legale(quorum), rule="seduta.numero_legale", field="presenze")
        self._votazione_aperta(proposta_id=proposta_id, quorum=quorum, aperta_da=autore)

    @event("VotazioneAperta")
    def _votazione_aperta(self, proposta_id: uuid.UUID, quorum: dict, aperta_da: str) -> None:
        self.votazione_aperta = proposta_id
        self.voti[proposta_id] = {}

    def vota(self, proposta_id: uuid.UUID, componente: str, voto: str, votante: Votante) -> None:
        """Record one member's roll-call vote (once), cast by its own Comune, its proxy, or the secretary."""
        self._non_chiusa()
        if voto not in VOTI:
            raise RuleViolation(f"Voto non ammesso: {voto!r}.", rule="voto.valore", field="voto")
        membro = self.componente(componente)
        if self.votazione_aperta != proposta_id:
            raise Conflict("La votazione su questa proposta non è aperta.", rule="voto.votazione_aperta")
        if membro["consultivo"] and not self.regola_di_voto.consultivi_contano:
            raise RuleViolation("I componenti consultivi non votano secondo il regolamento.",
                                rule="voto.consultivo_senza_voto", field="componente")
        if componente not in self.presenti:
            raise RuleViolation(f"{componente} non risulta presente.", rule="voto.presente", field="componente")
        per_delega = self._autorizza(membro, votante)
        if componente in self.voti[proposta_id]:
            raise Conflict(f"{componente} ha già votato su questa proposta.", rule="voto.una_volta")
        self._voto(proposta_id=proposta_id, componente=componente, voto=voto,
                   espresso_da=votante.subject, per_delega=per_delega)

    def _autorizza(self, membro: dict, votante: Votante) -> bool:
        if membro["consultivo"]:
            if votante.segretario:
                return False
        elif votante.comune == membro["id"]:
            if self.presenze[membro["id"]].get("delega_a"):
                raise Forbidden("Il Comune ha delegato il voto ad altro componente.", rule="voto.delegato")
            return False
        elif votante.comune is not None and self.presenze[membro["id"]].get("delega_a") == votante.comune:
            return True
        raise Forbidden(f"Chi vota per {membro['id']} è il suo componente o il suo delegato.",
                        rule="voto.proprio_comune")

    @event("VotoEspresso")
    def _voto(self, proposta_id: uuid.UUID, componente: str, voto: str, espresso_da: str,
              per_delega: bool) -> None:
        self.voti[proposta_id][componente] = {"voto": voto, "espresso_da": espresso_da, "per_delega": per_delega}

    def chiudi_votazione(self, proposta_id: uuid.UUID, autore: str, tipo: str | None = None) -> dict[str, Any]:
        """Close the vote and compute its outcome under the seduta's rule, with the majority the
        proposal's ``tipo`` needs (the regolamento's qualified one, else the type's default, else the
        ordinary one); returns the outcome."""
        self._in_corso()
        if self.votazione_aperta != proposta_id:
            raise Conflict("La votazione su questa proposta non è aperta.", rule="voto.votazione_aperta")
        quorum = self.quorum()
        if not quorum["raggiunto"]:
            raise RuleViolation(_senza_numero_legale(quorum), rule="seduta.numero_legale", field="presenze")
        voti = {m: v["voto"] for m, v in self.voti[proposta_id].items()}
        regola = self.regola_di_voto
        richiesta = regola.maggioranza_per(tipo, MAGGIORANZE_PREDEFINITE)
        risultato = esito(regola, come_componenti(self.componenti), self.presenti, voti, richiesta).come_dict()
        self._votazione_chiusa(proposta_id=proposta_id, quorum=quorum,
                               esito=risultato, regola=self.regola, chiusa_da=autore)
        return risultato

    @event("VotazioneChiusa")
    def _votazione_chiusa(self, proposta_id: uuid.UUID, quorum: dict, esito: dict, regola: dict,
                          chiusa_da: str) -> None:
        self.votazione_aperta = None
        self.esiti[proposta_id] = esito

    def chiudi(self, autore: str) -> list[uuid.UUID]:
        """Close the seduta; returns the proposals left unvoted (they are postponed)."""
        self._non_chiusa()
        if self.votazione_aperta is not None:
            raise Conflict("Chiudere prima la votazione in corso.", rule="seduta.votazione_in_corso")
        self._chiusa(chiusa_da=autore)
        return [p for p in self.ordine_del_giorno if p not in self.esiti]

    @event("Chiusa")
    def _chiusa(self, chiusa_da: str) -> None:
        self.stato = "chiusa"

    # -- minutes ---------------------------------------------------------------------
    def redigi_verbale(self, sha256: str, autore: str) -> None:
        """Record, right after the closing, the hash of the verbale generated from the events up to it."""
        if self.stato != "chiusa":
            raise Conflict("Il verbale si redige a seduta chiusa.", rule="verbale.seduta_chiusa")
        if self.verbale_sha256 is not None:
            raise Conflict("Il verbale della seduta è già redatto.", rule="verbale.gia_redatto")
        self._verbale_redatto(sha256=sha256, redatto_da=autore)

    @event("VerbaleRedatto")
    def _verbale_redatto(self, sha256: str, redatto_da: str) -> None:
        self.verbale_sha256 = sha256

    def verifica_verbale_da_approvare(self, precedente: "Seduta", sha256: str, verbale_sha256: str,
                                      field: str) -> None:
        """An item "approvazione del verbale" of this seduta names an earlier, closed seduta whose
        verbale is not approved yet, by the hash of its text (``verbale_sha256``, as generated now)."""
        if precedente.id == self.id:
            raise RuleViolation("Il verbale di una seduta si approva in una seduta successiva.",
                                rule="verbale.seduta_successiva", field=field)
        if precedente.prima_convocazione >= self.prima_convocazione:
            raise RuleViolation("Il verbale si approva in una seduta convocata dopo quella verbalizzata.",
                                rule="verbale.seduta_successiva", field=field)
        verifica_verbale_approvabile(precedente, sha256, verbale_sha256)

    def approva_verbale_di(self, precedente: "Seduta", sha256: str, verbale_sha256: str, proposta_id: uuid.UUID,
                           numero: str | None, quorum: dict, autore: str) -> None:
        """The Comitato approved, by the vote on proposal ``proposta_id`` (an ``approvazione_verbale``
        deliberation, numbered ``numero``), the verbale of an earlier seduta: the outcome of that vote,
        computed by the rule engine when the vote closed, is what this records."""
        esito = self.esiti.get(proposta_id)
        if esito is None or not esito["approvata"]:
            raise Conflict("Il verbale si approva con l'esito favorevole della votazione sulla proposta.",
                           rule="verbale.votazione")
        self.verifica_verbale_da_approvare(precedente, sha256, verbale_sha256, "proposta_id")
        self._verbale_di_altra(seduta_id=precedente.id, sha256=sha256, quorum=quorum,
                               approvato_da=autore, deliberazione_id=proposta_id, deliberazione=numero)
        precedente._verbale_approvato(nella_seduta=self.id, sha256=sha256, approvato_da=autore,
                                      deliberazione_id=proposta_id, deliberazione=numero)

    class VerbaleDiAltraSedutaApprovato(TenantAggregate.Event):
        """v2: the deliberation (id, number) whose vote approved it; v1 (approval recorded without a vote) None."""

        class_version = 2
        seduta_id: uuid.UUID
        sha256: str
        quorum: dict
        approvato_da: str
        deliberazione_id: uuid.UUID | None
        deliberazione: str | None

        upcast_v1_v2 = staticmethod(_senza_deliberazione)

    @event(VerbaleDiAltraSedutaApprovato)
    def _verbale_di_altra(self, seduta_id: uuid.UUID, sha256: str, quorum: dict, approvato_da: str,
                          deliberazione_id: uuid.UUID | None, deliberazione: str | None) -> None:
        self.verbali_approvati[str(seduta_id)] = sha256

    class VerbaleApprovato(TenantAggregate.Event):
        """v2: the deliberation (id, number) whose vote approved it; v1 (approval recorded without a vote) None."""

        class_version = 2
        nella_seduta: uuid.UUID
        sha256: str
        approvato_da: str
        deliberazione_id: uuid.UUID | None
        deliberazione: str | None

        upcast_v1_v2 = staticmethod(_senza_deliberazione)

    @event(VerbaleApprovato)
    def _verbale_approvato(self, nella_seduta: uuid.UUID, sha256: str, approvato_da: str,
                           deliberazione_id: uuid.UUID | None, deliberazione: str | None) -> None:
        self.verbale_approvato = {"nella_seduta": str(nella_seduta), "sha256": sha256,
                                  "deliberazione_id": str(deliberazione_id) if deliberazione_id else None,
                                  "deliberazione": deliberazione}

    def _non_chiusa(self) -> None:
        if self.stato == "chiusa":
            raise Conflict("La seduta è chiusa.", rule="seduta.chiusa")

    def _in_corso(self) -> None:
        self._non_chiusa()
        if self.stato != "aperta":
            raise Conflict("La seduta non è ancora aperta.", rule="seduta.non_aperta")


def verifica_verbale_approvabile(seduta: Seduta, sha256: str, verbale_sha256: str,
                                 field: str = "riferimenti.sha256") -> None:
    """The verbale of ``seduta`` can be put to the vote: the seduta is closed, its verbale not yet
    approved, and ``sha256`` is the hash of its text as generated now (one approves the text read)."""
    if seduta.stato != "chiusa":
        raise Conflict("Si approva il verbale di una seduta chiusa.", rule="verbale.seduta_chiusa")
    if seduta.verbale_approvato is not None:
        raise Conflict(f"Il verbale di quella seduta è già stato approvato nella seduta "
                       f"{seduta.verbale_approvato['nella_seduta']}.", rule="verbale.gia_approvato")
    if sha256 != verbale_sha256:
        raise RuleViolation("L'impronta indicata non è quella del verbale della seduta (GET /sedute/{id}/verbale): "
                            "si approva il testo letto.", rule="verbale.impronta", field=field)


def _senza_numero_legale(q: dict) -> str:
    return (f"Manca il numero legale in {q['convocazione']}ª convocazione: presenti {q['presenti']} su "
            f"{q['membri']} componenti (soglia {q['soglia_membri'] or '—'}), popolazione {q['pesi_presenti']} su "
            f"{q['pesi_totali']} (soglia {q['soglia_pesi'] or '—'}).")
