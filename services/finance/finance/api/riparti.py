"""HTTP API of the riparti: reference data loaded from CSV, and recorded runs of the riparto engine."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import ConfigDict, Field

from ambiti_kit.auth import tenant_of
from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import Importo, StrictIn, testo

from ambiti_kit.idempotency import Once
from ambiti_kit.service import RuntimeDep
from ambiti_kit.values import euro

from finance.api.deps import (IDEMPOTENT_RESPONSES, ChiaveIdempotenza, Contabile, FinanceDep, Lettore, Regione,
                              risposta_idempotente)
from finance.api.fondi import Annualita, AttoAssegnazione, CodiceFondo
from finance.domain.comandi import ApprovazioneRipartoRegionale
from finance.domain.fondi import verifica_fondo
from finance.domain.riparti import DatiRiferimento, Riparto, RipartoRegionale, tenant_regione
from finance.domain.riparto import Risultato
from finance.projections import deliberazioni

router = APIRouter(tags=["Riparti"])


class DatiWrite(StrictIn):
    nome: str = Field(pattern=r"^[a-z0-9_-]{2,40}$", examples=["popolazione"])
    data_riferimento: date = Field(strict=False, examples=["2025-01-01"])
    fonte: testo(3, 300) = Field(examples=["ISTAT, popolazione residente al 1° gennaio 2025"])
    csv: str = Field(min_length=1, max_length=2_000_000, description="Intestazione id,<indicatore>,… e una riga per "
                     "destinatario; separatore , o ;, punto decimale.")


class CriterioIn(StrictIn):
    indicatore: str = Field(max_length=40, examples=["popolazione"])
    peso: str = Field(max_length=20, examples=["2/5"], description="Frazione («2/5») o decimale («0.4»).")


class ArrotondamentoIn(StrictIn):
    """L'arrotondamento dichiarato dall'atto per una quota."""

    metodo: Literal["per_importo", "quote_arrotondate", "resto_maggiore"] = Field(description=(
        "`per_importo`: ogni importo esatto è arrotondato al centesimo (metà per eccesso) e la differenza dal "
        "totale è il residuo, dichiarato e mostrato; `quote_arrotondate`: la percentuale è arrotondata prima a "
        "`decimali_percentuale` decimali, poi moltiplicata e arrotondata al centesimo (precisione: ogni importo può "
        "scostarsi dall'esatto fino a importo della quota × 0,5 × 10^-(decimali+2) più mezzo centesimo, riportato "
        "in `risultato.quote[].scarto_massimo`; per l'esattezza al centesimo servono circa log10(importo) "
        "decimali); `resto_maggiore`: le parti sommano esattamente al totale, al centesimo."))
    decimali_percentuale: int = Field(2, ge=0, le=10, description="Decimali della percentuale pubblicata.")
    eccedenza_ammessa: bool = Field(False, description=(
        "L'atto ammette che le parti arrotondate sommino a più del totale. Senza, un riparto la cui somma supera "
        "il totale è rifiutato con 422 `riparto.eccedenza`."))


class QuotaIn(StrictIn):
    """Una quota del totale (es. 80% per popolazione), con i suoi criteri e il suo arrotondamento."""

    nome: str = Field(pattern=r"^[a-z0-9_]{1,40}$", examples=["popolazione"])
    peso: str = Field(max_length=20, examples=["4/5"], description="Parte del totale: frazione o decimale; i pesi "
                      "delle quote sommano a 1.")
    criteri: list[CriterioIn] = Field(min_length=1, max_length=10)
    arrotondamento: ArrotondamentoIn


class MinimoIn(StrictIn):
    """Un minimo sul totale di ogni destinatario (somma delle sue parti di tutte le quote)."""

    importo: Importo
    modalita: Literal["integrazione", "prelievo"] = Field(description=(
        "`integrazione`: con risorse aggiuntive, oltre il totale; `prelievo`: dagli altri destinatari."))


class MassimoIn(StrictIn):
    """Un massimo sul totale di ogni destinatario."""

    importo: Importo
    modalita: Literal["economia", "redistribuzione"] = Field(description=(
        "`economia`: l'eccedenza resta non ripartita (nel residuo); `redistribuzione`: va agli altri destinatari."))


class DestinatarioIn(StrictIn):
    id: str = Field(max_length=40)
    indicatori: dict[str, str]


class AttoIn(StrictIn):
    tipo: testo(2, 60) = Field(examples=["decreto"])
    numero: testo(1, 40)
    data: date = Field(strict=False)


class RipartoParametri(StrictIn):
    """Il calcolo: una quota (`criteri` + `arrotondamento`, la forma di sempre) oppure più `quote`."""

    totale: Importo
    criteri: list[CriterioIn] | None = Field(None, min_length=1, max_length=10)
    arrotondamento: ArrotondamentoIn | None = None
    quote: list[QuotaIn] | None = Field(None, min_length=1, max_length=10)
    minimo: MinimoIn | None = None
    massimo: MassimoIn | None = None
    dati_riferimento_id: uuid.UUID | None = Field(None, strict=False)
    destinatari: list[DestinatarioIn] | None = Field(None, max_length=2000)


class RipartoWrite(RipartoParametri):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"oggetto": "Riparto FNPS 2025 tra i Comuni dell'Ambito", "totale": "250000.00",
         "criteri": [{"indicatore": "popolazione", "peso": "1"}],
         "arrotondamento": {"metodo": "resto_maggiore", "decimali_percentuale": 2}, "comuni_al": "2025-01-01"},
        {"oggetto": "Riparto 80% popolazione, 20% scarto di reddito", "totale": "100000.00",
         "quote": [{"nome": "popolazione", "peso": "4/5", "criteri": [{"indicatore": "popolazione", "peso": "1"}],
                    "arrotondamento": {"metodo": "per_importo"}},
                   {"nome": "scarto_reddito", "peso": "1/5",
                    "criteri": [{"indicatore": "scarto_reddito", "peso": "1"}],
                    "arrotondamento": {"metodo": "resto_maggiore"}}],
         "minimo": {"importo": "5000.00", "modalita": "prelievo"},
         "dati_riferimento_id": "c36ea84f-c91f-5930-8d17-e3615946c695"}]})

    oggetto: testo(3, 300) = Field(examples=["Riparto FNPS 2025 tra i Comuni dell'Ambito"])
    atto: AttoIn | None = None
    comuni_al: date | None = Field(None, strict=False, description=(
        "I destinatari sono i Comuni dell'Ambito membri a questa data (dalla composizione registrata in planning; "
        "un Comune con `aderente_dal` successivo non lo è ancora), con la popolazione all'ultima data non "
        "successiva: indicatori `popolazione` e `parti_uguali` (1 per Comune)."))


def dati_read(d: DatiRiferimento) -> dict[str, Any]:
    return {"id": str(d.id), "ambito": d.tenant_id, "nome": d.nome, "data_riferimento": d.data_riferimento.isoformat(),
            "fonte": d.fonte, "colonne": d.colonne, "righe": d.righe}


def riparto_read(r: Riparto, verifica: bool = False) -> dict[str, Any]:
    out = {"id": str(r.id), "ambito": r.tenant_id, "oggetto": r.oggetto,
           "atto": {**r.atto, "data": r.atto["data"].isoformat()} if r.atto else None,
           "dati_riferimento_id": str(r.dati_riferimento_id) if r.dati_riferimento_id else None,
           "destinatari_da": r.destinatari_da,
           "eseguito_il": r.created_on.isoformat(), **r.riparto,
           "avvisi": Risultato.da_dict(r.riparto).avvisi()}
    if verifica:
        out["riproducibile"] = r.verifica()
    return out


@router.post("/dati-riferimento", status_code=status.HTTP_201_CREATED)
def carica_dati(body: DatiWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Carica dati di riferimento datati da CSV (ogni riga errata è segnalata; niente è caricato se ce n'è una)."""
    return dati_read(app.carica_dati_riferimento(tenant_of(principal), body.nome, body.data_riferimento, body.fonte,
                                                 body.csv, principal.subject))


