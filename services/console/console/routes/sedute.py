"""Pages of the console: the sedute of the Comitato Istituzionale and the Accordo di Programma.

The coordinator convenes a seduta with its ordine del giorno, records who is present (in person or
by proxy), opens it in 1st or 2nd call, opens and closes each vote; a mayor (``componente_comitato``)
votes for her Comune (and for a Comune that delegated her) from her phone. The part of a seduta's page
that changes while it sits (state, numero legale, the vote in progress, the outcomes) is a fragment
every page polls each second: it comes back only when the seduta's version moved (204 otherwise), so
everyone sees each vote within a couple of seconds without reloading. Planning decides every rule:
numero legale, who may vote, the outcome and its figures; the console sends what the person chose
and shows what comes back.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.dipendenze import ServiziDep, richiede
from console.formati import da_input_datetime
from console.identity import Utente
from console.pagine import pagina
from console.servizi import DEL_MODULO, Problema

router = APIRouter()

LETTORI = ("coordinatore", "amministrativo", "componente_comitato", "referente_asl", "revisore")
Lettore = Annotated[Utente, Depends(richiede(*LETTORI))]
Coordinatore = Annotated[Utente, Depends(richiede("coordinatore"))]
Votante = Annotated[Utente, Depends(richiede("componente_comitato", "coordinatore"))]
Firmatario = Annotated[Utente, Depends(richiede("componente_comitato", "referente_asl"))]

#: the problems a form shows beside its fields; 401/403/404/503 go to the app's handlers

STATI_SEDUTA = {"convocata": "Convocata", "aperta": "Aperta", "chiusa": "Chiusa"}
TONI_SEDUTA = {"convocata": "info", "aperta": "success", "chiusa": "secondary"}
VOTI = (("favorevole", "Favorevole"), ("contrario", "Contrario"), ("astenuto", "Astenuto"))
FAMIGLIE = {"per_testa": "un componente, un voto (maggioranza per teste)",
            "ponderata": "voto ponderato sulla popolazione dei Comuni",
            "doppia_maggioranza": "doppia maggioranza: dei componenti e della popolazione"}
BASI = {"presenti": "dei presenti", "votanti": "dei votanti"}
TIPI_DELIBERA = {
    "approvazione_piano": "Approvazione del Piano Sociale di Zona",
    "approvazione_aggiornamento": "Approvazione dell'aggiornamento del Piano",
    "approvazione_bilancio": "Approvazione del bilancio dell'Ambito",
    "criteri_riparto_costi": "Criteri di ripartizione dei costi tra i Comuni",
    "nomina_coordinatore": "Nomina del coordinatore dell'Ufficio di Piano",
    "rettifica": "Rettifica di una deliberazione",
}
STATI_PIANO = {"bozza": "In bozza", "proposto": "Proposto", "approvato": "Approvato",
               "in_attuazione": "In attuazione", "concluso": "Concluso"}
ASL = "ASL"


def _soglia(s: dict[str, Any] | None) -> str:
    if not s:
        return "—"
    return f"{'più di' if s.get('stretta') else 'almeno'} {s.get('frazione')}"


def _regola_in_parole(regola: dict[str, Any]) -> dict[str, str]:
    """The seduta's rule as the service stored it, in words (nothing is computed here)."""
    return {"famiglia": FAMIGLIE.get(regola.get("famiglia"), regola.get("famiglia", "—")),
            "base": BASI.get(regola.get("base"), regola.get("base", "—")),
            "maggioranza": _soglia(regola.get("maggioranza")),
            "consultivi": "sì" if regola.get("consultivi_contano") else "no"}


def _riga_campo(errori: dict[str, str]) -> dict[str, str]:
    """``ordine_del_giorno.0`` → ``ordine_del_giorno``: the agenda is one group of checkboxes."""
    return {("ordine_del_giorno" if k.startswith("ordine_del_giorno") else k): v for k, v in errori.items()}


def _hx(request: Request) -> bool:
    return bool(request.headers.get("HX-Request"))


# -- the list ----------------------------------------------------------------------------------------

