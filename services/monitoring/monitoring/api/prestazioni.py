"""Services delivered: entry, correction, CSV import, and the Ambito's list (monitoring)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Request
from psycopg import sql
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.service import Runtime, RuntimeDep

from monitoring.api.piani import Lettore
from monitoring.application import Monitoring
from monitoring.domain.prestazioni import Prestazione, leggi_prestazione, verifica

router = APIRouter(prefix="/prestazioni", tags=["Prestazioni erogate"])

Operatore = Annotated[Principal, Depends(require_roles("assistente_sociale", "coordinatore"))]
ROMA = ZoneInfo("Europe/Rome")


def oggi() -> date:
    return datetime.now(ROMA).date()


def appartenenze(runtime: Runtime, tenant: str) -> list[tuple[str, date, date]]:
    """The Ambito's periods of membership of its Comuni (``monitoring.projections.ambiti``)."""
    rm = runtime.read_model
    rows = rm.fetch_all(sql.SQL("SELECT istat, dal, al FROM {}").format(rm.table("appartenenze")), tenant=tenant)
    return [(r["istat"], r["dal"], r["al"]) for r in rows]


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


def _app(runtime: Runtime) -> Monitoring:
    return runtime.app  # type: ignore[return-value]


@router.post("", status_code=201, response_model=PrestazioneScritta)
def registra(runtime: RuntimeDep, principal: Operatore,
             corpo: Annotated[dict[str, Any], Body(examples=[{
                 "intervento": "SAD", "comune": "065134", "mese": "2026-01",
                 "utenti": {"anziani": {"65+": 12}, "disabilita": {"18-64": 3}},
                 "accessi": 140, "ore": "210.50", "costo": "4210.00", "note": "servizio regolare"}])],
             ) -> PrestazioneScritta:
    """Registra le prestazioni erogate di un intervento in un Comune per un mese (solo conteggi aggregati)."""
    tenant = tenant_of(principal)
    dati = verifica(*leggi_prestazione(corpo, oggi=oggi(), appartenenze=appartenenze(runtime, tenant),
                                       comune_consentito=comune_consentito(principal)))
    if "motivo" in corpo:
        raise RuleViolation("Una nuova registrazione non ha motivo: per correggere usare PUT.",
                            rule="prestazione.campo_sconosciuto", field="motivo")
    return _scritta(_app(runtime).registra_prestazione(tenant, dati, principal.subject))


@router.put("", response_model=PrestazioneScritta)
def correggi(runtime: RuntimeDep, principal: Operatore,
             corpo: Annotated[dict[str, Any], Body()]) -> PrestazioneScritta:
    """Corregge una prestazione registrata (stesso intervento, Comune e mese) indicando il motivo."""
    tenant = tenant_of(principal)
    dati = verifica(*leggi_prestazione(corpo, oggi=oggi(), appartenenze=appartenenze(runtime, tenant),
                                       comune_consentito=comune_consentito(principal)))
    return _scritta(_app(runtime).correggi_prestazione(tenant, dati, corpo.get("motivo"), principal.subject))


@router.post("/import", status_code=201, response_model=Importazione,
             openapi_extra={"requestBody": {"content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object", "properties": {
                     "csv": {"type": "string"}, "motivo": {"type": "string"}}, "required": ["csv"]}}}}})
async def importa(request: Request, runtime: RuntimeDep, principal: Operatore,
                  motivo: str | None = None) -> Importazione:
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
    nuovi, corretti = _app(runtime).importa_prestazioni(
        tenant, testo, oggi=oggi(), appartenenze=appartenenze(runtime, tenant),
        comune_consentito=comune_consentito(principal), motivo=motivo, autore=principal.subject)
    return Importazione(registrate=nuovi, corrette=corretti)


@router.get("", response_model=list[PrestazioneLetta])
def elenco(runtime: RuntimeDep, principal: Lettore, anno: int | None = None, comune: str | None = None,
           intervento: str | None = None) -> list[PrestazioneLetta]:
    """Elenca le prestazioni registrate dell'Ambito (facoltativamente per anno, Comune, intervento)."""
    rm = runtime.read_model
    filtri, params = [], []
    for colonna, valore in (("anno", anno), ("istat", comune), ("intervento", intervento)):
        if valore is not None:
            filtri.append(sql.SQL("{} = %s").format(sql.Identifier(colonna)))
            params.append(valore)
    where = sql.SQL("WHERE ") + sql.SQL(" AND ").join(filtri) if filtri else sql.SQL("")
    rows = rm.fetch_all(sql.SQL(
        "SELECT prestazione_id AS id, intervento, istat AS comune, mese, utenti, utenti_totale, accessi, "
        "ore::text AS ore, costo::text AS costo, note, versione, ultimo_evento FROM {} {} "
        "ORDER BY mese, intervento, istat").format(rm.table("prestazioni"), where), params, tenant=tenant_of(principal))
    return [PrestazioneLetta(**r) for r in rows]
