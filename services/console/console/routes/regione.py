"""Pages of the console: the Region's officer (journey 6).

Everything shown comes from monitoring's regional read model (``/regione/piani``,
``/regione/deliberazioni``, ``/regione/indicatori`` and, for one Ambito, ``/regione/esecuzione``):
a page makes a fixed number of calls (concurrently), whatever the number of Ambiti. The service
offers no sorting, filtering or CSV of these views: the console sorts and filters the rows the
service returned (presentation only: it never computes an indicator or a rate) and writes the
CSV of the same rows with the kit's formula neutralisation.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ambiti_kit.auth import TENANT_PATTERN
from ambiti_kit.exports import csv_row

from console.dipendenze import ServiziDep, richiede
from console.identity import Utente
from console.pagine import pagina
from console.servizi import Problema

router = APIRouter()

Regione = Annotated[Utente, Depends(richiede("regione"))]

#: the Piano states, in the order of their life
STATI = ("bozza", "proposto", "approvato", "in_attuazione", "concluso")
NOMI_STATI = {"bozza": "bozza", "proposto": "proposto", "approvato": "approvato", "in_attuazione": "in attuazione",
              "concluso": "concluso"}
#: rows of the table per page (the CSV holds them all)
PER_PAGINA = 50
#: at most this many Ambiti in the chart (the current page of the table, in its order)
NEL_GRAFICO = 50

def _decimale(valore: Any) -> Decimal | None:
    if valore is None or valore == "":
        return None
    try:
        return Decimal(str(valore))
    except InvalidOperation:
        return None


#: sortable columns: key -> (label, how a row sorts on it)
COLONNE: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "ambito": ("Ambito", lambda r: r["ambito"]),
    "nome": ("Nome", lambda r: (r["nome"] or "").casefold() or None),
    "residenti": ("Residenti", lambda r: r["residenti"]),
    "piano": ("Stato dei Piani", lambda r: r["stato_ordine"]),
    "deliberazioni": ("Deliberazioni approvate", lambda r: r["approvate"]),
    "tasso_impegno": ("Tasso di impegno", lambda r: _decimale(r["tasso_impegno"])),
    "tasso_pagamento": ("Tasso di pagamento", lambda r: _decimale(r["tasso_pagamento"])),
    "spesa": ("Spesa pro capite (pagato)", lambda r: _decimale(r["spesa_pro_capite_pagato"])),
    "utenti": ("Utenti per 1.000 residenti", lambda r: _decimale(r["utenti_per_mille"])),
    "leps": ("Residenti per assistente sociale", lambda r: _decimale(r["residenti_per_assistente"])),
    "aggiornato": ("Dati aggiornati al", lambda r: r["aggiornato_al"]),
}
FILTRI_LEPS = {"si": "Soglia LEPS 1:6.500 raggiunta", "no": "Soglia LEPS 1:6.500 non raggiunta"}
OPZIONI_STATO = [("nessuno", "Nessun Piano"), *((s, f"Con un Piano {NOMI_STATI[s]}") for s in STATI)]


def _quando(valore: Any) -> datetime | None:
    if not valore:
        return None
    try:
        return datetime.fromisoformat(str(valore).replace("Z", "+00:00"))
    except ValueError:
        return None


async def _viste(servizi: ServiziDep, utente: Utente, anno: int | None, *, esecuzione: bool = False
                 ) -> list[dict[str, Any]]:
    """The regional views, read at once (one call each, whatever the number of Ambiti)."""
    chiamate = [servizi.leggi(utente, "monitoring", "/regione/piani"),
                servizi.leggi(utente, "monitoring", "/regione/deliberazioni"),
                servizi.leggi(utente, "monitoring", "/regione/indicatori", anno=anno)]
    if esecuzione:
        chiamate.append(servizi.leggi(utente, "monitoring", "/regione/esecuzione", annualita=anno))
    return list(await asyncio.gather(*chiamate))


def righe_regionali(piani: dict[str, Any], deliberazioni: dict[str, Any],
                    indicatori: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per Ambito of the Region, side by side as the three views give them (nothing computed:
    the freshness shown is the newest of the times the views report for the Ambito)."""
    per_piani = {a["ambito"]: a for a in piani.get("ambiti", [])}
    per_delibere = {a["ambito"]: a for a in deliberazioni.get("ambiti", [])}
    per_indicatori = {a["ambito"]: a for a in indicatori.get("ambiti", [])}
    righe = []
    for codice in sorted(per_piani.keys() | per_delibere.keys() | per_indicatori.keys()):
        p, d, i = per_piani.get(codice) or {}, per_delibere.get(codice) or {}, per_indicatori.get(codice) or {}
        stati = p.get("stati") or {}
        presenti = [(s, stati.get(s, 0)) for s in STATI if stati.get(s)]
        leps = i.get("leps") or {}
        tempi = [t for t in (_quando(x.get("ultimo_evento")) for x in (p, d, i)) if t is not None]
        righe.append({
            "ambito": codice,
            "nome": p.get("nome") or d.get("nome") or i.get("nome"),
            "residenti": i.get("residenti") if i.get("residenti") is not None else p.get("popolazione"),
            "comuni": i.get("comuni"),
            "piani": p.get("piani", 0),
            "stati": presenti,
            # the most advanced state of the Ambito's Piani, to sort the column by (none first)
            "stato_ordine": max((STATI.index(s) for s, _ in presenti), default=-1),
            "proposte": d.get("proposte", 0), "approvate": d.get("approvate", 0), "respinte": d.get("respinte", 0),
            "tasso_impegno": i.get("tasso_impegno"), "tasso_pagamento": i.get("tasso_pagamento"),
            "spesa_pro_capite_pagato": i.get("spesa_pro_capite_pagato"),
            "spesa_pro_capite_impegnato": i.get("spesa_pro_capite_impegnato"),
            "utenti": i.get("utenti"), "utenti_per_mille": i.get("utenti_per_mille"),
            "fte_assistenti_sociali": leps.get("fte_assistenti_sociali"),
            "residenti_per_assistente": leps.get("residenti_per_assistente"),
            "soglia_leps": leps.get("soglia_1_6500_raggiunta") if leps else None,
            "obiettivo_leps": leps.get("obiettivo_1_5000_raggiunto") if leps else None,
            "aggiornato_al": max(tempi) if tempi else None,
        })
    return righe


