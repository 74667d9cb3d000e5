"""Pages of the console: the Piano di Zona (list, drafting, versions, content, diff, proposal, the tavoli's
proposals taken into a draft).

Planning decides every rule: this module sends what the person typed (field names are the API's field
paths, e.g. ``aree.0.obiettivi.1.interventi.0.linee_budget.2.importo``, so the service's problem+json
lands beside the field it names) and shows what comes back. The one thing it adds up is
:func:`anteprima_totali`, a display-only preview of the amounts being typed (planning offers no
totals endpoint): what is saved is what planning accepted, with the amounts as planning returns them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.formati import importo_digitato
from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import DEL_MODULO, Problema, Servizi

router = APIRouter()

LETTORI = ("coordinatore", "amministrativo", "referente_asl", "revisore")
Lettore = Annotated[Utente, Depends(richiede(*LETTORI))]
Coordinatore = Annotated[Utente, Depends(richiede("coordinatore"))]

#: problems a form shows beside its fields (the others go to the app's error pages)
#: how many Piani a page of the list shows before "Mostra altri"
PER_PAGINA = 10

STATI_PIANO = {"bozza": "Bozza", "proposto": "Proposto al Comitato", "approvato": "Approvato",
               "in_attuazione": "In attuazione", "concluso": "Concluso"}
TONI_PIANO = {"bozza": "secondary", "proposto": "warning", "approvato": "success", "in_attuazione": "primary",
              "concluso": "dark"}
STATI_VERSIONE = {"bozza": "Bozza", "proposta": "Proposta al Comitato", "approvata": "Approvata"}
TIPI_VERSIONE = {"piano": "Piano triennale", "aggiornamento_annuale": "Aggiornamento annuale",
                 "piano_non_autosufficienza": "Piano per la non autosufficienza"}
SISTEMI = {"fnps_macrolivello": "Macro-livello FNPS", "nomenclatore": "Nomenclatore interregionale"}
CAMPI_DIFFERENZA = {"titolo": "Titolo", "area": "Area", "obiettivo": "Obiettivo", "nomenclatura": "Classificazione",
                    "utenti_attesi": "Utenti attesi", "comuni": "Comuni", "linee_budget": "Linee di budget"}
#: what a redirect after a successful form tells the person (never text from the URL itself)
ESITI = {
    "creato": "Piano di Zona creato: la versione 1 è in bozza.",
    "salvata": "Contenuto salvato: planning ha accettato la versione.",
    "proposta": "Versione proposta al Comitato: la proposta di deliberazione è pronta per l'ordine del giorno.",
    "aperta": "Nuova versione aperta in bozza dalla versione vigente.",
    "recepita": "Proposta del tavolo recepita nella bozza.",
    "accordo": "Accordo di Programma predisposto: si attendono le firme.",
}

#: the paths the editor's add/remove buttons may name
_PERCORSO = re.compile(r"^aree(\.\d+(\.obiettivi(\.\d+(\.interventi(\.\d+(\.linee_budget(\.\d+)?)?)?)?)?)?)?$")
_INTERO = re.compile(r"^\s*\d{1,9}\s*$")


# -- helpers -------------------------------------------------------------------------------------------

def _fatto(request: Request) -> str | None:
    return ESITI.get(request.query_params.get("fatto", ""))


def _modulo(exc: Problema) -> None:
    """Re-raise what is not a form's problem (401/403/404/5xx go to the app's handlers)."""
    if exc.status not in DEL_MODULO:
        raise exc


def _errori(exc: Problema) -> dict[str, str]:
    """The problem's messages per field; an item of a list of Comuni (``...comuni.3``) shows beside the list."""
    errori: dict[str, str] = {}
    for nome, messaggio in exc.per_campo().items():
        nome = re.sub(r"(\.comuni)\.\d+$", r"\1", nome)
        errori.setdefault(nome, messaggio)
    return errori


def _intero(valore: Any) -> Any:
    """A whole number typed in a field; anything else is sent as typed, for the service to name."""
    if isinstance(valore, str) and _INTERO.match(valore):
        return int(valore)
    return valore


