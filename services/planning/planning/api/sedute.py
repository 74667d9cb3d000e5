"""HTTP API of the sedute: convocation, attendance, opening, roll-call votes, closing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.fields import StrictIn, testo

from planning.api.deliberazioni import DeliberazioneRead
from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.seduta import Seduta, Votante
from planning.domain.verbale import impronta

router = APIRouter(prefix="/sedute", tags=["Sedute del Comitato"])

#: votes come from a Comune's member; the coordinator records those of advisory members
Votatore = Annotated[Principal, Depends(require_roles("componente_comitato", "coordinatore"))]


class SedutaCreate(StrictIn):
    oggetto: testo(3, 200) = Field(examples=["Approvazione del Piano Sociale di Zona 2025–2027"])
    luogo: testo(2, 200) = Field(examples=["Sala consiliare, Comune di Sapri"])
    prima_convocazione: AwareDatetime = Field(strict=False)
    seconda_convocazione: AwareDatetime | None = Field(None, strict=False)
    ordine_del_giorno: list[Annotated[uuid.UUID, Field(strict=False)]] = Field(min_length=1, max_length=50,
                                               description="Le proposte di deliberazione da votare.")


class PresenzaWrite(StrictIn):
    presente: bool
    rappresentante: testo(2, 200) | None = Field(None, examples=["Sindaco Mario Rossi"],
                                                description="Chi rappresenta il Comune (sindaco o delegato).")
    delega_a: str | None = Field(None, description="Componente presente a cui il voto è delegato.")


class AperturaWrite(StrictIn):
    convocazione: Literal[1, 2]


class VotazioneWrite(StrictIn):
    proposta_id: uuid.UUID = Field(strict=False)


class VotoWrite(StrictIn):
    componente: str = Field(examples=["065134"], description="Il componente per cui si vota (codice ISTAT).")
    voto: Literal["favorevole", "contrario", "astenuto"]


class SedutaSintesi(BaseModel):
    """A seduta as its list and its read both show it."""

    id: uuid.UUID
    oggetto: str
    luogo: str
    stato: str
    prima_convocazione: datetime
    seconda_convocazione: datetime | None
    convocazione: int | None
    prima_deserta: bool
    ordine_del_giorno: list[uuid.UUID]


class SedutaRead(SedutaSintesi):
    ambito: str
    componenti: list[dict[str, Any]]
    regola: dict[str, Any]
    presenze: dict[str, dict[str, Any]]
    numero_legale: dict[str, Any]
    votazione_aperta: uuid.UUID | None
    voti: dict[str, dict[str, dict[str, Any]]]
    esiti: dict[str, dict[str, Any]]
    versione: int
    verbale_approvato: dict[str, Any] | None = Field(None, description="Il verbale di questa seduta, se approvato: "
                                                     "in quale seduta e con quale impronta SHA-256.")
    verbali_approvati: dict[str, str] = Field(default_factory=dict, description="I verbali di sedute precedenti "
                                              "approvati in questa: seduta → impronta SHA-256.")
    convocazione_sha256: str | None = Field(None, description="Impronta SHA-256 del documento di convocazione "
                                            "registrata alla convocazione (GET .../convocazione/documento); null "
                                            "per le sedute convocate prima che il documento esistesse.")
    verbale_sha256: str | None = Field(None, description="Impronta SHA-256 del verbale registrata alla chiusura "
                                       "della seduta; null se non è chiusa (o è stata chiusa prima).")

    @classmethod
    def of(cls, s: Seduta) -> "SedutaRead":
        return cls(id=s.id, ambito=s.tenant_id, oggetto=s.oggetto, luogo=s.luogo, stato=s.stato,
                   prima_convocazione=s.prima_convocazione, seconda_convocazione=s.seconda_convocazione,
                   convocazione=s.convocazione, prima_deserta=s.prima_deserta,
                   ordine_del_giorno=s.ordine_del_giorno, componenti=s.componenti,
                   regola=s.regola, presenze=s.presenze, numero_legale=s.quorum(),
                   votazione_aperta=s.votazione_aperta, voti={str(k): v for k, v in s.voti.items()},
                   esiti={str(k): v for k, v in s.esiti.items()}, versione=s.version,
                   verbale_approvato=s.verbale_approvato, verbali_approvati=s.verbali_approvati,
                   convocazione_sha256=s.convocazione_sha256, verbale_sha256=s.verbale_sha256)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SedutaRead)
def convoca(body: SedutaCreate, app: PlanningDep, principal: Coordinatore, request: Request,
            response: Response) -> SedutaRead:
    """Convoca una seduta del Comitato con il suo ordine del giorno (1ª e 2ª convocazione)."""
    seduta = app.convoca_seduta(tenant_of(principal), body.oggetto, body.luogo, body.prima_convocazione,
                                body.seconda_convocazione, body.ordine_del_giorno, principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_seduta", seduta_id=seduta.id))
    return SedutaRead.of(seduta)


@router.get("/{seduta_id}", response_model=SedutaRead)
def leggi_seduta(seduta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> SedutaRead:
    """Legge la seduta: presenze, numero legale, votazioni ed esiti."""
    return SedutaRead.of(app.seduta(tenant_of(principal), seduta_id))


@router.put("/{seduta_id}/presenze/{componente}", response_model=SedutaRead)
def registra_presenza(seduta_id: uuid.UUID, componente: str, body: PresenzaWrite, app: PlanningDep,
                      principal: Coordinatore) -> SedutaRead:
    """Registra la presenza (o l'uscita) di un componente, anche per delega."""
    return SedutaRead.of(app.registra_presenza(tenant_of(principal), seduta_id, componente, body.presente,
                                               body.rappresentante, body.delega_a, principal.subject))


@router.post("/{seduta_id}/apertura", response_model=SedutaRead)
def apri(seduta_id: uuid.UUID, body: AperturaWrite, app: PlanningDep, principal: Coordinatore) -> SedutaRead:
    """Apre la seduta all'ora della convocazione, se c'è il numero legale (in 2ª solo dopo la 1ª deserta)."""
    return SedutaRead.of(app.apri_seduta(tenant_of(principal), seduta_id, body.convocazione, principal.subject))


@router.post("/{seduta_id}/deserta", response_model=SedutaRead)
def dichiara_deserta(seduta_id: uuid.UUID, app: PlanningDep, principal: Coordinatore) -> SedutaRead:
    """Constata che all'ora della 1ª convocazione manca il numero legale: la seduta potrà aprirsi in 2ª."""
    return SedutaRead.of(app.dichiara_deserta(tenant_of(principal), seduta_id, principal.subject))


@router.post("/{seduta_id}/votazioni", response_model=SedutaRead)
def apri_votazione(seduta_id: uuid.UUID, body: VotazioneWrite, app: PlanningDep,
                   principal: Coordinatore) -> SedutaRead:
    """Apre la votazione per appello nominale su una proposta all'ordine del giorno."""
    return SedutaRead.of(app.apri_votazione(tenant_of(principal), seduta_id, body.proposta_id, principal.subject))


@router.post("/{seduta_id}/votazioni/{proposta_id}/voti", status_code=status.HTTP_201_CREATED)
def vota(seduta_id: uuid.UUID, proposta_id: uuid.UUID, body: VotoWrite, app: PlanningDep,
         principal: Votatore) -> dict[str, Any]:
    """Esprime il voto del proprio Comune (o del Comune che ha delegato); il segretario verbalizza i consultivi."""
    votante = Votante(subject=principal.subject,
                      comune=principal.comune if "componente_comitato" in principal.roles else None,
                      segretario="coordinatore" in principal.roles)
    seduta = app.vota(tenant_of(principal), seduta_id, proposta_id, body.componente, body.voto, votante)
    return {"seduta_id": str(seduta.id), "proposta_id": str(proposta_id), "componente": body.componente,
            **seduta.voti[proposta_id][body.componente]}


@router.post("/{seduta_id}/votazioni/{proposta_id}/chiusura", response_model=DeliberazioneRead)
def chiudi_votazione(seduta_id: uuid.UUID, proposta_id: uuid.UUID, app: PlanningDep,
                     principal: Coordinatore) -> DeliberazioneRead:
    """Chiude la votazione: l'esito è calcolato dalla regola; se approvata, la deliberazione prende il numero."""
    return DeliberazioneRead.of(app.chiudi_votazione(tenant_of(principal), seduta_id, proposta_id,
                                                     principal.subject))


@router.post("/{seduta_id}/chiusura", response_model=SedutaRead)
def chiudi(seduta_id: uuid.UUID, app: PlanningDep, principal: Coordinatore) -> SedutaRead:
    """Chiude la seduta; le proposte non votate tornano disponibili per un'altra seduta."""
    return SedutaRead.of(app.chiudi_seduta(tenant_of(principal), seduta_id, principal.subject))


class VerbaleRead(BaseModel):
    seduta_id: uuid.UUID
    sha256: str = Field(description="Impronta SHA-256 del testo (UTF-8): la si indica per approvarlo.")
    testo: str = Field(description="Il verbale in Markdown, generato dagli eventi della seduta.")
    approvato: dict[str, Any] | None = Field(description="In quale seduta è stato approvato, se lo è.")


@router.get("/{seduta_id}/verbale", response_model=VerbaleRead)
def verbale(seduta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> VerbaleRead:
    """Il verbale della seduta chiusa, generato dai suoi eventi: presenze, deleghe, ogni voto ed esito."""
    seduta, testo = app.verbale(tenant_of(principal), seduta_id)
    return VerbaleRead(seduta_id=seduta.id, sha256=impronta(testo), testo=testo, approvato=seduta.verbale_approvato)


@router.get("/{seduta_id}/verbale/documento", response_class=Response, responses={
    200: {"description": "Il verbale come documento Markdown.", "content": {"text/markdown": {}}}})
def verbale_documento(seduta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> Response:
    """Scarica il verbale (Markdown); l'intestazione Digest ne porta l'impronta SHA-256."""
    _, testo = app.verbale(tenant_of(principal), seduta_id)
    return Response(testo.encode("utf-8"), media_type="text/markdown; charset=utf-8",
                    headers={"Digest": f"sha-256={impronta(testo)}", "Content-Disposition":
                             f'attachment; filename="verbale-{seduta_id}.md"'})


class ConvocazioneRead(BaseModel):
    seduta_id: uuid.UUID
    sha256: str = Field(description="Impronta SHA-256 del testo (UTF-8), uguale a quella registrata alla convocazione.")
    registrata: bool = Field(description="Se l'impronta è registrata nell'evento della convocazione (false solo per "
                             "le sedute convocate prima che il documento esistesse).")
    testo: str = Field(description="L'avviso di convocazione in Markdown con l'ordine del giorno e le proposte.")


@router.get("/{seduta_id}/convocazione", response_model=ConvocazioneRead)
def convocazione(seduta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> ConvocazioneRead:
    """L'avviso di convocazione della seduta, generato dai dati della convocazione e dalle proposte all'ordine del giorno."""
    seduta, testo = app.convocazione(tenant_of(principal), seduta_id)
    return ConvocazioneRead(seduta_id=seduta.id, sha256=impronta(testo), testo=testo,
                            registrata=seduta.convocazione_sha256 is not None)


@router.get("/{seduta_id}/convocazione/documento", response_class=Response, responses={
    200: {"description": "L'avviso di convocazione come documento Markdown.", "content": {"text/markdown": {}}}})
def convocazione_documento(seduta_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> Response:
    """Scarica l'avviso di convocazione (Markdown); l'intestazione Digest ne porta l'impronta SHA-256."""
    _, testo = app.convocazione(tenant_of(principal), seduta_id)
    return Response(testo.encode("utf-8"), media_type="text/markdown; charset=utf-8",
                    headers={"Digest": f"sha-256={impronta(testo)}", "Content-Disposition":
                             f'attachment; filename="convocazione-{seduta_id}.md"'})
