"""Services delivered: entry, correction, CSV import, and the Ambito's list (monitoring).

Entries are stored as monitoring's own events and projected in process before the response
leaves: a record just entered is in ``GET /prestazioni`` at once.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel

from ambiti_kit.auth import Principal, tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.listing import LIST_RESPONSES, Pagina, PaginazioneDep

from monitoring.api.deps import MESE, Anno, Comune, Intervento, Lettore, MonitoringDep, Operatore, ReadModelDep
from monitoring.domain.prestazioni import Prestazione, leggi_prestazione, verifica
from monitoring.projections.ambiti import appartenenze
from monitoring.projections.prestazioni import elenco_prestazioni

router = APIRouter(prefix="/prestazioni", tags=["Prestazioni erogate"])

ROMA = ZoneInfo("Europe/Rome")


def oggi() -> date:
    return datetime.now(ROMA).date()


def comune_consentito(principal: Principal) -> str | None:
    """An assistente sociale (without the coordinatore role) enters only for her own Comune."""
    if principal.has_any(("coordinatore",)):
        return None
    if principal.comune is None:
        raise RuleViolation("Il token dell'assistente sociale non indica il Comune (claim 'comune').",
                            rule="prestazione.comune_dell_operatore", field="comune")
    return principal.comune


class PrestazioneScritta(BaseModel):
    id: uuid.UUID
    intervento: str
    comune: str
    mese: str
    versione: int


class Importazione(BaseModel):
    registrate: int
    corrette: int


class PrestazioneLetta(BaseModel):
    id: uuid.UUID
    intervento: str
    comune: str
    mese: str
    #: area -> age band -> users
    utenti: dict[str, dict[str, int]]
    utenti_totale: int
    accessi: int
    ore: str
    costo: str
    note: str | None
    versione: int
    ultimo_evento: datetime


def _scritta(p: Prestazione) -> PrestazioneScritta:
    return PrestazioneScritta(id=p.id, intervento=p.intervento, comune=p.comune, mese=p.mese, versione=p.version)


@router.post("", status_code=201, response_model=PrestazioneScritta)
def registra(app: MonitoringDep, read_model: ReadModelDep, principal: Operatore,
             corpo: Annotated[dict[str, Any], Body(examples=[{
                 "intervento": "SAD", "comune": "065134", "mese": "2026-01",
                 "utenti": {"anziani": {"65+": 12}, "disabilita": {"18-64": 3}},
                 "accessi": 140, "ore": "210.50", "costo": "4210.00", "note": "servizio regolare"}])],
             ) -> PrestazioneScritta:
    """Registra le prestazioni erogate di un intervento in un Comune per un mese (solo conteggi aggregati)."""
    tenant = tenant_of(principal)
    dati = verifica(*leggi_prestazione(corpo, oggi=oggi(), appartenenze=appartenenze(read_model, tenant),
                                       comune_consentito=comune_consentito(principal)))
    if "motivo" in corpo:
        raise RuleViolation("Una nuova registrazione non ha motivo: per correggere usare PUT.",
                            rule="prestazione.campo_sconosciuto", field="motivo")
    return _scritta(app.registra_prestazione(tenant, dati, principal.subject))


@router.put("", response_model=PrestazioneScritta)
def correggi(app: MonitoringDep, read_model: ReadModelDep, principal: Operatore,
             corpo: Annotated[dict[str, Any], Body()]) -> PrestazioneScritta:
    """Corregge una prestazione registrata (stesso intervento, Comune e mese) indicando il motivo."""
    tenant = tenant_of(principal)
    dati = verifica(*leggi_prestazione(corpo, oggi=oggi(), appartenenze=appartenenze(read_model, tenant),
                                       comune_consentito=comune_consentito(principal)))
    return _scritta(app.correggi_prestazione(tenant, dati, corpo.get("motivo"), principal.subject))


@router.post("/import", status_code=201, response_model=Importazione,
             openapi_extra={"requestBody": {"content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object", "properties": {
                     "csv": {"type": "string"}, "motivo": {"type": "string"}}, "required": ["csv"]}}}}})
async def importa(request: Request, app: MonitoringDep, read_model: ReadModelDep, principal: Operatore,
                  motivo: str | None = Query(None, max_length=500)) -> Importazione:
    """Importa un CSV (colonne: intervento, comune, mese, area, utenti_0_17, utenti_18_64, utenti_65_piu,
    accessi, ore, costo, note): tutto o niente, con gli errori per riga."""
    tenant = tenant_of(principal)
    raw = await request.body()
    tipo = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        testo = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RuleViolation("Il file deve essere in UTF-8.", rule="csv.codifica", field="csv") from None
    if tipo == "application/json":
        try:
            corpo = json.loads(testo)
        except json.JSONDecodeError:
            raise RuleViolation("Il corpo non è JSON valido.", rule="json_invalid", field="csv") from None
        if not isinstance(corpo, dict) or not isinstance(corpo.get("csv"), str):
            raise RuleViolation("Il corpo JSON indica il file nel campo 'csv'.", rule="csv.campo", field="csv")
        testo, motivo = corpo["csv"], corpo.get("motivo", motivo)
    elif tipo not in ("text/csv", "text/plain"):
        raise RuleViolation("Inviare il file come text/csv, o come JSON con il campo 'csv'.", rule="csv.formato",
                            field="csv")
    nuovi, corretti = app.importa_prestazioni(
        tenant, testo, oggi=oggi(), appartenenze=appartenenze(read_model, tenant),
        comune_consentito=comune_consentito(principal), motivo=motivo, autore=principal.subject)
    return Importazione(registrate=nuovi, corrette=corretti)


@router.get("", response_model=Pagina[PrestazioneLetta], responses=LIST_RESPONSES)
def elenco(read_model: ReadModelDep, principal: Lettore, pagina: PaginazioneDep, request: Request,
           response: Response, anno: Anno = None, comune: Comune = None, intervento: Intervento = None,
           mese_da: str | None = Query(None, pattern=MESE, description="Dal mese (AAAA-MM, incluso).",
                                       examples=["2026-01"]),
           mese_a: str | None = Query(None, pattern=MESE, description="Al mese (AAAA-MM, incluso).",
                                      examples=["2026-12"])) -> dict:
    """Elenca le prestazioni registrate dell'Ambito per mese, intervento e Comune (facoltativamente per anno,
    Comune, intervento, intervallo di mesi)."""
    if mese_da is not None and mese_a is not None and mese_da > mese_a:
        raise RuleViolation("L'intervallo di mesi è vuoto: «mese_da» viene dopo «mese_a».",
                            rule="elenco.intervallo", field="mese_da")
    return elenco_prestazioni(read_model, anno=anno, comune=comune, intervento=intervento, mese_da=mese_da,
                              mese_a=mese_a).page(pagina, request, response, tenant=tenant_of(principal))