def anteprima_totali(aree: list[dict]) -> dict[str, Any]:
    """ANTEPRIMA PER LA SOLA VISUALIZZAZIONE: the sum of the budget lines as typed, per fund and year.

    Planning offers no endpoint that totals a version's budget, so while a person types the console
    adds up the figures on the screen with :class:`~decimal.Decimal` (never a float) to show where the
    draft stands. It decides nothing: lines it cannot read are left out and counted, and what is saved
    is what planning accepts on ``PUT /piani/{id}/versioni/{n}/contenuto``. This is the only place the
    console adds money.
    """
    per_fondo: dict[str, dict[int, Decimal]] = {}
    illeggibili = 0
    for area in aree:
        for obiettivo in area.get("obiettivi") or []:
            for intervento in obiettivo.get("interventi") or []:
                for linea in intervento.get("linee_budget") or []:
                    try:
                        somma = Decimal(str(importo_digitato(linea.get("importo"))))
                        anno = int(linea.get("anno"))
                    except (InvalidOperation, TypeError, ValueError):
                        illeggibili += 1
                        continue
                    if not somma.is_finite() or not linea.get("fondo"):
                        illeggibili += 1
                        continue
                    conti = per_fondo.setdefault(str(linea["fondo"]), {})
                    conti[anno] = conti.get(anno, Decimal(0)) + somma
    anni = sorted({a for valori in per_fondo.values() for a in valori})
    righe = [{"fondo": fondo, "per_anno": {a: str(valori[a]) for a in valori}, "totale": str(sum(valori.values()))}
             for fondo, valori in sorted(per_fondo.items())]
    per_anno = {a: str(sum((v.get(a, Decimal(0)) for v in per_fondo.values()), Decimal(0))) for a in anni}
    totale = str(sum((sum(v.values(), Decimal(0)) for v in per_fondo.values()), Decimal(0)))
    return {"anni": anni, "righe": righe, "per_anno": per_anno, "totale": totale, "illeggibili": illeggibili,
            "vuota": not righe}


def _albero(form: Any) -> list[dict]:
    """The editor's fields (``aree.0.obiettivi.1.codice`` …) back into the tree they name."""
    radice: dict = {}
    for chiave in dict.fromkeys(form.keys()):
        if not chiave.startswith("aree.") or len(chiave) > 200:
            continue
        parti = [int(p) if p.isdigit() else p for p in chiave.split(".")]
        valore: Any = form.getlist(chiave) if parti[-1] == "comuni" else form.get(chiave)
        nodo: Any = radice
        for parte in parti[:-1]:
            nodo = nodo.setdefault(parte, {}) if isinstance(nodo, dict) else None
        if isinstance(nodo, dict):
            nodo[parti[-1]] = valore

    def come_liste(nodo: Any) -> Any:
        if not isinstance(nodo, dict):
            return nodo
        if nodo and all(isinstance(k, int) for k in nodo):
            return [come_liste(nodo[k]) for k in sorted(nodo)]
        return {k: come_liste(v) for k, v in nodo.items()}

    return come_liste(radice).get("aree") or []


def _contenuto(aree: list[dict]) -> dict[str, Any]:
    """The body of ``PUT .../contenuto`` from the editor's tree: every field the API knows, as typed."""
    def linea(l: dict) -> dict:
        return {"fondo": l.get("fondo", ""), "anno": _intero(l.get("anno", "")),
                "importo": importo_digitato(l.get("importo", ""))}

    def intervento(iv: dict) -> dict:
        nom = iv.get("nomenclatura") or {}
        comuni = iv.get("comuni") or []
        return {"codice": iv.get("codice", ""), "titolo": iv.get("titolo", ""),
                "nomenclatura": {"sistema": nom.get("sistema", ""), "codice": nom.get("codice", "")},
                "comuni": [c for c in (comuni if isinstance(comuni, list) else [comuni]) if c],
                "utenti_attesi": _intero(iv.get("utenti_attesi", "")),
                "linee_budget": [linea(l) for l in iv.get("linee_budget") or []]}

    return {"aree": [{"codice": a.get("codice", ""), "titolo": a.get("titolo", ""),
                      "obiettivi": [{"codice": o.get("codice", ""), "titolo": o.get("titolo", ""),
                                     "interventi": [intervento(iv) for iv in o.get("interventi") or []]}
                                    for o in a.get("obiettivi") or []]}
                     for a in aree]}


