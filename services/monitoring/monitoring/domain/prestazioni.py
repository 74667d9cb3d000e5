"""Services delivered (*prestazioni erogate*): aggregate figures per intervento, Comune and month.

A ``Prestazione`` is the one record of an intervento delivered in a Comune in a month
(``YYYY-MM``): users served as aggregate counts per target area and age band, accesses,
hours and cost. It is registered once and then only corrected, each correction a new
event with its reason. No personal data of beneficiaries enters it: the rules below
refuse keys that name a person's data, values that look like a personal codice fiscale,
and free text other than a short ``note`` screened for names.

Rules are pure functions named by the ``rule`` they raise (``prestazione.*``,
``dati_personali.*``); ``leggi_prestazione`` applies all of them to one raw record (a JSON
body or a CSV row) and returns every finding, so an import can report each bad row.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from eventsourcing.domain import event

from ambiti_kit.auth import COMUNE_PATTERN
from ambiti_kit.errors import RuleViolation
from ambiti_kit.tenancy import TenantAggregate, tenant_uuid

FASCE_ETA = ("0-17", "18-64", "65+")
AREE_TARGET = ("minori_famiglie", "disabilita", "anziani", "poverta", "dipendenze", "immigrazione",
               "salute_mentale", "multiutenza")
#: keys that name a person's data: refused wherever they appear in a payload or a CSV header
CAMPI_PERSONALI = frozenset({
    "nome", "cognome", "nominativo", "codice_fiscale", "codicefiscale", "cf", "data_nascita", "data_di_nascita",
    "luogo_nascita", "luogo_di_nascita", "indirizzo", "residenza", "telefono", "cellulare", "email", "beneficiario",
    "utente", "assistito", "sesso", "eta", "documento",
})
#: an Italian personal codice fiscale (16 characters; omocodia letters allowed in the digit places)
CODICE_FISCALE_PERSONA = re.compile(
    r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b", re.IGNORECASE)
#: two capitalised words in a row (``Mario Rossi``; every overlapping pair), or a title before a capitalised word
COPPIA_MAIUSCOLA = re.compile(r"\b([A-ZÀ-Ý][a-zà-ÿ']+)\s+(?=([A-ZÀ-Ý][a-zà-ÿ']+)\b)", re.UNICODE)
TITOLO_PERSONA = re.compile(r"\b(?:sig|sig\.ra|sigra|signor|signora|dott|dott\.ssa|avv)\.?\s+[A-ZÀ-Ý]",
                            re.UNICODE | re.IGNORECASE)
#: words of the names of services, places and offices, written capitalised in service notes ("Centro Diurno",
#: "Casa Famiglia", "Servizio Sociale Professionale"): a pair with one of them is not a person's name
PAROLE_DI_SERVIZIO = frozenset("""
    accoglienza affido agenzia ambito ambulatorio anziani appartamento area asilo assistenza associazione
    azienda biblioteca casa centro comunale comune comunità consorzio consultorio cooperativa diurno diurna
    distretto domiciliare educativa educativo emporio famiglia famiglie fondazione giovani gruppo integrata
    integrato istituto laboratorio ludoteca mensa minori nido notturno notturna ospedale parrocchia piano
    polo presidio progetto pronto punto regione residenza residenziale rsa scuola segretariato servizio
    servizi sociale sociali solidale spazio sportello struttura territoriale tutela ufficio unione
    gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
    lunedì martedì mercoledì giovedì venerdì sabato domenica natale pasqua
""".split())


def sembra_un_nome(testo: str) -> bool:
    """Whether free text looks like it names a person: a title before a capitalised word, or two capitalised
    words in a row neither of which is a word of a service's name (``PAROLE_DI_SERVIZIO``)."""
    if TITOLO_PERSONA.search(testo):
        return True
    return any(a.lower() not in PAROLE_DI_SERVIZIO and b.lower() not in PAROLE_DI_SERVIZIO
               for a, b in COPPIA_MAIUSCOLA.findall(testo))