@router.get("/dati-riferimento/{dati_id}")
def leggi_dati(dati_id: uuid.UUID, app: FinanceDep, principal: Lettore) -> dict[str, Any]:
    """Legge un insieme di dati di riferimento."""
    return dati_read(app.dati_riferimento(tenant_of(principal), dati_id))


def _parametri(body: RipartoParametri, altra_fonte: date | None, campo_fonte: str) -> dict[str, Any]:
    """The engine's JSON-safe inputs of a request; exactly one source of recipients."""
    fonti = [body.destinatari is not None, body.dati_riferimento_id is not None, altra_fonte is not None]
    if sum(fonti) != 1:
        raise RuleViolation(f"Indicare i destinatari, i dati di riferimento da cui prenderli oppure «{campo_fonte}» "
                            "(uno solo).", rule="riparto.destinatari_o_dati", field="destinatari")
    corpo = body.model_dump(include={"totale", "criteri", "arrotondamento", "quote", "minimo", "massimo",
                                     "destinatari"}, exclude_none=True)
    corpo.setdefault("destinatari", [])
    return {**corpo, "minimo": corpo.get("minimo"), "massimo": corpo.get("massimo")}


def _atto(atto: Any) -> dict | None:
    return {**atto.model_dump(), "data": atto.data.isoformat()} if atto else None


