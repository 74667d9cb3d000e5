"""The partnership application: one method per use case, each ending in save().

Commands load, decide and save inside the kit's ``retrying``: serialised per aggregate in
this process and retried when another replica stored first, each attempt reloading the
aggregates so that the rules are checked again. A ``referente_ets`` is resolved to the
ente it acts for here, server-side, from the ``ReferenteEts`` binding of its subject.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Callable, TypeVar
from zoneinfo import ZoneInfo

from eventsourcing.persistence import IntegrityError

from ambiti_kit.errors import Conflict, Forbidden, NotFound, RuleViolation
from ambiti_kit.tenancy import A, TenantApplication

from partnership.domain.accreditamenti import Accreditamento, Affidamento
from partnership.domain.comandi import (NuovaConvenzione, NuovaProposta, NuovaSessione, NuovoAccreditamento,
                                        NuovoAffidamento, NuovoAvviso)
from partnership.domain.enti import Ente, ReferenteEts
from partnership.domain.procedure import Procedura
from partnership.domain.tavoli import Tavolo

ROMA = ZoneInfo("Europe/Rome")
T = TypeVar("T")


def oggi() -> date:
    return datetime.now(ROMA).date()


class Partnership(TenantApplication):
    name = "partnership"
    env = {"AGGREGATE_CACHE_MAXSIZE": "500", "AGGREGATE_CACHE_FASTFORWARD": "y"}

    def _on(self, tenant_id: str, aggregate_id: uuid.UUID, kind: type[A], action: Callable[[A], T],
            rule: str) -> tuple[A, T]:
        """Load one aggregate of the tenant, act on it, save it; retried on a lost version race."""
        def command() -> tuple[A, T]:
            aggregate = self.get_for_tenant(tenant_id, aggregate_id, kind)
            result = action(aggregate)
            self.save(aggregate)
            return aggregate, result

        return self.retrying(command, message=f"{kind.__name__} modificato nel frattempo: riprovare.", rule=rule,
                             key=aggregate_id)

    def _nuovo(self, aggregate: Any, conflict: Conflict) -> None:
        """Save a new aggregate whose id is derived from a natural key: a second one is a conflict."""
        if self.exists(aggregate.id):
            raise conflict
        try:
            self.save(aggregate)
        except IntegrityError:
            raise conflict from None

    # -- Registro degli enti ------------------------------------------------------------------
    def registra_ente(self, tenant_id: str, codice_fiscale: str, dati: dict, autore: str) -> Ente:
        ente = Ente.registra(tenant_id, codice_fiscale, dati, autore)
        self._nuovo(ente, Conflict(f"L'ente {codice_fiscale} è già registrato.", rule="ente.unico"))
        return ente

    def ente(self, tenant_id: str, ente_id: uuid.UUID) -> Ente:
        return self.get_for_tenant(tenant_id, ente_id, Ente)

    def aggiorna_ente(self, tenant_id: str, ente_id: uuid.UUID, dati: dict, autore: str) -> Ente:
        return self._on(tenant_id, ente_id, Ente, lambda e: e.aggiorna(dati, autore), "ente.modifica_concorrente")[0]

    def storia_ente(self, tenant_id: str, ente_id: uuid.UUID) -> list[Any]:
        """Every stored event of the record, oldest first: registration and each change."""
        self.ente(tenant_id, ente_id)
        return list(self.events.get(ente_id))

    def _ente_registrato(self, tenant_id: str, ente_id: uuid.UUID, field: str) -> Ente:
        try:
            return self.ente(tenant_id, ente_id)
        except NotFound:
            raise RuleViolation("L'ente non è nel registro dell'Ambito.", rule="ente.registrato", field=field) from None

    def abilita_referente(self, tenant_id: str, ente_id: uuid.UUID, subject: str, autore: str) -> Ente:
        """Bind a ``referente_ets`` subject to the ente, in the same transaction as its lookup record."""
        def command() -> Ente:
            ente = self.ente(tenant_id, ente_id)
            ente.abilita_referente(subject, autore)
            binding_id = ReferenteEts.create_id(tenant_id, subject)
            if self.exists(binding_id):
                binding = self.get_for_tenant(tenant_id, binding_id, ReferenteEts)
                binding.associa(ente.id)
            else:
                binding = ReferenteEts(tenant_id=tenant_id, subject=subject, ente_id=ente.id)
            self.save(ente, binding)
            return ente

        return self.retrying(command, message="Referente modificato nel frattempo: riprovare.",
                             rule="referente.modifica_concorrente", key=ente_id)

    def revoca_referente(self, tenant_id: str, ente_id: uuid.UUID, subject: str, autore: str) -> Ente:
        def command() -> Ente:
            ente = self.ente(tenant_id, ente_id)
            ente.revoca_referente(subject, autore)
            binding = self.get_for_tenant(tenant_id, ReferenteEts.create_id(tenant_id, subject), ReferenteEts)
            binding.dissocia()
            self.save(ente, binding)
            return ente

        return self.retrying(command, message="Referente modificato nel frattempo: riprovare.",
                             rule="referente.modifica_concorrente", key=ente_id)

    def ente_del_referente(self, tenant_id: str, subject: str) -> Ente:
        """The ente a ``referente_ets`` acts for; 403 when the coordinatore has bound it to none."""
        binding_id = ReferenteEts.create_id(tenant_id, subject)
        binding = self.get_for_tenant(tenant_id, binding_id, ReferenteEts) if self.exists(binding_id) else None
        if binding is None or binding.ente_id is None:
            raise Forbidden("Questo referente non è associato ad alcun ente dell'Ambito: chiedere al coordinatore.",
                            rule="referente.non_associato")
        return self.ente(tenant_id, binding.ente_id)

    # -- Tavoli ------------------------------------------------------------------------------
    def istituisci_tavolo(self, tenant_id: str, tipo: str, nome: str, area: str, autore: str) -> Tavolo:
        tavolo = Tavolo.istituisci(tenant_id, tipo, nome, area, autore)
        self.save(tavolo)
        return tavolo

    def tavolo(self, tenant_id: str, tavolo_id: uuid.UUID) -> Tavolo:
        return self.get_for_tenant(tenant_id, tavolo_id, Tavolo)

    def aggiungi_ente_al_tavolo(self, tenant_id: str, tavolo_id: uuid.UUID, ente_id: uuid.UUID, area: str,
                                autore: str) -> Tavolo:
        ente = self._ente_registrato(tenant_id, ente_id, "ente_id")
        return self._on(tenant_id, tavolo_id, Tavolo, lambda t: t.aggiungi_ente(ente.come_parte(), area, autore),
                        "tavolo.modifica_concorrente")[0]

    def aggiungi_staff_al_tavolo(self, tenant_id: str, tavolo_id: uuid.UUID, istat: str, ruolo: str, area: str,
                                 autore: str) -> Tavolo:
        return self._on(tenant_id, tavolo_id, Tavolo, lambda t: t.aggiungi_staff_comune(istat, ruolo, area, autore),
                        "tavolo.modifica_concorrente")[0]

    def rimuovi_membro(self, tenant_id: str, tavolo_id: uuid.UUID, chiave: str, motivo: str, autore: str) -> Tavolo:
        return self._on(tenant_id, tavolo_id, Tavolo, lambda t: t.rimuovi_membro(chiave, motivo, autore),
                        "tavolo.modifica_concorrente")[0]

    def convoca_riunione(self, tenant_id: str, tavolo_id: uuid.UUID, data: datetime, luogo: str,
                         ordine_del_giorno: list[str], autore: str) -> tuple[Tavolo, str]:
        return self._on(tenant_id, tavolo_id, Tavolo,
                        lambda t: t.convoca_riunione(data, luogo, ordine_del_giorno, autore),
                        "tavolo.modifica_concorrente")

    def registra_riunione(self, tenant_id: str, tavolo_id: uuid.UUID, riunione_id: str, presenti: list[str],
                          verbale: str, autore: str) -> Tavolo:
        return self._on(tenant_id, tavolo_id, Tavolo,
                        lambda t: t.registra_riunione(riunione_id, presenti, verbale, autore),
                        "tavolo.modifica_concorrente")[0]

    def formula_proposta(self, tenant_id: str, c: NuovaProposta, autore: str) -> tuple[Tavolo, str]:
        return self._on(tenant_id, c.tavolo_id, Tavolo,
                        lambda t: t.formula_proposta(c.titolo, c.descrizione, c.area, c.intervento, c.piano_id,
                                                     c.riunione_id, autore),
                        "tavolo.modifica_concorrente")

    # -- Co-programmazione e co-progettazione ---------------------------------------------------
    def pubblica_avviso(self, tenant_id: str, c: NuovoAvviso, autore: str) -> Procedura:
        procedura = Procedura.pubblica_avviso(tenant_id, c.tipo, c.oggetto, c.scadenza_manifestazioni, c.piano_id,
                                              c.intervento, c.atto, autore)
        self.save(procedura)
        return procedura

    def procedura(self, tenant_id: str, procedura_id: uuid.UUID) -> Procedura:
        return self.get_for_tenant(tenant_id, procedura_id, Procedura)

    def ricevi_manifestazione(self, tenant_id: str, procedura_id: uuid.UUID, ente_id: uuid.UUID,
                              sintesi_documenti: str, ricevuta_il: date, atto: dict, autore: str) -> Procedura:
        ente = self._ente_registrato(tenant_id, ente_id, "ente_id")
        return self._on(tenant_id, procedura_id, Procedura,
                        lambda p: p.ricevi_manifestazione(ente.come_parte(), sintesi_documenti, ricevuta_il, atto,
                                                          autore),
                        "procedura.modifica_concorrente")[0]

    def decidi_ammissione(self, tenant_id: str, procedura_id: uuid.UUID, codice_fiscale: str, ammesso: bool,
                          motivazione: str, atto: dict, autore: str) -> Procedura:
        return self._on(tenant_id, procedura_id, Procedura,
                        lambda p: p.decidi_ammissione(codice_fiscale, ammesso, motivazione, atto, autore),
                        "procedura.modifica_concorrente")[0]

    def registra_sessione(self, tenant_id: str, c: NuovaSessione, autore: str) -> Procedura:
        if c.tavolo_id is not None:
            try:
                self.tavolo(tenant_id, c.tavolo_id)
            except NotFound:
                raise RuleViolation("Il tavolo di co-progettazione non esiste.", rule="sessione.tavolo",
                                    field="tavolo_id") from None
        return self._on(tenant_id, c.procedura_id, Procedura,
                        lambda p: p.registra_sessione(c.data, c.partecipanti, c.verbale, c.tavolo_id, c.atto, autore),
                        "procedura.modifica_concorrente")[0]

    def condividi_progetto(self, tenant_id: str, procedura_id: uuid.UUID, titolo: str, sintesi: str, atto: dict,
                           autore: str) -> Procedura:
        return self._on(tenant_id, procedura_id, Procedura,
                        lambda p: p.condividi_progetto(titolo, sintesi, atto, autore),
                        "procedura.modifica_concorrente")[0]

    def stipula_convenzione(self, tenant_id: str, c: NuovaConvenzione, autore: str) -> Procedura:
        return self._on(tenant_id, c.procedura_id, Procedura,
                        lambda p: p.stipula_convenzione(c.enti, c.capofila, c.importo, c.decorrenza, c.durata_mesi,
                                                        c.budget, c.atto, autore),
                        "procedura.modifica_concorrente")[0]

    # -- Accreditamento e affidamenti --------------------------------------------------------------
    def rilascia_accreditamento(self, tenant_id: str, c: NuovoAccreditamento, autore: str) -> Accreditamento:
        ente = self._ente_registrato(tenant_id, c.ente_id, "ente_id")
        if ente.tipo == "pubblico":
            raise RuleViolation("Si accreditano gli erogatori (enti del Terzo Settore), non i partner pubblici.",
                                rule="accreditamento.ente_erogatore", field="ente_id")
        accreditamento = Accreditamento.rilascia(tenant_id, ente.come_parte(), c.intervento, c.servizio, c.valido_dal,
                                                 c.valido_al, c.tariffe, c.atto, autore)
        self.save(accreditamento)
        return accreditamento

    def accreditamento(self, tenant_id: str, accreditamento_id: uuid.UUID) -> Accreditamento:
        return self.get_for_tenant(tenant_id, accreditamento_id, Accreditamento)

    def rinnova_accreditamento(self, tenant_id: str, accreditamento_id: uuid.UUID, valido_al: date, atto: dict,
                               autore: str) -> Accreditamento:
        return self._on(tenant_id, accreditamento_id, Accreditamento, lambda a: a.rinnova(valido_al, atto, autore),
                        "accreditamento.modifica_concorrente")[0]

    def revoca_accreditamento(self, tenant_id: str, accreditamento_id: uuid.UUID, revocato_il: date, motivo: str,
                              atto: dict, autore: str) -> Accreditamento:
        return self._on(tenant_id, accreditamento_id, Accreditamento,
                        lambda a: a.revoca(revocato_il, motivo, atto, autore),
                        "accreditamento.modifica_concorrente")[0]

    def aggiudica(self, tenant_id: str, c: NuovoAffidamento, autore: str) -> Affidamento:
        ente = self._ente_registrato(tenant_id, c.ente_id, "ente_id")
        accreditamento = procedura = None
        try:
            if c.accreditamento_id is not None:
                accreditamento = self.accreditamento(tenant_id, c.accreditamento_id)
        except NotFound:
            raise RuleViolation("Accreditamento non trovato.", rule="affidamento.accreditamento_valido",
                                field="accreditamento_id") from None
        try:
            if c.procedura_id is not None:
                procedura = self.procedura(tenant_id, c.procedura_id)
        except NotFound:
            raise RuleViolation("Procedura non trovata.", rule="affidamento.convenzione_richiesta",
                                field="procedura_id") from None
        affidamento = Affidamento.aggiudica(tenant_id, ente.come_parte(), c.piano_id, c.intervento, c.importo, c.cig,
                                            c.valido_dal, c.valido_al, c.modalita, c.atto, autore,
                                            accreditamento=accreditamento, procedura=procedura)
        self.save(affidamento)
        return affidamento

    def affidamento(self, tenant_id: str, affidamento_id: uuid.UUID) -> Affidamento:
        return self.get_for_tenant(tenant_id, affidamento_id, Affidamento)
