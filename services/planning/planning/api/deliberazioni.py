"""HTTP API of the proposte di deliberazione, the deliberations, and their audit view."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.fields import Importo, StrictIn, testo
from ambiti_kit.service import RuntimeDep

from planning import allegati
from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.deliberazione import TIPI_DI_DELIBERAZIONE, Deliberazione

router = APIRouter(prefix="/deliberazioni", tags=["Deliberazioni"])

Oggetto = testo(3, 300)
Revisore = Annotated[Principal, Depends(require_roles("coordinatore", "revisore", "componente_comitato"))]


class Riferimenti(StrictIn):
    anno: int | None = Field(None, ge=2000, le=2100)
    importo: Importo | None = None
    nominativo: testo(3, 200) | None = None
    dal: date | None = Field(None, strict=False, description="Nomina: inizio dell'incarico (se manca: la data "
                                                             "della deliberazione).")
    al: date | None = Field(None, strict=False, description="Nomina: fine dell'incarico (se manca: a tempo "
                                                            "indeterminato, fino a una nuova nomina).")
    rettifica_di: uuid.UUID | None = Field(None, strict=False)
    seduta_id: uuid.UUID | None = Field(None, strict=False, description="Approvazione del verbale: la seduta "
                                        "precedente, chiusa, di cui si approva il verbale.")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="Approvazione del verbale: l'impronta "
                               "SHA-256 del verbale letto (GET /sedute/{id}/verbale).")


#: the types a coordinator proposes here (the approvals of the Piano are proposed from the Piano)
TipoProponibile = Literal["approvazione_bilancio", "criteri_riparto_costi", "nomina_coordinatore", "rettifica",
                          "atto_di_indirizzo", "regolamento_udp", "regolamento_comitato", "convenzione",
                          "conto_consuntivo", "parere", "libera", "approvazione_verbale"]


class DeliberazioneCreate(StrictIn):
    tipo: TipoProponibile = Field(description="Il tipo (GET /deliberazioni/tipi); «libera»: oggetto libero.")
    oggetto: Oggetto = Field(examples=["Criteri di ripartizione dei costi 2026"])
    testo: str = Field(min_length=3, max_length=20_000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
    riferimenti: Riferimenti = Field(default_factory=Riferimenti)


class DeliberazioneRead(BaseModel):
    id: uuid.UUID
    ambito: str
    tipo: str
    oggetto: str
    testo: str
    riferimenti: dict[str, Any]
    stato: str
    numero: str | None
    data: date | None
    seduta_id: uuid.UUID | None
    esito: dict[str, Any] | None
    proposta_da: str
    versione: int
    allegati: list[dict[str, Any]] = Field(default_factory=list, description="Documenti allegati: impronta SHA-256, "
                                           "dimensione, tipo, nome; il contenuto da GET /allegati/{sha256}.")

    @classmethod
    def of(cls, d: Deliberazione) -> "DeliberazioneRead":
        return cls(id=d.id, ambito=d.tenant_id, tipo=d.tipo, oggetto=d.oggetto, testo=d.testo,
                   riferimenti=d.riferimenti, stato=d.stato, numero=d.numero, data=d.data, seduta_id=d.seduta_id,
                   esito=d.esito, proposta_da=d.proposta_da, versione=d.version, allegati=d.allegati)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DeliberazioneRead)
def proponi(body: DeliberazioneCreate, app: PlanningDep, principal: Coordinatore, request: Request,
            response: Response) -> DeliberazioneRead:
    """Scrive una proposta di deliberazione (bilancio, riparto, nomina, rettifica, regolamenti, atti, pareri…)."""
    riferimenti = body.riferimenti.model_dump(mode="json", exclude_none=True)
    proposta = app.proponi_deliberazione(tenant_of(principal), body.tipo, body.oggetto, body.testo, riferimenti,
                                         principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_deliberazione", deliberazione_id=proposta.id))
    return DeliberazioneRead.of(proposta)


class TipoRead(BaseModel):
    codice: str
    nome: str
    riferimenti_obbligatori: list[str]
    maggioranza_predefinita: dict[str, Any] | None = Field(
        description="La maggioranza richiesta se il regolamento non ne fissa un'altra (null: l'ordinaria).")
    fonte: str = Field(description="La fonte (legge, articolo; o il regolamento) del tipo di atto.")
    dal_piano: bool = Field(description="Proposta dal Piano (POST /piani/{id}/versioni/{n}/proposta).")


@router.get("/tipi", response_model=list[TipoRead])
def tipi(principal: Lettore) -> list[TipoRead]:
    """Tipi di deliberazione (dati di riferimento): riferimenti obbligatori, maggioranza, fonte."""
    return [TipoRead(**t.come_dict(codice)) for codice, t in TIPI_DI_DELIBERAZIONE.items()]


@router.get("/{deliberazione_id}", response_model=DeliberazioneRead)
def leggi_deliberazione(deliberazione_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> DeliberazioneRead:
    """Legge una proposta o deliberazione."""
    return DeliberazioneRead.of(app.deliberazione(tenant_of(principal), deliberazione_id))


@router.get("/{deliberazione_id}/storia")
def storia(deliberazione_id: uuid.UUID, app: PlanningDep, runtime: RuntimeDep, principal: Revisore,
           catena_completa: bool = Query(False, description="Ricalcola anche l'intera catena dell'Ambito.")
           ) -> dict[str, Any]:
    """Storia completa dal registro degli eventi: convocazione, presenze, ogni voto, regola e cifre dell'esito,
    con la verifica della catena di hash di ciascun evento."""
    tenant = tenant_of(principal)
    storia = app.storia_deliberazione(tenant, deliberazione_id)
    eventi = storia["eventi"]
    catena = runtime.chain.verify_aggregates(tenant, list({e.originator_id for e in eventi}))
    per_evento = {(c["originator_id"], c["originator_version"]): c for c in catena}
    righe = []
    for e in eventi:
        dati = {k: v for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "tenant_id")}
        anello = per_evento.get((str(e.originator_id), e.originator_version), {})
        righe.append({"evento": type(e).__qualname__, "aggregato": str(e.originator_id),
                      "versione": e.originator_version, "quando": e.timestamp, "dati": dati,
                      "notification_id": anello.get("notification_id"), "catena": anello.get("stato"),
                      "link": anello.get("link")})
    righe.sort(key=lambda r: (r["notification_id"] or 0, r["aggregato"], r["versione"]))
    # The check covers every event of the aggregates involved (e.g. all votes of the seduta and
    # all numbers of the register), not only the rows shown: a gap or a deletion anywhere counts.
    problemi = [c for c in catena if c["stato"] not in ("verificato", "in_attesa")]
    in_attesa = sum(1 for c in catena if c["stato"] == "in_attesa")
    verifica = {"eventi_controllati": len(catena), "verificati": sum(1 for c in catena if c["stato"] == "verificato"),
                "in_attesa": in_attesa, "problemi": problemi,
                "esito": "compromessa" if problemi else "in_attesa" if in_attesa else "integra"}
    if catena_completa:
        verifica["catena_ambito"] = runtime.chain.verify(tenant).as_dict()
        if not verifica["catena_ambito"]["ok"]:
            verifica["esito"] = "compromessa"
    verifica["integra"] = verifica["esito"] == "integra"
    return jsonable_encoder({"deliberazione": DeliberazioneRead.of(storia["deliberazione"]),
                             "eventi": righe, "verifica": verifica})


Nome = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/\\]+$",
                            description="Nome del file (es. bilancio-2026.pdf).")]
ALLEGATO_BODY = {"requestBody": {"required": True, "description": f"Il documento, al più {allegati.MAX_ALLEGATO} byte.",
                                 "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                             for t in allegati.TIPI_AMMESSI}}}


@router.post("/{deliberazione_id}/allegati", status_code=status.HTTP_201_CREATED, openapi_extra=ALLEGATO_BODY,
             responses={413: {"description": "Allegato oltre 2 MiB (o corpo oltre il limite del servizio)."}})
async def allega(deliberazione_id: uuid.UUID, nome: Nome, request: Request, app: PlanningDep, runtime: RuntimeDep,
                 principal: Coordinatore) -> dict[str, Any]:
    """Allega un documento alla proposta: il contenuto nell'archivio per impronta, l'impronta nell'evento."""
    tenant = tenant_of(principal)
    contenuto = await request.body()
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    await run_in_threadpool(app.deliberazione, tenant, deliberazione_id)  # 404 before storing anything
    documento = await run_in_threadpool(allegati.salva, runtime.read_model, tenant, contenuto, media_type)
    d = await run_in_threadpool(app.allega, tenant, deliberazione_id, documento.sha256, documento.dimensione,
                                media_type, nome, principal.subject)
    allegato = next(a for a in d.allegati if a["sha256"] == documento.sha256)
    return {**allegato, "deliberazione_id": str(d.id), "url": f"/allegati/{documento.sha256}"}


allegati_router = APIRouter(prefix="/allegati", tags=["Deliberazioni"])


@allegati_router.get("/{sha256}", response_class=Response, responses={
    200: {"description": "Il documento, con il tipo con cui è stato allegato.",
          "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
def scarica(sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], runtime: RuntimeDep,
            principal: Lettore) -> Response:
    """Scarica un allegato per impronta SHA-256 (solo dell'Ambito del token)."""
    documento = allegati.leggi(runtime.read_model, tenant_of(principal), sha256)
    return Response(documento.contenuto, media_type=documento.media_type,
                    headers={"ETag": f'"{documento.sha256}"', "Digest": f"sha-256={documento.sha256}"})
