"""Command line of the finance service (thin over the domain).

    python -m finance.cli riparto --dati dati.csv --totale 1000000.00 \\
        --criterio popolazione=0.4 --criterio nuclei=0.6 \\
        [--minimo 600.00 --modalita integrazione] --metodo resto_maggiore [--decimali 2] [--json]

Prints the riparto as a table (Italian headings and number format) or, with ``--json``, as the
JSON-safe form that is stored with the event (``Risultato.come_dict()``). Bad input (arguments,
CSV rows, domain rules) is reported on stderr, every CSV error with its row and column, and the
exit code is 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Sequence, TextIO

from ambiti_kit.errors import RuleViolation

from finance.domain.riparto import (
    METODI,
    MODALITA,
    Arrotondamento,
    Criterio,
    Minimo,
    Risultato,
    esegui,
    leggi_dati_riferimento,
)

ERRORE_INPUT = 2
_NOMI_METODO = {
    "per_importo": "ogni importo arrotondato al centesimo, residuo dichiarato",
    "quote_arrotondate": "percentuali arrotondate, poi moltiplicate",
    "resto_maggiore": "ripartizione esatta al centesimo con il metodo del resto maggiore",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m finance.cli",
                                     description="Strumenti a riga di comando del servizio finance.")
    comandi = parser.add_subparsers(dest="comando", required=True, metavar="COMANDO")
    r = comandi.add_parser(
        "riparto", help="ripartisce un totale tra destinatari con criteri pesati",
        description="Ripartisce un totale tra i destinatari del CSV (id,<indicatore>,...) secondo criteri "
                    "pesati che sommano a 1, con eventuale minimo per destinatario e l'arrotondamento "
                    "dichiarato dall'atto.")
    r.add_argument("--dati", required=True, metavar="FILE.csv",
                   help="dati di riferimento: intestazione id,<indicatore>,... e una riga per destinatario "
                        "('-' per leggere da stdin)")
    r.add_argument("--totale", required=True, metavar="EURO", help="importo da ripartire, es. 1000000.00")
    r.add_argument("--criterio", action="append", required=True, metavar="INDICATORE=PESO",
                   help="criterio pesato, ripetibile; peso decimale o frazione (es. popolazione=0.4, nuclei=3/5)")
    r.add_argument("--minimo", metavar="EURO", help="importo minimo per ciascun destinatario")
    r.add_argument("--modalita", choices=MODALITA,
                   help="come si finanzia il minimo: integrazione (oltre il totale) o prelievo (dagli altri)")
    r.add_argument("--metodo", required=True, choices=METODI, help="arrotondamento dichiarato dall'atto")
    r.add_argument("--decimali", type=int, default=2, metavar="N",
                   help="decimali della percentuale pubblicata (predefinito 2)")
    r.add_argument("--eccedenza-ammessa", action="store_true",
                   help="l'atto ammette che le parti arrotondate superino il totale (altrimenti il riparto è rifiutato)")
    r.add_argument("--json", action="store_true", help="stampa il riparto in JSON invece della tabella")
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    if args.comando == "riparto":
        return _riparto(args, stdin, stdout, stderr)
    return ERRORE_INPUT  # pragma: no cover - argparse requires a known command


def _riparto(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    errori: list[str] = []
    criteri: list[Criterio] = []
    for testo in args.criterio:
        nome, uguale, peso = testo.partition("=")
        if not uguale or not nome.strip() or not peso.strip():
            errori.append(f"--criterio {testo!r}: atteso INDICATORE=PESO (es. popolazione=0.4)")
        else:
            criteri.append(Criterio(nome.strip(), peso.strip()))  # type: ignore[arg-type]  # validated by esegui
    if (args.minimo is None) != (args.modalita is None):
        errori.append("--minimo e --modalita vanno indicati insieme (l'atto dichiara come si finanzia il minimo)")
    try:
        if args.dati == "-":
            testo_csv = stdin.read()
        else:
            with open(args.dati, encoding="utf-8-sig", newline="") as f:
                testo_csv = f.read()
    except OSError as exc:
        errori.append(f"--dati: impossibile leggere {args.dati!r}: {exc.strerror or exc}")
        testo_csv = None
    except UnicodeDecodeError:
        errori.append(f"--dati: {args.dati!r} non è un testo UTF-8")
        testo_csv = None
    destinatari = []
    if testo_csv is not None:
        destinatari, errori_dati = leggi_dati_riferimento(testo_csv, [c.indicatore for c in criteri])
        errori.extend(f"{args.dati}: {e}" for e in errori_dati)
    if errori:
        return _errori(errori, stderr)

    minimo = Minimo(args.minimo, args.modalita) if args.minimo is not None else None  # type: ignore[arg-type]
    try:
        risultato = esegui(args.totale, destinatari, criteri,  # type: ignore[arg-type]  # strings: validated
                           Arrotondamento(args.metodo, args.decimali, args.eccedenza_ammessa), minimo)
    except RuleViolation as exc:
        campo = _campo_cli(exc.field)
        return _errori([f"{campo}: {exc.detail} [{exc.rule}]"], stderr)

    try:
        if args.json:
            json.dump(risultato.come_dict(), stdout, ensure_ascii=False, indent=2)
            stdout.write("\n")
        else:
            stdout.write(tabella(risultato))
        stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: not an error of the riparto
        pass
    return 0


def _campo_cli(campo: str | None) -> str:
    """The domain field, said the way the command line was given."""
    if not campo:
        return "riparto"
    testa = campo.split(".")[0]
    return {"totale": "--totale", "criteri": "--criterio", "minimo": "--minimo/--modalita",
            "arrotondamento": "--metodo/--decimali", "destinatari": "--dati"}.get(testa, "") + f" ({campo})"


def _errori(righe: list[str], stderr: TextIO) -> int:
    stderr.write("Dati non validi, riparto non eseguito:\n")
    for r in righe:
        stderr.write(f"  - {r}\n")
    return ERRORE_INPUT


def euro_it(d: Decimal) -> str:
    """1234567.8 → '1.234.567,80'."""
    testo = f"{d:,.2f}"
    return testo.replace(",", "_").replace(".", ",").replace("_", ".")


def tabella(r: Risultato) -> str:
    """A readable table of a riparto, with Italian headings."""
    arr = r.arrotondamento
    righe = [f"Riparto di {euro_it(r.totale)} €",
             f"Arrotondamento: {arr.metodo} ({_NOMI_METODO[arr.metodo]}); "
             f"percentuali a {arr.decimali_percentuale} decimali",
             "Criteri: " + ", ".join(f"{c.indicatore} {_percento(c.peso)}" for c in r.criteri)]
    if r.minimo is not None:
        righe.append(f"Minimo per destinatario: {euro_it(r.minimo.importo)} € ({r.minimo.modalita})")
    intestazione = ("Destinatario", "Quota %", "Importo base", "Integrazione", "Prelievo", "Importo")
    corpo = [(a.id, a.percentuale.replace(".", ","), euro_it(a.importo_base), euro_it(a.integrazione),
              euro_it(a.prelievo), euro_it(a.importo)) for a in r.assegnazioni]
    totali = ("Totale", "", euro_it(sum((a.importo_base for a in r.assegnazioni), Decimal("0.00"))),
              euro_it(r.totale_integrazioni), euro_it(r.totale_prelievi), euro_it(r.totale_ripartito))
    larghezze = [max(len(riga[j]) for riga in [intestazione, *corpo, totali]) for j in range(len(intestazione))]

    def formatta(riga: Sequence[str]) -> str:
        return "  ".join(c.ljust(larghezze[0]) if j == 0 else c.rjust(larghezze[j]) for j, c in enumerate(riga))

    separatore = "  ".join("-" * w for w in larghezze)
    righe += ["", formatta(intestazione), separatore, *map(formatta, corpo), separatore, formatta(totali), "",
              f"Totale da ripartire: {euro_it(r.totale_da_ripartire)} €",
              f"Totale ripartito:    {euro_it(r.totale_ripartito)} €",
              f"Residuo:             {euro_it(r.residuo)} €"]
    return "\n".join(righe) + "\n"


def _percento(peso: Fraction) -> str:
    """A weight as a percentage for display: 2/5 → '40%', 1/3 → '≈33,3333%'."""
    p = Fraction(peso) * 100
    mostrato = (Decimal(p.numerator) / Decimal(p.denominator)).quantize(Decimal("0.0001"))
    testo = format(mostrato.normalize(), "f").replace(".", ",")
    return ("" if Fraction(mostrato) == p else "≈") + testo + "%"


if __name__ == "__main__":
    sys.exit(main())