MAX_NOTE = 200
MESE = re.compile(r"^(?P<anno>\d{4})-(?P<mese>0[1-9]|1[0-2])$")
INTERVENTO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
CENTESIMO = Decimal("0.01")
#: the columns of the CSV import (one row per record and target area; see ``leggi_csv``)
COLONNE_CSV = ("intervento", "comune", "mese", "area", "utenti_0_17", "utenti_18_64", "utenti_65_piu",
               "accessi", "ore", "costo", "note")
_FASCIA_DI_COLONNA = {"utenti_0_17": "0-17", "utenti_18_64": "18-64", "utenti_65_piu": "65+"}


@dataclass(frozen=True)
class Errore:
    """One finding: ``riga`` (the CSV file's line, the header being 1; None for a single record), column, rule."""

    campo: str
    regola: str
    messaggio: str
    riga: int | None = None

    def as_problem(self) -> dict[str, Any]:
        return {"field": f"riga {self.riga}.{self.campo}" if self.riga else self.campo, "rule": self.regola,
                "message": self.messaggio, **({"row": self.riga} if self.riga else {})}


@dataclass(frozen=True)
class DatiPrestazione:
    """A validated record: what the events carry."""

    intervento: str
    comune: str
    mese: str
    #: area -> fascia -> users (every area and band present, zeros included)
    utenti: dict[str, dict[str, int]]
    accessi: int
    ore: Decimal
    costo: Decimal
    note: str | None

    @property
    def chiave(self) -> tuple[str, str, str]:
        return (self.intervento, self.comune, self.mese)


# -- pure rules ----------------------------------------------------------------------------

def primo_del_mese(mese: str) -> date:
    m = MESE.match(mese)
    if not m:
        raise ValueError(mese)
    return date(int(m["anno"]), int(m["mese"]), 1)


