"""The finance application: one method per use case, each ending in save().

Money-moving use cases (allocazione, impegno, riduzione, liquidazione, mandato) take a typed
command (``finance.domain.comandi``) and run at most once per ``Idempotency-Key`` (the kit's
``@idempotent``): each loads its ledger, decides and saves it together with the key's record,
with optimistic concurrency: a request that loses the race to another (in this process or
another replica) is decided again on the new balances, so an invariant can never be broken
by two requests that were each right on their own.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo
from decimal import Decimal
from typing import Callable, Mapping, Sequence

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from ambiti_kit.auth import TENANT_PATTERN, regione_of
from ambiti_kit.errors import Conflict, NotFound, RuleViolation
from ambiti_kit.idempotency import Once, idempotent
from ambiti_kit.tenancy import TenantApplication
from ambiti_kit.values import euro

from finance.domain.abilitazioni import verifica_abilitazione
from finance.domain.atti import TIPI_RIPARTO_TRA_COMUNI, verifica_deliberazione_approvata
from finance.domain.ambito import ComposizioneAmbito, verifica_composizione_nota
from finance.domain.budget import Budget
from finance.domain.comandi import (ApprovazioneRipartoRegionale, DeterminazioneContributi, NuovaAllocazione, NuovaLiquidazione, NuovoImpegno,
                                    NuovoMandato, RiduzioneImpegno)
from finance.domain.contributi import ContributiComunali
from finance.domain.fondi import Assegnazione, verifica_fondo
from finance.domain.riparti import DatiRiferimento, Riparto, RipartoRegionale, tenant_regione
from finance.domain.riparto import Risultato, esegui_da_dict
from finance.domain.stanziamento import Stanziamento
from finance.domain.tracciabilita import (AffidamentoRecepito, cig_del_mandato, cig_dell_impegno,
                                          verifica_affidamento_indicato, verifica_cup)


def oggi() -> date:
    return datetime.now(ZoneInfo("Europe/Rome")).date()


class Finance(TenantApplication):
    name = "finance"
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000", "AGGREGATE_CACHE_FASTFORWARD": "y"}

    # -- from planning ----------------------------------------------------------------
    def apri_budget_del_piano(self, tenant_id: str, piano_id: uuid.UUID, anno_inizio: int, anno_fine: int,
                              tracking: Tracking) -> None:
        """Open the (empty) budget of a newly drafted plan, recording ``tracking`` atomically."""
        processing = ProcessingEvent(tracking=tracking)
        if not self.exists(Budget.create_id(tenant_id, piano_id)):
            processing.collect_events(Budget(tenant_id=tenant_id, piano_id=piano_id,
                                             anno_inizio=anno_inizio, anno_fine=anno_fine))
        self._record(processing)

    def recepisci_versione(self, tenant_id: str, piano_id: uuid.UUID, versione: int, deliberazione: str,
                           interventi: list[dict], tracking: Tracking) -> None:
        """An approved version of the plan brings its budget lines, recording ``tracking`` atomically."""
        processing = ProcessingEvent(tracking=tracking)
        budget = self.budget_del_piano(tenant_id, piano_id)
        if budget.recepisci(versione, deliberazione, interventi):
            processing.collect_events(budget)
        self._record(processing)

    def recepisci_composizione(self, tenant_id: str, versione: int, nome: str, popolazione_al: date,
                               comuni: list[dict], tracking: Tracking) -> None:
        """Keep finance's copy of the Ambito's Comuni and populations, recording ``tracking`` atomically."""
        processing = ProcessingEvent(tracking=tracking)
        composizione = self.composizione(tenant_id)
        if composizione is None:
            processing.collect_events(ComposizioneAmbito(tenant_id=tenant_id, versione=versione, nome=nome,
                                                         popolazione_al=popolazione_al, comuni=comuni))
        elif composizione.aggiorna(versione, nome, popolazione_al, comuni):
            processing.collect_events(composizione)
        self._record(processing)

    def composizione(self, tenant_id: str) -> ComposizioneAmbito | None:
        composizione_id = ComposizioneAmbito.create_id(tenant_id)
        if not self.exists(composizione_id):
            return None
        return self.get_for_tenant(tenant_id, composizione_id, ComposizioneAmbito)

    def budget_del_piano(self, tenant_id: str, piano_id: uuid.UUID) -> Budget:
        try:
            return self.get_for_tenant(tenant_id, Budget.create_id(tenant_id, piano_id), Budget)
        except NotFound:
            raise NotFound(f"Nessun budget per il Piano {piano_id}.") from None

    # -- funds -------------------------------------------------------------------------
    def registra_assegnazione(self, tenant_id: str, fondo: str, annualita: int, importo: Decimal, atto: dict,
                              vincoli: dict, autore: str, investimento: bool = False,
                              pnrr: bool = False) -> tuple[Assegnazione, bool]:
        """Record a fund's annualità with its act; a further act on the same annualità adds to it. ``investimento``
        and ``pnrr`` mark the annualità whose commitments need a CUP (set with the first act)."""
        verifica_fondo(fondo)
        assegnazione_id = Assegnazione.create_id(tenant_id, fondo, annualita)

        def command() -> tuple[Assegnazione, bool]:
            if self.exists(assegnazione_id):
                assegnazione = self.assegnazione(tenant_id, fondo, annualita)
                if vincoli and vincoli != assegnazione.vincoli:
                    raise RuleViolation("I vincoli dell'annualità sono già registrati con il primo atto e non "
                                        "cambiano con un'integrazione.", rule="fondo.vincoli_invariati",
                                        field="vincoli")
                if (investimento and not assegnazione.investimento) or (pnrr and not assegnazione.pnrr):
                    raise RuleViolation("La natura dell'annualità (investimento, PNRR) è registrata con il primo atto "
                                        "e non cambia con un'integrazione.", rule="fondo.natura_invariata",
                                        field="investimento" if investimento else "pnrr")
                assegnazione.integra(importo, atto, autore)
                created = False
            else:
                assegnazione = Assegnazione.registra(tenant_id, fondo, annualita, importo, atto, vincoli, autore,
                                                     investimento=investimento, pnrr=pnrr)
                created = True
            self.save(assegnazione)
            return assegnazione, created

        return self.retrying(command, message="Assegnazione contesa: riprovare.", rule="fondo.modifica_concorrente",
                             key=assegnazione_id)

    def assegnazione(self, tenant_id: str, fondo: str, annualita: int) -> Assegnazione:
        try:
            return self.get_for_tenant(tenant_id, Assegnazione.create_id(tenant_id, fondo, annualita), Assegnazione)
        except NotFound:
            raise NotFound(f"Nessuna assegnazione {fondo} {annualita}.") from None

    # -- riparti ----------------------------------------------------------------------
    def carica_dati_riferimento(self, tenant_id: str, nome: str, data_riferimento: date, fonte: str, testo_csv: str,
                                autore: str) -> DatiRiferimento:
        dati = DatiRiferimento.carica(tenant_id, nome, data_riferimento, fonte, testo_csv, autore)
        gia = Conflict(f"I dati «{nome}» al {data_riferimento.isoformat()} sono già caricati: una nuova data è un "
                       "nuovo insieme di dati.", rule="dati.unici_per_data")
        if self.exists(dati.id):
            raise gia
        try:
            self.save(dati)
        except IntegrityError:
            raise gia from None
        return dati

    def dati_riferimento(self, tenant_id: str, dati_id: uuid.UUID) -> DatiRiferimento:
        return self.get_for_tenant(tenant_id, dati_id, DatiRiferimento)

    def calcola_riparto(self, tenant_id: str, parametri: dict, dati_riferimento_id: uuid.UUID | None,
                        comuni_al: date | None = None) -> tuple[Risultato, dict | None]:
        """Run the engine on ``parametri`` (recipients given, taken from a stored dataset, or the Ambito's
        Comuni at ``comuni_al`` with their populations); stores nothing. Returns the result and, for the
        Comuni, where they came from."""
        destinatari_da = None
        if dati_riferimento_id is not None:
            parametri = {**parametri, "destinatari": self._destinatari_dei_dati(tenant_id, dati_riferimento_id)}
        elif comuni_al is not None:
            composizione = verifica_composizione_nota(self.composizione(tenant_id), "comuni_al")
            popolazione_al, versione, comuni = composizione.comuni_al(comuni_al)
            parametri = {**parametri, "destinatari": [
                {"id": c["istat"], "indicatori": {"popolazione": str(c["popolazione"]), "parti_uguali": "1"}}
                for c in comuni]}
            destinatari_da = {"fonte": "composizione_ambito", "data": comuni_al.isoformat(),
                              "popolazione_al": popolazione_al.isoformat(), "versione": versione}
        return esegui_da_dict(parametri), destinatari_da

    def _destinatari_dei_dati(self, tenant_id: str, dati_riferimento_id: uuid.UUID) -> list[dict]:
        try:
            return self.dati_riferimento(tenant_id, dati_riferimento_id).destinatari()
        except NotFound:
            raise RuleViolation("Dati di riferimento sconosciuti.", rule="riparto.dati_riferimento",
                                field="dati_riferimento_id") from None

    def esegui_riparto(self, tenant_id: str, oggetto: str, atto: dict | None, parametri: dict,
                       dati_riferimento_id: uuid.UUID | None, autore: str, comuni_al: date | None = None,
                       deliberazione: Mapping | None = None) -> Riparto:
        """Run the engine and record the riparto. An ``atto`` of type ``deliberazione`` is a Comitato
        deliberation: ``deliberazione`` is finance's record of the one with its number (``domain.atti``)."""
        if atto is not None and atto["tipo"] == "deliberazione":
            verifica_deliberazione_approvata(deliberazione, TIPI_RIPARTO_TRA_COMUNI, "atto", numero=atto["numero"],
                                             data=atto["data"])
        risultato, destinatari_da = self.calcola_riparto(tenant_id, parametri, dati_riferimento_id, comuni_al)
        riparto = Riparto(tenant_id=tenant_id, oggetto=oggetto, atto=atto, dati_riferimento_id=dati_riferimento_id,
                          riparto=risultato.come_dict(), eseguito_da=autore, destinatari_da=destinatari_da)
        self.save(riparto)
        return riparto

    # -- a Region's riparti among its Ambiti -------------------------------------------------------
    def composizioni_della_regione(self, regione: str) -> list[ComposizioneAmbito]:
        """The compositions finance holds of the Region's Ambiti (from planning), by tenant id."""
        topics = [get_topic(ComposizioneAmbito.Recepita)]
        tenants: set[str] = set()
        start = 1
        while True:
            pagina = self.recorder.select_notifications(start, 1000, topics=topics)
            for n in pagina:
                tenant = self.mapper.to_domain_event(n).tenant_id
                if tenant.startswith(f"{regione}-") and tenant != tenant_regione(regione):
                    tenants.add(tenant)
            if len(pagina) < 1000:
                break
            start = pagina[-1].id + 1
        return [self.get_for_tenant(t, ComposizioneAmbito.create_id(t), ComposizioneAmbito) for t in sorted(tenants)]

    def calcola_riparto_regionale(self, regione: str, parametri: dict, dati_riferimento_id: uuid.UUID | None,
                                  ambiti_al: date | None) -> tuple[Risultato, dict | None]:
        """A Region's riparto among its Ambiti: recipients given (Ambito ids), from the Region's reference
        data, or by default the Region's Ambiti with their population at ``ambiti_al`` (Σ of their member
        Comuni's). Every recipient must be an Ambito of the Region that finance knows."""
        composizioni = {c.tenant_id: c for c in self.composizioni_della_regione(regione)}
        destinatari_da = None
        if dati_riferimento_id is not None:
            parametri = {**parametri, "destinatari": self._destinatari_dei_dati(tenant_regione(regione),
                                                                                dati_riferimento_id)}
        elif ambiti_al is not None:
            if not composizioni:
                raise RuleViolation(f"Finance non conosce ancora gli Ambiti della Regione {regione}: ciascuno "
                                    "registra i suoi Comuni in planning.", rule="riparto.ambiti_della_regione",
                                    field="ambiti_al")
            destinatari = []
            for tenant, c in composizioni.items():
                _, _, comuni = c.comuni_al(ambiti_al, "ambiti_al")
                destinatari.append({"id": tenant, "indicatori": {
                    "popolazione": str(sum(x["popolazione"] for x in comuni)), "parti_uguali": "1",
                    "comuni": str(len(comuni))}})
            parametri = {**parametri, "destinatari": destinatari}
            destinatari_da = {"fonte": "ambiti_della_regione", "data": ambiti_al.isoformat(),
                              "ambiti": len(destinatari)}
        for i, d in enumerate(parametri.get("destinatari") or []):
            ambito = d.get("id") if isinstance(d, dict) else None
            if not isinstance(ambito, str) or not TENANT_PATTERN.fullmatch(ambito) or regione_of(ambito) != regione:
                raise RuleViolation(f"«{ambito}» non è un Ambito della Regione {regione}: una Regione ripartisce "
                                    "solo tra i propri Ambiti.", rule="riparto.ambito_della_regione",
                                    field=f"destinatari.{i}.id")
            if ambito not in composizioni:
                raise RuleViolation(f"L'Ambito {ambito} non è noto a finance (nessuna composizione registrata in "
                                    "planning).", rule="riparto.ambito_sconosciuto", field=f"destinatari.{i}.id")
        return esegui_da_dict(parametri), destinatari_da

    def proponi_riparto_regionale(self, regione: str, oggetto: str, fondo: str, annualita: int, parametri: dict,
                                  dati_riferimento_id: uuid.UUID | None, ambiti_al: date | None,
                                  autore: str) -> RipartoRegionale:
        verifica_fondo(fondo)
        risultato, destinatari_da = self.calcola_riparto_regionale(regione, parametri, dati_riferimento_id, ambiti_al)
        riparto = RipartoRegionale(tenant_id=tenant_regione(regione), regione=regione, oggetto=oggetto, fondo=fondo,
                                   annualita=annualita, riparto=risultato.come_dict(),
                                   dati_riferimento_id=dati_riferimento_id, destinatari_da=destinatari_da,
                                   proposto_da=autore)
        self.save(riparto)
        return riparto

    def riparto_regionale(self, regione: str, riparto_id: uuid.UUID) -> RipartoRegionale:
        return self.get_for_tenant(tenant_regione(regione), riparto_id, RipartoRegionale)

    @idempotent("approvazione_riparto_regionale", conflict_rule="riparto_regionale.modifica_concorrente",
                lock=lambda once, c: c.riparto_id)
    def approva_riparto_regionale(self, once: Once, c: ApprovazioneRipartoRegionale) -> dict:
        """The Region's act approves its riparto: the approval lists each Ambito's amount, and each Ambito's
        finance receives it as an assegnazione (``assegna_da_regione``, from the published event)."""
        riparto = self.get_for_tenant(once.tenant_id, c.riparto_id, RipartoRegionale)
        riparto.approva(c.atto, once.principal)
        risultato = {"riparto_id": str(riparto.id), "regione": riparto.regione, "fondo": riparto.fondo,
                     "annualita": riparto.annualita,
                     "atto": {**c.atto, "data": c.atto["data"].isoformat()},
                     "assegnazioni": [{"ambito": a["ambito"], "importo": euro(a["importo"])}
                                      for a in riparto.approvazione["assegnazioni"]]}  # type: ignore[index]
        self.save(riparto, once.record(risultato))
        return risultato

    def assegna_da_regione(self, regione: str, riparto_id: uuid.UUID, fondo: str, annualita: int, atto: dict,
                           assegnazioni: list[dict], autore: str, tracking: Tracking) -> None:
        """Record in each Ambito's tenant the assegnazione a Region's approved riparto gives it, with the
        Region's act, together with ``tracking`` (so once per published approval). An Ambito that already
        holds this act for the annualità is left as it is; an Ambito of another Region is refused."""
        processing = ProcessingEvent(tracking=tracking)
        for a in assegnazioni:
            ambito = a["ambito"]
            if not TENANT_PATTERN.fullmatch(ambito) or regione_of(ambito) != regione:
                raise RuleViolation(f"L'Ambito {ambito} non è della Regione {regione}.",
                                    rule="riparto.ambito_della_regione", field="assegnazioni")
            assegnazione_id = Assegnazione.create_id(ambito, fondo, annualita)
            if self.exists(assegnazione_id):
                assegnazione = self.assegnazione(ambito, fondo, annualita)
                if any(x["numero"] == atto["numero"] and x["data"] == atto["data"] for x in assegnazione.atti):
                    continue
                assegnazione.integra(a["importo"], atto, autore)
            else:
                assegnazione = Assegnazione.registra(ambito, fondo, annualita, a["importo"], atto, {}, autore)
            processing.collect_events(assegnazione)
        self._record(processing)

    def riparto(self, tenant_id: str, riparto_id: uuid.UUID) -> Riparto:
        return self.get_for_tenant(tenant_id, riparto_id, Riparto)

    # -- budget ------------------------------------------------------------------------
    @idempotent("allocazione", conflict_rule="budget.modifica_concorrente",
                 lock=lambda once, c: Assegnazione.create_id(once.tenant_id, c.fondo, c.annualita))
    def alloca(self, once: Once, c: NuovaAllocazione) -> dict:
        """Allocate part of a fund's annualità to a line of the plan in force: one ledger per (annualità, line)."""
        budget = self.budget_del_piano(once.tenant_id, c.piano_id)
        if budget.versione is None:
            raise RuleViolation("Il Piano non ha ancora una versione approvata: nessuna linea da finanziare.",
                                rule="budget.piano_approvato", field="piano_id")
        try:
            assegnazione = self.assegnazione(once.tenant_id, c.fondo, c.annualita)
        except NotFound:
            raise RuleViolation(f"Nessuna assegnazione {c.fondo} {c.annualita} registrata.",
                                rule="budget.assegnazione_esistente", field="annualita") from None
        stanziamento_id = Stanziamento.create_id(once.tenant_id, assegnazione.id, c.piano_id, c.intervento, c.anno)
        budget.alloca(c.intervento, c.fondo, c.anno, stanziamento_id, c.importo, once.principal)
        assegnazione.alloca(stanziamento_id, c.importo, once.principal)
        if self.exists(stanziamento_id):
            stanziamento = self.stanziamento(once.tenant_id, stanziamento_id)
            stanziamento.incrementa(c.importo, once.principal)
        else:
            stanziamento = Stanziamento(tenant_id=once.tenant_id, assegnazione_id=assegnazione.id, fondo=c.fondo,
                                        annualita=c.annualita, piano_id=c.piano_id, intervento=c.intervento,
                                        anno=c.anno, importo=c.importo, aperto_da=once.principal)
        risultato = {"id": str(stanziamento.id), "ambito": once.tenant_id, "fondo": c.fondo, "annualita": c.annualita,
                     "piano_id": str(c.piano_id), "intervento": c.intervento, "anno": c.anno, **_saldi(stanziamento)}
        self.save(assegnazione, budget, stanziamento, once.record(risultato))
        return risultato

    def stanziamento(self, tenant_id: str, stanziamento_id: uuid.UUID) -> Stanziamento:
        return self.get_for_tenant(tenant_id, stanziamento_id, Stanziamento)

    # -- municipal contributions -------------------------------------------------------
    def determina_contributi(self, tenant_id: str, c: DeterminazioneContributi, autore: str,
                             deliberazione: Mapping | None = None) -> ContributiComunali:
        """Each Comune's quota of the year: per capita on the populations finance holds, or as deliberated by the
        Comitato (``deliberazione``: finance's record of ``c.deliberazione_id``, approved, of a type that splits
        costs among the Comuni, with that number: ``domain.atti``)."""
        if c.deliberazione_id is not None:
            verifica_deliberazione_approvata(deliberazione, TIPI_RIPARTO_TRA_COMUNI, "deliberazione_id",
                                             numero=c.deliberazione_numero)
        composizione = verifica_composizione_nota(self.composizione(tenant_id), "anno")
        contributi_id = ContributiComunali.create_id(tenant_id, c.anno)
        gia = Conflict(f"Le quote dei Comuni per il {c.anno} sono già determinate.", rule="contributi.anno_unico")
        if self.exists(contributi_id):
            raise gia
        riparto = c.riparto
        if c.riparto_id is not None:
            try:
                stored = self.riparto(tenant_id, c.riparto_id).risultato
            except NotFound:
                raise RuleViolation("Riparto sconosciuto.", rule="contributi.riparto", field="riparto_id") from None
            riparto = [{"istat": a.id, "importo": a.importo} for a in stored.assegnazioni]
        contributi = ContributiComunali.determina(
            tenant_id, c.anno, composizione.comuni, c.scadenze, autore, quota_pro_capite=c.quota_pro_capite,
            popolazione_al=composizione.popolazione_al if c.quota_pro_capite is not None else None,
            riparto=riparto, deliberazione_id=c.deliberazione_id, deliberazione_numero=c.deliberazione_numero,
            comuni_ambito={comune["istat"] for comune in composizione.comuni}, riparto_id=c.riparto_id)
        try:
            self.save(contributi)
        except IntegrityError:
            raise gia from None
        return contributi

    def contributi(self, tenant_id: str, anno: int) -> ContributiComunali:
        try:
            return self.get_for_tenant(tenant_id, ContributiComunali.create_id(tenant_id, anno), ContributiComunali)
        except NotFound:
            raise NotFound(f"Quote dei Comuni per il {anno} non determinate.") from None

    def registra_versamento(self, tenant_id: str, anno: int, istat: str, importo: Decimal, data: date,
                            riferimento: str, autore: str) -> ContributiComunali:
        def command() -> ContributiComunali:
            contributi = self.contributi(tenant_id, anno)
            contributi.registra_versamento(istat, importo, data, riferimento, autore)
            self.save(contributi)
            return contributi

        return self.retrying(command, message="Quote molto contese: riprovare.", rule="contributi.modifica_concorrente",
                             key=ContributiComunali.create_id(tenant_id, anno))

    def storna_versamento(self, tenant_id: str, anno: int, riferimento: str, data: date, motivo: str,
                          autore: str) -> ContributiComunali:
        def command() -> ContributiComunali:
            contributi = self.contributi(tenant_id, anno)
            contributi.storna_versamento(riferimento, data, motivo, autore)
            self.save(contributi)
            return contributi

        return self.retrying(command, message="Quote molto contese: riprovare.", rule="contributi.modifica_concorrente",
                             key=ContributiComunali.create_id(tenant_id, anno))

    # -- spending chain: one ledger per allocation, each move at most once per Idempotency-Key ---------
    @idempotent("impegno", conflict_rule="stanziamento.modifica_concorrente", lock=lambda once, c: c.stanziamento_id)
    def impegna(self, once: Once, c: NuovoImpegno, abilitazioni: Sequence[dict] = ()) -> dict:
        """Commit on an allocation; ``abilitazioni`` are the provider's accreditations and awards (partnership).

        Under an award (``affidamento_id``) the commitment takes the award's CIG and stays within its amount,
        counted across every allocation (the award's ledger is saved with the allocation's, atomically); on an
        investment or PNRR annualità, or on an intervento the Piano marks as investment, it names its CUP
        (``domain.tracciabilita``)."""
        s = self.stanziamento(once.tenant_id, c.stanziamento_id)
        oggi_ = oggi()
        verifica_abilitazione(abilitazioni, s.intervento, oggi_)
        affidamento = None
        if c.affidamento_id is not None:
            affidamento = self.affidamento_recepito(once.tenant_id, c.affidamento_id)
            affidamento.verifica_impegno(c.beneficiario["codice_fiscale"], s.piano_id, s.intervento, oggi_)
        else:
            verifica_affidamento_indicato(abilitazioni, s.intervento, oggi_)
        cig = cig_dell_impegno(c.cig, affidamento.cig if affidamento else None, affidamento is not None)
        assegnazione = self.get_for_tenant(once.tenant_id, s.assegnazione_id, Assegnazione)
        # the line must still be in the plan in force (a later version may have dropped it)
        riga = self.budget_del_piano(once.tenant_id, s.piano_id).riga(s.intervento, s.fondo, s.anno)
        verifica_cup(c.cup, s.fondo, assegnazione.investimento, assegnazione.pnrr, s.intervento,
                     riga.get("investimento") is True)
        if c.comune is not None and c.comune not in riga["comuni"]:
            raise RuleViolation(f"L'intervento {s.intervento} non copre il Comune {c.comune}.",
                                rule="impegno.comune_intervento", field="comune")
        impegno_id = uuid.uuid4()
        s.impegna(impegno_id, c.importo, c.beneficiario, cig, c.cup, c.atto, c.oggetto, c.comune, once.principal,
                  affidamento_id=c.affidamento_id)
        risultato = {"impegno_id": str(impegno_id), **_saldi(s)}
        if affidamento is not None:
            affidamento.imputa(impegno_id, s.id, c.importo)
            risultato["affidamento"] = {"affidamento_id": str(c.affidamento_id), "cig": cig,
                                        "importo": euro(affidamento.importo),
                                        "impegnato": euro(affidamento.impegnato),
                                        "disponibile": euro(affidamento.disponibile)}
            self.save(s, affidamento, once.record(risultato))
        else:
            self.save(s, once.record(risultato))
        return risultato

    # -- awards (from partnership) --------------------------------------------------------
    def recepisci_affidamento(self, tenant_id: str, affidamento_id: uuid.UUID, codice_fiscale: str,
                              denominazione: str, piano_id: uuid.UUID, intervento: str, importo: Decimal,
                              cig: str | None, valido_dal: date, valido_al: date, tracking: Tracking) -> None:
        """Keep finance's copy of an award (its CIG and amount), recording ``tracking`` atomically; once."""
        processing = ProcessingEvent(tracking=tracking)
        if not self.exists(AffidamentoRecepito.create_id(tenant_id, affidamento_id)):
            processing.collect_events(AffidamentoRecepito(
                tenant_id=tenant_id, affidamento_id=affidamento_id, codice_fiscale=codice_fiscale,
                denominazione=denominazione, piano_id=piano_id, intervento=intervento, importo=importo, cig=cig,
                valido_dal=valido_dal, valido_al=valido_al))
        self._record(processing)

    def affidamento_recepito(self, tenant_id: str, affidamento_id: uuid.UUID) -> AffidamentoRecepito:
        """The award as finance knows it (422 on ``affidamento_id`` if it has not reached finance)."""
        try:
            return self.get_for_tenant(tenant_id, AffidamentoRecepito.create_id(tenant_id, affidamento_id),
                                       AffidamentoRecepito)
        except NotFound:
            raise RuleViolation("Affidamento sconosciuto a finance: non è (ancora) arrivato da partnership, o è di "
                                "un altro Ambito.", rule="impegno.affidamento_sconosciuto",
                                field="affidamento_id") from None

    @idempotent("riduzione", conflict_rule="stanziamento.modifica_concorrente", lock=lambda once, c: c.stanziamento_id)
    def riduci_impegno(self, once: Once, c: RiduzioneImpegno) -> dict:
        s = self.stanziamento(once.tenant_id, c.stanziamento_id)
        s.riduci(c.impegno_id, c.importo, c.tipo, c.motivo, once.principal)
        risultato = {"impegno_id": str(c.impegno_id), **_saldi(s)}
        affidamento_id = s.impegni[str(c.impegno_id)].get("affidamento_id")
        if affidamento_id is not None:  # the reduction gives the amount back to the award's ceiling
            affidamento = self.affidamento_recepito(once.tenant_id, uuid.UUID(affidamento_id))
            affidamento.libera(c.impegno_id, c.importo)
            self.save(s, affidamento, once.record(risultato))
        else:
            self.save(s, once.record(risultato))
        return risultato

    @idempotent("liquidazione", conflict_rule="stanziamento.modifica_concorrente",
                lock=lambda once, c: c.stanziamento_id)
    def liquida(self, once: Once, c: NuovaLiquidazione) -> dict:
        s = self.stanziamento(once.tenant_id, c.stanziamento_id)
        liquidazione_id = uuid.uuid4()
        s.liquida(liquidazione_id, c.impegno_id, c.fattura, c.importo, once.principal)
        risultato = {"liquidazione_id": str(liquidazione_id), "impegno_id": str(c.impegno_id), **_saldi(s)}
        self.save(s, once.record(risultato))
        return risultato

    @idempotent("mandato", conflict_rule="stanziamento.modifica_concorrente", lock=lambda once, c: c.stanziamento_id)
    def paga(self, once: Once, c: NuovoMandato,
             titoli_del_fornitore: Callable[[str], Sequence[dict]] = lambda cf: ()) -> dict:
        """Pay (part of) a liquidation. The payment order reports the commitment's CIG and CUP; a payment under
        an award (the commitment names one, or its beneficiary holds one for the intervento: from
        ``titoli_del_fornitore``) without a CIG is refused unless the request gives it (L. 136/2010 art. 3 c. 5)."""
        s = self.stanziamento(once.tenant_id, c.stanziamento_id)
        impegno = s.impegno_della_liquidazione(str(c.liquidazione_id))
        sotto_affidamento = impegno.get("affidamento_id") is not None or (
            impegno["cig"] is None and any(t["tipo"] == "affidamento" and t["intervento"] in (None, s.intervento)
                                           for t in titoli_del_fornitore(impegno["beneficiario"]["codice_fiscale"])))
        cig = cig_del_mandato(impegno["cig"], c.cig, sotto_affidamento)
        mandato_id = uuid.uuid4()
        s.paga(mandato_id, c.liquidazione_id, c.importo, c.data, once.principal, cig=cig, cup=impegno["cup"])
        risultato = {"mandato_id": str(mandato_id), "liquidazione_id": str(c.liquidazione_id), **_saldi(s)}
        self.save(s, once.record(risultato))
        return risultato


def _saldi(s: Stanziamento) -> dict:
    """The allocation's balances after a movement, as strings."""
    return {"stanziamento_id": str(s.id), "stanziato": euro(s.stanziato), "impegnato": euro(s.impegnato),
            "liquidato": euro(s.liquidato), "pagato": euro(s.pagato), "disponibile": euro(s.disponibile)}