def filtra(righe: list[dict[str, Any]], cerca: str, stato: str, leps: str) -> list[dict[str, Any]]:
    testo = cerca.strip().casefold()
    if testo:
        righe = [r for r in righe if testo in r["ambito"].casefold() or testo in (r["nome"] or "").casefold()]
    if stato == "nessuno":
        righe = [r for r in righe if not r["stati"]]
    elif stato in STATI:
        righe = [r for r in righe if any(s == stato for s, _ in r["stati"])]
    if leps in ("si", "no"):
        righe = [r for r in righe if r["soglia_leps"] is (leps == "si")]
    return righe


def ordina(righe: list[dict[str, Any]], colonna: str, verso: str) -> list[dict[str, Any]]:
    """Sorted on ``colonna``; rows without a value always last, then by code."""
    chiave = COLONNE[colonna][1]
    con = [r for r in righe if chiave(r) is not None]
    senza = [r for r in righe if chiave(r) is None]
    con.sort(key=lambda r: r["ambito"])
    con.sort(key=chiave, reverse=verso == "disc")
    return con + senza


class Parametri:
    """The table's query: sort, filters, page (all in the URL, so a view can be bookmarked or shared)."""

    def __init__(self, ordina: str = "ambito", verso: str = "asc", cerca: str = "", stato: str = "",
                 leps: str = "", anno: int | None = None, pagina: int = 1):
        self.ordina = ordina if ordina in COLONNE else "ambito"
        self.verso = verso if verso in ("asc", "disc") else "asc"
        self.cerca = cerca[:100]
        self.stato = stato if stato in STATI or stato == "nessuno" else ""
        self.leps = leps if leps in FILTRI_LEPS else ""
        self.anno = anno
        self.pagina = max(1, pagina)

    def valori(self, **cambi: Any) -> dict[str, Any]:
        valori = {"ordina": self.ordina, "verso": self.verso, "cerca": self.cerca, "stato": self.stato,
                  "leps": self.leps, "anno": self.anno, "pagina": self.pagina, **cambi}
        return {k: v for k, v in valori.items() if v not in (None, "") and not (k == "pagina" and v == 1)}

    def url(self, base: str = "/regione", **cambi: Any) -> str:
        valori = self.valori(**cambi)
        return base + ("?" + urlencode(valori) if valori else "")