def _per_modulo(aree: list[dict]) -> list[dict]:
    """A saved tree as the editor shows it: amounts with the Italian decimal comma."""
    contenuto = _contenuto(aree)
    for a in contenuto["aree"]:
        for o in a["obiettivi"]:
            for iv in o["interventi"]:
                for l in iv["linee_budget"]:
                    l["importo"] = str(l["importo"]).replace(".", ",")
    return contenuto["aree"]


def _applica(aree: list[dict], azione: str, anno_inizio: int) -> list[dict]:
    """Add an empty row under a path, or remove the row at a path (nothing is saved)."""
    verbo, _, percorso = azione.partition(":")
    if verbo not in ("aggiungi", "rimuovi") or not _PERCORSO.match(percorso):
        return aree
    parti = [int(p) if p.isdigit() else p for p in percorso.split(".")]
    radice: dict[str, Any] = {"aree": aree}
    nodo: Any = radice
    try:
        for parte in parti[:-1]:
            nodo = nodo[parte]
        if verbo == "rimuovi" and isinstance(parti[-1], int):
            del nodo[parti[-1]]
        elif verbo == "aggiungi" and isinstance(parti[-1], str):
            vuoti = {"aree": {"codice": "", "titolo": "", "obiettivi": []},
                     "obiettivi": {"codice": "", "titolo": "", "interventi": []},
                     "interventi": {"codice": "", "titolo": "", "nomenclatura": {"sistema": "fnps_macrolivello",
                                                                                   "codice": ""},
                                    "comuni": [], "utenti_attesi": "", "linee_budget": []},
                     "linee_budget": {"fondo": "", "anno": anno_inizio, "importo": ""}}
            nodo.setdefault(parti[-1], []).append(dict(vuoti[parti[-1]]))
    except (KeyError, IndexError, TypeError):
        pass
    return radice["aree"]


async def _fondi(servizi: Servizi, utente: Utente) -> dict[str, str]:
    """The funds' catalogue (finance): code → name."""
    return {f["codice"]: f["nome"] for f in await servizi.leggi(utente, "finance", "/fondi")}


async def _comuni(servizi: Servizi, utente: Utente) -> list[dict]:
    try:
        return (await servizi.leggi(utente, "planning", "/ambito"))["comuni"]
    except Problema as exc:
        if exc.status != 404:
            raise
        return []


def _contesto_comune() -> dict[str, Any]:
    return {"STATI_PIANO": STATI_PIANO, "TONI_PIANO": TONI_PIANO, "STATI_VERSIONE": STATI_VERSIONE,
            "TIPI_VERSIONE": TIPI_VERSIONE, "SISTEMI": SISTEMI}


# -- the list and a new Piano --------------------------------------------------------------------------

@router.get("/piani")
async def elenco(request: Request, servizi: ServiziDep, utente: Lettore, stato: str = "",
                 anno: Annotated[str, Query(max_length=4)] = "", dopo: Annotated[str, Query(max_length=500)] = ""
                 ) -> Response:
    filtri = {"stato": stato if stato in STATI_PIANO else "", "anno": anno if anno.isdigit() else ""}
    risultato, errori, problema = await servizi.pagina_filtrata(utente, "planning", "/piani", limite=PER_PAGINA,
                                                                dopo=dopo or None, **filtri)
    elementi, successivo = risultato["elementi"], risultato.get("successivo")
    if anno and not anno.isdigit():
        errori["anno"] = "L'anno si scrive con quattro cifre (es. 2026)."
    url = "/piani" + ("?" + urlencode({k: v for k, v in filtri.items() if v}) if any(filtri.values()) else "")
    return pagina(request, "piani/elenco.html", titolo="Piano di Zona", piani=elementi, successivo=successivo,
                  filtri={"stato": stato, "anno": anno}, url=url, seguito=bool(dopo), errori=errori,
                  problema=problema, fatto=_fatto(request), **_contesto_comune())


