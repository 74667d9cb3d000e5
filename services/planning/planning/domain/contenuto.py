"""The content of a plan version: the tree *area → obiettivo → intervento*, and its diff.

An intervento carries a nomenclature code, the Comuni it covers, the expected users and
its budget lines (fund × year × amount) that finance will allocate. It may also carry the
classification the funds' constraints are measured by (all optional: Piani written before
them keep loading and stay valid; finance reports their spending as "non classificata"):

- ``area_utenza``: its target area, one of ``AREE_UTENZA`` (the same names monitoring uses
  for the users of the services delivered);
- ``disabilita_gravissima``: whether it serves persons in condition of disabilità gravissima as
  DM 26 settembre 2016 (riparto FNA 2016), art. 3 defines it — the target of the FNA quota;
- ``servizio_qsfp``: which service of D.Lgs. 15 settembre 2017, n. 147, art. 7, comma 1, letters
  a–h it is (``SERVIZI_QSFP``) — the only services the Fondo Povertà quota servizi may pay;
- ``investimento``: whether it is an investment project (PNRR or otherwise), whose spending
  needs a CUP (L. 144/1999 art. 11; L. 3/2003 art. 11). Amounts travel as
decimal strings with at most two decimals ("125000.00"), never floats, and are read by the
kit's ``importo``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ambiti_kit.errors import RuleViolation
from ambiti_kit.values import importo

#: Funding sources a budget line may name (finance's catalogue uses the same codes).
FONDI = ("FNPS", "FNA", "QSFP", "DOPO_DI_NOI", "PNRR_M5C2", "REGIONALE", "FSE_PLUS", "COFINANZIAMENTO_COMUNALE")
#: FNPS macro-livelli 1–5 (accesso, domiciliarità, prima infanzia e servizi comunitari,
#: residenzialità, inclusione e sostegno al reddito).
MACRO_LIVELLI = ("1", "2", "3", "4", "5")
#: A code of the interregional service grid (nomenclatore): area letter and number, e.g. ``A1`` or ``D2.03``.
CODICE_NOMENCLATORE = re.compile(r"^[A-I]\d{1,2}(\.\d{1,2})?$")
CODICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
#: Target areas of an intervento: exactly the names monitoring uses (its ``AREE_TARGET``).
AREE_UTENZA = ("minori_famiglie", "disabilita", "anziani", "poverta", "dipendenze", "immigrazione",
               "salute_mentale", "multiutenza")
#: The services of D.Lgs. 147/2017, art. 7, comma 1, letters a–h (the interventi and services the
#: Fondo Povertà quota servizi finances), by letter.
SERVIZI_QSFP = {
    "a": "segretariato sociale, inclusi i servizi per l'informazione e l'accesso",
    "b": "servizio sociale professionale per la valutazione multidimensionale dei bisogni e la presa in carico",
    "c": "tirocini finalizzati all'inclusione sociale, all'autonomia delle persone e alla riabilitazione",
    "d": "sostegno socio-educativo domiciliare o territoriale, incluso il supporto nella gestione delle spese e "
         "del bilancio familiare",
    "e": "assistenza domiciliare socio-assistenziale e servizi di prossimità",
    "f": "sostegno alla genitorialità e servizio di mediazione familiare",
    "g": "servizio di mediazione culturale",
    "h": "servizio di pronto intervento sociale",
}
#: the classification fields of an intervento (optional), in the order they are shown
CLASSIFICAZIONE = ("area_utenza", "disabilita_gravissima", "servizio_qsfp", "investimento")


def verifica_contenuto(aree: list[dict], anno_inizio: int, anno_fine: int, comuni_ambito: set[str]) -> None:
    """Check the tree: unique codes, known nomenclature and funds, Comuni of the Ambito, years of the plan."""
    visti: dict[str, str] = {}

    def unico(codice: str, livello: str, field: str) -> None:
        if not CODICE.match(codice):
            raise RuleViolation(f"Codice non valido: {codice!r}.", rule="piano.codice", field=field)
        chiave = f"{livello}:{codice}"
        if chiave in visti:
            raise RuleViolation(f"Il codice {livello} {codice!r} è ripetuto.", rule="piano.codice_unico", field=field)
        visti[chiave] = field

    for i, area in enumerate(aree):
        unico(area["codice"], "area", f"aree.{i}.codice")
        for j, obiettivo in enumerate(area["obiettivi"]):
            unico(obiettivo["codice"], "obiettivo", f"aree.{i}.obiettivi.{j}.codice")
            for k, intervento in enumerate(obiettivo["interventi"]):
                _verifica_intervento(intervento, f"aree.{i}.obiettivi.{j}.interventi.{k}", unico,
                                     anno_inizio, anno_fine, comuni_ambito)


def _verifica_intervento(iv: dict, at: str, unico: Any, anno_inizio: int, anno_fine: int,
                         comuni_ambito: set[str]) -> None:
    unico(iv["codice"], "intervento", f"{at}.codice")
    nomenclatura = iv["nomenclatura"]
    if nomenclatura["sistema"] == "fnps_macrolivello":
        if nomenclatura["codice"] not in MACRO_LIVELLI:
            raise RuleViolation("Il macro-livello FNPS va da 1 a 5.", rule="intervento.macro_livello",
                                field=f"{at}.nomenclatura.codice")
    elif nomenclatura["sistema"] == "nomenclatore":
        if not CODICE_NOMENCLATORE.match(nomenclatura["codice"]):
            raise RuleViolation("Codice del nomenclatore non valido (es. A1, D2.03).",
                                rule="intervento.codice_nomenclatore", field=f"{at}.nomenclatura.codice")
    else:
        raise RuleViolation("Sistema di classificazione non ammesso: fnps_macrolivello o nomenclatore.",
                            rule="intervento.sistema_nomenclatura", field=f"{at}.nomenclatura.sistema")
    if not iv["comuni"]:
        raise RuleViolation("Un intervento copre almeno un Comune.", rule="intervento.comuni", field=f"{at}.comuni")
    fuori = sorted(set(iv["comuni"]) - comuni_ambito)
    if fuori:
        raise RuleViolation(f"Comuni non appartenenti all'Ambito: {', '.join(fuori)}.",
                            rule="intervento.comuni_ambito", field=f"{at}.comuni")
    if iv["utenti_attesi"] < 0:
        raise RuleViolation("Gli utenti attesi non sono negativi.", rule="intervento.utenti_attesi",
                            field=f"{at}.utenti_attesi")
    verifica_classificazione(iv, at)
    linee = set()
    for n, linea in enumerate(iv["linee_budget"]):
        field = f"{at}.linee_budget.{n}"
        if linea["fondo"] not in FONDI:
            raise RuleViolation(f"Fondo sconosciuto: {linea['fondo']!r}.", rule="budget.fondo_noto",
                                field=f"{field}.fondo")
        if not anno_inizio <= linea["anno"] <= anno_fine:
            raise RuleViolation(f"L'anno {linea['anno']} è fuori dal triennio {anno_inizio}–{anno_fine}.",
                                rule="budget.anno_del_piano", field=f"{field}.anno")
        importo(linea["importo"], f"{field}.importo")
        if (linea["fondo"], linea["anno"]) in linee:
            raise RuleViolation("Una sola linea per fondo e anno in ciascun intervento.",
                                rule="budget.linea_unica", field=field)
        linee.add((linea["fondo"], linea["anno"]))


def verifica_classificazione(iv: dict, at: str) -> None:
    """The optional classification of an intervento: a known target area, a service a–h of D.Lgs. 147/2017
    art. 7 c. 1, yes/no flags. Absent (or None) means not classified."""
    area = iv.get("area_utenza")
    if area is not None and area not in AREE_UTENZA:
        raise RuleViolation(f"Area di utenza sconosciuta: {area!r} (ammesse: {', '.join(AREE_UTENZA)}).",
                            rule="intervento.area_utenza", field=f"{at}.area_utenza")
    servizio = iv.get("servizio_qsfp")
    if servizio is not None and servizio not in SERVIZI_QSFP:
        raise RuleViolation(f"Servizio sconosciuto: {servizio!r}; i servizi del D.Lgs. 147/2017, art. 7, comma 1 "
                            "vanno dalla lettera a alla lettera h.", rule="intervento.servizio_qsfp",
                            field=f"{at}.servizio_qsfp")
    for campo in ("disabilita_gravissima", "investimento"):
        if iv.get(campo) is not None and not isinstance(iv[campo], bool):
            raise RuleViolation(f"Il campo {campo} è vero o falso.", rule=f"intervento.{campo}", field=f"{at}.{campo}")


def interventi(aree: list[dict]) -> dict[str, dict]:
    """The interventi of a tree by code, each with its area and obiettivo."""
    return {iv["codice"]: {**iv, "area": a["codice"], "obiettivo": o["codice"]}
            for a in aree for o in a["obiettivi"] for iv in o["interventi"]}


def totali_per_fondo(aree: list[dict]) -> dict[str, Decimal]:
    """Budget per ``FONDO/anno``."""
    totali: dict[str, Decimal] = {}
    for iv in interventi(aree).values():
        for linea in iv["linee_budget"]:
            chiave = f"{linea['fondo']}/{linea['anno']}"
            totali[chiave] = totali.get(chiave, Decimal(0)) + importo(linea["importo"], "linee_budget.importo")
    return totali


def differenze(prima: list[dict], dopo: list[dict]) -> dict[str, Any]:
    """What changed between two versions: interventi added, removed, changed (field by field), and budget."""
    a, b = interventi(prima), interventi(dopo)
    modificati = []
    for codice in sorted(a.keys() & b.keys()):
        campi = {}
        for campo in ("titolo", "area", "obiettivo", "nomenclatura", "utenti_attesi", *CLASSIFICAZIONE):
            if a[codice].get(campo) != b[codice].get(campo):
                campi[campo] = {"prima": a[codice].get(campo), "dopo": b[codice].get(campo)}
        if sorted(a[codice]["comuni"]) != sorted(b[codice]["comuni"]):
            campi["comuni"] = {"aggiunti": sorted(set(b[codice]["comuni"]) - set(a[codice]["comuni"])),
                               "tolti": sorted(set(a[codice]["comuni"]) - set(b[codice]["comuni"]))}
        la, lb = _linee(a[codice]), _linee(b[codice])
        if la != lb:
            campi["linee_budget"] = {k: {"prima": str(la.get(k, Decimal(0))), "dopo": str(lb.get(k, Decimal(0)))}
                                     for k in sorted(la.keys() | lb.keys()) if la.get(k) != lb.get(k)}
        if campi:
            modificati.append({"codice": codice, "campi": campi})
    ta, tb = totali_per_fondo(prima), totali_per_fondo(dopo)
    return {
        "aggiunti": [b[c] for c in sorted(b.keys() - a.keys())],
        "rimossi": [a[c] for c in sorted(a.keys() - b.keys())],
        "modificati": modificati,
        "budget": {k: {"prima": str(ta.get(k, Decimal(0))), "dopo": str(tb.get(k, Decimal(0))),
                       "differenza": str(tb.get(k, Decimal(0)) - ta.get(k, Decimal(0)))}
                   for k in sorted(ta.keys() | tb.keys()) if ta.get(k) != tb.get(k)},
    }


def _linee(iv: dict) -> dict[str, Decimal]:
    return {f"{l['fondo']}/{l['anno']}": importo(l["importo"], "linee_budget.importo") for l in iv["linee_budget"]}
