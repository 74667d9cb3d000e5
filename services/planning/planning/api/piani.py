"""HTTP API of the Piano di Zona: drafting, versions and their content, proposal, diff."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import Importo, IstatComune, StrictIn, testo

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.contenuto import AREE_UTENZA, SERVIZI_QSFP
from planning.domain.piano import PianoDiZona

router = APIRouter(prefix="/piani", tags=["Piano di Zona"])

Codice = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$", examples=["A1"])


class PianoCreate(StrictIn):
    titolo: testo(3, 200) = Field(examples=["Piano Sociale di Zona 2025–2027"])
    anno_inizio: int = Field(ge=2000, le=2100, examples=[2025])
    anno_fine: int = Field(ge=2000, le=2100, examples=[2027])


class Nomenclatura(StrictIn):
    sistema: Literal["fnps_macrolivello", "nomenclatore"]
    codice: str = Field(max_length=10, examples=["2"])


class LineaBudget(StrictIn):
    fondo: str = Field(max_length=40, examples=["FNPS"])
    anno: int = Field(ge=2000, le=2100)
    importo: Importo


class Intervento(StrictIn):
    codice: str = Codice
    titolo: testo(3, 200)
    nomenclatura: Nomenclatura
    comuni: list[IstatComune] = Field(max_length=400, examples=[["065134", "065157"]])
    utenti_attesi: int = Field(ge=0, le=10_000_000)
    linee_budget: list[LineaBudget] = Field(default_factory=list, max_length=100)
    area_utenza: Literal[AREE_UTENZA] | None = Field(  # type: ignore[valid-type]
        default=None, examples=["minori_famiglie"],
        description="Area di utenza dell'intervento (gli stessi nomi di monitoring). Facoltativa: senza, la sua "
                    "spesa è «non classificata» nei vincoli per area dei fondi.")
    disabilita_gravissima: bool | None = Field(
        default=None, description="Se l'intervento è per persone in condizione di disabilità gravissima "
                                  "(DM 26 settembre 2016, art. 3): la quota FNA che la legge riserva loro.")
    servizio_qsfp: Literal[tuple(SERVIZI_QSFP)] | None = Field(  # type: ignore[valid-type]
        default=None, examples=["b"],
        description="Servizio del D.Lgs. 147/2017, art. 7, comma 1 (lettere a–h: "
                    + "; ".join(f"{k}) {v}" for k, v in SERVIZI_QSFP.items())
                    + "), i soli che la quota servizi del Fondo Povertà finanzia.")
    investimento: bool | None = Field(
        default=None, description="Se l'intervento è un progetto d'investimento (anche PNRR): i suoi impegni "
                                  "indicano il CUP (L. 144/1999, art. 11; L. 3/2003, art. 11).")


class Obiettivo(StrictIn):
    codice: str = Codice
    titolo: testo(3, 300)
    interventi: list[Intervento] = Field(default_factory=list, max_length=200)


class Area(StrictIn):
    codice: str = Codice
    titolo: testo(3, 200)
    obiettivi: list[Obiettivo] = Field(default_factory=list, max_length=100)


class ContenutoWrite(StrictIn):
    aree: list[Area] = Field(max_length=50)


class VersioneCreate(StrictIn):
    tipo: Literal["aggiornamento_annuale", "piano_non_autosufficienza"]
    riferimento: int = Field(ge=1, description="La versione approvata da cui parte.")
    titolo: testo(3, 200) = Field(examples=["Aggiornamento annuale 2026"])


class VersioneRead(BaseModel):
    versione: int
    tipo: str
    riferimento: int | None
    titolo: str
    stato: str
    deliberazione_id: uuid.UUID | None
    deliberazione: str | None
    aree: list[Area]


class PianoRead(BaseModel):
    id: uuid.UUID
    ambito: str
    titolo: str
    anno_inizio: int
    anno_fine: int
    stato: str
    versione_vigente: int | None
    versioni: list[dict[str, Any]] = Field(description="Numero, tipo, stato e deliberazione di ogni versione.")
    versione: int = Field(description="Versione dell'aggregato (numero di eventi).")
    creato_da: str
    creato_il: datetime

    @classmethod
    def of(cls, piano: PianoDiZona) -> "PianoRead":
        return cls(id=piano.id, ambito=piano.tenant_id, titolo=piano.titolo, anno_inizio=piano.anno_inizio,
                   anno_fine=piano.anno_fine, stato=piano.stato, versione_vigente=piano.versione_vigente,
                   versioni=[{"versione": n, **{k: v[k] for k in ("tipo", "riferimento", "titolo", "stato",
                                                                 "deliberazione")}}
                             for n, v in sorted(piano.versioni.items())],
                   versione=piano.version, creato_da=piano.creato_da, creato_il=piano.created_on)


def versione_read(piano: PianoDiZona, numero: int) -> VersioneRead:
    return VersioneRead(versione=numero, **piano.versione(numero))


class PropostaRead(BaseModel):
    piano: PianoRead
    proposta_id: uuid.UUID = Field(description="La proposta di deliberazione da iscrivere all'ordine del giorno.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PianoRead)
def redigi_piano(body: PianoCreate, app: PlanningDep, principal: Coordinatore,
                 request: Request, response: Response) -> PianoRead:
    """Redige la bozza del Piano di Zona di un triennio."""
    piano = app.redigi_piano(tenant_of(principal), body.titolo, body.anno_inizio, body.anno_fine,
                             principal.subject)
    response.headers["Location"] = str(request.url_for("leggi_piano", piano_id=piano.id))
    return PianoRead.of(piano)


@router.get("/{piano_id}", response_model=PianoRead)
def leggi_piano(piano_id: uuid.UUID, app: PlanningDep, principal: Lettore) -> PianoRead:
    """Legge un Piano di Zona dell'Ambito."""
    return PianoRead.of(app.piano(tenant_of(principal), piano_id))


