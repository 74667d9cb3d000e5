"""The Ambito's financial execution per fund and annualità (monitoring read model, fed by finance's events).

A report, not a list: one row per fund and annualità with the Ambito's totals. Figures and
rates as ``monitoring.projections.esecuzione`` defines them: amounts are strings with two
decimals; ``tasso_impegno`` = impegnato / assegnato and ``tasso_pagamento`` = pagato /
impegnato are ratios with four decimals, null when their denominator is 0.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of

from monitoring.api.deps import Annualita, Lettore, ReadModelDep
from monitoring.projections.esecuzione import FIGURE, esecuzione_per_fondo, indicatori, somma

router = APIRouter(prefix="/esecuzione", tags=["Monitoraggio"])


class Figure(BaseModel):
    #: Σ assignments (registrata + integrata)
    assegnato: str
    #: Σ allocations to the Piano's budget lines (aperto + incrementato)
    stanziato: str
    #: Σ commitments net of reductions (assunto − ridotto)
    impegnato: str
    liquidato: str
    #: Σ payment orders (mandati)
    pagato: str
    #: impegnato / assegnato (four decimals), null when assegnato is 0
    tasso_impegno: str | None
    #: pagato / impegnato (four decimals), null when impegnato is 0
    tasso_pagamento: str | None


class EsecuzioneFondo(Figure):
    fondo: str
    annualita: int
    #: time of the last finance event applied to this fund's annualità
    ultimo_evento: datetime


class EsecuzioneAmbito(BaseModel):
    ambito: str
    #: the annualità asked for (null: all)
    annualita: int | None
    #: the latest ``ultimo_evento`` of ``fondi`` (null when there is none)
    aggiornato_al: datetime | None
    #: the totals over ``fondi``
    totale: Figure
    fondi: list[EsecuzioneFondo]


@router.get("", response_model=EsecuzioneAmbito)
def esecuzione(read_model: ReadModelDep, principal: Lettore, annualita: Annualita = None) -> EsecuzioneAmbito:
    """Assegnato, stanziato, impegnato, liquidato e pagato dell'Ambito per fondo e annualità
    (facoltativamente per una sola annualità), con i tassi di impegno e di pagamento."""
    tenant = tenant_of(principal)
    righe = esecuzione_per_fondo(read_model, tenant, annualita)
    fondi = [EsecuzioneFondo(fondo=r["fondo"], annualita=r["annualita"], ultimo_evento=r["ultimo_evento"],
                             **indicatori({f: r[f] for f in FIGURE})) for r in righe]
    return EsecuzioneAmbito(ambito=tenant, annualita=annualita, fondi=fondi,
                            totale=Figure(**indicatori(somma(righe, FIGURE))),
                            aggiornato_al=max((r["ultimo_evento"] for r in righe), default=None))
