"""The regional read model: aggregate figures per Ambito of the caller's Region (reports, not paged lists).

Each view holds one entry per Ambito of the Region (a few hundred at most) with its
freshness, and never an Ambito's record: the regional tables keep aggregates only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from monitoring.api.deps import Anno, Annualita, Leps, ReadModelDep, Regione
from monitoring.api.indicatori import Conteggio
from monitoring.domain.prestazioni import AREE_TARGET
from monitoring.domain.riservatezza import sopprimi
from monitoring.projections.dati_indicatori import leggi_regione
from monitoring.projections.deliberazioni import deliberazioni_per_ambito
from monitoring.domain.fondi import FONDO_POVERTA, condizione_fondo_poverta_regionale
from monitoring.projections.esecuzione import (FIGURE_REGIONALI, esecuzione_regionale, fondo_per_ambito, indicatori,
                                               somma)
from monitoring.projections.indicatori import per_regione
from monitoring.projections.piani import STATI, piani_per_ambito
from monitoring.projections.prestazioni import utenze_regionali as utenze_regionali_per_area
from monitoring.settings import riservatezza

router = APIRouter(prefix="/regione", tags=["Regione"])


class PianiPerStato(BaseModel):
    """How many of the Ambito's plans are in each state."""

    bozza: int
    proposto: int
    approvato: int
    in_attuazione: int
    concluso: int


class PianiPerAmbito(BaseModel):
    ambito: str
    nome: str | None
    popolazione: int | None
    piani: int
    stati: PianiPerStato
    ultimo_evento: datetime


class VistaRegionale(BaseModel):
    regione: str
    aggiornato_al: datetime | None
    ambiti: list[PianiPerAmbito]


class DeliberazioniPerAmbito(BaseModel):
    ambito: str
    nome: str | None
    popolazione: int | None
    #: proposals not yet voted
    proposte: int
    approvate: int
    respinte: int
    ultimo_evento: datetime


class VistaRegionaleDeliberazioni(BaseModel):
    regione: str
    aggiornato_al: datetime | None
    ambiti: list[DeliberazioniPerAmbito]


class IndicatoriEsecuzione(BaseModel):
    """Aggregate execution figures (see ``monitoring.projections.esecuzione``)."""

    #: Σ assignments of the funds to the Ambito
    assegnato: str
    #: Σ commitments net of reductions
    impegnato: str
    #: Σ liquidations (what the Fondo Povertà condition counts as reported)
    liquidato: str
    #: Σ payment orders
    pagato: str
    #: impegnato / assegnato, four decimals; null when assegnato is 0
    tasso_impegno: str | None
    #: pagato / impegnato, four decimals; null when impegnato is 0
    tasso_pagamento: str | None


class EsecuzioneFondoRegionale(IndicatoriEsecuzione):
    fondo: str


class EsecuzionePerAmbito(IndicatoriEsecuzione):
    ambito: str
    nome: str | None
    popolazione: int | None
    #: per fund (summed over its annualità, or the one asked for)
    fondi: list[EsecuzioneFondoRegionale]
    ultimo_evento: datetime


class VistaRegionaleEsecuzione(BaseModel):
    regione: str
    #: the annualità asked for (null: all)
    annualita: int | None
    aggiornato_al: datetime | None
    ambiti: list[EsecuzionePerAmbito]


class IndicatoriRegionali(BaseModel):
    """The indicators of one Ambito, from aggregate figures only (see ``monitoring.projections.indicatori``)."""

    ambito: str
    nome: str | None
    comuni: int | None
    residenti: int | None
    spesa_pro_capite_pagato: str | None
    spesa_pro_capite_impegnato: str | None
    tasso_impegno: str | None
    tasso_pagamento: str | None
    utenze_mensili: int = Field(description="Somma dei conteggi mensili di utenti (non persone distinte).")
    utenze_mensili_per_mille: str | None
    accessi: int
    utenti: int = Field(deprecated=True, description="Deprecato: è `utenze_mensili`.")
    utenti_per_mille: str | None = Field(deprecated=True, description="Deprecato: è `utenze_mensili_per_mille`.")
    leps: Leps
    copertura: dict[str, str | None]
    #: newest event of this Ambito applied to the regional tables
    ultimo_evento: datetime