def ultimo_del_mese(mese: str) -> date:
    inizio = primo_del_mese(mese)
    dopo = date(inizio.year + inizio.month // 12, inizio.month % 12 + 1, 1)
    return date.fromordinal(dopo.toordinal() - 1)


def dati_personali(valore: Any, percorso: str = "") -> list[Errore]:
    """Findings of person-identifying content anywhere in ``valore`` (keys and string values).

    ``dati_personali.campo``: a key naming a person's data; ``dati_personali.codice_fiscale``:
    a string that looks like a personal codice fiscale. Names in free text are screened by
    ``nota_valida`` (only ``note`` is free text).
    """
    errori: list[Errore] = []
    if isinstance(valore, Mapping):
        for k, v in valore.items():
            campo = f"{percorso}.{k}" if percorso else str(k)
            if str(k).strip().lower().replace(" ", "_") in CAMPI_PERSONALI:
                errori.append(Errore(campo, "dati_personali.campo",
                                     f"Il campo {k!r} riguarda dati personali: non si registrano dati dei "
                                     "beneficiari, solo conteggi aggregati."))
            else:
                errori += dati_personali(v, campo)
    elif isinstance(valore, (list, tuple)):
        for i, v in enumerate(valore):
            errori += dati_personali(v, f"{percorso}.{i}" if percorso else str(i))
    elif isinstance(valore, str) and CODICE_FISCALE_PERSONA.search(valore):
        errori.append(Errore(percorso or "valore", "dati_personali.codice_fiscale",
                             "Il valore sembra il codice fiscale di una persona: non si registrano dati personali."))
    return errori


def nota_valida(note: Any, campo: str = "note") -> list[Errore]:
    """``note`` is the only free text: short, and with nothing that looks like a person's name."""
    if note is None or note == "":
        return []
    if not isinstance(note, str):
        return [Errore(campo, "prestazione.note", "La nota è un testo.")]
    if len(note) > MAX_NOTE:
        return [Errore(campo, "prestazione.note", f"La nota ha al massimo {MAX_NOTE} caratteri.")]
    if sembra_un_nome(note):
        return [Errore(campo, "dati_personali.nome",
                       "La nota sembra contenere il nome di una persona: scrivere solo informazioni di servizio, "
                       "senza nomi propri.")]
    return []


def mese_valido(mese: Any, oggi: date, campo: str = "mese") -> list[Errore]:
    """``YYYY-MM``, not after the current month (``prestazione.mese_futuro``)."""
    if not isinstance(mese, str) or not MESE.match(mese):
        return [Errore(campo, "prestazione.mese", "Il mese si scrive AAAA-MM (es. 2026-01).")]
    if primo_del_mese(mese) > oggi.replace(day=1):
        return [Errore(campo, "prestazione.mese_futuro", f"Il mese {mese} è nel futuro: si registra ciò che è "
                                                           "stato erogato.")]
    return []


def conteggio(valore: Any, campo: str) -> tuple[int | None, list[Errore]]:
    """A count of users or accesses: a whole number, never negative (``prestazione.conteggio_negativo``)."""
    if isinstance(valore, bool):
        return None, [Errore(campo, "prestazione.conteggio", "Un conteggio è un numero intero.")]
    if isinstance(valore, str):
        testo = valore.strip()
        if testo == "":
            return 0, []
        if not re.fullmatch(r"-?\d+", testo):
            return None, [Errore(campo, "prestazione.conteggio", f"Conteggio non valido: {valore!r}.")]
        valore = int(testo)
    if not isinstance(valore, int):
        return None, [Errore(campo, "prestazione.conteggio", "Un conteggio è un numero intero.")]
    if valore < 0:
        return None, [Errore(campo, "prestazione.conteggio_negativo", "Un conteggio non può essere negativo.")]
    if valore > 10_000_000:
        return None, [Errore(campo, "prestazione.conteggio", "Conteggio fuori scala.")]
    return valore, []


def decimale(valore: Any, campo: str, regola: str) -> tuple[Decimal | None, list[Errore]]:
    """Hours or cost: a decimal string (or integer), never a float, never negative, two decimals at most."""
    if valore is None or valore == "":
        return Decimal("0.00"), []
    if isinstance(valore, (float, bool)):
        return None, [Errore(campo, regola, "Si scrive come stringa decimale (es. \"1250.00\"), non in virgola "
                                             "mobile.")]
    testo = str(valore).strip().replace(",", ".") if isinstance(valore, str) else str(valore)
    try:
        d = Decimal(testo) if testo.isascii() and "_" not in testo else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        return None, [Errore(campo, regola, f"Valore non valido: {valore!r}.")]
    if d < 0:
        return None, [Errore(campo, f"{regola}_negativo", "Il valore non può essere negativo.")]
    if d.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, [Errore(campo, regola, "Al massimo due decimali.")]
    if d >= Decimal("1e12"):
        return None, [Errore(campo, regola, "Valore fuori scala.")]
    return d.quantize(CENTESIMO, rounding=ROUND_HALF_UP), []


def comune_nel_ambito(comune: str, mese: str, appartenenze: Iterable[tuple[str, date, date]]) -> bool:
    """Whether ``comune`` belonged to the Ambito during ``mese``.

    ``appartenenze`` are ``(istat, dal, al)`` periods (``al`` exclusive; ``date.min`` /
    ``date.max`` for open ends). A month counts for the Ambito the Comune belonged to on any
    day of it (a Comune that moves mid-month counts for both that month).
    """
    inizio, fine = primo_del_mese(mese), ultimo_del_mese(mese)
    return any(istat == comune and dal <= fine and al > inizio for istat, dal, al in appartenenze)


def leggi_prestazione(raw: Mapping[str, Any], *, oggi: date,
                      appartenenze: Iterable[tuple[str, date, date]],
                      comune_consentito: str | None = None) -> tuple[DatiPrestazione | None, list[Errore]]:
    """Validate one raw record (JSON body) and return it, or every finding.

    ``raw``: ``intervento``, ``comune`` (ISTAT), ``mese`` (``YYYY-MM``), ``utenti`` (area ->
    fascia -> count), ``accessi``, ``ore``, ``costo``, ``note``; any other key is refused.
    ``comune_consentito``: for an ``assistente_sociale``, the Comune of her token.
    """
    errori = dati_personali(raw)
    if errori:
        return None, errori  # nothing else is read from a payload carrying personal data
    ammessi = {"intervento", "comune", "mese", "utenti", "accessi", "ore", "costo", "note", "motivo"}
    errori += [Errore(str(k), "prestazione.campo_sconosciuto", f"Campo non previsto: {k!r}.")
               for k in raw if k not in ammessi]
    intervento = raw.get("intervento")
    if not isinstance(intervento, str) or not INTERVENTO.match(intervento):
        errori.append(Errore("intervento", "prestazione.intervento",
                             "Il codice dell'intervento: lettere, cifre, '.', '_' o '-', al più 32 caratteri."))
    comune = raw.get("comune")
    if not isinstance(comune, str) or not COMUNE_PATTERN.fullmatch(comune):
        errori.append(Errore("comune", "prestazione.comune", "Il Comune si indica con il codice ISTAT di 6 cifre."))
        comune = None
    mese = raw.get("mese")
    errori_mese = mese_valido(mese, oggi)
    errori += errori_mese
    if comune and not errori_mese:
        if comune_consentito is not None and comune != comune_consentito:
            errori.append(Errore("comune", "prestazione.comune_dell_operatore",
                                 f"L'assistente sociale registra solo per il proprio Comune ({comune_consentito})."))
        elif not comune_nel_ambito(comune, mese, appartenenze):
            errori.append(Errore("comune", "prestazione.comune_fuori_ambito",
                                 f"Il Comune {comune} non apparteneva all'Ambito nel mese {mese}."))
    utenti: dict[str, dict[str, int]] = {}
    raw_utenti = raw.get("utenti")
    if not isinstance(raw_utenti, Mapping) or not raw_utenti:
        errori.append(Errore("utenti", "prestazione.utenti",
                             "Indicare gli utenti per area (es. {\"anziani\": {\"65+\": 12}})."))
    else:
        for area, fasce in raw_utenti.items():
            if area not in AREE_TARGET:
                errori.append(Errore(f"utenti.{area}", "prestazione.area",
                                     f"Area sconosciuta: {area!r} (ammesse: {', '.join(AREE_TARGET)})."))
                continue
            if not isinstance(fasce, Mapping):
                errori.append(Errore(f"utenti.{area}", "prestazione.utenti", "Utenti per fascia d'età."))
                continue
            utenti[area] = {f: 0 for f in FASCE_ETA}
            for fascia, n in fasce.items():
                if fascia not in FASCE_ETA:
                    errori.append(Errore(f"utenti.{area}.{fascia}", "prestazione.fascia_eta",
                                         f"Fascia sconosciuta: {fascia!r} (ammesse: {', '.join(FASCE_ETA)})."))
                    continue
                valore, e = conteggio(n, f"utenti.{area}.{fascia}")
                errori += e
                if valore is not None:
                    utenti[area][fascia] = valore
    accessi, e = conteggio(raw.get("accessi", 0), "accessi")
    errori += e
    ore, e = decimale(raw.get("ore"), "ore", "prestazione.ore")
    errori += e
    costo, e = decimale(raw.get("costo"), "costo", "prestazione.costo")
    errori += e
    note = raw.get("note")
    errori += nota_valida(note)
    if errori:
        return None, errori
    return DatiPrestazione(intervento=intervento, comune=comune, mese=mese, utenti=utenti,  # type: ignore[arg-type]
                           accessi=accessi or 0, ore=ore, costo=costo, note=note or None), []  # type: ignore[arg-type]


def leggi_csv(testo: str, *, oggi: date, appartenenze: Iterable[tuple[str, date, date]],
              comune_consentito: str | None = None) -> tuple[list[DatiPrestazione], list[Errore]]:
    """Parse and validate a whole CSV (``COLONNE_CSV``; ``,`` or ``;`` separated).

    One row per (intervento, Comune, mese, area): rows of the same record are joined into
    one (their accessi, ore and costo summed). Every finding names its row as a spreadsheet
    shows it (the header is row 1, as finance's reference data), column and rule; any finding
    means nothing is imported.
    """
    appartenenze = list(appartenenze)
    if not testo.strip():
        return [], [Errore("file", "csv.vuoto", "Il file è vuoto.")]
    dialetto = ";" if testo.splitlines()[0].count(";") > testo.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(testo.lstrip("\ufeff")), delimiter=dialetto)
    intestazione = [(c or "").strip() for c in (reader.fieldnames or [])]
    errori: list[Errore] = []
    personali = [c for c in intestazione if c.lower().replace(" ", "_") in CAMPI_PERSONALI]
    errori += [Errore(c, "dati_personali.campo", f"La colonna {c!r} riguarda dati personali: il file non si "
                                                   "importa.", riga=1) for c in personali]
    mancanti = [c for c in COLONNE_CSV if c not in intestazione and c != "note"]
    sconosciute = [c for c in intestazione if c not in COLONNE_CSV and c not in personali]
    errori += [Errore(c, "csv.colonna_mancante", f"Manca la colonna {c!r}.", riga=1) for c in mancanti]
    errori += [Errore(c, "csv.colonna_sconosciuta", f"Colonna non prevista: {c!r} (attese: "
                                                      f"{', '.join(COLONNE_CSV)}).", riga=1) for c in sconosciute]
    if errori:
        return [], errori
    record: dict[tuple[str, str, str], dict[str, Any]] = {}
    righe_di: dict[tuple[str, str, str], list[int]] = {}
    aree_viste: set[tuple[str, str, str, str]] = set()
    for n, riga in enumerate(reader, start=2):
        valori = {(k or "").strip(): (v or "").strip() for k, v in riga.items() if k is not None}
        if None in riga:
            errori.append(Errore("riga", "csv.colonne_in_eccesso", "La riga ha più valori delle colonne.", riga=n))
            continue
        raw = {"intervento": valori["intervento"], "comune": valori["comune"], "mese": valori["mese"],
               "utenti": {valori["area"]: {f: valori[c] for c, f in _FASCIA_DI_COLONNA.items()}},
               "accessi": valori["accessi"], "ore": valori["ore"], "costo": valori["costo"],
               "note": valori.get("note") or None}
        dati, e = leggi_prestazione(raw, oggi=oggi, appartenenze=appartenenze, comune_consentito=comune_consentito)
        if e:
            errori += [Errore(_colonna_csv(x.campo), x.regola, x.messaggio, riga=n) for x in e]
            continue
        assert dati is not None
        [area] = dati.utenti
        if dati.chiave + (area,) in aree_viste:
            errori.append(Errore("area", "csv.riga_duplicata", "Un'altra riga ha già lo stesso intervento, Comune, "
                                                               "mese e area.", riga=n))
            continue
        aree_viste.add(dati.chiave + (area,))
        acc = record.setdefault(dati.chiave, {"utenti": {}, "accessi": 0, "ore": Decimal("0.00"),
                                              "costo": Decimal("0.00"), "note": []})
        acc["utenti"][area] = dati.utenti[area]
        acc["accessi"] += dati.accessi
        acc["ore"] += dati.ore
        acc["costo"] += dati.costo
        if dati.note:
            acc["note"].append(dati.note)
        righe_di.setdefault(dati.chiave, []).append(n)
    if not record and not errori:
        errori.append(Errore("file", "csv.vuoto", "Il file non ha righe di dati."))
    if errori:
        return [], errori
    out = []
    for (intervento, comune, mese), acc in record.items():
        note = "; ".join(acc["note"]) or None
        if note and len(note) > MAX_NOTE:
            return [], [Errore("note", "prestazione.note", f"Le note dello stesso record superano {MAX_NOTE} "
                                                           "caratteri.", riga=righe_di[(intervento, comune, mese)][-1])]
        out.append(DatiPrestazione(intervento, comune, mese, completa(acc["utenti"]), acc["accessi"], acc["ore"],
                                   acc["costo"], note))
    return out, []


