"""Values shared by partnership's aggregates: acts, classifications, areas, and the guard on free text.

Amounts, an organisation's codice fiscale, CIG and ISTAT codes are the kit's
(``ambiti_kit.values``). Free texts (minutes, reasons, summaries) are refused when they carry
a person's codice fiscale: no personal data enters this service, only organisations' 11-digit codes.
"""

from __future__ import annotations

import re
from datetime import date

from ambiti_kit.errors import RuleViolation

#: acts that carry a step of a procedure, an accreditation or an award
TIPI_ATTO = ("determina", "deliberazione", "decreto", "avviso", "protocollo", "verbale", "convenzione")
#: thematic areas of tavoli, members and proposals (the usual areas of a Piano di Zona)
AREE_TEMATICHE = ("famiglia_minori", "anziani", "disabilita", "poverta_inclusione", "salute_mentale",
                  "dipendenze", "immigrazione", "giovani", "violenza_di_genere", "non_autosufficienza",
                  "lavoro", "trasversale")
SISTEMI_NOMENCLATURA = ("fnps_macrolivello", "nomenclatore")
MACRO_LIVELLI = ("1", "2", "3", "4", "5")
CODICE_NOMENCLATORE = re.compile(r"^[A-I]\d{1,2}(\.\d{1,2})?$")
#: an intervento's code in the Piano (the same pattern planning uses)
CODICE_INTERVENTO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
#: a person's codice fiscale (16 characters, omocodia letters allowed in the digit places)
CODICE_FISCALE_PERSONA = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                                    r"[0-9LMNPQRSTUV]{3}[A-Z]", re.IGNORECASE)


def verifica_testo_libero(testo: str, field: str) -> str:
    """Free text must not carry a person's codice fiscale."""
    if CODICE_FISCALE_PERSONA.search(testo or ""):
        raise RuleViolation("Il testo contiene un codice fiscale di persona: nessun dato personale è ammesso.",
                            rule="dati_personali.codice_fiscale", field=field)
    return testo


def verifica_atto(atto: dict, field: str = "atto") -> dict:
    """An act: its type, number and date (e.g. determina 145 of 2026-03-02)."""
    if atto.get("tipo") not in TIPI_ATTO:
        raise RuleViolation(f"Tipo di atto non ammesso: {atto.get('tipo')!r} (ammessi: {', '.join(TIPI_ATTO)}).",
                            rule="atto.tipo", field=f"{field}.tipo")
    if not str(atto.get("numero") or "").strip():
        raise RuleViolation("Un atto ha un numero.", rule="atto.numero", field=f"{field}.numero")
    if not isinstance(atto.get("data"), date):
        raise RuleViolation("Un atto ha una data.", rule="atto.data", field=f"{field}.data")
    return {"tipo": atto["tipo"], "numero": str(atto["numero"]).strip(), "data": atto["data"]}


def verifica_nomenclatura(nomenclatura: dict, field: str = "nomenclatura") -> dict:
    """A service's classification: FNPS macro-livello 1–5 or a code of the nomenclatore (e.g. A1, D2.03)."""
    sistema, codice = nomenclatura.get("sistema"), nomenclatura.get("codice")
    if sistema == "fnps_macrolivello":
        if codice not in MACRO_LIVELLI:
            raise RuleViolation("Il macro-livello FNPS va da 1 a 5.", rule="nomenclatura.macro_livello",
                                field=f"{field}.codice")
    elif sistema == "nomenclatore":
        if not CODICE_NOMENCLATORE.match(str(codice)):
            raise RuleViolation("Codice del nomenclatore non valido (es. A1, D2.03).",
                                rule="nomenclatura.codice_nomenclatore", field=f"{field}.codice")
    else:
        raise RuleViolation("Sistema di classificazione non ammesso: fnps_macrolivello o nomenclatore.",
                            rule="nomenclatura.sistema", field=f"{field}.sistema")
    return {"sistema": sistema, "codice": codice}


def verifica_codice_intervento(codice: str, field: str = "intervento") -> str:
    if not CODICE_INTERVENTO.match(codice or ""):
        raise RuleViolation(f"Codice d'intervento non valido: {codice!r}.", rule="intervento.codice", field=field)
    return codice


def verifica_area(area: str, field: str = "area") -> str:
    if area not in AREE_TEMATICHE:
        raise RuleViolation(f"Area tematica sconosciuta: {area!r} (ammesse: {', '.join(AREE_TEMATICHE)}).",
                            rule="area.tematica", field=field)
    return area


def verifica_periodo(dal: date, al: date, rule: str, field: str = "valido_al") -> None:
    if al < dal:
        raise RuleViolation("La fine del periodo non precede l'inizio.", rule=rule, field=field)