class VistaRegionaleIndicatori(BaseModel):
    regione: str
    anno: int | None
    aggiornato_al: datetime | None
    ambiti: list[IndicatoriRegionali]


@router.get("/piani", response_model=VistaRegionale)
def piani_regionali(read_model: ReadModelDep, principal: Regione) -> VistaRegionale:
    """Numero di Piani di Zona per Ambito della Regione e per stato, con la freschezza dei dati."""
    ambiti = [PianiPerAmbito(stati=PianiPerStato(**{s: row.pop(s) for s in STATI}), **row)
              for row in piani_per_ambito(read_model, principal.regione or "")]
    return VistaRegionale(regione=principal.regione or "", ambiti=ambiti,
                          aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


@router.get("/deliberazioni", response_model=VistaRegionaleDeliberazioni)
def deliberazioni_regionali(read_model: ReadModelDep, principal: Regione) -> VistaRegionaleDeliberazioni:
    """Numero di deliberazioni proposte, approvate e respinte per Ambito della Regione."""
    ambiti = [DeliberazioniPerAmbito(**row) for row in deliberazioni_per_ambito(read_model, principal.regione or "")]
    return VistaRegionaleDeliberazioni(regione=principal.regione or "", ambiti=ambiti,
                                       aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


@router.get("/esecuzione", response_model=VistaRegionaleEsecuzione)
def esecuzione_regionali(read_model: ReadModelDep, principal: Regione,
                         annualita: Annualita = None) -> VistaRegionaleEsecuzione:
    """Assegnato, impegnato, pagato e tassi di impegno e di pagamento per Ambito della Regione e per
    fondo (facoltativamente per una sola annualità), con la freschezza dei dati."""
    ambiti = [EsecuzionePerAmbito(
        ambito=a["ambito"], nome=a["nome"], popolazione=a["popolazione"], ultimo_evento=a["ultimo_evento"],
        fondi=[EsecuzioneFondoRegionale(fondo=f["fondo"], **indicatori({k: f[k] for k in FIGURE_REGIONALI}))
               for f in a["fondi"]],
        **indicatori(somma(a["fondi"], FIGURE_REGIONALI)))
        for a in esecuzione_regionale(read_model, principal.regione or "", annualita)]
    return VistaRegionaleEsecuzione(regione=principal.regione or "", annualita=annualita, ambiti=ambiti,
                                    aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


@router.get("/indicatori", response_model=VistaRegionaleIndicatori)
def indicatori_regionali(read_model: ReadModelDep, principal: Regione, anno: Anno = None) -> VistaRegionaleIndicatori:
    """Gli indicatori di ogni Ambito della Regione (spesa pro capite, esecuzione, utenti per 1.000 residenti,
    rapporto LEPS, copertura), da soli dati aggregati, con la freschezza (ultimo evento applicato)."""
    ambiti = [IndicatoriRegionali(**a) for a in per_regione(leggi_regione(read_model, principal.regione or "", anno))]
    return VistaRegionaleIndicatori(regione=principal.regione or "", anno=anno, ambiti=ambiti,
                                    aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


class UtenzeAmbito(BaseModel):
    ambito: str
    nome: str | None
    #: target area -> Σ monthly user counts, or its suppression marker
    utenze: dict[str, Conteggio]
    totale: Conteggio


class VistaRegionaleUtenze(BaseModel):
    """Monthly user counts per Ambito and target area, with the totals, published with small-count suppression."""

    regione: str
    anno: int | None
    soglia_riservatezza: int
    aree: list[str]
    ambiti: list[UtenzeAmbito]
    totale_per_area: dict[str, Conteggio]
    totale: Conteggio


@router.get("/utenze", response_model=VistaRegionaleUtenze)
def utenze_regionali(read_model: ReadModelDep, principal: Regione, anno: Anno = None) -> VistaRegionaleUtenze:
    """Utenze mensili (somma dei conteggi mensili di utenti, non persone) per Ambito della Regione e area di
    utenza, con i totali per Ambito, per area e della Regione: i conteggi da 1 alla soglia di riservatezza − 1
    sono mostrati come "<3" e, dove i totali li rivelerebbero, altri conteggi come "n.d."."""
    regione = principal.regione or ""
    soglia = riservatezza().soglia
    dati = utenze_regionali_per_area(read_model, regione, anno)
    nomi = {a["ambito"]: a["nome"] for a in esecuzione_regionale(read_model, regione)}
    codici = sorted(dati)
    tabella = sopprimi([[dati[c].get(area, 0) for area in AREE_TARGET] for c in codici], soglia)
    return VistaRegionaleUtenze(
        regione=regione, anno=anno, soglia_riservatezza=soglia, aree=list(AREE_TARGET),
        ambiti=[UtenzeAmbito(ambito=c, nome=nomi.get(c), utenze=dict(zip(AREE_TARGET, tabella.celle[k])),
                             totale=tabella.totali_riga[k])  # type: ignore[index]
                for k, c in enumerate(codici)],
        totale_per_area=dict(zip(AREE_TARGET, tabella.totali_colonna or [])), totale=tabella.totale)


class QuotaFondoPovertaAmbito(BaseModel):
    ambito: str
    nome: str | None
    assegnato: str
    rendicontato: str
    percentuale: str | None


class CondizioneFondoPovertaRegionale(BaseModel):
    """The 75% condition of the Fondo Povertà over the Region's Ambiti (``monitoring.domain.fondi``)."""

    regione: str
    fondo: str
    annualita: int = Field(description="L'annualità QSFP da erogare.")
    annualita_riferimento: int = Field(description="La seconda annualità precedente, su cui si misura.")
    assegnato: str
    rendicontato: str
    percentuale: str | None
    soglia_percentuale: str
    soglia_importo: str | None
    mancante: str | None
    stato: Literal["rispettata", "non_rispettata", "non_valutabile"]
    criterio: str
    fonte: str
    ambiti: list[QuotaFondoPovertaAmbito]


@router.get("/fondo-poverta", response_model=CondizioneFondoPovertaRegionale)
def fondo_poverta_regionale(read_model: ReadModelDep, principal: Regione,
                            annualita: int = Query(ge=2002, le=2100, description=(
                                "Annualità della quota servizi del Fondo Povertà da erogare: la condizione si "
                                "misura sulla seconda annualità precedente."))) -> CondizioneFondoPovertaRegionale:
    """La condizione del 75% del Fondo Povertà (quota servizi) per la Regione: rendicontato (liquidato) della
    seconda annualità precedente su tutti i suoi Ambiti insieme, con la quota di ciascun Ambito."""
    regione = principal.regione or ""
    c = condizione_fondo_poverta_regionale(annualita, fondo_per_ambito(read_model, regione, FONDO_POVERTA,
                                                                       annualita - 2))
    nomi = {a["ambito"]: a["nome"] for a in esecuzione_regionale(read_model, regione)}
    s = lambda v: None if v is None else str(v)  # noqa: E731
    return CondizioneFondoPovertaRegionale(
        regione=regione, fondo=FONDO_POVERTA, annualita=c.annualita, annualita_riferimento=c.annualita_riferimento,
        assegnato=str(c.assegnato), rendicontato=str(c.rendicontato), percentuale=s(c.percentuale),
        soglia_percentuale=str(c.soglia_percentuale), soglia_importo=s(c.soglia_importo), mancante=s(c.mancante),
        stato=c.stato, criterio=c.criterio, fonte=c.fonte,
        ambiti=[QuotaFondoPovertaAmbito(ambito=q.ambito, nome=nomi.get(q.ambito), assegnato=str(q.assegnato),
                                        rendicontato=str(q.rendicontato), percentuale=s(q.percentuale))
                for q in c.ambiti])