@router.get("/{piano_id}/versioni/{versione}", response_model=VersioneRead)
def leggi_versione(piano_id: uuid.UUID, versione: int, app: PlanningDep, principal: Lettore) -> VersioneRead:
    """Legge una versione del Piano con il suo albero aree → obiettivi → interventi."""
    return versione_read(app.piano(tenant_of(principal), piano_id), versione)


@router.put("/{piano_id}/versioni/{versione}/contenuto", response_model=VersioneRead)
def scrivi_contenuto(piano_id: uuid.UUID, versione: int, body: ContenutoWrite, app: PlanningDep,
                     principal: Coordinatore) -> VersioneRead:
    """Scrive il contenuto di una versione in bozza (una versione approvata non cambia)."""
    piano = app.aggiorna_contenuto(tenant_of(principal), piano_id, versione,
                                   body.model_dump(mode="json", exclude_none=True)["aree"], principal.subject)
    return versione_read(piano, versione)


@router.post("/{piano_id}/versioni/{versione}/proposta", status_code=status.HTTP_201_CREATED,
             response_model=PropostaRead)
def proponi(piano_id: uuid.UUID, versione: int, app: PlanningDep, principal: Coordinatore) -> PropostaRead:
    """Propone la versione al Comitato Istituzionale: ne nasce la proposta di deliberazione."""
    piano, proposta = app.proponi_piano(tenant_of(principal), piano_id, versione, principal.subject)
    return PropostaRead(piano=PianoRead.of(piano), proposta_id=proposta.id)


@router.post("/{piano_id}/versioni", status_code=status.HTTP_201_CREATED, response_model=VersioneRead)
def apri_versione(piano_id: uuid.UUID, body: VersioneCreate, app: PlanningDep,
                  principal: Coordinatore) -> VersioneRead:
    """Apre un aggiornamento annuale o il Piano per la non autosufficienza su una versione approvata."""
    piano, numero = app.apri_versione(tenant_of(principal), piano_id, body.tipo, body.riferimento, body.titolo,
                                      principal.subject)
    return versione_read(piano, numero)


@router.get("/{piano_id}/differenze")
def differenze(piano_id: uuid.UUID, app: PlanningDep, principal: Lettore,
               da: int = Query(ge=1), a: int = Query(ge=1)) -> dict[str, Any]:
    """Differenze tra due versioni: interventi aggiunti, tolti, modificati e budget per fondo e anno."""
    return {"da": da, "a": a, **app.differenze(tenant_of(principal), piano_id, da, a)}


@router.post("/{piano_id}/conclusione", response_model=PianoRead)
def concludi(piano_id: uuid.UUID, app: PlanningDep, principal: Coordinatore) -> PianoRead:
    """Conclude un Piano in attuazione."""
    return PianoRead.of(app.concludi_piano(tenant_of(principal), piano_id, principal.subject))