@router.post("/riparti/anteprima")
def anteprima(body: RipartoWrite, app: FinanceDep, principal: Contabile) -> dict[str, Any]:
    """Calcola un riparto senza registrarlo: lo stesso motore e la stessa risposta di ``POST /riparti``
    (per destinatario e per quota, con totale, ripartito e residuo) con gli avvisi; nulla è registrato."""
    risultato, destinatari_da = app.calcola_riparto(tenant_of(principal), _parametri(body, body.comuni_al, "comuni_al"),
                                                    body.dati_riferimento_id, body.comuni_al)
    return {"anteprima": True, "oggetto": body.oggetto, "atto": _atto(body.atto),
            "dati_riferimento_id": str(body.dati_riferimento_id) if body.dati_riferimento_id else None,
            "destinatari_da": destinatari_da, **risultato.come_dict(), "avvisi": risultato.avvisi()}


@router.post("/riparti", status_code=status.HTTP_201_CREATED)
def esegui(body: RipartoWrite, app: FinanceDep, runtime: RuntimeDep, principal: Contabile) -> dict[str, Any]:
    """Esegue e registra un riparto: quote con criteri pesati, minimi e massimi, arrotondamento dichiarato
    (422 `riparto.eccedenza` se la somma supera il totale e l'atto non lo ammette; un `atto` di tipo
    `deliberazione` è una deliberazione approvata del Comitato dell'Ambito, 422 `atto.*` altrimenti)."""
    deliberazione = (deliberazioni.per_numero(runtime.read_model, tenant_of(principal), body.atto.numero)
                     if body.atto is not None and body.atto.tipo == "deliberazione" else None)
    riparto = app.esegui_riparto(tenant_of(principal), body.oggetto, body.atto.model_dump() if body.atto else None,
                                 _parametri(body, body.comuni_al, "comuni_al"), body.dati_riferimento_id,
                                 principal.subject, body.comuni_al, deliberazione=deliberazione)
    return riparto_read(riparto)


@router.get("/riparti/{riparto_id}")
def leggi_riparto(riparto_id: uuid.UUID, app: FinanceDep, principal: Lettore,
                  verifica: bool = Query(False, description="Riesegue il calcolo sui dati registrati e lo confronta.")
                  ) -> dict[str, Any]:
    """Legge un riparto registrato: dati, metodo e risultato (e, a richiesta, la verifica che si riproduce)."""
    return riparto_read(app.riparto(tenant_of(principal), riparto_id), verifica)


# -- a Region's riparti among its Ambiti --------------------------------------------------------------

regione = APIRouter(prefix="/regione", tags=["Riparti regionali"])


class RipartoRegionaleWrite(RipartoParametri):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"oggetto": "Riparto QSFP 2025 tra gli Ambiti: 60% popolazione, 40% nuclei beneficiari",
         "fondo": "QSFP", "annualita": 2025, "totale": "1000000.00",
         "criteri": [{"indicatore": "popolazione", "peso": "1"}],
         "arrotondamento": {"metodo": "resto_maggiore"}, "ambiti_al": "2025-01-01"}]})

    oggetto: testo(3, 300)
    fondo: CodiceFondo
    annualita: Annualita
    ambiti_al: date | None = Field(None, strict=False, description=(
        "I destinatari sono gli Ambiti della Regione noti a finance, con la popolazione dei loro Comuni membri a "
        "questa data: indicatori `popolazione`, `parti_uguali` (1) e `comuni` (quanti)."))


class ApprovazioneWrite(StrictIn):
    atto: AttoAssegnazione


