"""HTTP API of the fund constraints: each constraint of a fund annualità with its legal source, measured on
commitments and on payments (``finance.domain.vincoli``), from finance's own read model of its ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.service import RuntimeDep

from finance.api.rendicontazione import Rendicontatore
from finance.domain.fondi import verifica_fondo
from finance.domain.vincoli import VINCOLI, Misura, Vincolo, VincoloMisurato
from finance.projections.lettura import misura_i_vincoli

router = APIRouter(prefix="/vincoli", tags=["Vincoli dei fondi"])

Euro = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["12500.00"])]
Percentuale = Annotated[str, Field(pattern=r"^\d+\.\d{2}$", examples=["40.00"])]


class VincoloRead(BaseModel):
    codice: str = Field(examples=["fnps_minori_50"])
    fondo: str = Field(examples=["FNPS"])
    dal: int = Field(description="Prima annualità a cui si applica.")
    al: int | None = Field(description="Ultima annualità a cui si applica (null: fino a nuovo atto).")
    criterio: Literal["area_utenza", "disabilita_gravissima", "servizio_qsfp"] = Field(
        description="La classificazione dell'intervento che il vincolo legge.")
    valore: str | bool = Field(description="Il valore che conta: un'area di utenza, true (disabilità gravissima) o "
                                           "«a-h» (qualsiasi servizio del D.Lgs. 147/2017, art. 7, comma 1).")
    soglia_percentuale: Percentuale
    descrizione: str
    fonte: str = Field(description="L'atto (legge, decreto, articolo, comma) che pone il vincolo.")


class MisuraRead(BaseModel):
    base: Literal["impegni", "mandati"] = Field(
        description="impegni: impegnato al netto di disimpegni ed economie; mandati: pagato.")
    numeratore: Euro = Field(description="Spesa sugli interventi che contano per il vincolo.")
    denominatore: Euro = Field(description="Tutta la spesa dell'annualità del fondo.")
    non_classificata: Euro = Field(description="Spesa su interventi senza la classificazione che il vincolo legge: "
                                               "non è contata né a favore né contro.")
    quota_percentuale: Percentuale | None = Field(description="numeratore / denominatore × 100, troncata a due "
                                                              "decimali; null se nulla è speso.")
    soglia_percentuale: Percentuale
    esito: Literal["rispettato", "non_rispettato", "non_valutabile"]
    interventi_non_classificati: list[str]
    motivazione: str


class VincoloMisuratoRead(BaseModel):
    fondo: str
    annualita: int
    vincolo: VincoloRead
    impegni: MisuraRead
    mandati: MisuraRead


class VincoliRead(BaseModel):
    ambito: str
    filtri: dict[str, Any]
    vincoli: list[VincoloMisuratoRead]


def _euro(d: Decimal) -> str:
    return str(d.quantize(Decimal("0.01")))


def _vincolo(v: Vincolo) -> dict[str, Any]:
    return {"codice": v.codice, "fondo": v.fondo, "dal": v.dal, "al": v.al, "criterio": v.criterio,
            "valore": v.valore, "soglia_percentuale": _euro(v.soglia_percentuale), "descrizione": v.descrizione,
            "fonte": v.fonte}


def _misura(m: Misura) -> dict[str, Any]:
    return {"base": m.base, "numeratore": _euro(m.numeratore), "denominatore": _euro(m.denominatore),
            "non_classificata": _euro(m.non_classificata),
            "quota_percentuale": None if m.quota_percentuale is None else _euro(m.quota_percentuale),
            "soglia_percentuale": _euro(m.soglia_percentuale), "esito": m.esito,
            "interventi_non_classificati": list(m.interventi_non_classificati), "motivazione": m.motivazione}


def _misurato(v: VincoloMisurato) -> dict[str, Any]:
    return {"fondo": v.fondo, "annualita": v.annualita, "vincolo": _vincolo(v.vincolo),
            "impegni": _misura(v.impegni), "mandati": _misura(v.mandati)}


@router.get("", response_model=VincoliRead)
def vincoli(runtime: RuntimeDep, principal: Rendicontatore,
            fondo: Annotated[str | None, Query(description="Codice del fondo (es. FNPS, FNA, QSFP).")] = None,
            annualita: Annotated[int | None, Query(ge=2000, le=2100, description="Annualità del fondo.")] = None,
            ) -> dict[str, Any]:
    """Vincoli dei fondi per annualità, misurati sugli impegni e sui mandati, con la spesa non classificata."""
    if fondo is not None:
        verifica_fondo(fondo)
    tenant = tenant_of(principal)
    misurati = misura_i_vincoli(runtime.read_model, tenant, fondo=fondo, annualita=annualita)
    return {"ambito": tenant, "filtri": {"fondo": fondo, "annualita": annualita},
            "vincoli": [_misurato(v) for v in misurati]}


@router.get("/riferimenti", response_model=list[VincoloRead])
def riferimenti(principal: Rendicontatore) -> list[dict[str, Any]]:
    """I vincoli dei fondi noti alla piattaforma, con le annualità a cui si applicano e la fonte normativa."""
    return [_vincolo(v) for v in VINCOLI]