@router.get("/sedute")
async def elenco(request: Request, servizi: ServiziDep, utente: Lettore, stato: str = "", dal: str = "",
                 al: str = "", dopo: str = "") -> Response:
    filtri = {"stato": stato, "dal": dal, "al": al}
    risultato, errori, problema = await servizi.pagina_filtrata(utente, "planning", "/sedute", limite=20,
                                                                dopo=dopo or None, **filtri)
    accordi = []
    for stato_piano in ("approvato", "in_attuazione"):
        accordi += (await servizi.pagina(utente, "planning", "/piani", stato=stato_piano, limite=20))["elementi"]
    query = "&".join(f"{k}={v}" for k, v in filtri.items() if v)
    return pagina(request, "sedute/elenco.html", status_code=422 if problema else 200,
                  titolo="Comitato e sedute", sedute=risultato["elementi"], successivo=risultato.get("successivo"),
                  url_altri="/sedute" + (f"?{query}" if query else ""), filtri=filtri, errori=errori,
                  problema=problema, STATI=STATI_SEDUTA, TONI=TONI_SEDUTA, piani=accordi, STATI_PIANO=STATI_PIANO)


# -- convening -----------------------------------------------------------------------------------------

async def _modulo_convocazione(request: Request, servizi: ServiziDep, utente: Utente, valori: dict[str, Any],
                               errori: dict[str, str] | None = None, problema: Problema | None = None,
                               status_code: int = 200) -> Response:
    proposte = await servizi.tutti(utente, "planning", "/deliberazioni", stato="proposta")
    return pagina(request, "sedute/nuova.html", status_code=status_code, titolo="Convoca una seduta",
                  proposte=proposte, valori=valori, errori=errori or {}, problema=problema, TIPI=TIPI_DELIBERA)


@router.get("/sedute/nuova")
async def nuova(request: Request, servizi: ServiziDep, utente: Coordinatore) -> Response:
    return await _modulo_convocazione(request, servizi, utente, {"ordine_del_giorno": []})


