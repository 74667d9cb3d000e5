"""Pages of the console: finanza, the journey of the Ufficio di Piano's amministrativo.

Funds and their acts, reference data and riparti, the Piano's budget and its allocations, the
spending chain impegno → liquidazione → mandato, the Comuni's contributions and the
rendicontazione with its CSV and XLSX files. Every figure on these pages is the finance
service's: the console sends what the person typed (after :func:`importo_digitato`, which only
changes the notation of an amount) and shows what comes back.

Every form that moves money carries its own Idempotency-Key: the GET that renders it puts a
fresh key (``nuova_chiave()``) in the hidden field ``chiave``, the POST forwards it, and a
re-rendered form (after an error) keeps it, so a double click or a resubmitted form moves the
money once.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.formati import FILTRI, importo_digitato
from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import nuova_chiave, pagina
from console.servizi import DEL_MODULO, Problema, Servizi
from console.sessione import CAMPO_CSRF

router = APIRouter(prefix="/finanza")

#: who opens the finance pages (the revisore reads), and who writes (the service decides anyway)
Lettore = Annotated[Utente, Depends(richiede("coordinatore", "amministrativo", "revisore"))]
Contabile = Annotated[Utente, Depends(richiede("coordinatore", "amministrativo"))]

#: the problems a form shows beside its fields; any other (401, 403, 404, 5xx) goes to the app's pages
#: rows per page of a list unless the address asks for another number (1–200, as the services allow)
RIGHE = 20
CAMPI_NON_INVIATI = frozenset({CAMPO_CSRF, "chiave"})

TIPI_ATTO_ASSEGNAZIONE = [("decreto", "Decreto"), ("delibera_giunta_regionale", "Delibera di Giunta regionale"),
                          ("decreto_dirigenziale", "Decreto dirigenziale"), ("deliberazione", "Deliberazione"),
                          ("determina", "Determina")]
TIPI_ATTO_IMPEGNO = [("determina", "Determina"), ("deliberazione", "Deliberazione")]
METODI_ARROTONDAMENTO = [("resto_maggiore", "Resto maggiore: le parti sommano al totale, al centesimo"),
                         ("quote_arrotondate",
                          "Quote pubblicate arrotondate, poi moltiplicate (può restare un residuo)")]
MODALITA_MINIMO = [("integrazione", "Integrazione oltre il totale"),
                   ("prelievo", "Prelievo proporzionale dagli altri destinatari")]
MACRO_LIVELLI = [("1", "1 · Accesso e presa in carico"), ("2", "2 · Permanenza a domicilio"),
                 ("3", "3 · Prima infanzia e servizi territoriali comunitari"),
                 ("4", "4 · Servizi residenziali per fragilità"), ("5", "5 · Inclusione e sostegno al reddito")]
#: the assegnazione's flags, checkboxes sent as JSON true when ticked (finance's default is false)
BANDIERE_ASSEGNAZIONE = ("investimento", "pnrr")
#: how many criteria and instalments the forms offer (the services allow up to 10 and 12)
CRITERI = 3
RATE = 4



def _corpo(valori: dict[str, str], *, importi: tuple[str, ...] = (), interi: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON body of a form whose fields are named as the API names them (``atto.numero``,
    ``criteri.0.peso``): dotted names nest, numeric parts are list positions, empty fields are left out
    (the service names what is missing). ``importi`` go through :func:`importo_digitato`; ``interi``
    (years, counts) are sent as numbers when they are digits, as typed otherwise."""
    corpo: dict[str, Any] = {}
    for nome, valore in valori.items():
        if nome in CAMPI_NON_INVIATI or valore is None or str(valore).strip() == "":
            continue
        generico = re.sub(r"\.\d+\.", ".N.", nome)
        if nome in importi or generico in importi:
            valore = importo_digitato(valore)
        elif (nome in interi or generico in interi) and str(valore).strip().isdigit():
            valore = int(str(valore).strip())
        parti = nome.split(".")
        nodo: Any = corpo
        for i, parte in enumerate(parti):
            ultimo = i == len(parti) - 1
            prossima_lista = not ultimo and parti[i + 1].isdigit()
            if isinstance(nodo, list):
                indice = int(parte)
                while len(nodo) <= indice:
                    nodo.append(None)
                if ultimo:
                    nodo[indice] = valore
                else:
                    if nodo[indice] is None:
                        nodo[indice] = [] if prossima_lista else {}
                    nodo = nodo[indice]
            elif ultimo:
                nodo[parte] = valore
            else:
                nodo = nodo.setdefault(parte, [] if prossima_lista else {})
    return _senza_buchi(corpo)


