"""The Ambito's contracts and payments as open data: OCDS releases and 360Giving rows (exports)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from ambiti_kit.auth import tenant_of

from monitoring.api.deps import Lettore, ReadModelDep
from monitoring.api.indicatori import csv_response
from monitoring.projections.opendata import COLONNE_360, giving360, impegni_e_pagamenti, ocds

router = APIRouter(prefix="/opendata", tags=["Indicatori"])


@router.get("/ocds.json")
def opendata_ocds(read_model: ReadModelDep, principal: Lettore) -> dict[str, Any]:
    """Contratti e pagamenti dell'Ambito come release OCDS (una per impegno, con i mandati come transazioni)."""
    tenant = tenant_of(principal)
    impegni, pagamenti = impegni_e_pagamenti(read_model, tenant)
    pubblicato = max((i["assunto_il"] for i in impegni), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    return ocds(tenant, impegni, pagamenti, pubblicato)


@router.get("/360giving.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def opendata_360giving(read_model: ReadModelDep, principal: Lettore) -> Response:
    """Gli affidamenti e contributi dell'Ambito nel tracciato 360Giving (CSV)."""
    tenant = tenant_of(principal)
    impegni, _ = impegni_e_pagamenti(read_model, tenant)
    return csv_response(list(COLONNE_360), giving360(tenant, impegni), "360giving.csv")