@router.get("/piani/nuovo")
async def nuovo(request: Request, utente: Coordinatore) -> Response:
    return pagina(request, "piani/nuovo.html", titolo="Nuovo Piano di Zona", valori={})


@router.post("/piani/nuovo")
async def crea(request: Request, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    valori = {k: str(form.get(k, "")) for k in ("titolo", "anno_inizio", "anno_fine")}
    corpo = {"titolo": valori["titolo"], "anno_inizio": _intero(valori["anno_inizio"]),
             "anno_fine": _intero(valori["anno_fine"])}
    try:
        piano = (await servizi.chiama(utente, "planning", "POST", "/piani", json=corpo)).dati
    except Problema as exc:
        _modulo(exc)
        return pagina(request, "piani/nuovo.html", status_code=exc.status, titolo="Nuovo Piano di Zona",
                      valori=valori, errori=_errori(exc), problema=exc)
    return RedirectResponse(f"/piani/{piano['id']}?fatto=creato", status_code=303)


# -- a Piano ---------------------------------------------------------------------------------------------

async def _accordo(servizi: Servizi, utente: Utente, piano: dict) -> dict | None:
    if piano["stato"] not in ("approvato", "in_attuazione", "concluso"):
        return None
    try:
        return await servizi.leggi(utente, "planning", f"/piani/{piano['id']}/accordo")
    except Problema as exc:
        if exc.status != 404:
            raise
        return None


async def _pagina_piano(request: Request, servizi: Servizi, utente: Utente, piano_id: UUID, *,
                        status_code: int = 200, **extra: Any) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    accordo = await _accordo(servizi, utente, piano)
    comuni = {c["istat"]: c["nome"] for c in await _comuni(servizi, utente)}
    extra.setdefault("valori", {"tipo": "aggiornamento_annuale", "titolo": ""})
    numeri = [v["versione"] for v in piano["versioni"]]
    return pagina(request, "piani/piano.html", status_code=status_code, titolo=piano["titolo"], piano=piano,
                  accordo=accordo, nomi_comuni=comuni, fatto=_fatto(request),
                  da_predefinita=numeri[-2] if len(numeri) > 1 else None, a_predefinita=numeri[-1],
                  opzioni_versioni=[(v["versione"], f"Versione {v['versione']} – {v['titolo']}")
                                    for v in piano["versioni"]],
                  **_contesto_comune(), **extra)


@router.get("/piani/{piano_id}")
async def piano(request: Request, piano_id: UUID, servizi: ServiziDep, utente: Lettore) -> Response:
    return await _pagina_piano(request, servizi, utente, piano_id)


@router.post("/piani/{piano_id}/versioni")
async def apri_versione(request: Request, piano_id: UUID, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    valori = {k: str(form.get(k, "")) for k in ("tipo", "riferimento", "titolo")}
    corpo = {"tipo": valori["tipo"], "riferimento": _intero(valori["riferimento"]), "titolo": valori["titolo"]}
    try:
        versione = (await servizi.chiama(utente, "planning", "POST", f"/piani/{piano_id}/versioni", json=corpo)).dati
    except Problema as exc:
        _modulo(exc)
        return await _pagina_piano(request, servizi, utente, piano_id, status_code=exc.status, valori=valori,
                                   errori=_errori(exc), problema=exc)
    return RedirectResponse(f"/piani/{piano_id}/versioni/{versione['versione']}?fatto=aperta", status_code=303)


@router.post("/piani/{piano_id}/accordo")
async def predisponi_accordo(request: Request, piano_id: UUID, servizi: ServiziDep,
                             utente: Coordinatore) -> Response:
    try:
        await servizi.chiama(utente, "planning", "POST", f"/piani/{piano_id}/accordo", json={})
    except Problema as exc:
        _modulo(exc)
        return await _pagina_piano(request, servizi, utente, piano_id, status_code=exc.status, problema=exc)
    return RedirectResponse(f"/piani/{piano_id}?fatto=accordo", status_code=303)


@router.get("/piani/{piano_id}/differenze")
async def differenze(request: Request, piano_id: UUID, servizi: ServiziDep, utente: Lettore,
                     da: Annotated[int, Query(ge=1, le=1000)], a: Annotated[int, Query(ge=1, le=1000)]) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    try:
        diff = await servizi.leggi(utente, "planning", f"/piani/{piano_id}/differenze", da=da, a=a)
        problema = None
    except Problema as exc:
        _modulo(exc)
        diff, problema = None, exc
    fondi = await _fondi(servizi, utente)
    return pagina(request, "piani/differenze.html", status_code=problema.status if problema else 200,
                  titolo=f"Differenze tra le versioni {da} e {a}", piano=piano, diff=diff, da=da, a=a,
                  problema=problema, nomi_fondi=fondi, CAMPI_DIFFERENZA=CAMPI_DIFFERENZA, **_contesto_comune())


# -- a version: reading, editing, proposing --------------------------------------------------------------

def _versione_di(piano: dict, numero: int) -> dict | None:
    return next((v for v in piano["versioni"] if v["versione"] == numero), None)


async def _pagina_versione(request: Request, servizi: Servizi, utente: Utente, piano_id: UUID, numero: int, *,
                           status_code: int = 200, problema: Problema | None = None) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    versione = await servizi.leggi(utente, "planning", f"/piani/{piano_id}/versioni/{numero}")
    comuni = {c["istat"]: c["nome"] for c in await _comuni(servizi, utente)}
    proposte: list[dict] = []
    if versione["stato"] == "bozza" and utente.ruolo == "coordinatore":
        proposte = (await servizi.pagina(utente, "planning", "/proposte-tavoli", stato="ricevuta",
                                         limite=50))["elementi"]
    return pagina(request, "piani/versione.html", status_code=status_code,
                  titolo=f"{piano['titolo']} · versione {numero}", piano=piano, versione=versione,
                  nomi_comuni=comuni, nomi_fondi=await _fondi(servizi, utente),
                  anteprima=anteprima_totali(versione["aree"]), proposte=proposte, problema=problema,
                  fatto=_fatto(request), **_contesto_comune())


@router.get("/piani/{piano_id}/versioni/{numero}")
async def versione(request: Request, piano_id: UUID, numero: int, servizi: ServiziDep, utente: Lettore) -> Response:
    return await _pagina_versione(request, servizi, utente, piano_id, numero)


@router.post("/piani/{piano_id}/versioni/{numero}/proposta")
async def proponi(request: Request, piano_id: UUID, numero: int, servizi: ServiziDep,
                  utente: Coordinatore) -> Response:
    try:
        await servizi.chiama(utente, "planning", "POST", f"/piani/{piano_id}/versioni/{numero}/proposta")
    except Problema as exc:
        _modulo(exc)
        return await _pagina_versione(request, servizi, utente, piano_id, numero, status_code=exc.status,
                                      problema=exc)
    return RedirectResponse(f"/piani/{piano_id}?fatto=proposta", status_code=303)


async def _pagina_editor(request: Request, servizi: Servizi, utente: Utente, piano: dict, numero: int,
                         aree: list[dict], *, status_code: int = 200, errori: dict[str, str] | None = None,
                         problema: Problema | None = None, focus: str | None = None) -> Response:
    comuni = await _comuni(servizi, utente)
    return pagina(request, "piani/modifica.html", status_code=status_code,
                  titolo=f"Contenuto della versione {numero}", piano=piano, numero=numero, aree=aree,
                  comuni=comuni, fondi=await _fondi(servizi, utente),
                  anni=[(str(a), str(a)) for a in range(piano["anno_inizio"], piano["anno_fine"] + 1)], anteprima=anteprima_totali(aree),
                  errori=errori or {}, problema=problema, focus=focus, **_contesto_comune())


@router.get("/piani/{piano_id}/versioni/{numero}/modifica")
async def modifica(request: Request, piano_id: UUID, numero: int, servizi: ServiziDep,
                   utente: Coordinatore) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    versione = await servizi.leggi(utente, "planning", f"/piani/{piano_id}/versioni/{numero}")
    if versione["stato"] != "bozza":
        return RedirectResponse(f"/piani/{piano_id}/versioni/{numero}", status_code=303)
    return await _pagina_editor(request, servizi, utente, piano, numero, _per_modulo(versione["aree"]))


@router.post("/piani/{piano_id}/versioni/{numero}/modifica")
async def salva(request: Request, piano_id: UUID, numero: int, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    aree = _albero(form)
    azione = str(form.get("azione") or "salva")
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    if azione != "salva":
        aree = _applica(aree, azione, piano["anno_inizio"])
        return await _pagina_editor(request, servizi, utente, piano, numero, aree, focus=azione)
    try:
        await servizi.chiama(utente, "planning", "PUT", f"/piani/{piano_id}/versioni/{numero}/contenuto",
                             json=_contenuto(aree))
    except Problema as exc:
        _modulo(exc)
        return await _pagina_editor(request, servizi, utente, piano, numero, aree, status_code=exc.status,
                                    errori=_errori(exc), problema=exc)
    return RedirectResponse(f"/piani/{piano_id}/versioni/{numero}?fatto=salvata", status_code=303)


@router.post("/piani/{piano_id}/versioni/{numero}/anteprima")
async def anteprima(request: Request, piano_id: UUID, numero: int, servizi: ServiziDep,
                    utente: Coordinatore) -> Response:
    """The totals' preview while typing (HTMX): the editor's fields in, the table out."""
    aree = _albero(await request.form())
    return pagina(request, "piani/_anteprima.html", anteprima=anteprima_totali(aree),
                  nomi_fondi=await _fondi(servizi, utente), modificabile=True, piano_id=piano_id, numero=numero)


# -- a tavolo's proposal into a draft --------------------------------------------------------------------

async def _pagina_recepimento(request: Request, servizi: Servizi, utente: Utente, piano_id: UUID, numero: int,
                              proposta_id: UUID, *, status_code: int = 200, valori: dict | None = None,
                              errori: dict | None = None, problema: Problema | None = None) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    versione = await servizi.leggi(utente, "planning", f"/piani/{piano_id}/versioni/{numero}")
    proposta = await servizi.leggi(utente, "planning", f"/proposte-tavoli/{proposta_id}")
    comuni = {c["istat"]: c["nome"] for c in await _comuni(servizi, utente)}
    aree = [(a["codice"], f"{a['codice']} – {a['titolo']}") for a in versione["aree"]]
    obiettivi = [(o["codice"], f"{o['codice']} – {o['titolo']} (area {a['codice']})")
                 for a in versione["aree"] for o in a["obiettivi"]]
    return pagina(request, "piani/recepimento.html", status_code=status_code,
                  titolo="Recepire la proposta di un tavolo", piano=piano, versione=versione, proposta=proposta,
                  nomi_comuni=comuni, opzioni_aree=aree, opzioni_obiettivi=obiettivi, valori=valori or {},
                  errori=errori or {}, problema=problema, **_contesto_comune())


@router.get("/piani/{piano_id}/versioni/{numero}/proposte-tavoli/{proposta_id}")
async def recepimento(request: Request, piano_id: UUID, numero: int, proposta_id: UUID, servizi: ServiziDep,
                      utente: Coordinatore) -> Response:
    return await _pagina_recepimento(request, servizi, utente, piano_id, numero, proposta_id)


@router.post("/piani/{piano_id}/versioni/{numero}/proposte-tavoli/{proposta_id}")
async def recepisci(request: Request, piano_id: UUID, numero: int, proposta_id: UUID, servizi: ServiziDep,
                    utente: Coordinatore) -> Response:
    form = await request.form()
    valori = {k: str(form.get(k, "")) for k in ("area", "obiettivo")}
    try:
        await servizi.chiama(utente, "planning", "POST",
                             f"/piani/{piano_id}/versioni/{numero}/proposte-tavoli/{proposta_id}", json=valori)
    except Problema as exc:
        _modulo(exc)
        return await _pagina_recepimento(request, servizi, utente, piano_id, numero, proposta_id,
                                         status_code=exc.status, valori=valori, errori=_errori(exc), problema=exc)
    return RedirectResponse(f"/piani/{piano_id}/versioni/{numero}?fatto=recepita", status_code=303)
