"""The regional read model: aggregate figures per Ambito of the caller's Region."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles
from ambiti_kit.service import RuntimeDep

from monitoring.api.personale import Leps as LepsRegionale
from monitoring.projections.esecuzione import FIGURE_REGIONALI, indicatori, somma
from monitoring.projections.indicatori import indicatori as calcola_indicatori
from monitoring.projections.piani import STATI

router = APIRouter(prefix="/regione", tags=["Regione"])

Regione = Annotated[Principal, Depends(require_roles("regione"))]


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


@router.get("/piani", response_model=VistaRegionale)
def piani_per_ambito(runtime: RuntimeDep, principal: Regione) -> VistaRegionale:
    """Numero di Piani di Zona per Ambito della Regione e per stato, con la freschezza dei dati."""
    rm = runtime.read_model
    stati = sql.SQL(", ").join(sql.SQL("coalesce(p.{s}, 0) AS {s}").format(s=sql.Identifier(s)) for s in STATI)
    rows = rm.fetch_all(sql.SQL(
        "SELECT tenant_id AS ambito, a.nome, a.popolazione, coalesce(p.piani, 0) AS piani, {}, "
        "greatest(p.ultimo_evento, a.ultimo_evento) AS ultimo_evento "
        "FROM {} p FULL JOIN {} a USING (regione, tenant_id) ORDER BY tenant_id").format(
        stati, rm.table("regionale_piani"), rm.table("regionale_ambiti")), regione=principal.regione)
    ambiti = [PianiPerAmbito(stati=PianiPerStato(**{s: row.pop(s) for s in STATI}), **row) for row in rows]
    return VistaRegionale(regione=principal.regione or "", ambiti=ambiti,
                          aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


@router.get("/deliberazioni", response_model=VistaRegionaleDeliberazioni)
def deliberazioni_per_ambito(runtime: RuntimeDep, principal: Regione) -> VistaRegionaleDeliberazioni:
    """Numero di deliberazioni proposte, approvate e respinte per Ambito della Regione."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL(
        "SELECT tenant_id AS ambito, a.nome, a.popolazione, coalesce(d.proposte, 0) AS proposte, "
        "coalesce(d.approvate, 0) AS approvate, coalesce(d.respinte, 0) AS respinte, "
        "greatest(d.ultimo_evento, a.ultimo_evento) AS ultimo_evento "
        "FROM {} d FULL JOIN {} a USING (regione, tenant_id) ORDER BY tenant_id").format(
        rm.table("regionale_deliberazioni"), rm.table("regionale_ambiti")), regione=principal.regione)
    ambiti = [DeliberazioniPerAmbito(**row) for row in rows]
    return VistaRegionaleDeliberazioni(regione=principal.regione or "", ambiti=ambiti,
                                       aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


@router.get("/esecuzione", response_model=VistaRegionaleEsecuzione)
def esecuzione_per_ambito(runtime: RuntimeDep, principal: Regione,
                          annualita: int | None = None) -> VistaRegionaleEsecuzione:
    """Assegnato, impegnato, pagato e tassi di impegno e di pagamento per Ambito della Regione e per
    fondo (facoltativamente per una sola annualità), con la freschezza dei dati."""
    rm = runtime.read_model
    figure = sql.SQL(", ").join(sql.SQL("sum({f}) AS {f}").format(f=sql.Identifier(f)) for f in FIGURE_REGIONALI)
    where = sql.SQL("WHERE annualita = %s") if annualita is not None else sql.SQL("")
    with rm.scoped(regione=principal.regione) as curs:
        curs.execute(sql.SQL("SELECT tenant_id, fondo, {} FROM {} {} GROUP BY tenant_id, fondo "
                             "ORDER BY tenant_id, fondo").format(figure, rm.table("regionale_esecuzione"), where),
                     (annualita,) if annualita is not None else ())
        per_fondo = curs.fetchall()
        # Freshness over every annualità: the last event of the Ambito applied to this read model.
        curs.execute(sql.SQL("SELECT tenant_id, max(ultimo_evento) AS ultimo_evento FROM {} GROUP BY tenant_id")
                     .format(rm.table("regionale_esecuzione")))
        freschezza = {r["tenant_id"]: r["ultimo_evento"] for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, nome, popolazione, ultimo_evento FROM {}").format(
            rm.table("regionale_ambiti")))
        composizioni = {r["tenant_id"]: r for r in curs.fetchall()}
    ambiti = []
    for tenant in sorted(freschezza.keys() | composizioni.keys()):
        righe = [r for r in per_fondo if r["tenant_id"] == tenant]
        composizione = composizioni.get(tenant) or {}
        ambiti.append(EsecuzionePerAmbito(
            ambito=tenant, nome=composizione.get("nome"), popolazione=composizione.get("popolazione"),
            fondi=[EsecuzioneFondoRegionale(fondo=r["fondo"], **indicatori({f: r[f] for f in FIGURE_REGIONALI}))
                   for r in righe],
            ultimo_evento=max(t for t in (freschezza.get(tenant), composizione.get("ultimo_evento")) if t),
            **indicatori(somma(righe, FIGURE_REGIONALI))))
    return VistaRegionaleEsecuzione(regione=principal.regione or "", annualita=annualita, ambiti=ambiti,
                                    aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))


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
    utenti: int
    utenti_per_mille: str | None
    leps: LepsRegionale
    copertura: dict[str, str | None]
    #: newest event of this Ambito applied to the regional tables
    ultimo_evento: datetime


