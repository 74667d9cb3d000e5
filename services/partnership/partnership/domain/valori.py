"""Values shared by partnership's aggregates: acts, amounts, codes, and the guard on free text.

Amounts are ``Decimal`` end to end and strings with two decimals on the wire. Free texts
(minutes, reasons, summaries) are refused when they carry a person's codice fiscale: no
personal data enters this service, only organisations' 11-digit codes.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ambiti_kit.errors import RuleViolation
from ambiti_kit.fields import codice_fiscale_ente_valido

CENTESIMO = Decimal("0.01")
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
ISTAT_COMUNE = re.compile(r"^\d{6}$")
CIG = re.compile(r"^[A-Z0-9]{10}$")
#: a person's codice fiscale (16 characters, omocodia letters allowed in the digit places)
CODICE_FISCALE_PERSONA = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                                    r"[0-9LMNPQRSTUV]{3}[A-Z]", re.IGNORECASE)


def verifica_codice_fiscale_ente(cf: str, field: str = "codice_fiscale") -> str:
    """An organisation's codice fiscale (11 digits, Luhn check digit); a person's 16-character one is refused."""
    if not codice_fiscale_ente_valido(cf):
        raise RuleViolation("Il codice fiscale di un ente ha 11 cifre, l'ultima di controllo "
                            "(i codici fiscali delle persone non si registrano).", rule="ente.codice_fiscale",
                            field=field)
    return cf


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


def importo(valore: object, field: str = "importo") -> Decimal:
    """A positive amount in euro with at most two decimals, from a string or a Decimal (never a float)."""
    if isinstance(valore, (float, bool)):
        raise RuleViolation("Gli importi si scrivono come stringhe decimali (es. \"1250.00\").",
                            rule="importo.formato", field=field)
    testo = str(valore).strip()
    try:
        d = Decimal(testo) if testo.isascii() and "_" not in testo else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise RuleViolation(f"Importo non valido: {valore!r}.", rule="importo.formato", field=field)
    if d <= 0:
        raise RuleViolation("L'importo deve essere maggiore di zero.", rule="importo.positivo", field=field)
    if d.as_tuple().exponent < -2:  # type: ignore[operator]
        raise RuleViolation("L'importo ha al massimo due decimali.", rule="importo.centesimi", field=field)
    if d >= Decimal("1e12"):
        raise RuleViolation("Importo fuori scala.", rule="importo.massimo", field=field)
    return d.quantize(CENTESIMO)


def euro(d: Decimal) -> str:
    """An amount on the wire: two decimals, no exponent."""
    return str(Decimal(d).quantize(CENTESIMO, rounding=ROUND_HALF_UP))


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


def verifica_cig(cig: str, field: str = "cig") -> str:
    if not CIG.match(cig):
        raise RuleViolation("Il CIG è di 10 caratteri (lettere maiuscole e cifre).", rule="affidamento.cig",
                            field=field)
    return cig
