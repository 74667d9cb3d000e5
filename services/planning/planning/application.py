"""The planning application: one method per use case, each ending in save().

Commands that several people send at once on the same aggregate (the votes of a seduta,
the numbers of a year's register) go through the kit's ``retrying``: serialised per
aggregate inside this process and retried, with jittered backoff, when another replica
stored first: each attempt reloads
the aggregates, so the rules are checked again against what the others just stored.
Loaded aggregates are cached and fast-forwarded (only their newer events are read), so a
seduta with hundreds of votes is not replayed from its first event for every vote.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Tracking

from ambiti_kit.errors import Conflict, NotFound, RuleViolation
from ambiti_kit.tenancy import TenantApplication

from planning.domain.accordo import ASL, AccordoDiProgramma
from planning.domain.ambito import Ambito, Composizione, in_carica
from planning.domain.comitato import Comitato, componenti_da_ambito, verifica_regola
from planning.domain.contenuto import differenze
from planning.domain.coordinatore import IncaricoCoordinatore
from planning.domain.deliberazione import Deliberazione, RegistroDeliberazioni
from planning.domain.piano import PianoDiZona
from planning.domain.proposte import PropostaRicevuta, PropostaTavolo, con_intervento
from planning.domain.convocazione import convocazione as testo_della_convocazione
from planning.domain.convocazione import punto_alla_convocazione, punto_da_proposta
from planning.domain.seduta import Seduta, Votante, verifica_verbale_approvabile
from planning.domain.verbale import impronta, verbale as testo_del_verbale

ROMA = ZoneInfo("Europe/Rome")
#: Deliberation types that approve a version of the Piano (proposed from the Piano itself).
TIPI_PIANO = {"piano": "approvazione_piano", "aggiornamento_annuale": "approvazione_aggiornamento",
              "piano_non_autosufficienza": "approvazione_aggiornamento"}


def oggi() -> date:
    return datetime.now(ROMA).date()


def adesso() -> datetime:
    return datetime.now(timezone.utc)


class Planning(TenantApplication):
    name = "planning"
    env = {"AGGREGATE_CACHE_MAXSIZE": "500", "AGGREGATE_CACHE_FASTFORWARD": "y"}

    # -- Ambito -----------------------------------------------------------------------
    def registra_ambito(self, tenant_id: str, nome: str, capofila_istat: str, popolazione_al: date,
                        comuni: list[dict]) -> tuple[Ambito, bool]:
        """Register the Ambito's composition, or record a new one; returns (ambito, created)."""
        ambito_id = Ambito.create_id(tenant_id)
        if self.exists(ambito_id):
            ambito = self.get_for_tenant(tenant_id, ambito_id, Ambito)
            if not ambito.aggiorna(nome, capofila_istat, popolazione_al, comuni):
                return ambito, False  # the same composition again: nothing to record
            created = False
        else:
            ambito = Ambito.registra(tenant_id, nome, capofila_istat, popolazione_al, comuni)
            created = True
        try:
            self.save(ambito)
        except IntegrityError:
            raise Conflict("La composizione dell'Ambito è stata modificata nel frattempo: riprovare.",
                           rule="ambito.modifica_concorrente") from None
        return ambito, created

    def ambito(self, tenant_id: str) -> Ambito:
        return self.get_for_tenant(tenant_id, Ambito.create_id(tenant_id), Ambito)

    def composizioni(self, tenant_id: str) -> list[Composizione]:
        """Every composition the Ambito recorded, with the day (in Rome) it was recorded: its history."""
        ambito = self.ambito(tenant_id)
        return [(e.timestamp.astimezone(ROMA).date(), e.popolazione_al, e.comuni) for e in self.events.get(ambito.id)
                if isinstance(e, (Ambito.Registrato, Ambito.ComposizioneAggiornata))]

    def _ambito_registrato(self, tenant_id: str, field: str) -> Ambito:
        try:
            return self.ambito(tenant_id)
        except NotFound:
            raise RuleViolation("Registrare prima la composizione dell'Ambito (PUT /ambito).",
                                rule="ambito.registrato", field=field) from None

    # -- Piano di Zona -----------------------------------------------------------------
    def redigi_piano(self, tenant_id: str, titolo: str, anno_inizio: int, anno_fine: int,
                     autore: str) -> PianoDiZona:
        piano = PianoDiZona.redigi(tenant_id, titolo, anno_inizio, anno_fine, autore)
        gia = Conflict(f"L'Ambito ha già un Piano di Zona {anno_inizio}–{anno_fine}.", rule="piano.unico_per_triennio")
        if self.exists(piano.id):
            raise gia
        try:
            self.save(piano)
        except IntegrityError:
            raise gia from None
        return piano

    def piano(self, tenant_id: str, piano_id: uuid.UUID) -> PianoDiZona:
        return self.get_for_tenant(tenant_id, piano_id, PianoDiZona)

    def aggiorna_contenuto(self, tenant_id: str, piano_id: uuid.UUID, versione: int, aree: list[dict],
                           autore: str) -> PianoDiZona:
        comuni = {c["istat"] for c in self._ambito_registrato(tenant_id, "aree").comuni}

        def command() -> PianoDiZona:
            piano = self.piano(tenant_id, piano_id)
            piano.aggiorna_contenuto(versione, aree, comuni, autore)
            self.save(piano)
            return piano

        return self.retrying(command, message="Il Piano è stato modificato nel frattempo: riprovare.",
                             rule="piano.modifica_concorrente")

    def proponi_piano(self, tenant_id: str, piano_id: uuid.UUID, versione: int,
                      autore: str) -> tuple[PianoDiZona, Deliberazione]:
        """Submit a version to the Comitato: the proposal of deliberation is written with it."""
        piano = self.piano(tenant_id, piano_id)
        piano.proponi(versione, autore)
        v = piano.versione(versione)
        tipo = TIPI_PIANO[v["tipo"]]
        proposta = Deliberazione.proponi(
            tenant_id, tipo, f"{'Approvazione' if versione == 1 else 'Approvazione aggiornamento'}: {v['titolo']}",
            f"Il Comitato Istituzionale approva la versione {versione} del {piano.titolo} "
            f"({piano.anno_inizio}–{piano.anno_fine}).",
            {"piano_id": str(piano.id), "versione": versione}, autore)
        try:
            self.save(piano, proposta)
        except IntegrityError:
            raise Conflict("Il Piano è stato modificato nel frattempo: riprovare.",
                           rule="piano.modifica_concorrente") from None
        return piano, proposta

    def apri_versione(self, tenant_id: str, piano_id: uuid.UUID, tipo: str, riferimento: int, titolo: str,
                      autore: str) -> tuple[PianoDiZona, int]:
        piano = self.piano(tenant_id, piano_id)
        numero = piano.apri_versione(tipo, riferimento, titolo, autore)
        try:
            self.save(piano)
        except IntegrityError:
            raise Conflict("Il Piano è stato modificato nel frattempo: riprovare.",
                           rule="piano.modifica_concorrente") from None
        return piano, numero

    def differenze(self, tenant_id: str, piano_id: uuid.UUID, da: int, a: int) -> dict[str, Any]:
        piano = self.piano(tenant_id, piano_id)
        return differenze(piano.versione(da)["aree"], piano.versione(a)["aree"])

    def concludi_piano(self, tenant_id: str, piano_id: uuid.UUID, autore: str) -> PianoDiZona:
        def command() -> PianoDiZona:
            piano = self.piano(tenant_id, piano_id)
            piano.concludi(autore)
            self.save(piano)
            return piano

        return self.retrying(command, message="Il Piano è stato modificato nel frattempo: riprovare.",
                             rule="piano.modifica_concorrente")

    # -- proposals of the tavoli ------------------------------------------------------------
    def ricevi_proposta_tavolo(self, tenant_id: str, p: PropostaRicevuta, tracking: Tracking) -> None:
        """Keep a tavolo's proposal as an input to the Piano, recording ``tracking`` atomically."""
        processing = ProcessingEvent(tracking=tracking)
        if not self.exists(PropostaTavolo.create_id(tenant_id, p.proposta_id)):
            processing.collect_events(PropostaTavolo(
                tenant_id=tenant_id, proposta_id=p.proposta_id, tavolo_id=p.tavolo_id, piano_id=p.piano_id,
                titolo=p.titolo, descrizione=p.descrizione, area=p.area, intervento=p.intervento,
                formulata_da=p.formulata_da))
        self._record(processing)

    def proposta_tavolo(self, tenant_id: str, proposta_id: uuid.UUID) -> PropostaTavolo:
        return self.get_for_tenant(tenant_id, PropostaTavolo.create_id(tenant_id, proposta_id), PropostaTavolo)

    def recepisci_proposta(self, tenant_id: str, piano_id: uuid.UUID, versione: int, proposta_id: uuid.UUID,
                           area: str, obiettivo: str, autore: str) -> tuple[PianoDiZona, PropostaTavolo]:
        """Take a tavolo's proposed intervento into a draft version, under one of its areas and objectives."""
        comuni = {c["istat"] for c in self._ambito_registrato(tenant_id, "proposta").comuni}

        def command() -> tuple[PianoDiZona, PropostaTavolo]:
            proposta = self.proposta_tavolo(tenant_id, proposta_id)
            piano = self.piano(tenant_id, piano_id)
            aree = con_intervento(piano.versione(versione)["aree"], area, obiettivo, proposta.intervento)
            piano.aggiorna_contenuto(versione, aree, comuni, autore)
            proposta.recepisci(piano.id, versione, area, obiettivo, autore)
            self.save(piano, proposta)
            return piano, proposta

        return self.retrying(command, message="Il Piano è stato modificato nel frattempo: riprovare.",
                             rule="piano.modifica_concorrente", key=piano_id)

    # -- Comitato Istituzionale ----------------------------------------------------------
    def configura_comitato(self, tenant_id: str, consultivi: list[dict], regola: dict, autore: str,
                           deliberazione_id: uuid.UUID | None = None) -> tuple[Comitato, bool]:
        """Members from the Ambito's composition (populations at its reference date, or the regolamento's
        quotas) plus advisory ones. After the first configuration a change of the rule, the weights or
        the advisory members references the approved deliberation that decides it (``deliberazione_id``)."""
        ambito = self._ambito_registrato(tenant_id, "regola")
        regola_di_voto = verifica_regola(regola)
        comuni = in_carica(ambito.comuni, oggi())  # a Comune that left by law is no longer a member
        componenti = componenti_da_ambito(comuni, consultivi, regola_di_voto.ponderazione)
        atto = self._atto_della_regola(tenant_id, deliberazione_id)
        comitato_id = Comitato.create_id(tenant_id)
        if self.exists(comitato_id):
            comitato = self.get_for_tenant(tenant_id, comitato_id, Comitato)
            if not comitato.riconfigura(ambito.popolazione_al, componenti, regola, autore, atto):
                return comitato, False
            created = False
        else:
            comitato = Comitato.costituisci(tenant_id, ambito.popolazione_al, componenti, regola, autore, atto)
            created = True
        try:
            self.save(comitato)
        except IntegrityError:
            raise Conflict("Il Comitato è stato modificato nel frattempo: riprovare.",
                           rule="comitato.modifica_concorrente") from None
        return comitato, created

    def _atto_della_regola(self, tenant_id: str, deliberazione_id: uuid.UUID | None) -> dict | None:
        """What the Comitato's rule needs to know of the deliberation a configuration references."""
        if deliberazione_id is None:
            return None
        try:
            d = self.deliberazione(tenant_id, deliberazione_id)
        except NotFound:  # another Ambito's deliberation is as absent as a missing one
            raise RuleViolation("La deliberazione indicata non esiste in questo Ambito.",
                                rule="comitato.deliberazione_esistente", field="deliberazione_id") from None
        return {"id": d.id, "tipo": d.tipo, "stato": d.stato, "numero": d.numero}

    def comitato(self, tenant_id: str) -> Comitato:
        return self.get_for_tenant(tenant_id, Comitato.create_id(tenant_id), Comitato)

    # -- Deliberazioni -------------------------------------------------------------------
    def proponi_deliberazione(self, tenant_id: str, tipo: str, oggetto: str, testo: str, riferimenti: dict,
                              autore: str) -> Deliberazione:
        if tipo in TIPI_PIANO.values():
            raise RuleViolation("L'approvazione di una versione del Piano si propone dal Piano "
                                "(POST /piani/{id}/versioni/{n}/proposta).", rule="deliberazione.dal_piano",
                                field="tipo")
        proposta = Deliberazione.proponi(tenant_id, tipo, oggetto, testo, riferimenti, autore)
        if tipo == "rettifica":
            try:
                corretta = self.deliberazione(tenant_id, uuid.UUID(str(riferimenti["rettifica_di"])))
            except (NotFound, ValueError):
                raise RuleViolation("La deliberazione da rettificare non esiste.", rule="rettifica.riferimento",
                                    field="riferimenti.rettifica_di") from None
            if corretta.stato != "approvata":
                raise RuleViolation("Si rettifica solo una deliberazione approvata.", rule="rettifica.approvata",
                                    field="riferimenti.rettifica_di")
        if tipo == "approvazione_verbale":
            precedente = self._seduta_del_verbale(tenant_id, riferimenti["seduta_id"], "riferimenti.seduta_id")
            verifica_verbale_approvabile(precedente, riferimenti["sha256"], self._impronta_verbale(precedente))
        self.save(proposta)
        return proposta

    def deliberazione(self, tenant_id: str, deliberazione_id: uuid.UUID) -> Deliberazione:
        return self.get_for_tenant(tenant_id, deliberazione_id, Deliberazione)

    def allega(self, tenant_id: str, deliberazione_id: uuid.UUID, sha256: str, dimensione: int, media_type: str,
               nome: str, autore: str) -> Deliberazione:
        """Attach a document whose bytes the store already holds: the event carries its hash and size."""
        def command() -> Deliberazione:
            d = self.deliberazione(tenant_id, deliberazione_id)
            if d.allega(sha256, dimensione, media_type, nome, autore):
                self.save(d)
            return d

        return self.retrying(command, message="La deliberazione è stata modificata nel frattempo: riprovare.",
                             rule="deliberazione.modifica_concorrente", key=deliberazione_id)

    # -- Sedute ------------------------------------------------------------------------
    def convoca_seduta(self, tenant_id: str, oggetto: str, luogo: str, prima: datetime, seconda: datetime | None,
                       ordine_del_giorno: list[uuid.UUID], autore: str) -> Seduta:
        """Convene a seduta: its convocation document is generated from its data and its agenda's
        proposals, and the event records the document's SHA-256."""
        try:
            comitato = self.comitato(tenant_id)
        except NotFound:
            raise RuleViolation("Configurare prima il Comitato Istituzionale (PUT /comitato).",
                                rule="comitato.configurato", field="ordine_del_giorno") from None
        Seduta.verifica_convocazione(prima, seconda, ordine_del_giorno, comitato.regola)

        def command() -> Seduta:
            proposte = []
            for i, proposta_id in enumerate(ordine_del_giorno):
                try:
                    proposte.append(self.deliberazione(tenant_id, proposta_id))
                except NotFound:
                    raise RuleViolation(f"Proposta {proposta_id} non trovata.", rule="seduta.proposta_esistente",
                                        field=f"ordine_del_giorno.{i}") from None
            punti = [punto_da_proposta(p.tipo, p.oggetto, p.testo, p.riferimenti, p.allegati) for p in proposte]
            documento = testo_della_convocazione(tenant_id, oggetto, luogo, prima, seconda, comitato.componenti,
                                                 comitato.regola, autore, punti)
            seduta = Seduta.convoca(tenant_id, oggetto, luogo, prima, seconda, ordine_del_giorno,
                                    comitato.componenti, comitato.regola, autore, impronta(documento))
            precedenti = []
            for i, proposta in enumerate(proposte):
                proposta.iscrivi(seduta.id)
                if proposta.tipo == "approvazione_verbale":
                    precedente = self._seduta_del_verbale(tenant_id, proposta.riferimenti["seduta_id"],
                                                          f"ordine_del_giorno.{i}")
                    seduta.verifica_verbale_da_approvare(precedente, proposta.riferimenti["sha256"],
                                                         self._impronta_verbale(precedente),
                                                         f"ordine_del_giorno.{i}")
                    precedenti.append(precedente.id)
            if len(set(precedenti)) != len(precedenti):
                raise RuleViolation("Il verbale di una seduta si approva una sola volta per ordine del giorno.",
                                    rule="verbale.una_volta", field="ordine_del_giorno")
            self.save(seduta, *proposte)
            return seduta

        return self.retrying(command, message="Una proposta è stata iscritta nel frattempo ad altra seduta.",
                             rule="seduta.proposta_contesa")

    def convocazione(self, tenant_id: str, seduta_id: uuid.UUID) -> tuple[Seduta, str]:
        """The convocation document of a seduta, generated again from its stored events: (seduta, text).
        A seduta convened before the document existed has none recorded; one whose text no longer has
        the recorded hash means the store was altered (409)."""
        seduta = self.seduta(tenant_id, seduta_id)
        [convocata] = [e for e in self.events.get(seduta_id, lte=1)]
        punti = [punto_alla_convocazione(self.events.get(p), seduta.id) for p in convocata.ordine_del_giorno]
        testo = testo_della_convocazione(tenant_id, convocata.oggetto, convocata.luogo, convocata.prima_convocazione,
                                         convocata.seconda_convocazione, convocata.componenti, convocata.regola,
                                         convocata.convocata_da, punti)
        if seduta.convocazione_sha256 is not None and impronta(testo) != seduta.convocazione_sha256:
            raise Conflict("La convocazione generata dagli eventi non ha più l'impronta registrata: archivio alterato.",
                           rule="convocazione.integrita")
        return seduta, testo

    def seduta(self, tenant_id: str, seduta_id: uuid.UUID) -> Seduta:
        return self.get_for_tenant(tenant_id, seduta_id, Seduta)

    def _on_seduta(self, tenant_id: str, seduta_id: uuid.UUID, action: Callable[[Seduta], Any]) -> Seduta:
        def command() -> Seduta:
            seduta = self.seduta(tenant_id, seduta_id)
            action(seduta)
            self.save(seduta)
            return seduta

        return self.retrying(command, message="La seduta è molto contesa: riprovare.",
                             rule="seduta.modifica_concorrente", key=seduta_id)

    def registra_presenza(self, tenant_id: str, seduta_id: uuid.UUID, componente: str, presente: bool,
                          rappresentante: str | None, delega_a: str | None, autore: str) -> Seduta:
        return self._on_seduta(tenant_id, seduta_id, lambda s: s.registra_presenza(
            componente, presente, rappresentante, delega_a, autore))

    def apri_seduta(self, tenant_id: str, seduta_id: uuid.UUID, convocazione: int, autore: str) -> Seduta:
        return self._on_seduta(tenant_id, seduta_id, lambda s: s.apri(convocazione, autore, adesso()))

    def dichiara_deserta(self, tenant_id: str, seduta_id: uuid.UUID, autore: str) -> Seduta:
        return self._on_seduta(tenant_id, seduta_id, lambda s: s.dichiara_deserta(autore, adesso()))

    def apri_votazione(self, tenant_id: str, seduta_id: uuid.UUID, proposta_id: uuid.UUID, autore: str) -> Seduta:
        return self._on_seduta(tenant_id, seduta_id, lambda s: s.apri_votazione(proposta_id, autore))

    def vota(self, tenant_id: str, seduta_id: uuid.UUID, proposta_id: uuid.UUID, componente: str, voto: str,
             votante: Votante) -> Seduta:
        return self._on_seduta(tenant_id, seduta_id, lambda s: s.vota(proposta_id, componente, voto, votante))

    def chiudi_votazione(self, tenant_id: str, seduta_id: uuid.UUID, proposta_id: uuid.UUID,
                         autore: str) -> Deliberazione:
        """Close the vote; the proposal becomes deliberation n/anno, or is rejected, atomically with the Piano."""
        def command() -> Deliberazione:
            seduta = self.seduta(tenant_id, seduta_id)
            proposta = self.deliberazione(tenant_id, proposta_id)
            risultato = seduta.chiudi_votazione(proposta_id, autore, proposta.tipo)
            quorum = seduta.quorum()
            il = oggi()
            piano = self._piano_di(proposta)
            altri: list[Any] = []
            if risultato["approvata"]:
                registro = self._registro(tenant_id, il.year)
                numero = registro.assegna(proposta.id)
                proposta.approva(seduta.id, numero, il.year, il, risultato, quorum, seduta.regola)
                altri.append(registro)
                if piano is not None:
                    piano.approva(int(proposta.riferimenti["versione"]), proposta.id, proposta.numero)
                if proposta.tipo == "nomina_coordinatore":
                    altri.append(self._nomina(proposta, il))
                if proposta.tipo == "approvazione_verbale":
                    precedente = self._seduta_del_verbale(tenant_id, proposta.riferimenti["seduta_id"], "proposta_id")
                    seduta.approva_verbale_di(precedente, proposta.riferimenti["sha256"],
                                              self._impronta_verbale(precedente), proposta.id, proposta.numero,
                                              quorum, autore)
                    altri.append(precedente)
            else:
                proposta.respingi(seduta.id, il, risultato, quorum, seduta.regola)
                if piano is not None:
                    piano.respingi(int(proposta.riferimenti["versione"]), proposta.id)
            self.save(seduta, proposta, *altri, *([piano] if piano else []))
            return proposta

        return self.retrying(command, message="Registro delle deliberazioni conteso: riprovare.",
                             rule="deliberazione.numerazione", key=seduta_id)

    def _nomina(self, proposta: Deliberazione, il: date) -> IncaricoCoordinatore:
        """An approved nomina_coordinatore sets the holder and the term it names."""
        incarico_id = IncaricoCoordinatore.create_id(proposta.tenant_id)
        incarico = (self.get_for_tenant(proposta.tenant_id, incarico_id, IncaricoCoordinatore)
                    if self.exists(incarico_id) else IncaricoCoordinatore(tenant_id=proposta.tenant_id))
        r = proposta.riferimenti
        dal = date.fromisoformat(r["dal"]) if r.get("dal") else il
        al = date.fromisoformat(r["al"]) if r.get("al") else None
        incarico.nomina(r["nominativo"], dal, al, proposta.id, proposta.numero)
        return incarico

    def coordinatore(self, tenant_id: str) -> IncaricoCoordinatore:
        return self.get_for_tenant(tenant_id, IncaricoCoordinatore.create_id(tenant_id), IncaricoCoordinatore)

    def _piano_di(self, proposta: Deliberazione) -> PianoDiZona | None:
        if proposta.tipo not in TIPI_PIANO.values():
            return None
        return self.piano(proposta.tenant_id, uuid.UUID(proposta.riferimenti["piano_id"]))

    def _registro(self, tenant_id: str, anno: int) -> RegistroDeliberazioni:
        registro_id = RegistroDeliberazioni.create_id(tenant_id, anno)
        if self.exists(registro_id):
            return self.get_for_tenant(tenant_id, registro_id, RegistroDeliberazioni)
        return RegistroDeliberazioni(tenant_id=tenant_id, anno=anno)

    def chiudi_seduta(self, tenant_id: str, seduta_id: uuid.UUID, autore: str) -> Seduta:
        """Close the seduta; proposals it did not vote go back to be put on another agenda."""
        def command() -> Seduta:
            seduta = self.seduta(tenant_id, seduta_id)
            rinviate = [self.deliberazione(tenant_id, p) for p in seduta.chiudi(autore)]
            for proposta in rinviate:
                proposta.rinvia(seduta.id)
            testo = testo_del_verbale(tenant_id, [*self.events.get(seduta_id), *seduta.pending_events],
                                      self._proposte_di(seduta))
            seduta.redigi_verbale(impronta(testo), autore)
            self.save(seduta, *rinviate)
            return seduta

        return self.retrying(command, message="La seduta è molto contesa: riprovare.",
                             rule="seduta.modifica_concorrente")

    # -- Verbali ----------------------------------------------------------------------------
    def _proposte_di(self, seduta: Seduta) -> dict[uuid.UUID, dict[str, Any]]:
        proposte = {}
        for proposta_id in seduta.ordine_del_giorno:
            d = self.deliberazione(seduta.tenant_id, proposta_id)
            proposte[proposta_id] = {"oggetto": d.oggetto, "tipo": d.tipo, "numero": d.numero}
        return proposte

    def verbale(self, tenant_id: str, seduta_id: uuid.UUID) -> tuple[Seduta, str]:
        """The verbale of a closed seduta, generated from its stored events: (seduta, text). One whose
        text no longer has the hash recorded at its closing means the store was altered (409)."""
        seduta = self.seduta(tenant_id, seduta_id)
        if seduta.stato != "chiusa":
            raise Conflict("Il verbale si redige a seduta chiusa.", rule="verbale.seduta_chiusa")
        testo = testo_del_verbale(tenant_id, self.events.get(seduta_id), self._proposte_di(seduta))
        if seduta.verbale_sha256 is not None and impronta(testo) != seduta.verbale_sha256:
            raise Conflict("Il verbale generato dagli eventi non ha più l'impronta registrata alla chiusura: "
                           "archivio alterato.", rule="verbale.integrita")
        return seduta, testo

    def _impronta_verbale(self, seduta: Seduta) -> str:
        if seduta.stato != "chiusa":
            return ""  # no verbale yet: verifica_verbale_approvabile refuses the seduta as not closed
        return impronta(self.verbale(seduta.tenant_id, seduta.id)[1])

    def _seduta_del_verbale(self, tenant_id: str, seduta_id: Any, field: str) -> Seduta:
        try:
            return self.seduta(tenant_id, uuid.UUID(str(seduta_id)))
        except (NotFound, ValueError):  # another Ambito's seduta is as absent as a missing one
            raise RuleViolation("La seduta di cui approvare il verbale non esiste in questo Ambito.",
                                rule="verbale.seduta_esistente", field=field) from None

    # -- Accordo di Programma -------------------------------------------------------------
    def predisponi_accordo(self, tenant_id: str, piano_id: uuid.UUID, firmatari: list[str] | None,
                           autore: str) -> AccordoDiProgramma:
        """Prepare the Accordo; by default every Comune of the Ambito and the ASL sign."""
        piano = self.piano(tenant_id, piano_id)
        if piano.stato != "approvato":
            raise Conflict("L'Accordo di Programma si predispone per un Piano approvato.",
                           rule="accordo.piano_approvato")
        comuni = [c["istat"] for c in self._ambito_registrato(tenant_id, "firmatari").comuni]
        firmatari = [*comuni, ASL] if firmatari is None else firmatari
        accordo = AccordoDiProgramma.predisponi(tenant_id, piano.id, firmatari, set(comuni), autore)
        if self.exists(accordo.id):
            raise Conflict("L'Accordo di Programma di questo Piano è già predisposto.", rule="accordo.unico")
        try:
            self.save(accordo)
        except IntegrityError:
            raise Conflict("L'Accordo di Programma di questo Piano è già predisposto.", rule="accordo.unico") from None
        return accordo

    def accordo(self, tenant_id: str, piano_id: uuid.UUID) -> AccordoDiProgramma:
        return self.get_for_tenant(tenant_id, AccordoDiProgramma.create_id(tenant_id, piano_id), AccordoDiProgramma)

    def firma_accordo(self, tenant_id: str, piano_id: uuid.UUID, firmatario: str,
                      autore: str) -> tuple[AccordoDiProgramma, PianoDiZona]:
        """A signatory signs; the last required signature puts the Piano in attuazione."""
        def command() -> tuple[AccordoDiProgramma, PianoDiZona]:
            accordo = self.accordo(tenant_id, piano_id)
            piano = self.piano(tenant_id, piano_id)
            il = oggi()
            if accordo.firma(firmatario, autore, il):
                piano.entra_in_attuazione(accordo.id, il)
                self.save(accordo, piano)
            else:
                self.save(accordo)
            return accordo, piano

        return self.retrying(command, message="L'Accordo è molto conteso: riprovare.",
                             rule="accordo.modifica_concorrente")

    def aderisci_accordo(self, tenant_id: str, piano_id: uuid.UUID, codice_fiscale: str, denominazione: str,
                         autore: str) -> AccordoDiProgramma:
        def command() -> AccordoDiProgramma:
            accordo = self.accordo(tenant_id, piano_id)
            accordo.aderisci(codice_fiscale, denominazione, autore)
            self.save(accordo)
            return accordo

        return self.retrying(command, message="L'Accordo è molto conteso: riprovare.",
                             rule="accordo.modifica_concorrente")

    # -- Audit ----------------------------------------------------------------------------
    def storia_deliberazione(self, tenant_id: str, deliberazione_id: uuid.UUID) -> dict[str, Any]:
        """Every stored event that explains a deliberation: the proposal, each seduta that had it on
        its agenda (convocation, attendance, opening, its own vote, closing), its number in the year's
        register and what it did to the Piano. Events of each aggregate in version order; the caller
        orders them across aggregates by notification id."""
        deliberazione = self.deliberazione(tenant_id, deliberazione_id)
        eventi = list(self.events.get(deliberazione_id))
        sedute = [e.seduta_id for e in eventi if isinstance(e, Deliberazione.IscrittaAllOrdineDelGiorno)]
        for seduta_id in dict.fromkeys(sedute):
            eventi += [e for e in self.events.get(seduta_id)
                       if getattr(e, "proposta_id", deliberazione_id) == deliberazione_id]
        if deliberazione.numero is not None:
            registro = RegistroDeliberazioni.create_id(tenant_id, deliberazione.data.year)
            eventi += [e for e in self.events.get(registro)
                       if getattr(e, "deliberazione_id", None) == deliberazione_id]
        piano = self._piano_di(deliberazione)
        if piano is not None:
            eventi += [e for e in self.events.get(piano.id)
                       if getattr(e, "deliberazione_id", None) == deliberazione_id]
        return {"deliberazione": deliberazione, "eventi": eventi}