def _senza_buchi(valore: Any) -> Any:
    """Rows of a repeated group left blank (the third criterion nobody filled in) are not sent."""
    if isinstance(valore, dict):
        return {k: _senza_buchi(v) for k, v in valore.items()}
    if isinstance(valore, list):
        return [_senza_buchi(v) for v in valore if v is not None]
    return valore


async def _modulo(request: Request) -> dict[str, str]:
    form = await request.form()
    valori: dict[str, Any] = {}
    for nome in form.keys():
        tutti = form.getlist(nome)
        valori[nome] = tutti if len(tutti) > 1 else (tutti[0] if tutti else "")
    return valori


def _ripresenta(exc: Problema) -> None:
    if exc.status not in DEL_MODULO:
        raise exc


def _indirizzo(base: str, filtri: dict[str, Any], limite: int = RIGHE) -> str:
    """The address of a list with its filters and page size (not its cursor): what "Mostra altri" continues."""
    q = {k: v for k, v in {**filtri, "limite": limite if limite != RIGHE else None}.items() if v not in (None, "")}
    return f"{base}?{urlencode(q)}" if q else base


async def _elenco(servizi: Servizi, utente: Utente, path: str, filtri: dict[str, Any], dopo: str | None,
                  limite: int) -> tuple[dict[str, Any], dict[str, str], Problema | None]:
    """One page of a finance list; a filter the service refuses is shown beside its field."""
    return await servizi.pagina_filtrata(utente, "finance", path, limite=limite, dopo=dopo, **filtri)


def _opzioni_fondi(catalogo: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(f["codice"], f'{f["codice"]} · {f["nome"]}') for f in catalogo]


def _vai(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


Limite = Annotated[int, Query(ge=1, le=200)]


# -- funds --------------------------------------------------------------------------------------------

@router.get("")
async def fondi(request: Request, servizi: ServiziDep, utente: Lettore, fondo: str | None = None,
                annualita: str | None = None, dopo: str | None = None, limite: Limite = RIGHE) -> Response:
    catalogo = await servizi.leggi(utente, "finance", "/fondi")
    filtri = {"fondo": fondo, "annualita": annualita}
    elenco, errori, problema = await _elenco(servizi, utente, "/assegnazioni", filtri, dopo, limite)
    return pagina(request, "finanza/fondi.html", titolo="Finanza: fondi e assegnazioni", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo),
                  nomi={v["codice"]: v["nome"] for v in catalogo}, elenco=elenco, filtri=filtri, errori=errori,
                  problema=problema, indirizzo=_indirizzo("/finanza", filtri, limite),
                  esito=request.query_params.get("esito"))


@router.get("/assegnazioni/nuova")
async def nuova_assegnazione(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    catalogo = await servizi.leggi(utente, "finance", "/fondi")
    return pagina(request, "finanza/assegnazione_nuova.html", titolo="Registra un'assegnazione", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo),
                  valori={}, tipi_atto=TIPI_ATTO_ASSEGNAZIONE, macro_livelli=MACRO_LIVELLI)


@router.post("/assegnazioni/nuova")
async def registra_assegnazione(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    livelli = valori.pop("vincoli.macro_livelli_servizi", [])
    livelli = [livelli] if isinstance(livelli, str) else list(livelli)
    corpo = _corpo({k: v for k, v in valori.items() if k not in BANDIERE_ASSEGNAZIONE},
                   importi=("importo", "vincoli.quota_servizi_percentuale"), interi=("annualita",))
    corpo.update({nome: True for nome in BANDIERE_ASSEGNAZIONE if valori.get(nome) == "true"})
    if livelli:
        corpo.setdefault("vincoli", {})["macro_livelli_servizi"] = livelli
    try:
        creata = (await servizi.chiama(utente, "finance", "POST", "/assegnazioni", json=corpo)).dati
    except Problema as exc:
        _ripresenta(exc)
        catalogo = await servizi.leggi(utente, "finance", "/fondi")
        return pagina(request, "finanza/assegnazione_nuova.html", status_code=exc.status,
                      titolo="Registra un'assegnazione", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo), valori={**valori, "livelli": livelli},
                      tipi_atto=TIPI_ATTO_ASSEGNAZIONE, macro_livelli=MACRO_LIVELLI, errori=exc.per_campo(),
                      problema=exc)
    return _vai(f"/finanza/assegnazioni/{creata['fondo']}/{creata['annualita']}?esito=registrata")


