"""HTTP API of the Comitato Istituzionale: members (from the Ambito's Comuni) and decision rule."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import IstatComune, StrictIn, testo

from planning.api.deps import Coordinatore, Lettore, PlanningDep
from planning.domain.comitato import Comitato, pesi_percentuali

router = APIRouter(prefix="/comitato", tags=["Comitato Istituzionale"])

Frazione = Field(pattern=r"^\d{1,4}/\d{1,4}$", examples=["1/2"])


class SogliaIn(StrictIn):
    frazione: str = Frazione
    stretta: bool = Field(False, description="true: «più di» la frazione; false: «almeno».")


class QuorumIn(StrictIn):
    pesi: SogliaIn | None = Field(description="Quota della popolazione (pesi) che deve essere presente.")
    membri: SogliaIn | None = Field(description="Quota dei componenti che deve essere presente.")


Base = Literal["presenti", "votanti", "assegnati"]


class MaggioranzaIn(StrictIn):
    teste: SogliaIn = Field(description="Soglia dei componenti favorevoli sulla base.")
    pesi: SogliaIn | None = Field(None, description="Soglia dei pesi favorevoli sulla base (se manca: come «teste»).")
    base_teste: Base | None = Field(None, description="Base per teste (se manca: quella della regola).")
    base_pesi: Base | None = Field(None, description="Base per pesi (se manca: come «base_teste»).")


class PonderazioneIn(StrictIn):
    criterio: Literal["popolazione", "quote"] = Field(
        "popolazione", description="Peso di ogni Comune: la popolazione alla data della composizione, o le quote "
                                   "(quote, millesimi) fissate dal regolamento.")
    quote: dict[IstatComune, Annotated[int, Field(ge=0, le=1_000_000_000)]] | None = Field(
        None, max_length=400, examples=[{"065134": 400, "065156": 350, "065149": 250}],
        description="Con criterio «quote»: la quota di ogni Comune dell'Ambito (tutti e soli).")
    tetto: str | None = Field(None, pattern=r"^\d{1,4}/\d{1,4}$", examples=["2/5"],
                              description="Quota massima del peso totale dei Comuni per un singolo Comune; "
                                          "l'eccedenza va agli altri in proporzione ai loro pesi.")


class RegolaIn(StrictIn):
    famiglia: Literal["per_testa", "ponderata", "doppia_maggioranza"]
    base: Literal["presenti", "votanti"] = "presenti"
    consultivi_contano: bool = False
    maggioranza: SogliaIn = SogliaIn(frazione="1/2", stretta=True)
    base_teste: Base | None = Field(None, description="Base della maggioranza per teste, se diversa da «base» "
                                                      "(«assegnati»: tutti i componenti con diritto di voto).")
    base_pesi: Base | None = Field(None, description="Base della maggioranza per pesi, se diversa da quella per teste "
                                                     "(«assegnati»: il peso totale, es. la popolazione dell'Ambito).")
    maggioranza_pesi: SogliaIn | None = Field(None, description="Soglia per i pesi, se diversa da «maggioranza».")
    qualificate: dict[Annotated[str, Field(max_length=40)], MaggioranzaIn] = Field(
        default_factory=dict, max_length=20, examples=[{"regolamento_comitato": {
            "teste": {"frazione": "2/3", "stretta": False}, "base_teste": "assegnati"}}],
        description="Maggioranze qualificate per tipo di deliberazione (GET /deliberazioni/tipi).")
    ponderazione: PonderazioneIn = Field(default_factory=PonderazioneIn)
    presidente: str | None = Field(None, pattern=r"^(\d{6}|[A-Z][A-Z0-9_]{1,19})$", examples=["065134"],
                                   description="Il componente che presiede (codice ISTAT del Comune).")
    voto_decisivo_presidente: bool = Field(False, description="In caso di parità (metà esatta della base, a "
                                                              "maggioranza semplice) prevale il voto del presidente.")
    deleghe_max: int | None = Field(None, ge=0, le=100, description="Deleghe che un componente presente può portare "
                                                                    "al più (nessun limite se manca).")
    quorum: dict[Literal["1", "2"], QuorumIn] = Field(
        default_factory=lambda: {
            "1": QuorumIn(pesi=SogliaIn(frazione="1/2", stretta=True), membri=SogliaIn(frazione="1/3")),
            "2": QuorumIn(pesi=SogliaIn(frazione="3/10"), membri=SogliaIn(frazione="1/4"))},
        description="Numero legale per convocazione (1ª obbligatoria, 2ª facoltativa).")


class ConsultivoIn(StrictIn):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,19}$", examples=["ASL"])
    nome: testo(2, 200) = Field(examples=["ASL Salerno – Distretto 71"])
    peso: int = Field(0, ge=0, le=100_000_000)


class ComitatoWrite(StrictIn):
    regola: RegolaIn
    consultivi: list[ConsultivoIn] = Field(default_factory=list, max_length=20)
    deliberazione_id: uuid.UUID | None = Field(
        None, strict=False, description="La deliberazione approvata («regolamento_comitato» o «convenzione») che "
                                        "decide il cambio di regola, pesi o consultivi: obbligatoria dopo la prima "
                                        "configurazione se uno di questi cambia.")


class ComponenteRead(BaseModel):
    id: str
    nome: str
    peso: int
    peso_percentuale: str
    consultivo: bool


class ComitatoRead(BaseModel):
    ambito: str
    popolazione_al: date
    componenti: list[ComponenteRead]
    regola: dict
    versione: int
    deliberazione_id: uuid.UUID | None = Field(description="La deliberazione dietro la regola in vigore (null: "
                                                           "la prima configurazione, trascritta senza atto).")
    deliberazione: str | None = Field(description="Il suo numero, n/anno.")

    @classmethod
    def of(cls, comitato: Comitato) -> "ComitatoRead":
        quote = pesi_percentuali(comitato.componenti)
        return cls(ambito=comitato.tenant_id, popolazione_al=comitato.popolazione_al,
                   componenti=[ComponenteRead(**c, peso_percentuale=quote[c["id"]]) for c in comitato.componenti],
                   regola=comitato.regola, versione=comitato.version,
                   deliberazione_id=comitato.deliberazione_id, deliberazione=comitato.deliberazione)


@router.put("", response_model=ComitatoRead, responses={
    201: {"model": ComitatoRead, "description": "Configurato per la prima volta."},
    200: {"description": "Configurazione aggiornata (nuova versione), o identica (nessuna nuova versione)."}})
def configura(body: ComitatoWrite, app: PlanningDep, principal: Coordinatore, response: Response) -> ComitatoRead:
    """Configura il Comitato: componenti, pesi, consultivi e regola (cambi solo con deliberazione approvata)."""
    regola = body.regola.model_dump()
    comitato, created = app.configura_comitato(tenant_of(principal), [c.model_dump() for c in body.consultivi],
                                               regola, principal.subject, body.deliberazione_id)
    response.status_code = 201 if created else 200
    return ComitatoRead.of(comitato)


@router.get("", response_model=ComitatoRead)
def leggi(app: PlanningDep, principal: Lettore) -> ComitatoRead:
    """Legge componenti, pesi e regola di voto del Comitato."""
    return ComitatoRead.of(app.comitato(tenant_of(principal)))
