"""HTTP API of the rendicontazione: the Ambito's funds as its ledger says, as JSON, CSV and XLSX.

Read from finance's own read model of its ledger (``finance.projections.registro``, filled
by the tracked consumer of ``finance.events.v1``), so it is as fresh as that consumer: a
movement just stored appears once the relay has published it and the consumer applied it.
Readers: amministrativo, coordinatore, revisore, each for their own Ambito only (the
queries run under row-level security scoped to the token's tenant). Money is a string with
two decimals, percentages a string with two decimals, never a float.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from ambiti_kit.auth import Principal, require_roles, tenant_of
from ambiti_kit.service import RuntimeDep

from finance.domain.fondi import verifica_fondo
from finance.projections import esportazione
from finance.projections.lettura import rendiconta
from finance.projections.rendicontazione import Rendiconto, come_dict

router = APIRouter(prefix="/rendicontazione", tags=["Rendicontazione"])

Rendicontatore = Annotated[Principal, Depends(require_roles("amministrativo", "coordinatore", "revisore"))]
Euro = str
Percentuale = str
StatoCondizione = Literal["rispettata", "non_rispettata", "non_valutabile"]


class Cifre(BaseModel):
    #: fund annualità only (None for an intervento or a Comune)
    assegnato: Euro | None
    #: fund annualità and intervento (None for a Comune: allocations are not split by Comune)
    stanziato: Euro | None
    impegnato_lordo: Euro
    #: disimpegni and economie (each listed in ``riduzioni`` with its reason)
    riduzioni: Euro
    #: impegnato lordo − riduzioni
    impegnato: Euro
    liquidato: Euro
    pagato: Euro
    #: impegnato − pagato
    residui_passivi: Euro
    #: impegnato − liquidato
    da_liquidare: Euro
    #: assegnato − impegnato (fund annualità only)
    disponibile: Euro | None
    #: stanziato − impegnato
    stanziato_da_impegnare: Euro | None


class Tassi(BaseModel):
    impegnato_su_assegnato: Percentuale | None
    impegnato_su_stanziato: Percentuale | None
    liquidato_su_assegnato: Percentuale | None
    liquidato_su_impegnato: Percentuale | None
    pagato_su_impegnato: Percentuale | None


class VoceComune(BaseModel):
    #: ISTAT code; None for commitments of the whole Ambito
    comune: str | None
    #: the ISTAT code, or "Intero Ambito"
    denominazione: str
    cifre: Cifre


class VoceIntervento(BaseModel):
    intervento: str
    nomenclatura: dict[str, str] | None
    macro_livello: str | None
    cifre: Cifre
    tassi: Tassi
    comuni: list[VoceComune]


class RiduzioneRead(BaseModel):
    il: str
    intervento: str
    comune: str | None
    impegno_id: str
    tipo: Literal["disimpegno", "economia"]
    importo: Euro
    motivo: str
    autore: str


class Riconciliazione(BaseModel):
    impegnato_lordo: Euro
    riduzioni: Euro
    impegnato: Euro
    riduzioni_elencate: int
    senza_motivo: int
    #: impegnato lordo − impegnato equals the listed reductions, each with its reason
    coerente: bool


class QuotaServizi(BaseModel):
    quota_minima_percentuale: Percentuale
    macro_livelli: list[str]
    base_stanziato: Euro
    stanziato_servizi: Euro
    stanziato_non_classificato: Euro
    quota_percentuale: Percentuale | None
    minimo_richiesto: Euro
    mancante: Euro
    stato: StatoCondizione
    motivazione: str


class CondizioneFondoPoverta(BaseModel):
    annualita: int
    annualita_riferimento: int
    assegnato_riferimento: Euro | None
    rendicontato_riferimento: Euro
    soglia_percentuale: Percentuale
    soglia_importo: Euro | None
    percentuale_rendicontata: Percentuale | None
    mancante: Euro | None
    stato: StatoCondizione
    motivazione: str
    criterio: str
    fonte: str


class VoceFondo(BaseModel):
    fondo: str
    annualita: int
    vincoli: dict[str, Any]
    cifre: Cifre
    tassi: Tassi
    interventi: list[VoceIntervento]
    #: per Comune (ISTAT code ascending), then "Intero Ambito"
    comuni: list[VoceComune]
    riduzioni: list[RiduzioneRead]
    riconciliazione: Riconciliazione
    #: None when the assignment sets no minimum services share
    quota_servizi: QuotaServizi | None
    #: QSFP only
    condizione_fondo_poverta: CondizioneFondoPoverta | None


class Filtri(BaseModel):
    fondo: str | None
    annualita: int | None


class RendicontazioneRead(BaseModel):
    ambito: str
    generato_il: str | None
    filtri: Filtri
    #: all the fund annualità shown, added up
    totali: Cifre
    voci: list[VoceFondo]


def _rendiconto(runtime: RuntimeDep, principal: Rendicontatore,
                fondo: Annotated[str | None, Query(description="Codice del fondo (es. QSFP, FNPS).")] = None,
                annualita: Annotated[int | None, Query(ge=2000, le=2100, description="Annualità del fondo.")] = None,
                ) -> Rendiconto:
    if fondo is not None:
        verifica_fondo(fondo)
    return rendiconta(runtime.read_model, tenant_of(principal), fondo=fondo, annualita=annualita)


RendicontoDep = Annotated[Rendiconto, Depends(_rendiconto)]


@router.get("", response_model=RendicontazioneRead)
def rendicontazione(rendiconto: RendicontoDep) -> dict[str, Any]:
    """Rendicontazione per fondo e annualità: assegnato, stanziato, impegnato, liquidato, pagato, residui,
    per intervento e per Comune, con le riduzioni motivate, la quota servizi e la condizione del Fondo Povertà."""
    return come_dict(rendiconto)


@router.get("/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "Una riga per intervento × Comune × fondo × "
                             "annualità; separatore ';', decimali con la virgola, UTF-8 con BOM."}})
def esporta_csv(rendiconto: RendicontoDep) -> Response:
    """La rendicontazione in CSV, nel tracciato da caricare sulla piattaforma ministeriale."""
    return Response(esportazione.csv_bytes(rendiconto), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="{esportazione.nome_file(rendiconto, "csv")}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/export.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Fogli Rendicontazione, Riepilogo (totali e "
                             "condizioni), Interventi e Riduzioni."}})
def esporta_xlsx(rendiconto: RendicontoDep) -> Response:
    """La rendicontazione in XLSX: dettaglio, riepilogo con le condizioni, interventi e riduzioni."""
    return Response(esportazione.xlsx(rendiconto), media_type=XLSX,
                    headers={"Content-Disposition":
                             f'attachment; filename="{esportazione.nome_file(rendiconto, "xlsx")}"'})