def _anno(anno: str) -> int | None:
    """The year of the filter form: empty means all years; anything but a year in 2000..2100 is ignored."""
    anno = anno.strip()
    return int(anno) if anno.isdigit() and 2000 <= int(anno) <= 2100 else None


def parametri(ordina: str = "ambito", verso: str = "asc", cerca: str = "", stato: str = "", leps: str = "",
              anno: Annotated[str, Query(max_length=10)] = "",
              pagina: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Parametri:
    return Parametri(ordina, verso, cerca, stato, leps, _anno(anno), pagina)


ParametriDep = Annotated[Parametri, Depends(parametri)]


def _grafico(righe: list[dict[str, Any]]) -> str:
    """The Chart.js configuration of the execution rates of ``righe`` (percentages of the service's ratios)."""
    def perc(valore: Any) -> float | None:
        d = _decimale(valore)
        return None if d is None else float(round(d * 100, 2))

    config = {
        "type": "bar",
        "data": {"labels": [r["ambito"] for r in righe],
                 "datasets": [{"label": "Tasso di impegno (%)", "data": [perc(r["tasso_impegno"]) for r in righe],
                               "backgroundColor": "#0066cc", "maxBarThickness": 48},
                              {"label": "Tasso di pagamento (%)", "data": [perc(r["tasso_pagamento"]) for r in righe],
                               "backgroundColor": "#008055", "maxBarThickness": 48}]},
        "options": {"responsive": True, "maintainAspectRatio": False, "animation": False,
                    "scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": "%"}}},
                    "plugins": {"legend": {"position": "bottom"}}},
    }
    return json.dumps(config, separators=(",", ":"))


