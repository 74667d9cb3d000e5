"""HTTP API of the spending chain on an allocation: impegno → liquidazione → mandato, and reductions.

Every POST that moves money needs an ``Idempotency-Key``: repeating the request with the
same key and body returns the first answer (and ``Idempotent-Replayed: true``) instead of
moving the money again; the same key with another body is refused.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.fields import Cig, CodiceFiscaleBeneficiario, Cup, Importo, IstatComune, StrictIn, testo
from ambiti_kit.service import RuntimeDep
from ambiti_kit.values import euro

from finance.api.deps import IDEMPOTENT_RESPONSES, FinanceDep, Lettore, UnaVolta, risposta_idempotente
from finance.domain.comandi import NuovaLiquidazione, NuovoImpegno, NuovoMandato, RiduzioneImpegno
from finance.domain.stanziamento import Stanziamento
from finance.projections.abilitazioni import del_fornitore

router = APIRouter(prefix="/stanziamenti", tags=["Impegni, liquidazioni e mandati"])


class Beneficiario(StrictIn):
    denominazione: testo(2, 200) = Field(examples=["Cooperativa Sociale Il Faro"])
    codice_fiscale: CodiceFiscaleBeneficiario


class AttoRef(StrictIn):
    tipo: Literal["deliberazione", "determina"]
    numero: testo(1, 40) = Field(examples=["12/2026"])
    data: date = Field(strict=False)


class ImpegnoWrite(StrictIn):
    importo: Importo
    beneficiario: Beneficiario
    cig: Cig | None = Field(None, description=(
        "CIG (10 caratteri) se c'è un contratto. Sotto un affidamento è quello dell'affidamento (un CIG diverso: 422 "
        "`tracciabilita.cig_affidamento`); se l'affidamento non lo indica va dato qui (senza: 422 "
        "`tracciabilita.cig`; L. 136/2010 art. 3)."))
    cup: Cup | None = Field(None, description=(
        "CUP (15 caratteri) del progetto: obbligatorio se l'annualità del fondo è d'investimento o PNRR (senza: "
        "422 `tracciabilita.cup`; L. 144/1999 art. 11, L. 3/2003 art. 11)."))
    affidamento_id: uuid.UUID | None = Field(None, strict=False, description=(
        "L'affidamento (partnership) sotto cui si impegna: l'impegno ne prende il CIG e, con gli altri impegni "
        "dello stesso affidamento, ne resta entro l'importo (422 `impegno.tetto_affidamento`). Obbligatorio se "
        "l'unico titolo valido del beneficiario per l'intervento è un affidamento (422 "
        "`impegno.affidamento_richiesto`)."))
    atto: AttoRef
    oggetto: testo(3, 300)
    comune: IstatComune | None = Field(None, description="Il Comune per cui si spende (ISTAT); "
                                       "se omesso, la spesa è dell'intero Ambito.")


class RiduzioneWrite(StrictIn):
    importo: Importo
    tipo: Literal["disimpegno", "economia"]
    motivo: testo(3, 500)


class Fattura(StrictIn):
    numero: testo(1, 40) = Field(examples=["FT-2026/118"])
    data: date = Field(strict=False)


class LiquidazioneWrite(StrictIn):
    importo: Importo
    fattura: Fattura


class MandatoWrite(StrictIn):
    importo: Importo
    data: date = Field(strict=False)
    cig: Cig | None = Field(None, description=(
        "Il CIG che il mandato riporta, se l'impegno non lo ha: obbligatorio per un pagamento dovuto in forza di un "
        "affidamento (422 `tracciabilita.cig`; L. 136/2010 art. 3 c. 5); se l'impegno ha un CIG, il mandato riporta "
        "quello (un CIG diverso: 422 `tracciabilita.cig_impegno`)."))


class SaldiStanziamento(BaseModel):
    """An allocation as a list and a read show it: where its money comes from and goes, and its balances."""

    fondo: str
    annualita: int
    piano_id: uuid.UUID
    intervento: str
    anno: int
    stanziato: str
    impegnato: str
    liquidato: str
    pagato: str
    disponibile: str


class StanziamentoRead(SaldiStanziamento):
    id: uuid.UUID
    ambito: str
    impegni: dict[str, dict[str, Any]]
    liquidazioni: dict[str, dict[str, Any]]
    mandati: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, s: Stanziamento) -> "StanziamentoRead":
        def soldi(d: dict) -> dict:
            return {k: (euro(v) if k in ("importo", "ridotto", "liquidato", "pagato") else v) for k, v in d.items()}
        return cls(id=s.id, ambito=s.tenant_id, fondo=s.fondo, annualita=s.annualita, piano_id=s.piano_id,
                   intervento=s.intervento, anno=s.anno, stanziato=euro(s.stanziato), impegnato=euro(s.impegnato),
                   liquidato=euro(s.liquidato), pagato=euro(s.pagato), disponibile=euro(s.disponibile),
                   impegni={k: soldi(v) for k, v in s.impegni.items()},
                   liquidazioni={k: soldi(v) for k, v in s.liquidazioni.items()},
                   mandati={k: soldi(v) for k, v in s.mandati.items()})


@router.get("/{stanziamento_id}", response_model=StanziamentoRead)
def leggi(stanziamento_id: uuid.UUID, app: FinanceDep, principal: Lettore) -> StanziamentoRead:
    """Legge uno stanziamento con i suoi impegni, liquidazioni e mandati."""
    return StanziamentoRead.of(app.stanziamento(tenant_of(principal), stanziamento_id))


@router.post("/{stanziamento_id}/impegni", status_code=201, responses=IDEMPOTENT_RESPONSES)
def impegna(stanziamento_id: uuid.UUID, body: ImpegnoWrite, app: FinanceDep, runtime: RuntimeDep, once: UnaVolta,
            response: Response) -> dict:
    """Assume un impegno verso un beneficiario, entro il disponibile dello stanziamento (e, per un fornitore
    accreditato o affidatario, solo con un titolo valido per l'intervento)."""
    comando = NuovoImpegno(stanziamento_id=stanziamento_id, importo=body.importo,
                           beneficiario=body.beneficiario.model_dump(), cig=body.cig, cup=body.cup,
                           atto=body.atto.model_dump(), oggetto=body.oggetto, comune=body.comune,
                           affidamento_id=body.affidamento_id)
    abilitazioni = del_fornitore(runtime.read_model, once.tenant_id, body.beneficiario.codice_fiscale)
    return risposta_idempotente(response, app.impegna(once, comando, abilitazioni))


@router.post("/{stanziamento_id}/impegni/{impegno_id}/riduzioni", status_code=201, responses=IDEMPOTENT_RESPONSES)
def riduci(stanziamento_id: uuid.UUID, impegno_id: uuid.UUID, body: RiduzioneWrite, app: FinanceDep,
           once: UnaVolta, response: Response) -> dict:
    """Riduce un impegno (disimpegno o economia) con la sua motivazione."""
    return risposta_idempotente(response, app.riduci_impegno(once, RiduzioneImpegno(
        stanziamento_id=stanziamento_id, impegno_id=impegno_id, importo=body.importo, tipo=body.tipo,
        motivo=body.motivo)))


@router.post("/{stanziamento_id}/impegni/{impegno_id}/liquidazioni", status_code=201, responses=IDEMPOTENT_RESPONSES)
def liquida(stanziamento_id: uuid.UUID, impegno_id: uuid.UUID, body: LiquidazioneWrite, app: FinanceDep,
            once: UnaVolta, response: Response) -> dict:
    """Liquida una fattura su un impegno, entro quanto resta dell'impegno."""
    return risposta_idempotente(response, app.liquida(once, NuovaLiquidazione(
        stanziamento_id=stanziamento_id, impegno_id=impegno_id, fattura=body.fattura.model_dump(),
        importo=body.importo)))


@router.post("/{stanziamento_id}/liquidazioni/{liquidazione_id}/mandati", status_code=201, responses=IDEMPOTENT_RESPONSES)
def paga(stanziamento_id: uuid.UUID, liquidazione_id: uuid.UUID, body: MandatoWrite, app: FinanceDep,
         runtime: RuntimeDep, once: UnaVolta, response: Response) -> dict:
    """Emette un mandato di pagamento su una liquidazione, entro quanto resta da pagare (con il CIG e il CUP
    dell'impegno)."""
    return risposta_idempotente(response, app.paga(once, NuovoMandato(
        stanziamento_id=stanziamento_id, liquidazione_id=liquidazione_id, importo=body.importo, data=body.data,
        cig=body.cig), lambda cf: del_fornitore(runtime.read_model, once.tenant_id, cf)))


fornitori = APIRouter(prefix="/fornitori", tags=["Fornitori"])


@fornitori.get("/{codice_fiscale}/abilitazioni")
def abilitazioni(codice_fiscale: str, runtime: RuntimeDep, principal: Lettore) -> dict[str, Any]:
    """Gli accreditamenti e gli affidamenti di un fornitore che finance conosce (da partnership)."""
    titoli = del_fornitore(runtime.read_model, tenant_of(principal), codice_fiscale)
    return {"codice_fiscale": codice_fiscale,
            "titoli": [{**t, "titolo_id": str(t["titolo_id"]), "valido_dal": t["valido_dal"].isoformat(),
                        "valido_al": t["valido_al"].isoformat(),
                        "revocato_il": t["revocato_il"].isoformat() if t["revocato_il"] else None} for t in titoli]}
