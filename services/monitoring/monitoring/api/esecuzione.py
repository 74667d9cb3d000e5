"""The Ambito's financial execution per fund and annualità (monitoring read model).

Figures and rates as ``monitoring.projections.esecuzione`` defines them: amounts are strings
with two decimals; ``tasso_impegno`` = impegnato / assegnato and ``tasso_pagamento`` =
pagato / impegnato are ratios with four decimals, null when their denominator is 0.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import tenant_of
from ambiti_kit.service import RuntimeDep

from monitoring.api.piani import Lettore
from monitoring.projections.esecuzione import FIGURE, indicatori, somma

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
def esecuzione(runtime: RuntimeDep, principal: Lettore, annualita: int | None = None) -> EsecuzioneAmbito:
    """Assegnato, stanziato, impegnato, liquidato e pagato dell'Ambito per fondo e annualità
    (facoltativamente per una sola annualità), con i tassi di impegno e di pagamento."""
    rm = runtime.read_model
    where = sql.SQL("WHERE annualita = %s") if annualita is not None else sql.SQL("")
    rows = rm.fetch_all(sql.SQL("SELECT fondo, annualita, {}, ultimo_evento FROM {} {} ORDER BY fondo, annualita")
                        .format(sql.SQL(", ").join(map(sql.Identifier, FIGURE)), rm.table("esecuzione"), where),
                        (annualita,) if annualita is not None else (), tenant=tenant_of(principal))
    fondi = [EsecuzioneFondo(fondo=r["fondo"], annualita=r["annualita"], ultimo_evento=r["ultimo_evento"],
                             **indicatori({f: r[f] for f in FIGURE})) for r in rows]
    return EsecuzioneAmbito(ambito=tenant_of(principal), annualita=annualita, fondi=fondi,
                            totale=Figure(**indicatori(somma(rows, FIGURE))),
                            aggiornato_al=max((r["ultimo_evento"] for r in rows), default=None))