@router.get("/regione")
async def regione(request: Request, utente: Regione, servizi: ServiziDep, q: ParametriDep) -> Response:
    piani, delibere, indicatori = await _viste(servizi, utente, q.anno)
    tutte = righe_regionali(piani, delibere, indicatori)
    righe = ordina(filtra(tutte, q.cerca, q.stato, q.leps), q.ordina, q.verso)
    pagine = max(1, -(-len(righe) // PER_PAGINA))
    q.pagina = min(q.pagina, pagine)
    visibili = righe[(q.pagina - 1) * PER_PAGINA: q.pagina * PER_PAGINA]
    aggiornati = [t for t in (_quando(v.get("aggiornato_al")) for v in (piani, delibere, indicatori)) if t]
    return pagina(request, "regione/elenco.html", frammento="risultati", titolo=f"Ambiti della Regione {utente.regione}",
                  righe=visibili, totale=len(tutte), trovati=len(righe), pagine=pagine, q=q, colonne=COLONNE,
                  nomi_stati=NOMI_STATI, opzioni_stato=OPZIONI_STATO, opzioni_leps=list(FILTRI_LEPS.items()),
                  grafico=_grafico(visibili[:NEL_GRAFICO]), nel_grafico=min(len(visibili), NEL_GRAFICO),
                  aggiornato_al=max(aggiornati) if aggiornati else None)


INTESTAZIONE_CSV = ["ambito", "nome", "residenti", "comuni", "piani", "piani_bozza", "piani_proposti",
                    "piani_approvati", "piani_in_attuazione", "piani_conclusi", "deliberazioni_proposte",
                    "deliberazioni_approvate", "deliberazioni_respinte", "tasso_impegno", "tasso_pagamento",
                    "spesa_pro_capite_pagato", "spesa_pro_capite_impegnato", "utenti", "utenti_per_mille",
                    "fte_assistenti_sociali", "residenti_per_assistente", "soglia_leps_1_6500_raggiunta",
                    "obiettivo_leps_1_5000_raggiunto", "aggiornato_al"]


def _si_no(valore: bool | None) -> str:
    return "" if valore is None else ("si" if valore else "no")


@router.get("/regione/ambiti.csv")
async def regione_csv(utente: Regione, servizi: ServiziDep, q: ParametriDep) -> Response:
    """The table's rows (every page, same filters and order) as CSV, with the values as the service gave them."""
    piani, delibere, indicatori = await _viste(servizi, utente, q.anno)
    righe = ordina(filtra(righe_regionali(piani, delibere, indicatori), q.cerca, q.stato, q.leps),
                   q.ordina, q.verso)
    out = io.StringIO()
    scrittore = csv.writer(out, lineterminator="\n")
    scrittore.writerow(INTESTAZIONE_CSV)
    for r in righe:
        stati = dict(r["stati"])
        scrittore.writerow(csv_row([
            r["ambito"], r["nome"], r["residenti"], r["comuni"], r["piani"], *(stati.get(s, 0) for s in STATI),
            r["proposte"], r["approvate"], r["respinte"], r["tasso_impegno"], r["tasso_pagamento"],
            r["spesa_pro_capite_pagato"], r["spesa_pro_capite_impegnato"], r["utenti"], r["utenti_per_mille"],
            r["fte_assistenti_sociali"], r["residenti_per_assistente"], _si_no(r["soglia_leps"]),
            _si_no(r["obiettivo_leps"]), r["aggiornato_al"].isoformat() if r["aggiornato_al"] else None]))
    nome = f"ambiti-regione-{utente.regione}" + (f"-{q.anno}" if q.anno else "") + ".csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{nome}"'})


@router.get("/regione/ambiti/{tenant}")
async def ambito(request: Request, tenant: str, utente: Regione, servizi: ServiziDep,
                 anno: Annotated[str, Query(max_length=10)] = "") -> Response:
    """One Ambito of the Region, from the same regional views (the Region never reads an Ambito's records)."""
    match = TENANT_PATTERN.fullmatch(tenant)
    if match is None or match["regione"] != utente.regione:
        raise Problema(404, "Non trovato", "Ambito non trovato tra quelli della Regione.")
    annualita = _anno(anno)
    piani, delibere, indicatori, esecuzione = await _viste(servizi, utente, annualita, esecuzione=True)

    def di(vista: dict[str, Any]) -> dict[str, Any] | None:
        return next((a for a in vista.get("ambiti", []) if a["ambito"] == tenant), None)

    viste = {"piani": di(piani), "deliberazioni": di(delibere), "indicatori": di(indicatori),
             "esecuzione": di(esecuzione)}
    if not any(viste.values()):
        raise Problema(404, "Non trovato", "Ambito non trovato tra quelli della Regione.")
    [riga] = righe_regionali({"ambiti": [viste["piani"]] if viste["piani"] else []},
                             {"ambiti": [viste["deliberazioni"]] if viste["deliberazioni"] else []},
                             {"ambiti": [viste["indicatori"]] if viste["indicatori"] else []})
    fondi = (viste["esecuzione"] or {}).get("fondi", [])
    grafico = None
    if fondi:
        def perc(valore: Any) -> float | None:
            d = _decimale(valore)
            return None if d is None else float(round(d * 100, 2))
        grafico = json.dumps({
            "type": "bar",
            "data": {"labels": [f["fondo"] for f in fondi],
                     "datasets": [{"label": "Tasso di impegno (%)", "data": [perc(f["tasso_impegno"]) for f in fondi],
                                   "backgroundColor": "#0066cc", "maxBarThickness": 48},
                                  {"label": "Tasso di pagamento (%)",
                                   "data": [perc(f["tasso_pagamento"]) for f in fondi], "backgroundColor": "#008055", "maxBarThickness": 48}]},
            "options": {"responsive": True, "maintainAspectRatio": False, "animation": False,
                        "scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": "%"}}},
                        "plugins": {"legend": {"position": "bottom"}}}}, separators=(",", ":"))
    return pagina(request, "regione/ambito.html", titolo=f"Ambito {tenant}", tenant=tenant, riga=riga, viste=viste,
                  fondi=fondi, grafico=grafico, anno=annualita, nomi_stati=NOMI_STATI)