def _colonna_csv(campo: str) -> str:
    """The CSV column of a finding on a field of the raw record."""
    if campo.startswith("utenti."):
        parti = campo.split(".")
        if len(parti) == 3:
            return {v: k for k, v in _FASCIA_DI_COLONNA.items()}.get(parti[2], "area")
        return "area"
    return campo


def completa(utenti: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Every band of every area present (zeros included), areas in ``AREE_TARGET`` order."""
    return {a: {f: int(utenti[a].get(f, 0)) for f in FASCE_ETA} for a in AREE_TARGET if a in utenti}


def totale_utenti(utenti: Mapping[str, Mapping[str, int]]) -> int:
    return sum(n for fasce in utenti.values() for n in fasce.values())


def utenti_per_fascia(utenti: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    return {f: sum(fasce.get(f, 0) for fasce in utenti.values()) for f in FASCE_ETA}


def verifica(dati: DatiPrestazione | None, errori: list[Errore]) -> DatiPrestazione:
    """Raise the findings of one record as a 422 with all of them (the first at the top)."""
    if errori:
        primo = errori[0]
        raise RuleViolation(primo.messaggio, rule=primo.regola, field=primo.campo,
                            errors=[e.as_problem() for e in errori])
    assert dati is not None
    return dati


# -- the aggregate -----------------------------------------------------------------------------

class Prestazione(TenantAggregate):
    """The record of one intervento in one Comune in one month, for the Ambito of that month."""

    @staticmethod
    def create_id(tenant_id: str, intervento: str, comune: str, mese: str, **_: object) -> uuid.UUID:
        return tenant_uuid(tenant_id, "prestazione", intervento, comune, mese)

    @event("Registrata")
    def __init__(self, tenant_id: str, intervento: str, comune: str, mese: str, utenti: dict, accessi: int,
                 ore: Decimal, costo: Decimal, note: str | None, registrata_da: str) -> None:
        self.tenant_id = tenant_id
        self.intervento, self.comune, self.mese = intervento, comune, mese
        self._figure(utenti, accessi, ore, costo, note)
        self.correzioni = 0

    def _figure(self, utenti: dict, accessi: int, ore: Decimal, costo: Decimal, note: str | None) -> None:
        self.utenti, self.accessi, self.ore, self.costo, self.note = utenti, accessi, ore, costo, note

    @classmethod
    def registra(cls, tenant_id: str, dati: DatiPrestazione, autore: str) -> "Prestazione":
        return cls(tenant_id=tenant_id, intervento=dati.intervento, comune=dati.comune, mese=dati.mese,
                   utenti=dati.utenti, accessi=dati.accessi, ore=dati.ore, costo=dati.costo, note=dati.note,
                   registrata_da=autore)

    def correggi(self, dati: DatiPrestazione, motivo: str | None, autore: str) -> None:
        """A correction replaces the figures; it needs a reason (``prestazione.motivo_correzione``)."""
        if dati.chiave != (self.intervento, self.comune, self.mese):
            raise RuleViolation("La correzione riguarda lo stesso intervento, Comune e mese.",
                                rule="prestazione.chiave", field="intervento")
        motivo = (motivo or "").strip()
        if not motivo:
            raise RuleViolation("Una correzione indica il motivo.", rule="prestazione.motivo_correzione",
                                field="motivo")
        screening = dati_personali({"motivo": motivo}) + nota_valida(motivo, "motivo")
        if screening:
            raise RuleViolation(screening[0].messaggio, rule=screening[0].regola, field="motivo")
        self._corretta(utenti=dati.utenti, accessi=dati.accessi, ore=dati.ore,
                       costo=dati.costo, note=dati.note, motivo=motivo, corretta_da=autore)

    @event("Corretta")
    def _corretta(self, utenti: dict, accessi: int, ore: Decimal, costo: Decimal,
                  note: str | None, motivo: str, corretta_da: str) -> None:
        self._figure(utenti, accessi, ore, costo, note)
        self.correzioni += 1
