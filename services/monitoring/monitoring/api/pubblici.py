"""Open data without a token: each Ambito's OCDS releases, 360Giving rows and indicator CSVs at stable
public URLs (``/pubblici/ambiti/{ambito}/…``), for anyone — citizens, journalists, the Region's portal.

They are the same documents an Ambito's staff download with a token, with the same small-count suppression
(GDPR art. 9: fewer than ``AMBITI_SOGLIA_RISERVATEZZA`` users of a Comune are never published, nor any
total that would reveal them). Only organisations appear as beneficiaries: commitments to people
(16-character codici fiscali) are not in monitoring's read model. Every answer carries a strong ``ETag``
(the SHA-256 of its bytes) and ``Cache-Control: public``; ``If-None-Match`` with the current tag gets 304.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ambiti_kit.errors import NotFound

from monitoring.api.deps import Anno, ReadModelDep
from monitoring.api.indicatori import csv_text, indicatore
from monitoring.projections.dati_indicatori import leggi_ambito
from monitoring.projections.indicatori import NOMI
from monitoring.projections.opendata import COLONNE_360, giving360, impegni_e_pagamenti, ocds

router = APIRouter(prefix="/pubblici/ambiti/{ambito}", tags=["Dati aperti"])
MAX_AGE = 300
Ambito = Annotated[str, Path(pattern=r"^\d{2}-[A-Z0-9]{1,12}$", max_length=15,
                             description="L'Ambito, `<codice ISTAT della Regione>-<codice>`.", examples=["15-S09"])]
CACHED = {
    200: {"headers": {"ETag": {"description": "SHA-256 dei byte della risposta.", "schema": {"type": "string"}},
                      "Cache-Control": {"schema": {"type": "string"}}}},
    304: {"description": "Non cambiato dall'`ETag` indicato in `If-None-Match`."},
    404: {"description": "Ambito non registrato (o indicatore sconosciuto)."},
}


def _published(request: Request, body: bytes, media_type: str, filename: str | None = None) -> Response:
    etag = f'"{hashlib.sha256(body).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    asked = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


def _registered(read_model: ReadModelDep, ambito: str) -> None:
    if leggi_ambito(read_model, ambito, None) is None:
        raise NotFound(f"Nessun Ambito {ambito} con dati pubblicati.", rule="ambito.non_trovato")


@router.get("/ocds.json", responses={**CACHED, 200: {**CACHED[200], "content": {"application/json": {}}}},
            response_class=Response)
def ocds_pubblico(ambito: Ambito, request: Request, read_model: ReadModelDep) -> Response:
    """Contratti e pagamenti dell'Ambito come release OCDS, senza token."""
    _registered(read_model, ambito)
    impegni, pagamenti = impegni_e_pagamenti(read_model, ambito)
    pubblicato = max((i["assunto_il"] for i in impegni), default=datetime(1970, 1, 1, tzinfo=timezone.utc))
    body = json.dumps(ocds(ambito, impegni, pagamenti, pubblicato), ensure_ascii=False, default=str).encode()
    return _published(request, body, "application/json")


@router.get("/360giving.csv", responses={**CACHED, 200: {**CACHED[200], "content": {"text/csv": {}}}},
            response_class=Response)
def giving360_pubblico(ambito: Ambito, request: Request, read_model: ReadModelDep) -> Response:
    """Affidamenti e contributi dell'Ambito nel tracciato 360Giving, senza token."""
    _registered(read_model, ambito)
    impegni, _ = impegni_e_pagamenti(read_model, ambito)
    body = csv_text(list(COLONNE_360), giving360(ambito, impegni)).encode()
    return _published(request, body, "text/csv; charset=utf-8", "360giving.csv")


@router.get("/indicatori/{nome}.csv", responses={**CACHED, 200: {**CACHED[200], "content": {"text/csv": {}}}},
            response_class=Response)
def indicatore_pubblico(ambito: Ambito, nome: Annotated[str, Path(description="Uno di: " + ", ".join(
                            (*NOMI, "utenze_per_area")), max_length=40)],
                        request: Request, read_model: ReadModelDep, anno: Anno = None) -> Response:
    """Un indicatore dell'Ambito in CSV, senza token; i conteggi piccoli per Comune sono soppressi."""
    testa, righe = indicatore(read_model, ambito, nome, anno)
    return _published(request, csv_text(testa, righe).encode(), "text/csv; charset=utf-8", f"{nome}.csv")