@router.get("/assegnazioni/{fondo}/{annualita}")
async def assegnazione(request: Request, fondo: str, annualita: int, servizi: ServiziDep,
                       utente: Lettore) -> Response:
    a = await servizi.leggi(utente, "finance", f"/assegnazioni/{fondo}/{annualita}")
    stanziamenti = await servizi.tutti(utente, "finance", "/stanziamenti", fondo=fondo, annualita=annualita)
    return pagina(request, "finanza/assegnazione.html", titolo=f"{a['fondo']} · annualità {a['annualita']}",
                  a=a, stanziamenti=stanziamenti, tipi_atto=dict(TIPI_ATTO_ASSEGNAZIONE),
                  esito=request.query_params.get("esito"))


# -- reference data and riparti ---------------------------------------------------------------------

@router.get("/dati-riferimento")
async def dati_riferimento(request: Request, servizi: ServiziDep, utente: Lettore, nome: str | None = None,
                           dopo: str | None = None, limite: Limite = RIGHE) -> Response:
    filtri = {"nome": nome}
    elenco, errori, problema = await _elenco(servizi, utente, "/dati-riferimento", filtri, dopo, limite)
    return pagina(request, "finanza/dati.html", titolo="Dati di riferimento", elenco=elenco, filtri=filtri,
                  errori=errori, problema=problema, valori={},
                  indirizzo=_indirizzo("/finanza/dati-riferimento", filtri, limite),
                  esito=request.query_params.get("esito"))


