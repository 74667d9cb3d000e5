"""Integration events finance consumes. Each model holds only the fields finance reads."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from eventsourcing.persistence import Tracking
from pydantic import BaseModel, ConfigDict

from ambiti_kit.consumer import PoisonMessage, TrackedConsumer
from ambiti_kit.errors import NotFound, RuleViolation
from ambiti_kit.envelope import CloudEvent
from ambiti_kit.service import Runtime

from finance.application import Finance
from finance.domain.riparti import tenant_regione
from finance.projections import abilitazioni, deliberazioni


class PianoCreato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    anno_inizio: int
    anno_fine: int


class Comune(BaseModel):
    model_config = ConfigDict(extra="ignore")

    istat: str
    nome: str
    popolazione: int
    #: the legal date of membership, when planning sends it (a Comune not yet member is no recipient)
    aderente_dal: date | None = None
    #: the first day it is no longer a member (its legal leaving date), when planning sends it
    cessato_dal: date | None = None


class ComposizioneRegistrata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    versione: int
    nome: str
    popolazione_al: date
    comuni: list[Comune]


class LineaBudget(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fondo: str
    anno: int
    importo: Decimal


class Intervento(BaseModel):
    model_config = ConfigDict(extra="ignore")

    codice: str
    titolo: str
    nomenclatura: dict
    comuni: list[str]
    linee_budget: list[LineaBudget]
    #: the optional classification fund constraints and the CUP rule read (absent in older Piani)
    area_utenza: str | None = None
    disabilita_gravissima: bool | None = None
    servizio_qsfp: str | None = None
    investimento: bool | None = None


class AttoRegionale(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tipo: str
    numero: str
    data: date
    ente: str


class QuotaAmbito(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ambito: str
    importo: Decimal


class RipartoRegionaleApprovato(BaseModel):
    model_config = ConfigDict(extra="ignore")

    riparto_id: uuid.UUID
    regione: str
    fondo: str
    annualita: int
    atto: AttoRegionale
    assegnazioni: list[QuotaAmbito]
    approvato_da: str


class AffidamentoAggiudicato(BaseModel):
    """partnership.affidamento.aggiudicato: the award's provider, line, amount (the ceiling) and CIG."""

    model_config = ConfigDict(extra="ignore")

    affidamento_id: uuid.UUID
    codice_fiscale: str
    denominazione: str
    piano_id: uuid.UUID
    intervento: str
    importo: Decimal
    cig: str | None = None
    valido_dal: date
    valido_al: date


class VersioneApprovata(BaseModel):
    model_config = ConfigDict(extra="ignore")

    piano_id: uuid.UUID
    versione: int
    deliberazione: str
    interventi: list[Intervento]


def consumers(runtime: Runtime) -> list[TrackedConsumer]:
    app: Finance = runtime.app  # type: ignore[assignment]

    def piano_creato(event: CloudEvent, tracking: Tracking) -> None:
        piano = PianoCreato.model_validate(event.data)
        app.apri_budget_del_piano(event.tenantid, piano.piano_id, piano.anno_inizio, piano.anno_fine, tracking)

    def versione_approvata(event: CloudEvent, tracking: Tracking) -> None:
        v = VersioneApprovata.model_validate(event.data)
        interventi = [{**iv.model_dump(), "linee_budget": [{"fondo": l.fondo, "anno": l.anno, "importo": str(l.importo)}
                                                           for l in iv.linee_budget]} for iv in v.interventi]
        try:
            app.recepisci_versione(event.tenantid, v.piano_id, v.versione, v.deliberazione, interventi, tracking)
        except NotFound:  # the plan's creato comes first on the same partition: this is not retryable
            raise PoisonMessage(f"nessun budget per il Piano {v.piano_id}") from None

    def composizione(event: CloudEvent, tracking: Tracking) -> None:
        c = ComposizioneRegistrata.model_validate(event.data)
        comuni = [{"istat": x.istat, "nome": x.nome, "popolazione": x.popolazione,
                   **({"aderente_dal": x.aderente_dal.isoformat()} if x.aderente_dal else {}),
                   **({"cessato_dal": x.cessato_dal.isoformat()} if x.cessato_dal else {})} for x in c.comuni]
        app.recepisci_composizione(event.tenantid, c.versione, c.nome, c.popolazione_al, comuni, tracking)

    def riparto_regionale_approvato(event: CloudEvent, tracking: Tracking) -> None:
        a = RipartoRegionaleApprovato.model_validate(event.data)
        if event.tenantid != tenant_regione(a.regione):  # only a Region's own records can assign its money
            raise PoisonMessage(f"approvazione di {a.regione} pubblicata sotto {event.tenantid}")
        atto = {"tipo": a.atto.tipo, "numero": a.atto.numero, "data": a.atto.data, "ente": a.atto.ente}
        try:
            app.assegna_da_regione(a.regione, a.riparto_id, a.fondo, a.annualita, atto,
                                   [{"ambito": x.ambito, "importo": x.importo} for x in a.assegnazioni],
                                   a.approvato_da, tracking)
        except RuleViolation as exc:  # another Region's Ambito, an inconsistent act: never retryable
            raise PoisonMessage(f"{exc.rule}: {exc.detail}") from None

    def affidamento_aggiudicato(event: CloudEvent, tracking: Tracking) -> None:
        a = AffidamentoAggiudicato.model_validate(event.data)
        app.recepisci_affidamento(event.tenantid, a.affidamento_id, a.codice_fiscale, a.denominazione, a.piano_id,
                                  a.intervento, a.importo, a.cig, a.valido_dal, a.valido_al, tracking)

    settings = runtime.settings
    affidamenti = TrackedConsumer(  # awards as aggregates (CIG, ceiling), tracked apart from the abilitazioni
        settings, tracker=runtime.tracker, topics={settings.topic("partnership.events.v1"): "partnership:affidamenti"},
        handlers={"partnership.affidamento.aggiudicato": affidamento_aggiudicato}, group="affidamenti")
    own = TrackedConsumer(  # finance's own approvals, applied in each Ambito's tenant (tracked apart from
        # the own-log projector, which records finance's notifications under the application's name)
        settings, tracker=runtime.tracker, topics={settings.topic("finance.events.v1"): "finance:riparti_regionali"},
        handlers={"finance.riparto_regionale.approvato": riparto_regionale_approvato}, group="riparti_regionali")
    return [own, TrackedConsumer(
        settings, tracker=runtime.tracker, topics={settings.topic("planning.events.v1"): "planning"},
        handlers={"planning.piano_di_zona.creato": piano_creato,
                  "planning.ambito.composizione_registrata": composizione,
                  "planning.piano_di_zona.versione_approvata": versione_approvata}),
        abilitazioni.consumer(runtime), affidamenti, deliberazioni.consumer(runtime)]  # partnership's accreditations and awards
