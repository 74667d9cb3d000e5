"""HTTP API of the municipal contributions: each Comune's quota, due dates, payments, arrears."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import Importo, IstatComune, StrictIn, testo
from ambiti_kit.service import RuntimeDep
from ambiti_kit.values import euro

from finance.api.deps import Contabile, FinanceDep
from finance.projections import deliberazioni
from finance.domain.comandi import DeterminazioneContributi
from finance.domain.contributi import ContributiComunali

router = APIRouter(prefix="/contributi", tags=["Contributi dei Comuni"])

#: a mayor (componente_comitato) also reads what his Comune owes
Lettore = Annotated[Principal, Depends(require_roles(
    "coordinatore", "amministrativo", "revisore", "componente_comitato", "referente_asl"))]


class Scadenza(StrictIn):
    data: date = Field(strict=False, examples=["2026-06-30"])
    percentuale: str = Field(pattern=r"^\d{1,3}(\.\d{1,2})?$", examples=["50"])


class QuotaDeliberata(StrictIn):
    istat: IstatComune
    importo: Importo


class ContributiWrite(StrictIn):
    metodo: Literal["pro_capite", "deliberato"]
    scadenze: list[Scadenza] = Field(min_length=1, max_length=12)
    quota_pro_capite: str | None = Field(None, pattern=r"^\d{1,6}(\.\d{1,4})?$", examples=["4.50"],
                                         description="Euro per abitante (metodo pro_capite).")
    riparto: list[QuotaDeliberata] | None = Field(None, max_length=400, description="Metodo deliberato.")
    riparto_id: uuid.UUID | None = Field(None, strict=False, description=(
        "Metodo deliberato: le quote sono il risultato di questo riparto registrato tra i Comuni dell'Ambito "
        "(al posto di `riparto`); ogni Comune dell'Ambito vi compare una volta."))
    deliberazione_id: uuid.UUID | None = Field(None, strict=False, description=(
        "Metodo deliberato: la deliberazione del Comitato che approva il riparto, approvata e di tipo "
        "criteri_riparto_costi, approvazione_bilancio o convenzione (come planning la pubblica; GET /deliberazioni "
        "elenca quelle note a finance). Sconosciuta, non approvata, di altro tipo o con altro numero: 422 "
        "`atto.deliberazione_sconosciuta`, `atto.deliberazione_non_approvata`, `atto.tipo_deliberazione`, "
        "`atto.numero_deliberazione`."))
    deliberazione_numero: str | None = Field(None, pattern=r"^\d+/\d{4}$", examples=["3/2026"],
                                             description="Il numero della deliberazione (n/anno).")


class VersamentoWrite(StrictIn):
    istat: IstatComune
    importo: Importo
    data: date = Field(strict=False)
    riferimento: testo(1, 60) = Field(examples=["Reversale 412/2026"])


class StornoWrite(StrictIn):
    data: date = Field(strict=False)
    motivo: testo(3, 300)


def situazione(c: ContributiComunali, al: date) -> dict[str, Any]:
    return {"ambito": c.tenant_id, "anno": c.anno, "metodo": c.metodo, "al": al.isoformat(),
            "quota_pro_capite": str(c.quota_pro_capite) if c.quota_pro_capite is not None else None,
            "popolazione_al": c.popolazione_al.isoformat() if c.popolazione_al else None,
            "deliberazione": c.deliberazione_numero, "riparto_id": str(c.riparto_id) if c.riparto_id else None,
            "totali": {k: euro(v) for k, v in c.totali(al).items()}, "comuni": c.situazione(al),
            "versione": c.version}


@router.post("/{anno}", status_code=status.HTTP_201_CREATED)
def determina(anno: int, body: ContributiWrite, app: FinanceDep, runtime: RuntimeDep,
              principal: Contabile) -> dict[str, Any]:
    """Determina la quota di ogni Comune per l'anno (pro capite sulla popolazione, o come deliberato) e le rate."""
    scadenze = [{"data": s.data, "percentuale": Decimal(s.percentuale)} for s in body.scadenze]
    if body.metodo == "pro_capite":
        if body.quota_pro_capite is None or body.riparto is not None:
            raise RuleViolation("Il metodo pro capite indica la quota per abitante e nessun riparto.",
                                rule="contributi.metodo", field="quota_pro_capite")
        comando = DeterminazioneContributi(anno, scadenze, quota_pro_capite=Decimal(body.quota_pro_capite))
    else:
        if (body.riparto is None) == (body.riparto_id is None) or body.quota_pro_capite is not None:
            raise RuleViolation("Il metodo deliberato indica il riparto approvato (le quote, oppure l'id di un "
                                "riparto registrato) e nessuna quota pro capite.",
                                rule="contributi.metodo", field="riparto")
        comando = DeterminazioneContributi(anno, scadenze,
                                           riparto=[q.model_dump() for q in body.riparto] if body.riparto else None,
                                           deliberazione_id=body.deliberazione_id,
                                           deliberazione_numero=body.deliberazione_numero, riparto_id=body.riparto_id)
    deliberazione = (deliberazioni.per_id(runtime.read_model, tenant_of(principal), comando.deliberazione_id)
                     if comando.deliberazione_id is not None else None)
    return situazione(app.determina_contributi(tenant_of(principal), comando, principal.subject, deliberazione),
                      date(anno, 12, 31))


@router.get("/{anno}")
def leggi(anno: int, app: FinanceDep, principal: Lettore,
          al: date | None = Query(None, description="Data alla quale calcolare scaduto e arretrati (oggi se omessa).")
          ) -> dict[str, Any]:
    """Quote, rate, versato, residuo e arretrati di ogni Comune a una data."""
    return situazione(app.contributi(tenant_of(principal), anno), al or date.today())


@router.post("/{anno}/versamenti", status_code=status.HTTP_201_CREATED)
def versa(anno: int, body: VersamentoWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Registra un versamento di un Comune (il riferimento della reversale è unico: niente doppioni)."""
    c = app.registra_versamento(tenant_of(principal), anno, body.istat, body.importo, body.data,
                                body.riferimento, principal.subject)
    return situazione(c, body.data)


@router.post("/{anno}/versamenti/{riferimento}/storno")
def storna(anno: int, riferimento: str, body: StornoWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Storna un versamento registrato per errore, con la motivazione."""
    c = app.storna_versamento(tenant_of(principal), anno, riferimento, body.data, body.motivo, principal.subject)
    return situazione(c, body.data)