class VistaRegionaleIndicatori(BaseModel):
    regione: str
    anno: int | None
    aggiornato_al: datetime | None
    ambiti: list[IndicatoriRegionali]


@router.get("/indicatori", response_model=VistaRegionaleIndicatori)
def indicatori_per_ambito(runtime: RuntimeDep, principal: Regione,
                          anno: int | None = None) -> VistaRegionaleIndicatori:
    """Gli indicatori di ogni Ambito della Regione (spesa pro capite, esecuzione, utenti per 1.000 residenti,
    rapporto LEPS, copertura), da soli dati aggregati, con la freschezza (ultimo evento applicato)."""
    rm = runtime.read_model
    zero = Decimal("0")
    where_esec = sql.SQL("WHERE annualita = %s") if anno is not None else sql.SQL("")
    where_anno = sql.SQL("WHERE anno = %s") if anno is not None else sql.SQL("")
    p = (anno,) if anno is not None else ()
    with rm.scoped(regione=principal.regione) as curs:
        curs.execute(sql.SQL("SELECT tenant_id, nome, comuni, popolazione, ultimo_evento FROM {}").format(
            rm.table("regionale_ambiti")))
        composizioni = {r["tenant_id"]: r for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, sum(assegnato) AS assegnato, sum(impegnato) AS impegnato, "
                             "sum(pagato) AS pagato FROM {} {} GROUP BY tenant_id").format(
            rm.table("regionale_esecuzione"), where_esec), p)
        spesa = {r["tenant_id"]: r for r in curs.fetchall()}
        curs.execute(sql.SQL("SELECT tenant_id, sum(utenti) AS utenti FROM {} {} GROUP BY tenant_id").format(
            rm.table("regionale_prestazioni"), where_anno), p)
        utenti = {r["tenant_id"]: int(r["utenti"]) for r in curs.fetchall()}
        # Coverage over several years: the largest yearly count (a Comune may be covered in more than one year).
        curs.execute(sql.SQL("SELECT tenant_id, intervento, max(comuni) AS comuni FROM {} {} "
                             "GROUP BY tenant_id, intervento").format(rm.table("regionale_copertura"), where_anno), p)
        copertura: dict[str, dict[str, int]] = {}
        for r in curs.fetchall():
            copertura.setdefault(r["tenant_id"], {})[r["intervento"]] = r["comuni"]
        curs.execute(sql.SQL("SELECT tenant_id, fte_assistenti_sociali FROM {}").format(
            rm.table("regionale_personale")))
        fte = {r["tenant_id"]: r["fte_assistenti_sociali"] for r in curs.fetchall()}
        curs.execute(sql.SQL(
            "SELECT tenant_id, max(ultimo_evento) AS ultimo FROM ("
            "SELECT tenant_id, ultimo_evento FROM {} UNION ALL SELECT tenant_id, ultimo_evento FROM {} UNION ALL "
            "SELECT tenant_id, ultimo_evento FROM {} UNION ALL SELECT tenant_id, ultimo_evento FROM {} UNION ALL "
            "SELECT tenant_id, ultimo_evento FROM {}) x GROUP BY tenant_id").format(
            rm.table("regionale_ambiti"), rm.table("regionale_esecuzione"), rm.table("regionale_prestazioni"),
            rm.table("regionale_copertura"), rm.table("regionale_personale")))
        freschezza = {r["tenant_id"]: r["ultimo"] for r in curs.fetchall()}
    ambiti = []
    for tenant in sorted(freschezza):
        c = composizioni.get(tenant) or {}
        s = spesa.get(tenant) or {}
        valori = calcola_indicatori(
            residenti=c.get("popolazione") or 0, comuni=c.get("comuni") or 0, assegnato=s.get("assegnato") or zero,
            impegnato=s.get("impegnato") or zero, pagato=s.get("pagato") or zero, utenti=utenti.get(tenant, 0),
            fte_assistenti_sociali=fte.get(tenant, zero), comuni_coperti=copertura.get(tenant, {}))
        valori.pop("residenti")
        ambiti.append(IndicatoriRegionali(ambito=tenant, nome=c.get("nome"), comuni=c.get("comuni"),
                                          residenti=c.get("popolazione"), ultimo_evento=freschezza[tenant],
                                          **valori))
    return VistaRegionaleIndicatori(regione=principal.regione or "", anno=anno, ambiti=ambiti,
                                    aggiornato_al=max((a.ultimo_evento for a in ambiti), default=None))