def riparto_regionale_read(r: RipartoRegionale) -> dict[str, Any]:
    approvazione = None
    if r.approvazione is not None:
        approvazione = {"atto": {**r.approvazione["atto"], "data": r.approvazione["atto"]["data"].isoformat()},
                        "approvato_da": r.approvazione["approvato_da"],
                        "assegnazioni": [{"ambito": a["ambito"], "importo": euro(a["importo"])}
                                         for a in r.approvazione["assegnazioni"]]}
    return {"id": str(r.id), "regione": r.regione, "oggetto": r.oggetto, "fondo": r.fondo, "annualita": r.annualita,
            "dati_riferimento_id": str(r.dati_riferimento_id) if r.dati_riferimento_id else None,
            "destinatari_da": r.destinatari_da, "proposto_il": r.created_on.isoformat(),
            "stato": "approvato" if approvazione else "proposto", "approvazione": approvazione,
            **r.riparto, "avvisi": Risultato.da_dict(r.riparto).avvisi()}


def _regione(principal: Regione) -> str:
    return principal.regione or ""


@regione.post("/dati-riferimento", status_code=status.HTTP_201_CREATED)
def carica_dati_regione(body: DatiWrite, app: FinanceDep, principal: Regione) -> dict[str, Any]:
    """La Regione carica dati di riferimento datati per i suoi riparti (una riga per Ambito, `id` = codice
    dell'Ambito, es. `15-S09`)."""
    return dati_read(app.carica_dati_riferimento(tenant_regione(_regione(principal)), body.nome, body.data_riferimento,
                                                 body.fonte, body.csv, principal.subject))


@regione.post("/riparti/anteprima")
def anteprima_regionale(body: RipartoRegionaleWrite, app: FinanceDep, principal: Regione) -> dict[str, Any]:
    """Calcola senza registrare il riparto di un fondo tra gli Ambiti della Regione (totale, ripartito, residuo)."""
    verifica_fondo(body.fondo)
    risultato, destinatari_da = app.calcola_riparto_regionale(
        _regione(principal), _parametri(body, body.ambiti_al, "ambiti_al"), body.dati_riferimento_id, body.ambiti_al)
    return {"anteprima": True, "regione": _regione(principal), "oggetto": body.oggetto, "fondo": body.fondo,
            "annualita": body.annualita, "destinatari_da": destinatari_da, **risultato.come_dict(),
            "avvisi": risultato.avvisi()}


@regione.post("/riparti", status_code=status.HTTP_201_CREATED)
def proponi_regionale(body: RipartoRegionaleWrite, app: FinanceDep, principal: Regione) -> dict[str, Any]:
    """Registra il riparto di un fondo tra gli Ambiti della Regione, da approvare con l'atto regionale.
    Ogni destinatario è un Ambito della Regione del token (422 `riparto.ambito_della_regione` altrimenti)."""
    return riparto_regionale_read(app.proponi_riparto_regionale(
        _regione(principal), body.oggetto, body.fondo, body.annualita, _parametri(body, body.ambiti_al, "ambiti_al"),
        body.dati_riferimento_id, body.ambiti_al, principal.subject))


@regione.get("/riparti/{riparto_id}")
def leggi_regionale(riparto_id: uuid.UUID, app: FinanceDep, principal: Regione) -> dict[str, Any]:
    """Legge un riparto della Regione (un'altra Regione riceve 404)."""
    return riparto_regionale_read(app.riparto_regionale(_regione(principal), riparto_id))


@regione.post("/riparti/{riparto_id}/approvazione", status_code=status.HTTP_201_CREATED,
              responses=IDEMPOTENT_RESPONSES)
def approva_regionale(riparto_id: uuid.UUID, body: ApprovazioneWrite, app: FinanceDep, principal: Regione,
                      chiave: ChiaveIdempotenza, response: Response) -> dict[str, Any]:
    """Approva il riparto con l'atto della Regione: ogni Ambito riceve la sua quota come assegnazione del fondo
    (una volta sola: la stessa richiesta ripetuta con la stessa Idempotency-Key non assegna di nuovo; una seconda
    approvazione è 409 `riparto_regionale.gia_approvato`)."""
    once = Once(tenant_regione(_regione(principal)), principal.subject, chiave)
    return risposta_idempotente(response, app.approva_riparto_regionale(
        once, ApprovazioneRipartoRegionale(riparto_id, body.atto.model_dump())))