@router.post("/sedute/nuova")
async def convoca(request: Request, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    valori = {"oggetto": str(form.get("oggetto", "")), "luogo": str(form.get("luogo", "")),
              "prima_convocazione": str(form.get("prima_convocazione", "")),
              "seconda_convocazione": str(form.get("seconda_convocazione", "")),
              "ordine_del_giorno": [str(v) for v in form.getlist("ordine_del_giorno")]}
    corpo = {"oggetto": valori["oggetto"], "luogo": valori["luogo"],
             "prima_convocazione": da_input_datetime(valori["prima_convocazione"]),
             "seconda_convocazione": da_input_datetime(valori["seconda_convocazione"]),
             "ordine_del_giorno": valori["ordine_del_giorno"]}
    try:
        seduta = (await servizi.chiama(utente, "planning", "POST", "/sedute", json=corpo)).dati
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _modulo_convocazione(request, servizi, utente, valori, _riga_campo(exc.per_campo()), exc,
                                          status_code=exc.status if exc.status != 400 else 422)
    return RedirectResponse(f"/sedute/{seduta['id']}", status_code=303)


# -- the accordo di programma (before /sedute/{id}) -----------------------------------------------------

async def _pagina_accordo(request: Request, servizi: ServiziDep, utente: Utente, piano_id: uuid.UUID,
                          problema: Problema | None = None, status_code: int = 200) -> Response:
    piano = await servizi.leggi(utente, "planning", f"/piani/{piano_id}")
    try:
        accordo = await servizi.leggi(utente, "planning", f"/piani/{piano_id}/accordo")
    except Problema as exc:
        if exc.status != 404:
            raise
        accordo = None
    nomi = {ASL: "ASL (Azienda Sanitaria Locale)"}
    try:
        comitato = await servizi.leggi(utente, "planning", "/comitato")
        nomi.update({c["id"]: (f"Comune di {c['nome']}" if not c["consultivo"] else c["nome"])
                     for c in comitato["componenti"]})
    except Problema as exc:
        if exc.status != 404:
            raise
    mio = ASL if utente.ruolo == "referente_asl" else utente.comune if utente.ruolo == "componente_comitato" else None
    return pagina(request, "sedute/accordo.html", status_code=status_code,
                  titolo=f"Accordo di Programma · {piano['titolo']}", piano=piano, accordo=accordo, nomi=nomi,
                  mio=mio, problema=problema, STATI_PIANO=STATI_PIANO)


@router.get("/sedute/accordi/{piano_id}")
async def accordo(request: Request, piano_id: uuid.UUID, servizi: ServiziDep, utente: Lettore) -> Response:
    return await _pagina_accordo(request, servizi, utente, piano_id)


@router.post("/sedute/accordi/{piano_id}")
async def predisponi_accordo(request: Request, piano_id: uuid.UUID, servizi: ServiziDep,
                             utente: Coordinatore) -> Response:
    try:
        await servizi.chiama(utente, "planning", "POST", f"/piani/{piano_id}/accordo", json={})
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _pagina_accordo(request, servizi, utente, piano_id, exc, exc.status)
    return RedirectResponse(f"/sedute/accordi/{piano_id}", status_code=303)


@router.post("/sedute/accordi/{piano_id}/firma")
async def firma_accordo(request: Request, piano_id: uuid.UUID, servizi: ServiziDep, utente: Firmatario) -> Response:
    try:
        await servizi.chiama(utente, "planning", "POST", f"/piani/{piano_id}/accordo/firme")
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _pagina_accordo(request, servizi, utente, piano_id, exc, exc.status)
    return RedirectResponse(f"/sedute/accordi/{piano_id}?firmato=1", status_code=303)


# -- a seduta ---------------------------------------------------------------------------------------------

async def _contesto(servizi: ServiziDep, utente: Utente, seduta_id: uuid.UUID) -> dict[str, Any]:
    """What a seduta's page shows: the seduta as planning reads it, and its agenda's proposals."""
    seduta = await servizi.leggi(utente, "planning", f"/sedute/{seduta_id}")
    proposte = await asyncio.gather(*(servizi.leggi(utente, "planning", f"/deliberazioni/{p}")
                                      for p in seduta["ordine_del_giorno"]))
    componenti = {c["id"]: c for c in seduta["componenti"]}
    presenze = seduta["presenze"]
    aperta = seduta.get("votazione_aperta")
    voti = seduta["voti"].get(aperta, {}) if aperta else {}
    # The vote forms this person is offered: her own Comune, and a Comune that delegated its vote to
    # her; the coordinator (as secretary) those of advisory members when the rule lets them vote.
    # Planning decides anyway: a forced vote for anyone else is refused by it.
    da_votare: list[dict[str, Any]] = []
    if aperta and seduta["stato"] == "aperta":
        if utente.ruolo == "componente_comitato" and utente.comune:
            if utente.comune in componenti:
                da_votare.append({"componente": componenti[utente.comune], "per_delega": False,
                                  "presenza": presenze.get(utente.comune)})
            for membro, p in presenze.items():
                if p.get("presente") and p.get("delega_a") == utente.comune and membro in componenti:
                    da_votare.append({"componente": componenti[membro], "per_delega": True, "presenza": p})
        elif utente.ruolo == "coordinatore" and seduta["regola"].get("consultivi_contano"):
            for c in seduta["componenti"]:
                if c["consultivo"] and presenze.get(c["id"], {}).get("presente"):
                    da_votare.append({"componente": c, "per_delega": False, "presenza": presenze[c["id"]]})
    conteggio = {v: sum(1 for x in voti.values() if x["voto"] == v) for v, _ in VOTI}
    return {"seduta": seduta, "proposte": {p["id"]: p for p in proposte}, "componenti": componenti,
            "presenze": presenze, "voti_aperti": voti, "conteggio": conteggio, "da_votare": da_votare,
            "proposta_aperta": next((p for p in proposte if p["id"] == aperta), None),
            "regola": _regola_in_parole(seduta["regola"]), "STATI": STATI_SEDUTA, "TONI": TONI_SEDUTA,
            "VOTI": VOTI, "NOMI_VOTI": dict(VOTI), "TIPI": TIPI_DELIBERA}


async def _pagina_seduta(request: Request, servizi: ServiziDep, utente: Utente, seduta_id: uuid.UUID, *,
                         frammento: str | None = None, problema: Problema | None = None,
                         errori: dict[str, str] | None = None, status_code: int = 200,
                         valori: dict[str, Any] | None = None) -> Response:
    ctx = await _contesto(servizi, utente, seduta_id)
    if frammento and _hx(request):
        status_code = 200  # HTMX swaps only a 2xx answer: the fragment carries the problem itself
    return pagina(request, "sedute/seduta.html", status_code=status_code, frammento=frammento,
                  titolo=ctx["seduta"]["oggetto"], problema=problema, errori=errori or {}, valori=valori or {},
                  **ctx)


@router.get("/sedute/{seduta_id}")
async def seduta(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep, utente: Lettore) -> Response:
    return await _pagina_seduta(request, servizi, utente, seduta_id)


@router.get("/sedute/{seduta_id}/diretta")
async def diretta(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep, utente: Lettore,
                  versione: int | None = None) -> Response:
    """The live part of the page, polled every second: 204 (nothing to swap) while the seduta is unchanged."""
    if not _hx(request):
        return RedirectResponse(f"/sedute/{seduta_id}", status_code=303)
    if versione is not None:
        attuale = await servizi.leggi(utente, "planning", f"/sedute/{seduta_id}")
        if attuale["versione"] == versione:
            return Response(status_code=204)
    return await _pagina_seduta(request, servizi, utente, seduta_id, frammento="diretta")


async def _azione(request: Request, servizi: ServiziDep, utente: Utente, seduta_id: uuid.UUID, path: str,
                  corpo: dict[str, Any] | None, *, frammento: str | None = None, ancora: str = "") -> Response:
    """POST to planning; then back to the page (303), or the fragment for HTMX; a refusal shown on it."""
    try:
        await servizi.chiama(utente, "planning", "POST", f"/sedute/{seduta_id}{path}", json=corpo)
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _pagina_seduta(request, servizi, utente, seduta_id, frammento=frammento, problema=exc,
                                    errori=exc.per_campo(), status_code=exc.status if exc.status != 400 else 422)
    if frammento and _hx(request):
        return await _pagina_seduta(request, servizi, utente, seduta_id, frammento=frammento)
    return RedirectResponse(f"/sedute/{seduta_id}{ancora}", status_code=303)


@router.post("/sedute/{seduta_id}/presenze/{componente}")
async def presenza(request: Request, seduta_id: uuid.UUID, componente: str, servizi: ServiziDep,
                   utente: Coordinatore) -> Response:
    form = await request.form()
    scelta = str(form.get("presente", ""))
    corpo: dict[str, Any] = {"presente": scelta == "si" if scelta in ("si", "no") else scelta,
                             "rappresentante": str(form.get("rappresentante", "")).strip() or None,
                             "delega_a": str(form.get("delega_a", "")).strip() or None}
    try:
        await servizi.chiama(utente, "planning", "PUT", f"/sedute/{seduta_id}/presenze/{componente}", json=corpo)
    except Problema as exc:
        if exc.status not in DEL_MODULO:
            raise
        return await _pagina_seduta(request, servizi, utente, seduta_id, frammento="presenze", problema=exc,
                                    errori={f"{componente}.{k}": v for k, v in exc.per_campo().items()},
                                    status_code=exc.status if exc.status != 400 else 422,
                                    valori={"componente": componente, **corpo})
    if _hx(request):
        return await _pagina_seduta(request, servizi, utente, seduta_id, frammento="presenze")
    return RedirectResponse(f"/sedute/{seduta_id}#presenze", status_code=303)


@router.post("/sedute/{seduta_id}/apertura")
async def apertura(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep, utente: Coordinatore) -> Response:
    form = await request.form()
    convocazione = str(form.get("convocazione", ""))
    return await _azione(request, servizi, utente, seduta_id, "/apertura",
                         {"convocazione": int(convocazione) if convocazione.isdigit() else convocazione})


@router.post("/sedute/{seduta_id}/deserta")
async def deserta(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep, utente: Coordinatore) -> Response:
    return await _azione(request, servizi, utente, seduta_id, "/deserta", None)


@router.post("/sedute/{seduta_id}/votazioni")
async def apri_votazione(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep,
                         utente: Coordinatore) -> Response:
    form = await request.form()
    return await _azione(request, servizi, utente, seduta_id, "/votazioni",
                         {"proposta_id": str(form.get("proposta_id", ""))}, ancora="#votazione")


@router.post("/sedute/{seduta_id}/votazioni/{proposta_id}/voti")
async def vota(request: Request, seduta_id: uuid.UUID, proposta_id: uuid.UUID, servizi: ServiziDep,
               utente: Votante) -> Response:
    form = await request.form()
    corpo = {"componente": str(form.get("componente", "")), "voto": str(form.get("voto", ""))}
    return await _azione(request, servizi, utente, seduta_id, f"/votazioni/{proposta_id}/voti", corpo,
                         frammento="diretta", ancora="#votazione")


@router.post("/sedute/{seduta_id}/votazioni/{proposta_id}/chiusura")
async def chiudi_votazione(request: Request, seduta_id: uuid.UUID, proposta_id: uuid.UUID, servizi: ServiziDep,
                           utente: Coordinatore) -> Response:
    return await _azione(request, servizi, utente, seduta_id, f"/votazioni/{proposta_id}/chiusura", None,
                         ancora=f"#esito-{proposta_id}")


@router.post("/sedute/{seduta_id}/chiusura")
async def chiudi(request: Request, seduta_id: uuid.UUID, servizi: ServiziDep, utente: Coordinatore) -> Response:
    return await _azione(request, servizi, utente, seduta_id, "/chiusura", None)