@router.post("/dati-riferimento")
async def carica_dati(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    try:
        await servizi.chiama(utente, "finance", "POST", "/dati-riferimento", json=_corpo(valori))
    except Problema as exc:
        _ripresenta(exc)
        elenco = await servizi.pagina(utente, "finance", "/dati-riferimento", limite=RIGHE)
        return pagina(request, "finanza/dati.html", status_code=exc.status, titolo="Dati di riferimento",
                      elenco=elenco, filtri={}, valori=valori, errori=exc.per_campo(), problema=exc,
                      indirizzo="/finanza/dati-riferimento")
    return _vai("/finanza/dati-riferimento?esito=caricati")


@router.get("/riparti")
async def riparti(request: Request, servizi: ServiziDep, utente: Lettore, q: str | None = None,
                  dopo: str | None = None, limite: Limite = RIGHE) -> Response:
    filtri = {"q": q}
    elenco, errori, problema = await _elenco(servizi, utente, "/riparti", filtri, dopo, limite)
    return pagina(request, "finanza/riparti.html", titolo="Riparti", elenco=elenco, filtri=filtri, errori=errori,
                  problema=problema, indirizzo=_indirizzo("/finanza/riparti", filtri, limite))


async def _modulo_riparto(request: Request, servizi: Servizi, utente: Utente, valori: dict[str, Any], *,
                          status_code: int = 200, errori: dict[str, str] | None = None,
                          problema: Problema | None = None) -> Response:
    dati = await servizi.tutti(utente, "finance", "/dati-riferimento")
    return pagina(request, "finanza/riparto_nuovo.html", status_code=status_code, titolo="Nuovo riparto",
                  valori=valori, dati=dati, metodi=METODI_ARROTONDAMENTO, modalita=MODALITA_MINIMO,
                  criteri=CRITERI, errori=errori or {}, problema=problema)


@router.get("/riparti/nuovo")
async def nuovo_riparto(request: Request, servizi: ServiziDep, utente: Contabile,
                        dati_riferimento_id: str | None = None) -> Response:
    return await _modulo_riparto(request, servizi, utente, {"dati_riferimento_id": dati_riferimento_id or "",
                                                            "arrotondamento.metodo": "resto_maggiore",
                                                            "arrotondamento.decimali_percentuale": "2"})


def _corpo_riparto(valori: dict[str, Any]) -> dict[str, Any]:
    corpo = _corpo(valori, importi=("totale", "minimo.importo"), interi=("arrotondamento.decimali_percentuale",))
    if set(corpo.get("minimo") or {}) == {"modalita"}:  # a mode chosen without an amount: no minimum
        corpo.pop("minimo")
    return corpo


@router.post("/riparti/verifica")
async def verifica_riparto(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    """The step before storing: the service computes the riparto without recording it (its preview), and the
    page shows its shares, totals and warnings; then the person stores it or goes back to correct it."""
    valori = await _modulo(request)
    corpo = _corpo_riparto(valori)
    try:
        r = (await servizi.chiama(utente, "finance", "POST", "/riparti/anteprima", json=corpo)).dati
    except Problema as exc:
        _ripresenta(exc)
        return await _modulo_riparto(request, servizi, utente, valori, status_code=exc.status,
                                     errori=exc.per_campo(), problema=exc)
    dati = None
    if corpo.get("dati_riferimento_id"):
        dati = await servizi.leggi(utente, "finance", f"/dati-riferimento/{corpo['dati_riferimento_id']}")
    return pagina(request, "finanza/riparto_verifica.html", titolo="Anteprima del riparto", valori=valori,
                  corpo=corpo, dati=dati, r=r, metodi=dict(METODI_ARROTONDAMENTO), modalita=dict(MODALITA_MINIMO))


@router.post("/riparti")
async def esegui_riparto(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    if valori.get("azione") == "correggi":
        return await _modulo_riparto(request, servizi, utente, valori)
    valori.pop("azione", None)
    try:
        r = (await servizi.chiama(utente, "finance", "POST", "/riparti", json=_corpo_riparto(valori))).dati
    except Problema as exc:
        _ripresenta(exc)
        return await _modulo_riparto(request, servizi, utente, valori, status_code=exc.status,
                                     errori=exc.per_campo(), problema=exc)
    return _vai(f"/finanza/riparti/{r['id']}?esito=registrato")


@router.get("/riparti/{riparto_id}")
async def riparto(request: Request, riparto_id: uuid.UUID, servizi: ServiziDep, utente: Lettore) -> Response:
    r = await servizi.leggi(utente, "finance", f"/riparti/{riparto_id}", verifica="true")
    return pagina(request, "finanza/riparto.html", titolo=r["oggetto"], r=r,
                  metodi=dict(METODI_ARROTONDAMENTO), esito=request.query_params.get("esito"))


# -- budget and allocations ------------------------------------------------------------------------

@router.get("/budget")
async def budget_scelta(request: Request, servizi: ServiziDep, utente: Lettore) -> Response:
    piani = await servizi.tutti(utente, "planning", "/piani")
    return pagina(request, "finanza/budget_piani.html", titolo="Budget dei Piani di Zona", piani=piani)


@router.get("/budget/{piano_id}")
async def budget(request: Request, piano_id: uuid.UUID, servizi: ServiziDep, utente: Lettore) -> Response:
    b = await servizi.leggi(utente, "finance", f"/budget/{piano_id}")
    stanziamenti = await servizi.tutti(utente, "finance", "/stanziamenti", piano_id=str(piano_id))
    return pagina(request, "finanza/budget.html", titolo=f"Budget del Piano {b['anno_inizio']}–{b['anno_fine']}",
                  b=b, stanziamenti=stanziamenti, esito=request.query_params.get("esito"))


async def _modulo_allocazione(request: Request, servizi: Servizi, utente: Utente, piano_id: uuid.UUID,
                              valori: dict[str, Any], chiave: str, *, status_code: int = 200,
                              errori: dict[str, str] | None = None, problema: Problema | None = None) -> Response:
    b = await servizi.leggi(utente, "finance", f"/budget/{piano_id}")
    assegnazioni = await servizi.tutti(utente, "finance", "/assegnazioni", fondo=valori.get("fondo") or None)
    return pagina(request, "finanza/allocazione.html", status_code=status_code, titolo="Alloca un fondo a una linea",
                  b=b, valori=valori, chiave=chiave, assegnazioni=assegnazioni, errori=errori or {},
                  problema=problema)


@router.get("/budget/{piano_id}/allocazioni/nuova")
async def nuova_allocazione(request: Request, piano_id: uuid.UUID, servizi: ServiziDep, utente: Contabile,
                            intervento: str = "", fondo: str = "", anno: str = "") -> Response:
    return await _modulo_allocazione(request, servizi, utente, piano_id,
                                     {"intervento": intervento, "fondo": fondo, "anno": anno, "annualita": anno},
                                     nuova_chiave())


@router.post("/budget/{piano_id}/allocazioni/nuova")
async def alloca(request: Request, piano_id: uuid.UUID, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    chiave = str(valori.get("chiave") or nuova_chiave())
    corpo = _corpo(valori, importi=("importo",), interi=("anno", "annualita"))
    try:
        s = (await servizi.chiama(utente, "finance", "POST", f"/budget/{piano_id}/allocazioni", json=corpo,
                                  chiave=chiave)).dati
    except Problema as exc:
        _ripresenta(exc)
        return await _modulo_allocazione(request, servizi, utente, piano_id, valori, chiave, status_code=exc.status,
                                         errori=exc.per_campo(), problema=exc)
    return _vai(f"/finanza/stanziamenti/{s['id']}?esito=allocazione")


# -- allocations and the spending chain -------------------------------------------------------------

@router.get("/stanziamenti")
async def stanziamenti(request: Request, servizi: ServiziDep, utente: Lettore, fondo: str | None = None,
                       annualita: str | None = None, intervento: str | None = None, dopo: str | None = None,
                       limite: Limite = RIGHE) -> Response:
    catalogo = await servizi.leggi(utente, "finance", "/fondi")
    filtri = {"fondo": fondo, "annualita": annualita, "intervento": intervento}
    elenco, errori, problema = await _elenco(servizi, utente, "/stanziamenti", filtri, dopo, limite)
    return pagina(request, "finanza/stanziamenti.html", titolo="Stanziamenti", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo), elenco=elenco,
                  filtri=filtri, errori=errori, problema=problema,
                  indirizzo=_indirizzo("/finanza/stanziamenti", filtri, limite))


ESITI = {"allocazione": "Allocazione registrata: lo stanziamento è aggiornato.",
         "impegno": "Impegno registrato.", "liquidazione": "Liquidazione registrata.",
         "mandato": "Mandato di pagamento emesso.", "riduzione": "Riduzione dell'impegno registrata."}


@router.get("/stanziamenti/{stanziamento_id}")
async def stanziamento(request: Request, stanziamento_id: uuid.UUID, servizi: ServiziDep,
                       utente: Lettore) -> Response:
    s = await servizi.leggi(utente, "finance", f"/stanziamenti/{stanziamento_id}")
    impegni = await servizi.tutti(utente, "finance", "/impegni", stanziamento_id=str(stanziamento_id))
    liquidazioni = await servizi.tutti(utente, "finance", "/liquidazioni", stanziamento_id=str(stanziamento_id))
    mandati = await servizi.tutti(utente, "finance", "/mandati", stanziamento_id=str(stanziamento_id))
    return pagina(request, "finanza/stanziamento.html", titolo=f"Stanziamento {s['fondo']} {s['annualita']} · "
                  f"{s['intervento']} ({s['anno']})", s=s, impegni=impegni, liquidazioni=liquidazioni,
                  mandati=mandati, esito=ESITI.get(request.query_params.get("esito") or ""),
                  scrive=utente.ruolo in ("coordinatore", "amministrativo"))


async def _affidamenti(servizi: Servizi, utente: Utente, s: dict[str, Any], codice_fiscale: str) -> list[dict[str, Any]]:
    """The awards finance knows for the beneficiary typed on the form, on this allocation's intervento: finance's
    ``GET /fornitori/{codice_fiscale}/abilitazioni`` (finance has no list of awards of its own), each described
    for its option with what partnership records of it (awardee, amount, CIG, Piano). Only what to offer:
    finance checks the award chosen (its awardee, intervento, period, ceiling) when the commitment is sent."""
    cf = codice_fiscale.strip().upper()
    if not cf:
        return []
    try:
        titoli = (await servizi.leggi(utente, "finance", f"/fornitori/{quote(cf, safe='')}/abilitazioni"))["titoli"]
    except Problema as exc:
        if exc.status not in DEL_MODULO | {404}:
            raise
        return []
    titoli = [t for t in titoli if t["tipo"] == "affidamento" and t.get("intervento") in (None, s["intervento"])]
    dettagli = await asyncio.gather(*(servizi.leggi(utente, "partnership", f"/affidamenti/{t['titolo_id']}")
                                      for t in titoli), return_exceptions=True)
    offerti = []
    for t, d in zip(titoli, dettagli):
        if isinstance(d, BaseException) and not isinstance(d, Problema):
            raise d
        d = d if isinstance(d, dict) else {}
        if d.get("piano_id") not in (None, str(s["piano_id"])):
            continue
        offerti.append({"id": t["titolo_id"], "cig": d.get("cig") or "", "importo": d.get("importo"),
                        "denominazione": (d.get("ente") or {}).get("denominazione", ""),
                        "intervento": t.get("intervento") or s["intervento"], "valido_dal": t["valido_dal"],
                        "valido_al": t["valido_al"]})
    return offerti


def _movimento(template: str, titolo: str, percorso: str, importi: tuple[str, ...], esito: str):
    """The GET and POST of one money form on an allocation: the GET generates the key, the POST forwards it
    (and keeps it when the form comes back with the service's errors), success goes back to the allocation.
    The impegno's form also offers the awards finance knows for the beneficiary typed (its button "Cerca gli
    affidamenti" posts ``azione=affidamenti``: the form comes back with them, nothing is sent to finance)."""

    async def contesto(servizi: Servizi, utente: Utente, stanziamento_id: uuid.UUID,
                       parametri: dict[str, str], valori: dict[str, Any] | None = None) -> dict[str, Any]:
        s = await servizi.leggi(utente, "finance", f"/stanziamenti/{stanziamento_id}")
        ctx = {"s": s, "impegno": s["impegni"].get(parametri.get("impegno_id", "")),
               "liquidazione": s["liquidazioni"].get(parametri.get("liquidazione_id", "")), **parametri}
        if template == "finanza/impegno.html":
            cf = str((valori or {}).get("beneficiario.codice_fiscale") or "")
            ctx["affidamenti"] = await _affidamenti(servizi, utente, s, cf)
            ctx["cercati"] = bool(cf.strip())
        return ctx

    async def mostra(request: Request, stanziamento_id: uuid.UUID, servizi: ServiziDep, utente: Contabile) -> Response:
        parametri = dict(request.path_params)
        parametri.pop("stanziamento_id")
        ctx = await contesto(servizi, utente, stanziamento_id, parametri)
        if ("impegno_id" in parametri and ctx["impegno"] is None) or \
                ("liquidazione_id" in parametri and ctx["liquidazione"] is None):
            raise Problema(404, "Non trovato", "")
        return pagina(request, template, titolo=titolo, valori={}, chiave=nuova_chiave(), tipi_atto=TIPI_ATTO_IMPEGNO,
                      **ctx)

    async def invia(request: Request, stanziamento_id: uuid.UUID, servizi: ServiziDep, utente: Contabile) -> Response:
        parametri = dict(request.path_params)
        parametri.pop("stanziamento_id")
        valori = await _modulo(request)
        chiave = str(valori.get("chiave") or nuova_chiave())
        if valori.pop("azione", None) == "affidamenti":
            ctx = await contesto(servizi, utente, stanziamento_id, parametri, valori)
            return pagina(request, template, titolo=titolo, valori=valori, chiave=chiave, tipi_atto=TIPI_ATTO_IMPEGNO,
                          **ctx)
        path = f"/stanziamenti/{stanziamento_id}" + percorso.format(**parametri)
        try:
            await servizi.chiama(utente, "finance", "POST", path, json=_corpo(valori, importi=importi), chiave=chiave)
        except Problema as exc:
            _ripresenta(exc)
            ctx = await contesto(servizi, utente, stanziamento_id, parametri, valori)
            return pagina(request, template, status_code=exc.status, titolo=titolo, valori=valori, chiave=chiave,
                          tipi_atto=TIPI_ATTO_IMPEGNO, errori=exc.per_campo(), problema=exc, **ctx)
        return _vai(f"/finanza/stanziamenti/{stanziamento_id}?esito={esito}")

    return mostra, invia


for _url, _template, _titolo, _percorso, _importi, _esito in (
        ("/stanziamenti/{stanziamento_id}/impegni/nuovo", "finanza/impegno.html", "Nuovo impegno", "/impegni",
         ("importo",), "impegno"),
        ("/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/riduzioni/nuova", "finanza/riduzione.html",
         "Riduzione dell'impegno", "/impegni/{impegno_id}/riduzioni", ("importo",), "riduzione"),
        ("/stanziamenti/{stanziamento_id}/impegni/{impegno_id}/liquidazioni/nuova", "finanza/liquidazione.html",
         "Nuova liquidazione", "/impegni/{impegno_id}/liquidazioni", ("importo",), "liquidazione"),
        ("/stanziamenti/{stanziamento_id}/liquidazioni/{liquidazione_id}/mandati/nuovo", "finanza/mandato.html",
         "Emetti un mandato di pagamento", "/liquidazioni/{liquidazione_id}/mandati", ("importo",), "mandato")):
    _mostra, _invia = _movimento(_template, _titolo, _percorso, _importi, _esito)
    router.add_api_route(_url, _mostra, methods=["GET"])
    router.add_api_route(_url, _invia, methods=["POST"])


@router.get("/impegni")
async def impegni(request: Request, servizi: ServiziDep, utente: Lettore, fondo: str | None = None,
                  annualita: str | None = None, comune: str | None = None, beneficiario: str | None = None,
                  cig: str | None = None, da_liquidare: str | None = None, dopo: str | None = None,
                  limite: Limite = RIGHE) -> Response:
    catalogo = await servizi.leggi(utente, "finance", "/fondi")
    filtri = {"fondo": fondo, "annualita": annualita, "comune": comune, "beneficiario": beneficiario, "cig": cig,
              "da_liquidare": da_liquidare}
    elenco, errori, problema = await _elenco(servizi, utente, "/impegni", filtri, dopo, limite)
    return pagina(request, "finanza/impegni.html", titolo="Impegni", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo), elenco=elenco,
                  filtri=filtri, errori=errori, problema=problema,
                  indirizzo=_indirizzo("/finanza/impegni", filtri, limite))


@router.get("/mandati")
async def mandati(request: Request, servizi: ServiziDep, utente: Lettore, beneficiario: str | None = None,
                  dal: str | None = None, al: str | None = None, dopo: str | None = None,
                  limite: Limite = RIGHE) -> Response:
    filtri = {"beneficiario": beneficiario, "dal": dal, "al": al}
    elenco, errori, problema = await _elenco(servizi, utente, "/mandati", filtri, dopo, limite)
    return pagina(request, "finanza/mandati.html", titolo="Mandati di pagamento", elenco=elenco, filtri=filtri,
                  errori=errori, problema=problema,
                  indirizzo=_indirizzo("/finanza/mandati", filtri, limite))


# -- the Comuni's contributions ---------------------------------------------------------------------

def _valori_contributi(anno: str = "") -> dict[str, Any]:
    return {"anno": anno, "metodo": "pro_capite"}


METODI_CONTRIBUTI = [("pro_capite", "Pro capite: una quota per abitante"),
                     ("deliberato", "Deliberato: le quote di un riparto approvato dal Comitato")]


async def _scelte_contributi(servizi: Servizi, utente: Utente) -> dict[str, Any]:
    """What the contributions' form offers for the deliberated method: the stored riparti, and the Comitato's
    approved deliberations finance knows (``GET /deliberazioni``) of the types finance itself says the field
    takes (its ``atti_richiesti``); finance checks the one chosen anyway."""
    if utente.ruolo not in ("coordinatore", "amministrativo"):
        return {"riparti_opzioni": [], "deliberazioni_opzioni": []}
    riparti, atti = await asyncio.gather(servizi.tutti(utente, "finance", "/riparti"),
                                         servizi.leggi(utente, "finance", "/deliberazioni"))
    tipi = (atti.get("atti_richiesti") or {}).get("contributi.deliberazione_id", {}).get("tipi") or []
    formato = FILTRI["data"]
    return {"riparti_opzioni": [(r["riparto_id"], f'{r["oggetto"]} · {FILTRI["importo"](r["totale"])}'
                                 if r.get("totale") else r["oggetto"]) for r in riparti],
            "deliberazioni_opzioni": [(d["deliberazione_id"], f'n. {d["numero"]} del {formato(d["data"])}'
                                       + (f' · {d["oggetto"]}' if d.get("oggetto") else ""))
                                      for d in atti["deliberazioni"] if not tipi or d.get("tipo") in (None, *tipi)]}


@router.get("/contributi")
async def contributi(request: Request, servizi: ServiziDep, utente: Lettore, dopo: str | None = None,
                     limite: Limite = RIGHE) -> Response:
    elenco = await servizi.pagina(utente, "finance", "/contributi", limite=limite, dopo=dopo)
    return pagina(request, "finanza/contributi.html", titolo="Contributi dei Comuni", elenco=elenco,
                  valori=_valori_contributi(), rate=RATE, metodi=METODI_CONTRIBUTI,
                  indirizzo="/finanza/contributi", **await _scelte_contributi(servizi, utente))


@router.post("/contributi")
async def determina_contributi(request: Request, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    anno = str(valori.get("anno") or "").strip()
    corpo = _corpo({k: v for k, v in valori.items() if k != "anno"},
                   importi=("quota_pro_capite", "scadenze.N.percentuale"))
    corpo.setdefault("scadenze", [])
    if corpo.get("deliberazione_id") and not corpo.get("deliberazione_numero"):
        # the number of the deliberation chosen, as finance lists it, so that the quotas cite it (finance checks it)
        note = (await servizi.leggi(utente, "finance", "/deliberazioni"))["deliberazioni"]
        corpo.update({"deliberazione_numero": d["numero"] for d in note
                      if d["deliberazione_id"] == corpo["deliberazione_id"]})
    errori: dict[str, str] = {}
    problema = None
    if not (anno.isdigit() and len(anno) == 4):
        errori["anno"] = "Indicare l'anno con quattro cifre (es. 2026)."
    else:
        try:
            await servizi.chiama(utente, "finance", "POST", f"/contributi/{anno}", json=corpo)
            return _vai(f"/finanza/contributi/{anno}?esito=determinati")
        except Problema as exc:
            _ripresenta(exc)
            errori, problema = exc.per_campo(), exc
    elenco = await servizi.pagina(utente, "finance", "/contributi", limite=RIGHE)
    return pagina(request, "finanza/contributi.html", status_code=problema.status if problema else 422,
                  titolo="Contributi dei Comuni", elenco=elenco, valori=valori, rate=RATE, errori=errori,
                  problema=problema, indirizzo="/finanza/contributi", metodi=METODI_CONTRIBUTI,
                  **await _scelte_contributi(servizi, utente))


async def _situazione(request: Request, servizi: Servizi, utente: Utente, anno: int, al: str | None,
                      valori: dict[str, Any], *, status_code: int = 200, errori: dict[str, str] | None = None,
                      problema: Problema | None = None) -> Response:
    errori = dict(errori or {})
    try:
        c = await servizi.leggi(utente, "finance", f"/contributi/{anno}", al=al)
    except Problema as exc:
        if exc.status != 422 or not al:
            raise
        errori.update({"al": m for m in exc.per_campo().values()} or {"al": exc.dettaglio})
        c = await servizi.leggi(utente, "finance", f"/contributi/{anno}")
    return pagina(request, "finanza/contributi_anno.html", status_code=status_code,
                  titolo=f"Contributi dei Comuni {anno}", c=c, anno=anno, al=al or "", valori=valori,
                  errori=errori, problema=problema, esito=request.query_params.get("esito"))


@router.get("/contributi/{anno}")
async def contributi_anno(request: Request, anno: int, servizi: ServiziDep, utente: Lettore,
                          al: str | None = None) -> Response:
    return await _situazione(request, servizi, utente, anno, al, {})


@router.post("/contributi/{anno}/versamenti")
async def versa(request: Request, anno: int, servizi: ServiziDep, utente: Contabile) -> Response:
    valori = await _modulo(request)
    try:
        await servizi.chiama(utente, "finance", "POST", f"/contributi/{anno}/versamenti",
                             json=_corpo(valori, importi=("importo",)))
    except Problema as exc:
        _ripresenta(exc)
        return await _situazione(request, servizi, utente, anno, None, valori, status_code=exc.status,
                                 errori=exc.per_campo(), problema=exc)
    return _vai(f"/finanza/contributi/{anno}?esito=versamento")


# -- rendicontazione ---------------------------------------------------------------------------------

@router.get("/rendicontazione")
async def rendicontazione(request: Request, servizi: ServiziDep, utente: Lettore, fondo: str | None = None,
                          annualita: str | None = None) -> Response:
    catalogo = await servizi.leggi(utente, "finance", "/fondi")
    filtri = {"fondo": fondo, "annualita": annualita}
    errori: dict[str, str] = {}
    problema = None
    try:
        r = await servizi.leggi(utente, "finance", "/rendicontazione", **filtri)
    except Problema as exc:
        if exc.status != 422:
            raise
        r, errori, problema = None, exc.per_campo(), exc
    q = urlencode({k: v for k, v in filtri.items() if v})
    return pagina(request, "finanza/rendicontazione.html", titolo="Rendicontazione", catalogo=catalogo,
                  fondi_opzioni=_opzioni_fondi(catalogo), r=r,
                  filtri=filtri, errori=errori, problema=problema, q=("?" + q) if q else "")


@router.get("/rendicontazione/export.{formato}")
async def scarica_rendicontazione(formato: str, servizi: ServiziDep, utente: Lettore, fondo: str | None = None,
                                  annualita: str | None = None) -> Response:
    """The service's file as it sent it: its bytes, its content type, an attachment with its name."""
    if formato not in ("csv", "xlsx"):
        raise Problema(404, "Non trovato", "")
    risposta = await servizi.scarica(utente, "finance", f"/rendicontazione/export.{formato}", fondo=fondo,
                                     annualita=annualita)
    nome = re.search(r'filename="?([^";]+)"?', risposta.headers.get("content-disposition", ""))
    nome_file = re.sub(r"[^A-Za-z0-9._-]", "_", nome.group(1)) if nome else f"rendicontazione.{formato}"
    return Response(risposta.content, media_type=risposta.headers.get("content-type"),
                    headers={"Content-Disposition": f'attachment; filename="{nome_file}"'})
